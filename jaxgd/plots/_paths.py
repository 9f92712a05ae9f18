"""The paths of (w, b) over the loss surface of one-feature data: the figure and its GIF
(``jaxgd paths``)."""

from __future__ import annotations

import numpy as np

from jaxgd._errors import InputError
from jaxgd.plots._common import COLORS, _figure, _finish, _per_update

PATH_POINTS = 5000  # points of a drawn path at most: a thinned path keeps every k-th and both ends


def _path(label, result, max_points=PATH_POINTS):
    """A run's path of parameters from its trace: ``(samples, updates, w, b)``, one point per
    update the trace caught (the first grid point where it is in force), thinned to at most
    ``max_points`` by keeping every k-th point and both ends exactly."""
    trace = getattr(result, "trace", None)
    if trace is None:
        raise InputError(f"{label}: the run has no trace; train it with record_every= (every update: "
                         "record_every=gcd(batch_size, n))")
    w = np.asarray(trace.w, np.float64)
    if w.shape[1] != 1:
        raise InputError(f"{label}: paths over (w, b) need one feature (d = 1), got d = {w.shape[1]}")
    samples, updates, w, b = _per_update(np.asarray(trace.samples, np.int64), np.asarray(trace.updates, np.int64),
                                         w[:, 0, 0], np.asarray(trace.b, np.float64)[:, 0])
    if len(updates) > max_points:
        k = -(-(len(updates) - 1) // (max_points - 1))
        keep = np.unique(np.r_[np.arange(0, len(updates), k), len(updates) - 1])
        samples, updates, w, b = samples[keep], updates[keep], w[keep], b[keep]
    return samples, updates, w, b


def _path_label(label, result, updates, diverged_at):
    if diverged_at is not None:
        return f"{label}: diverged at epoch {diverged_at}"
    total = result.updates
    if len(updates) == total + 1:
        return f"{label}: every update ({total:,})"
    return f"{label}: {len(updates):,} of {total + 1:,} points (evenly thinned, ends exact)"


def _excess_surface(X, y, opt, box, num=160):
    """The full-data loss minus its optimum over a (w, b) box: exact for the quadratic loss,
    ½ [Δw Δb] H [Δw Δb]ᵀ with H the mean of [x 1]ᵀ[x 1] (no cancellation near the optimum)."""
    x = X[:, 0]
    (w0, w1), (b0, b1) = box
    W, B = np.meshgrid(np.linspace(w0, w1, num), np.linspace(b0, b1, num))
    dw, db = W - float(opt.w[0, 0]), B - float(np.ravel(opt.b)[0])
    return W, B, 0.5 * (np.mean(x * x) * dw * dw + 2 * np.mean(x) * dw * db + db * db)


def _square_box(center, half):
    return (center[0] - half, center[0] + half), (center[1] - half, center[1] + half)


def _paths_scene(X, y, results, true_w, true_b, max_points):
    """Everything the paths figure and animation draw, computed once."""
    from jaxgd.analysis import optimum

    X, y = np.asarray(X, np.float64), np.asarray(y, np.float64).reshape(-1)
    if X.ndim != 2 or X.shape[1] != 1:
        raise InputError(f"paths over (w, b) need one feature (d = 1), got X of shape {X.shape}")
    opt = optimum(X, y)
    star = (float(opt.w[0, 0]), float(np.ravel(opt.b)[0]))
    runs = []
    for label, r in results.items():
        samples, updates, w, b = _path(label, r, max_points)
        div = r.diverged_at
        runs.append(dict(label=label, result=r, samples=samples, updates=updates, w=w, b=b, diverged=div,
                         name=_path_label(label, r, updates, div), color=COLORS.get(r.config.variant),
                         variant=r.config.variant))
    start = (runs[0]["w"][0], runs[0]["b"][0])
    # The full view: every finite point of the runs that did not diverge, the start and the optimum.
    pts = [np.array([start, star])]
    pts += [np.column_stack([r["w"], r["b"]]) for r in runs if r["diverged"] is None]
    pts = np.concatenate(pts)
    pts = pts[np.isfinite(pts).all(axis=1)]
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    half = 0.55 * float(max(hi - lo)) or 1.0
    full = _square_box((lo + hi) / 2, half)
    # The zoom: the second half (in samples) of the stochastic runs' paths around the optimum.
    near = [r for r in runs if r["diverged"] is None and r["result"].config.batch_size < X.shape[0]]
    near = near or [r for r in runs if r["diverged"] is None]
    spread = []
    for r in near:
        late = r["samples"] >= r["samples"][-1] / 2
        spread.append(np.max(np.abs(np.column_stack([r["w"][late], r["b"][late]]) - star)))
    zhalf = 1.3 * max(spread) if spread else 0.0
    zoom = _square_box(star, zhalf) if 0 < zhalf < half / 3 else None
    true = None if true_w is None else (float(np.ravel(true_w)[0]), float(np.ravel(true_b)[0]))
    return dict(X=X, y=y, opt=opt, star=star, start=start, runs=runs, full=full, zoom=zoom, true=true,
                n=X.shape[0])


def _paths_axes(fig, scene):
    """The contour panels (full walk, and the zoom around the optimum when it shows more) and
    the markers of the optimum, the true parameters and the start."""
    from matplotlib.patches import Rectangle

    boxes = [scene["full"]] + ([scene["zoom"]] if scene["zoom"] else [])
    axes = fig.subplots(1, len(boxes), squeeze=False)[0]
    marks = []
    for i, (ax, box) in enumerate(zip(axes, boxes)):
        W, B, E = _excess_surface(scene["X"], scene["y"], scene["opt"], box)
        top = float(E.max())
        levels = np.geomspace(top * 1e-4, top, 13)  # log-spaced: rings around the optimum at every scale
        cs = ax.contour(W, B, E, levels=levels, colors="0.55", linewidths=0.7, zorder=1)
        ax.clabel(cs, cs.levels[::3], fmt=lambda v: f"{v:.2g}", fontsize=7)
        marks += ax.plot(*scene["star"], "*", color="k", ms=15, mec="w", zorder=6,
                         label=f"least-squares optimum ({scene['star'][0]:.3f}, {scene['star'][1]:.3f})")
        if scene["true"] is not None:
            marks += ax.plot(*scene["true"], "X", color="0.3", ms=8, mec="w", zorder=6,
                             label=f"true (w, b) = ({scene['true'][0]:g}, {scene['true'][1]:g})")
        marks += ax.plot(*scene["start"], "o", color="k", mfc="w", ms=9, mew=2, zorder=6,
                         label=f"initial ({scene['start'][0]:.3f}, {scene['start'][1]:.3f})")
        ax.set(xlim=box[0], ylim=box[1], xlabel="w", ylabel="b", aspect="equal")
        ax.set_title("Paths of (w, b) over the full-data loss" if i == 0 else
                     "Zoom around the optimum (the dashed box)", fontsize=11)
        if i == 0 and scene["zoom"]:
            (z0, z1), (c0, c1) = scene["zoom"]
            ax.add_patch(Rectangle((z0, c0), z1 - z0, c1 - c0, fill=False, ec="k", lw=0.8, ls="--", zorder=5))
    return axes, marks


def _path_style(run):
    if run["variant"] == "GD":
        return dict(ls="-", marker="o", ms=3, lw=1.8, alpha=1.0, zorder=4)
    if run["variant"] == "SGD":
        return dict(ls="-", lw=0.5, alpha=0.45, zorder=2)
    return dict(ls="-", marker="o", ms=1.2, lw=0.9, alpha=0.85, zorder=3)


def _paths_legend(fig, axes, scene, fontsize=8):
    handles, labels = axes[0].get_legend_handles_labels()
    keep = {}
    for h, lb in zip(handles, labels):
        keep.setdefault(lb, h)
    fig.legend(keep.values(), keep.keys(), loc="outside lower center", ncol=2, fontsize=fontsize, frameon=False,
               title="contours: full-data loss minus its optimum, log-spaced levels", title_fontsize=fontsize)


def paths_figure(X, y, results, path, *, true_w=None, true_b=None, max_points=PATH_POINTS):
    """The loss surface of one-feature data as contours over (w, b), with each run's path of
    parameters on top, from its trace (``train(..., record_every=R)``; R = gcd(batch size, n)
    records every update). A path longer than ``max_points`` is thinned evenly, both ends
    exact. With the runs' noise far smaller than their walk, a second panel zooms in on the
    optimum over the last half of training. ``true_w``/``true_b`` (synthetic data) mark the
    generating parameters.

    ``results`` maps a label to a ``TrainResult`` with a trace; X must have one feature.
    """
    scene = _paths_scene(X, y, results, true_w, true_b, max_points)
    fig = _figure(figsize=(13 if scene["zoom"] else 7, 7.2), layout="constrained")
    axes, _ = _paths_axes(fig, scene)
    for run in scene["runs"]:
        for i, ax in enumerate(axes):
            ax.plot(run["w"], run["b"], color=run["color"], label=run["name"] if i == 0 else None,
                    **_path_style(run))
            if run["diverged"] is None:
                ax.plot(run["w"][-1], run["b"][-1], "D", color=run["color"], mec="k", ms=6, zorder=7)
    _paths_legend(fig, axes, scene)
    lr = ", ".join(sorted({f"{float(r.config.lr):g}" for r in results.values()}))
    epochs = max(r.config.epochs for r in results.values())
    fig.suptitle(f"Paths of the parameters over the full-data loss: lr={lr}, {epochs} epochs, "
                 f"n={scene['n']} (◆ final)", fontsize=11)
    return _finish(fig, None if path is None else str(path), dpi=100)


def _write_gif(fig, draw_frame, frames: int, path, fps: float):
    """Draws frame i (``draw_frame(i)``, then one draw of the figure) for every i and writes them
    as a GIF with Pillow: matplotlib's ``FuncAnimation`` with its Pillow writer drew every frame
    twice, once to show it and once to save it, half the command's time. One palette for every
    frame, taken from the last (which holds every colour the paths reach), without dithering: a
    pixel that does not change then keeps its index, and Pillow stores only the part of each
    frame that changed (a palette per frame, dithered, made every pixel differ: 40 KB a frame
    instead of a few)."""
    from PIL import Image

    images = []
    for i in range(frames):
        draw_frame(i)
        fig.canvas.draw()
        size = fig.canvas.get_width_height(physical=True)
        images.append(Image.frombuffer("RGBA", size, fig.canvas.buffer_rgba(), "raw", "RGBA", 0, 1).convert("RGB"))
    palette = images[-1].quantize(colors=128, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    images = [im.quantize(palette=palette, dither=Image.Dither.NONE) for im in images]
    images[0].save(path, save_all=True, append_images=images[1:], duration=int(1000 / fps), loop=0)


def paths_animation(X, y, results, path, *, true_w=None, true_b=None, frames=120, fps=15, dpi=70,
                    max_points=PATH_POINTS):
    """``paths_figure`` as a GIF (written with Pillow): every run advances by samples processed,
    so all move in step; frame i shows each path up to i/(frames-1) of the samples processed,
    its current point marked. Returns ``path``."""
    import matplotlib.colors as mcolors

    if isinstance(frames, bool) or int(frames) != frames or frames < 2:
        raise InputError(f"frames must be an integer >= 2, got {frames!r}")
    frames = int(frames)
    scene = _paths_scene(X, y, results, true_w, true_b, max_points)
    # The GIF is drawn at a lower dpi than the PNG: its legend's text is scaled up to stay as
    # many pixels tall as the PNG's 8 pt at 100 dpi (at 70 dpi, 8 pt was 8 px: unreadable).
    legend_size = max(8.0, 8.0 * 100 / dpi)
    fig = _figure(figsize=(10.5 if scene["zoom"] else 6, 6.2 + 0.25 * legend_size / 8), layout="constrained",
                  dpi=dpi)
    axes, marks = _paths_axes(fig, scene)
    drawn = []
    for run in scene["runs"]:
        style = _path_style(run)
        # Solid colours, no transparency: a GIF has 256 colours and compresses flat ones best.
        alpha = style.pop("alpha")
        color = (1 - alpha) * np.ones(3) + alpha * np.asarray(mcolors.to_rgb(run["color"]))
        lines = [ax.plot([], [], color=color, label=run["name"] if i == 0 else None, **style)[0]
                 for i, ax in enumerate(axes)]
        heads = [ax.plot([], [], "D", color=run["color"], mec="k", ms=6, zorder=7)[0] for ax in axes]
        drawn.append((run, lines, heads))
    _paths_legend(fig, axes, scene, fontsize=legend_size)
    total = max(int(run["samples"][-1]) for run in scene["runs"])
    title = axes[0].text(0.98, 0.02, "", transform=axes[0].transAxes, ha="right", va="bottom", fontsize=10,
                         zorder=8, bbox=dict(facecolor="white", edgecolor="0.5", boxstyle="round,pad=0.3"))
    # Render what does not move once (contours, labels, legend: most of a frame's drawing
    # time is text) and show it as a background image; each frame then draws only the paths.
    # (the optimum and the start are drawn each frame too, so that the paths do not cover them)
    moving = {title, *marks, *(a for _, lines, heads in drawn for a in lines + heads)}
    title.set_visible(False)
    fig.canvas.draw()
    fig.set_layout_engine("none")
    background = np.asarray(fig.canvas.buffer_rgba()).copy()
    title.set_visible(True)
    for artist in fig.findobj():
        if artist not in moving and artist is not fig and artist is not fig.patch:
            artist.set_visible(False)
    for ax in axes:
        ax.set_visible(True)
        ax.patch.set_visible(False)
    fig.figimage(background, zorder=-10, origin="upper")

    def frame(i):
        s = round(total * i / (frames - 1))
        for run, lines, heads in drawn:
            k = int(np.searchsorted(run["samples"], s, side="right"))
            for line, head in zip(lines, heads):
                line.set_data(run["w"][:k], run["b"][:k])
                head.set_data(run["w"][k - 1:k], run["b"][k - 1:k])
        title.set_text(f"samples processed: {s:,} of {total:,}\nepoch {s / scene['n']:.2f}")

    _write_gif(fig, frame, frames, str(path), fps)
    return path
