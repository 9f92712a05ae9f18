"""Figures built from results (never from inside training).

Each function writes a PNG to ``path`` and returns the path; with ``path=None`` it returns the
``matplotlib.figure.Figure`` instead (for inspection; ``fig.savefig`` writes it, Jupyter shows it).
Figures are built on ``matplotlib.figure.Figure``, never through pyplot: drawing one leaves the
caller's backend and pyplot's figures as they were.
"""

from __future__ import annotations

import numpy as np

from jaxgd._errors import InputError

COLORS = {"GD": "tab:blue", "mini-batch": "tab:green", "SGD": "tab:red"}


def _figure(**kwargs):
    """A ``matplotlib.figure.Figure`` with its own Agg canvas (so ``fig.canvas.draw()`` and
    ``get_renderer()`` work), made without pyplot: no backend chosen, no figure registered."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(**kwargs)
    FigureCanvasAgg(fig)
    return fig


def _finish(fig, path, dpi):
    """Save the figure and return ``path``; with ``path`` None return the figure."""
    if path is None:
        return fig
    fig.savefig(path, dpi=dpi)
    return path


def _finite(a):
    a = np.asarray(a, np.float64)
    return np.where(np.isfinite(a), a, np.nan)


def _faint_series(ax, values, color, max_points=2000):
    """Each update's loss as a faint line; past ``max_points`` updates, the min-max envelope of
    log-spaced bins instead (the same picture on the log axis; SGD's 50,000 points took most of
    the figure's rendering time)."""
    x = np.arange(1, len(values) + 1)
    if len(values) <= max_points:
        ax.plot(x, values, "-", color=color, alpha=0.15, lw=0.5)
        return
    head = max_points // 2  # the first updates as they are (bins there would hold one point)
    ax.plot(x[:head], values[:head], "-", color=color, alpha=0.15, lw=0.5)
    edges = np.unique(np.geomspace(head, len(values) + 1, max_points // 2).astype(int))
    with np.errstate(invalid="ignore"):
        lo = np.fmin.reduceat(values, edges[:-1] - 1)
        hi = np.fmax.reduceat(values, edges[:-1] - 1)
    ax.fill_between(edges[:-1], lo, hi, color=color, alpha=0.15, lw=0, step="post")


def _loss_points(result, n):
    """(samples processed, updates done, full-data loss) of a run: its trace's points when it
    was trained with ``record_every`` (``TrainResult.trace``), else its epoch ends."""
    trace = getattr(result, "trace", None)
    if trace is not None:
        return (np.asarray(trace.samples, np.int64), np.asarray(trace.updates, np.int64),
                _finite(trace.loss))
    loss = _finite(result.epoch_loss)
    e = np.arange(len(loss))
    return e * n, e * (result.updates // result.config.epochs), loss


def _per_update(samples, updates, *values):
    """Keep the first point of each update count: a trace holds the parameters in force, so
    points between two updates repeat the same values (GD's trace is a step function)."""
    _, first = np.unique(updates, return_index=True)
    return (samples[first], updates[first], *(v[first] for v in values))


def _residual_scale(spreads):
    """The half-height of the residual panel: the fits near the reference set it; a fit more
    than 10x the median spread (GD stopped far away) would flatten the others to one line, so
    it leaves the panel (its legend entry says by how much)."""
    spreads = np.asarray([s for s in spreads if np.isfinite(s)], np.float64)
    if not spreads.size:
        return 1.0
    kept = spreads[spreads <= 10 * np.median(spreads)]
    top = float(kept.max()) if kept.size else float(spreads.min())
    return 1.15 * top if top > 0 else 1.0


def compare_figure(X, y, true_w, true_b, results, path):
    """The tutorial's comparison: data with true and fitted lines, and below it each fitted
    line minus the true line; full-data loss against samples processed (in epochs); loss
    against parameter updates.

    ``results`` maps a label to a ``TrainResult``. Runs trained with ``record_every``
    (``TrainResult.trace``) draw their loss curves from the trace's points; otherwise from the
    epoch ends. Only the first feature is drawn in the data panel (the tutorial's data are
    one-dimensional; with several features the panel shows predictions against targets, and
    the panel below each run's prediction minus the reference's); ``true_w`` None (a data
    file) omits the true line and measures the fits against the least-squares line instead. A
    run that diverged (``TrainResult.diverged_at``) is named in the legends with its epoch;
    its loss curves are drawn until they leave the panel.
    """
    from jaxgd.analysis import optimum

    X, y = np.asarray(X, np.float64), np.asarray(y, np.float64).reshape(-1)
    n = X.shape[0]
    opt = optimum(X, y)
    best = opt.loss  # least-squares optimum of the tutorial's loss
    fig = _figure(figsize=(16, 6.6), layout="constrained")
    gs = fig.add_gridspec(2, 3, height_ratios=[2.1, 1])
    data_ax = fig.add_subplot(gs[0, 0])
    res_ax = fig.add_subplot(gs[1, 0], sharex=data_ax)
    axes = [data_ax, res_ax, fig.add_subplot(gs[:, 1]), fig.add_subplot(gs[:, 2])]
    div = {label: r.diverged_at for label, r in results.items()}
    lrs = sorted({float(r.config.lr) for r in results.values()})
    all_diverged = all(k is not None for k in div.values())
    note = f"all runs diverged at lr={', '.join(f'{lr:g}' for lr in lrs)}"

    def diverged_label(label):
        return f"{label}: diverged at epoch {div[label]}"

    def params(r):
        return np.asarray(r.w, np.float64).reshape(-1, 1), float(np.asarray(r.b, np.float64).ravel()[0])

    # The reference the residual panel measures against: the generating line when known.
    if true_w is not None:
        ref_w, ref_b, ref_name = np.asarray(true_w, np.float64).reshape(-1, 1), float(np.ravel(true_b)[0]), "true"
    else:
        ref_w, ref_b, ref_name = np.asarray(opt.w, np.float64).reshape(-1, 1), float(np.ravel(opt.b)[0]), \
            "least-squares"

    ax = data_ax
    # Many points make a blot: draw an evenly spaced subset of at most SHOWN of them.
    SHOWN = 5000
    shown = slice(None, None, -(-len(y) // SHOWN))
    subset = "" if len(y) <= SHOWN else f" ({len(y[shown]):,} of {len(y):,} shown)"
    if X.shape[1] == 1:
        ax.plot(X[shown, 0], y[shown], ".", color="0.6", ms=3, label="train data" + subset)
        grid = np.linspace(X[:, 0].min(), X[:, 0].max(), 2)
        if true_w is not None:  # synthetic data: the generating line is known
            ax.plot(grid, float(np.ravel(true_w)[0]) * grid + float(np.ravel(true_b)[0]), "k-", lw=2.5,
                    label="true line")
        for label, r in results.items():
            color = COLORS.get(r.config.variant)
            if div[label] is not None:
                ax.plot([], [], "--", lw=1.8, color=color, label=diverged_label(label))
                continue
            w, b = params(r)
            w = float(w[0, 0])
            ax.plot(grid, w * grid + b, "--", lw=1.8, color=color, label=f"{label}: w={w:.3f}, b={b:.3f}")
        ax.set(ylabel="y", title="Data, true line and fitted lines")
        ax.tick_params(labelbottom=False)
        # residuals: fitted line minus the reference line over x (a straight line each)
        xs = np.linspace(X[:, 0].min(), X[:, 0].max(), 2)
        curves = {}
        if true_w is not None:
            curves["least-squares line"] = ((float(opt.w[0, 0]) - ref_w[0, 0]) * xs + float(np.ravel(opt.b)[0]) - ref_b)
        for label, r in results.items():
            if div[label] is None:
                w, b = params(r)
                curves[label] = (w[0, 0] - ref_w[0, 0]) * xs + b - ref_b
        res_x, xlabel = xs, "x"
    else:  # several features: a line per feature would mislead; compare predictions instead
        lo, hi = float(y.min()), float(y.max())
        ax.plot([lo, hi], [lo, hi], "k-", lw=1.5, label="perfect prediction")
        for label, r in results.items():
            color = COLORS.get(r.config.variant)
            if div[label] is not None:
                ax.plot([], [], ".", ms=2, color=color, label=diverged_label(label))
                continue
            w, b = params(r)
            pred = X[shown] @ w + b
            ax.plot(y[shown], pred[:, 0], ".", ms=2, alpha=0.5, color=color, label=label + subset)
        ax.set(ylabel="prediction ŷ", title=f"Predictions against targets ({X.shape[1]} features)")
        ax.tick_params(labelbottom=False)
        order = np.argsort(y[shown])
        res_x, xlabel = y[shown][order], "y"
        ref = X[shown][order] @ ref_w + ref_b
        curves = {}
        if true_w is not None:
            curves["least-squares fit"] = (X[shown][order] @ np.asarray(opt.w, np.float64).reshape(-1, 1)
                                           + float(np.ravel(opt.b)[0]) - ref)[:, 0]
        for label, r in results.items():
            if div[label] is None:
                w, b = params(r)
                curves[label] = (X[shown][order] @ w + b - ref)[:, 0]
    ax.legend(fontsize=8, loc="upper left", markerscale=3 if X.shape[1] > 1 else 1)
    if all_diverged:
        _note(ax, note, y=0.1)

    ax = res_ax
    one = X.shape[1] == 1
    reference = f"{ref_name} {'line' if one else 'fit'}"
    half = _residual_scale([np.max(np.abs(c)) for c in curves.values()])
    ax.axhline(0, color="k", lw=2.5 if true_w is not None else 1.5, label=reference)
    for label, c in curves.items():
        r = results.get(label)
        color = COLORS.get(r.config.variant) if r is not None else "k"
        far = np.max(np.abs(c))
        shown_label = label if far <= half else f"{label}: off scale (|Δ| up to {far:.3g})"
        if one:
            ax.plot(res_x, c, color=color, ls="--" if r is not None else ":", lw=1.8 if r is not None else 1.2,
                    label=shown_label)
        else:
            ax.plot(res_x, c, ".", ms=2, alpha=0.5, color=color, label=shown_label)
    ax.set(xlabel=xlabel, ylabel=f"{'fitted line' if one else 'prediction'} − {ref_name}", ylim=(-half, half),
           title=f"Each fitted line minus the {reference} (zoomed)" if one else
           f"Each prediction minus the {reference}'s")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.3), ncol=2, frameon=False,
              markerscale=3 if X.shape[1] > 1 else 1)
    if all_diverged:
        _note(ax, note)

    # Loss panels: a diverged curve is drawn until it leaves the view; the view ends a little
    # above the largest loss of the runs that did not diverge (or 1000x the initial loss).
    points = {label: _loss_points(r, n) for label, r in results.items()}
    initial = max(float(np.asarray(r.epoch_loss)[0]) for r in results.values())
    top = max([best, initial] + [float(np.nanmax(points[lb][2])) for lb, r in results.items() if div[lb] is None])
    top = min(top, 1e3 * initial) * 3
    epochs = max(r.config.epochs for r in results.values())
    grids = {int(p[0][1] - p[0][0]) if getattr(r, "trace", None) is not None and len(p[0]) > 1 else None
             for r, p in zip(results.values(), points.values())}
    every = grids.pop() if len(grids) == 1 else None
    when = ("measured at epoch ends" if not every else "measured after every sample" if every == 1
            else f"measured every {every:,} samples processed")

    ax = axes[2]
    for label, r in results.items():
        samples, _, loss = points[label]
        ax.plot(samples / n, loss, "-", color=COLORS.get(r.config.variant),
                label=label if div[label] is None else diverged_label(label))
    _held_out_curves(ax, results)
    ax.axhline(best, color="k", ls=":", lw=1, label=f"least-squares optimum {best:.4f}")
    ax.set(yscale="log", xlabel="epochs (samples processed / n)", ylabel="loss  1/(2n) Σ(ŷ−y)²",
           title=f"Full-data loss against samples processed\n({when})", xlim=(0, epochs), ylim=(best / 3, top))
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="upper right")
    if all_diverged:
        _note(ax, note)

    ax = axes[3]
    most = 1
    for label, r in results.items():
        color = COLORS.get(r.config.variant)
        step = _finite(r.step_loss)  # sum r^2 / (2b): already a per-sample mean, as the epoch loss
        _faint_series(ax, step, color)
        samples, updates, loss = _per_update(*points[label])
        # GD dashed and on top: per update it coincides with mini-batch at first.
        style = dict(ls="--", lw=2, zorder=3) if r.config.variant == "GD" else dict(ls="-", lw=1.5)
        ax.plot(updates + 1, loss, marker="o" if len(updates) <= 60 else None, ms=2.5, color=color,
                label=f"{label} (full-data loss)" if div[label] is None else diverged_label(label), **style)
        most = max(most, r.updates + 1)
    ax.axhline(best, color="k", ls=":", lw=1, label="least-squares optimum")
    # Single-sample losses reach ~0; clip the view to the range of the full-data losses.
    ax.set(xscale="log", yscale="log", xlabel="parameter updates + 1", xlim=(1, most), ylim=(best / 10, top),
           ylabel="loss", title="Loss against parameter updates\n(faint: each update's batch loss)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="upper right")
    if all_diverged:
        _note(ax, note)

    return _finish(fig, path, dpi=110)


def _note(ax, text, y=0.5):
    """A note across a panel that has nothing (or not everything) to draw."""
    ax.text(0.5, y, text, transform=ax.transAxes, ha="center", va="center", fontsize=11, color="tab:red",
            bbox=dict(facecolor="white", edgecolor="tab:red", boxstyle="round,pad=0.5"))


def _held_out_curves(ax, results):
    """Each run trained with ``validation=``: its held-out loss at epoch ends, dashed in its colour
    (x: epochs), in compare_figure's loss panel."""
    for label, r in results.items():
        if getattr(r, "val_loss", None) is not None:
            loss = _finite(r.val_loss)
            ax.plot(np.arange(len(loss)), loss, "--", color=COLORS.get(r.config.variant), label=f"{label}: held-out")


def claims_figure(result, sec_per_epoch, rel, path):
    """2x2: excess loss against epochs, parameter updates, samples processed and wall time;
    median line and interquartile band across seeds, per variant. Diverged runs are left out
    and said so; a variant whose every run diverged is named in the legend, and a panel with
    nothing left to draw says why. One legend, below the panels."""
    from matplotlib.lines import Line2D

    E = result.epochs
    e = np.arange(E + 1)
    diverged = result.diverged[:, 0]  # (3, S)
    S = diverged.shape[1]
    lr = float(result.lrs[0])
    with np.errstate(invalid="ignore", over="ignore"):
        excess = result.excess_loss[:, 0]  # (3, S, E + 1)
    target = rel * np.median(excess[..., 0])  # the initial loss is finite in every run
    fig = _figure(figsize=(12, 9), layout="constrained")
    axes = fig.subplots(2, 2)
    panels = [
        ("epochs", "epochs", lambda i: e, "linear"),
        ("parameter updates", "parameter updates (log)", lambda i: e * result.updates_per_epoch[i], "log"),
        ("samples processed", "samples processed (gradients of one sample)", lambda i: e * result.n, "linear"),
        ("wall time", "wall time of one run, s (log)", lambda i: e * sec_per_epoch[i], "log"),
    ]
    floor = 1e-8  # excess losses are positive; clip float32 rounding below the optimum
    handles = []
    for i, variant in enumerate(result.variants):
        k = int(diverged[i].sum())
        label = f"{variant} (batch {int(result.batch_sizes[i])})"
        if k == S:
            label += f": all {S} runs diverged, not drawn"
        elif k:
            label += f": {k} of {S} diverged runs left out"
        style = dict(ls="--", lw=2.5) if variant == "GD" else dict(ls="-", lw=2)
        handles.append(Line2D([], [], color=COLORS[variant], alpha=0.35 if k == S else 1, label=label, **style))
    handles.append(Line2D([], [], color="k", ls=":", lw=1, label=f"target: {rel:.0%} of the initial excess"))
    for ax, (title, xlabel, xs, xscale) in zip(axes.ravel(), panels):
        for i, variant in enumerate(result.variants):
            ok = ~diverged[i]
            if not ok.any():
                continue
            curves = np.clip(excess[i, ok], floor, None)
            q25, med, q75 = np.percentile(curves, [25, 50, 75], axis=0)
            x = xs(i).astype(float)
            sl = slice(1, None) if xscale == "log" else slice(None)  # log x: from epoch 1
            # GD is dashed and drawn on top: per update it coincides with mini-batch.
            style = dict(ls="--", lw=2.5, zorder=3) if variant == "GD" else dict(ls="-", lw=2)
            ax.plot(x[sl], med[sl], color=COLORS[variant], **style)
            ax.fill_between(x[sl], q25[sl], q75[sl], color=COLORS[variant], alpha=0.25, lw=0)
        ax.axhline(target, color="k", ls=":", lw=1)
        ax.set(xscale=xscale, yscale="log", xlabel=xlabel, ylabel="excess loss over least-squares optimum",
               title=f"Excess loss against {title}")
        ax.grid(True, which="both", alpha=0.3)
        if diverged.all():  # nothing drawn: still show the ranges the curves would span
            sl = slice(1, None) if xscale == "log" else slice(None)
            x = np.concatenate([xs(i).astype(float)[sl] for i in range(len(result.variants))])
            ax.set_xlim(x.min(), x.max())
            ax.set_ylim(target / 10, target * 1e3)
            _note(ax, f"all runs diverged at lr={lr:g}")
    title = f"median line and interquartile band over {S} seeds, losses measured at epoch ends"
    if diverged.any():
        title += f"; diverged: loss non-finite or above {result.divergence_factor:g}x the initial loss"
    fig.legend(handles=handles, loc="outside lower center", ncol=2, fontsize=9, frameon=False,
               title=title, title_fontsize=9)
    fig.suptitle(
        f"GD vs mini-batch vs SGD, lr={lr:g}, n={result.n}: excess loss 1/(2n)Σ(ŷ−y)² − optimum",
        fontsize=12,
    )
    return _finish(fig, None if path is None else str(path), dpi=100)


def sweep_cells(result, metric):
    """(B, L) median over the seeds that did not diverge (NaN where all diverged), and a label.

    ``metric``: "excess" (final excess loss over the least-squares optimum) or "epochs"
    (epochs to the target, +inf where the median run does not reach it).
    """
    from jaxgd import analysis

    with np.errstate(invalid="ignore", over="ignore"):  # diverged runs: inf - inf; masked below
        if metric == "excess":
            values = analysis.excess_loss(result.final_loss, result.optimum_loss)
            label = "final excess loss over the least-squares optimum"
        else:
            values = analysis.as_float_counts(result.epochs_to_target())
            label = "epochs to the target"
    return analysis.median_over_kept(values, result.diverged), label


def sweep_heatmap(result, metric, path):
    """Heatmap over (batch size, lr) of the median across seeds; diverged cells hatched and
    marked, partially diverged cells annotated with how many seeds diverged. The legend below
    names only what the figure shows."""
    import matplotlib
    import matplotlib.colors as mcolors
    from matplotlib.patches import Patch, Rectangle

    cells, label = sweep_cells(result, metric)
    B, L, S = result.shape
    k_div = result.diverged.sum(axis=-1)  # (B, L) seeds diverged per cell
    fig = _figure(figsize=(max(1.5 * L + 3.5, 7.5), 0.9 * B + 3.2), layout="constrained")
    ax = fig.subplots()
    finite = cells[np.isfinite(cells)]
    cmap = matplotlib.colormaps["viridis"].with_extremes(bad="0.85")
    if metric == "excess":
        positive = finite[finite > 0]
        lo = positive.min() if positive.size else 1e-8
        hi = positive.max() if positive.size else 1.0
        if hi < lo * 10:  # one value, or a narrow range: centre it on a decade of colour
            mid = np.sqrt(lo * hi)
            lo, hi = mid / np.sqrt(10), mid * np.sqrt(10)
        norm = mcolors.LogNorm(vmin=lo, vmax=hi)
        shown = np.where(cells > 0, cells, np.nan) if positive.size else cells
    else:
        norm = mcolors.Normalize(vmin=0, vmax=result.epochs)
        shown = cells
    im = ax.imshow(np.ma.masked_invalid(shown), cmap=cmap, norm=norm, aspect="auto")
    not_reached = False
    for i in range(B):
        for j in range(L):
            k = int(k_div[i, j])
            v = cells[i, j]
            if k == S:
                ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, facecolor="0.85", edgecolor="tab:red",
                                       hatch="xx", lw=0))
                ax.text(j, i, "diverged", ha="center", va="center", color="tab:red", fontsize=9,
                        fontweight="bold", bbox=dict(facecolor="white", edgecolor="none", pad=1.5))
                continue
            if metric == "epochs" and not np.isfinite(v):
                not_reached = True
                text = f"not reached\n(>{result.epochs})"
            else:
                text = f"{v:.2g}" if metric == "excess" else f"{int(v)}"
            if k:
                text += f"\n{k}/{S} diverged"
            bright = np.isfinite(shown[i, j]) and norm(shown[i, j]) > 0.6
            ax.text(j, i, text, ha="center", va="center", fontsize=9,
                    color="black" if bright or not np.isfinite(shown[i, j]) else "white",
                    fontweight="bold" if k else None)
    ax.set_xticks(range(L), [f"{lr:g}" for lr in result.lrs])
    ax.set_yticks(range(B), [f"{int(b)} ({v})" for b, v in zip(result.batch_sizes, result.variants)])
    ax.set(xlabel="learning rate", ylabel="batch size")
    everything_diverged = bool((k_div == S).all())
    if finite.size:  # a colour scale only when there are values to read off it
        cbar = fig.colorbar(im, ax=ax)
        cbar.set_label(label + (" (log)" if metric == "excess" else ""))
    target = "" if metric == "excess" else ", target 1% of the initial excess"
    title = f"{label}:\nmedian over {S} seeds, {result.epochs} epochs, n={result.n}{target}"
    if everything_diverged:
        lrs = ", ".join(f"{lr:g}" for lr in result.lrs)
        title += f"\nall runs diverged at lr={lrs}"
    ax.set_title(title, fontsize=10)
    handles = []
    if (k_div == S).any():
        handles.append(Patch(facecolor="0.85", edgecolor="tab:red", hatch="xx",
                             label=f"every seed diverged (loss non-finite or > {result.divergence_factor:g}x initial)"))
    if not_reached:
        handles.append(Patch(facecolor="0.85", label=f"target not reached within {result.epochs} epochs"))
    if ((k_div > 0) & (k_div < S)).any():
        handles.append(Patch(facecolor="none", edgecolor="none", label="k/S diverged: median over the other seeds"))
    if handles:
        fig.legend(handles=handles, loc="outside lower center", ncol=1 if L < 4 else len(handles),
                   fontsize=8, frameon=False)
    return _finish(fig, None if path is None else str(path), dpi=100)


def _optimizer_color(name):
    """The registered optimizer's colour (``optim.REGISTRY``), or None for matplotlib's cycle."""
    from jaxgd import optim

    definition = optim.REGISTRY.get(name)
    return None if definition is None else definition.color


def optimizers_figure(report, path):
    """2x3: excess loss (log) against epochs (top) and parameter updates (bottom), one column per
    variant (GD, mini-batch, SGD); per optimizer its median over seeds at its best learning rate
    with the interquartile band. A variant in which every rate diverged for an optimizer is said
    so in that panel's legend."""
    variants = list(dict.fromkeys(e.variant for e in report.entries))
    E = report.epochs
    e = np.arange(E + 1)
    floor = max(report.resolution / 8, 1e-12)  # excess below one ulp of the loss is rounding
    fig = _figure(figsize=(6 * len(variants), 9.5), layout="constrained")
    axes = fig.subplots(2, len(variants), squeeze=False)
    for col, variant in enumerate(variants):
        entries = [x for x in report.entries if x.variant == variant]
        for row, (xlabel, xscale) in enumerate((("epochs", "linear"), ("parameter updates (log)", "log"))):
            ax = axes[row, col]
            drawn = False
            for x in entries:
                color = _optimizer_color(x.optimizer)
                if x.best_lr is None:
                    ax.plot([], [], color=color, alpha=0.35, label=f"{x.optimizer}: every lr diverged")
                    continue
                with np.errstate(invalid="ignore"):
                    curves = np.clip(x.epoch_loss - report.optimum_loss, floor, None)
                q25, med, q75 = np.percentile(curves, [25, 50, 75], axis=0)
                xs = (e * x.updates_per_epoch).astype(float) if row else e.astype(float)
                sl = slice(1, None) if xscale == "log" else slice(None)  # log x: from epoch 1
                ax.plot(xs[sl], med[sl], color=color, lw=2, label=f"{x.optimizer} (lr {x.best_lr:g})")
                ax.fill_between(xs[sl], q25[sl], q75[sl], color=color, alpha=0.2, lw=0)
                drawn = True
            first = entries[0]
            ax.set(xscale=xscale, yscale="log", xlabel=xlabel, ylabel="excess loss over least-squares optimum (log)",
                   title=f"{variant} (batch {first.batch_size}, {first.updates_per_epoch:,} "
                         f"update{'s' if first.updates_per_epoch != 1 else ''}/epoch)")
            ax.grid(True, which="both", alpha=0.3)
            if row == 1:  # one legend per column (the rates differ by variant), below it
                ax.legend(fontsize=9, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=3, frameon=False)
            if not drawn:
                _note(ax, "every learning rate diverged for every optimizer")
    fig.suptitle(
        f"torch.optim's optimizers (torch's defaults), each at its best learning rate per variant: n={report.n}, "
        f"{report.epochs} epochs;\nmedian line and interquartile band over {report.seeds} seeds; losses measured at "
        f"epoch ends, excess clipped at {floor:.1g} (float rounding)", fontsize=11)
    return _finish(fig, None if path is None else str(path), dpi=90)


# --- paths of parameters over the loss surface (d = 1) ------------------------------------------

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


def _paths_legend(fig, axes, scene):
    handles, labels = axes[0].get_legend_handles_labels()
    keep = {}
    for h, lb in zip(handles, labels):
        keep.setdefault(lb, h)
    fig.legend(keep.values(), keep.keys(), loc="outside lower center", ncol=2, fontsize=8, frameon=False,
               title="contours: full-data loss minus its optimum, log-spaced levels", title_fontsize=8)


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


def _shared_palette_writer(PillowWriter):
    """matplotlib's Pillow writer with one palette for every frame, taken from the last (which
    holds every colour the paths reach), without dithering: a pixel that does not change then
    keeps its index, and Pillow stores only the part of each frame that changed (a palette per
    frame, dithered, made every pixel differ: 40 KB a frame instead of a few)."""
    from PIL import Image

    class SharedPaletteWriter(PillowWriter):
        def finish(self):
            last = self._frames[-1].convert("RGB")
            palette = last.quantize(colors=128, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
            self._frames = [f.convert("RGB").quantize(palette=palette, dither=Image.Dither.NONE)
                            for f in self._frames]
            super().finish()

    return SharedPaletteWriter


def paths_animation(X, y, results, path, *, true_w=None, true_b=None, frames=120, fps=15, dpi=70,
                    max_points=PATH_POINTS):
    """``paths_figure`` as a GIF (matplotlib.animation, Pillow writer): every run advances by
    samples processed, so all move in step; frame i shows each path up to i/(frames-1) of the
    samples processed, its current point marked. Returns ``path``."""
    import matplotlib.colors as mcolors
    from matplotlib.animation import FuncAnimation, PillowWriter

    if isinstance(frames, bool) or int(frames) != frames or frames < 2:
        raise InputError(f"frames must be an integer >= 2, got {frames!r}")
    frames = int(frames)
    scene = _paths_scene(X, y, results, true_w, true_b, max_points)
    fig = _figure(figsize=(10.5 if scene["zoom"] else 6, 6.2), layout="constrained", dpi=dpi)
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
    _paths_legend(fig, axes, scene)
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
        return []

    FuncAnimation(fig, frame, frames=frames).save(str(path), writer=_shared_palette_writer(PillowWriter)(fps=fps),
                                                  dpi=dpi)
    return path


def batch_size_figure(problems, path):
    """One row per problem of ``jaxgd batch-size``: (left) updates S against examples E to each
    target (log-log; medians over seeds, each batch size at its own best rate), the fitted
    hyperbola S = S_min + E_min / B, B_crit (S = 2 S_min, E = 2 E_min) as a star and B_simple at
    the target as a diamond on it; (right) wall time to the target against the batch size, the
    fastest ringed. Batch sizes that never reach a target are left out of its curve."""
    import matplotlib

    colors = matplotlib.colormaps["viridis"](np.linspace(0.0, 0.8, max(len(p.targets) for p in problems)))
    fig = _figure(figsize=(14, 6.6 * len(problems)), layout="constrained")
    axes = fig.subplots(len(problems), 2, squeeze=False)
    for row, p in enumerate(problems):
        ax, wax = axes[row]
        S, E, wall = p.median_steps, p.median_samples, p.wall_seconds
        reached = np.isfinite(S)
        # Batch sizes are labelled on the target with the most points reached (ties: the widest span of S).
        span = [np.ptp(np.log(S[t][reached[t]])) if reached[t].any() else -1 for t in range(len(p.targets))]
        label_t = max(range(len(p.targets)), key=lambda t: (reached[t].sum(), span[t]))
        drawn = False
        for t, rel in enumerate(p.targets):
            c, ok = colors[t], reached[t]
            if not ok.any():
                ax.plot([], [], "o", color=c, label=f"target {rel:g}: no batch size reaches it")
                continue
            drawn = True
            ax.plot(E[t][ok], S[t][ok], "o", color=c, ms=6, label=f"target {rel:g} x initial excess")
            if t == label_t:
                for b, e, s in zip(p.batch_sizes[ok], E[t][ok], S[t][ok]):
                    ax.annotate(f"{b}", (e, s), textcoords="offset points", xytext=(5, 4), fontsize=8, color="0.2")
            fit = p.fits[t]
            if fit is not None:
                B = np.geomspace(0.5, 2.0 * p.n, 200)
                ax.plot(fit.samples_at(B), fit.steps_at(B), "--", color=c, lw=1.2,
                        label=f"  fit: S_min {fit.S_min:.3g}, E_min {fit.E_min:.3g}")
                if fit.S_min > 0 and fit.E_min > 0:
                    ax.plot(2 * fit.E_min, 2 * fit.S_min, "*", color=c, ms=16, mec="k", mew=0.8,
                            label=f"  B_crit {fit.B_crit:.3g}")
                bs = p.b_simple_target[t]
                if np.isfinite(bs):
                    ax.plot(fit.samples_at(bs), fit.steps_at(bs), "D", color=c, ms=8, mec="k", mew=0.8,
                            label=f"  B_simple at target {bs:.3g}")
            ok_w = np.isfinite(wall[t])
            wax.plot(p.batch_sizes[ok_w], wall[t][ok_w] * 1e3, "o-", color=c, label=f"target {rel:g}")
            if ok_w.any():
                best = int(np.argmin(np.where(ok_w, wall[t], np.inf)))
                wax.plot(p.batch_sizes[best], wall[t][best] * 1e3, "o", ms=15, mfc="none", mec=c, mew=2)
        ax.set(xlabel="examples processed to the target, E (log)", ylabel="updates to the target, S (log)",
               title=f"{p.name} (n={p.n}, d={p.d}, condition number {p.condition:.3g}): updates against examples")
        wax.set(xlabel="batch size (log)", ylabel="wall time to the target, ms (log)",
                title=f"{p.name}: wall time to the target (fastest ringed)")
        if not drawn:  # nothing on a log scale to show
            _note(ax, "no batch size reaches any target")
            _note(wax, "no batch size reaches any target")
            continue
        ax.set(xscale="log", yscale="log")
        ax.grid(True, which="both", alpha=0.3)
        # Below the panel, one column per target: the points fill the panel's corners.
        ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=len(p.targets), frameon=False)
        wax.set(xscale="log", yscale="log")
        wax.set_xticks(p.batch_sizes, [str(b) for b in p.batch_sizes], fontsize=8)
        wax.minorticks_off()
        wax.grid(True, which="major", alpha=0.3)
        wax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=len(p.targets),
                   frameon=False, title="median updates x one update's measured time", title_fontsize=8)
    seeds = len(problems[0].seeds)
    fig.suptitle(f"Batch size against epochs: each batch size at its own best learning rate, medians over {seeds} "
                 f"seeds;\nMcCandlish et al.'s S = S_min + E_min / B fitted per target (dashed; star: B_crit, "
                 f"diamond: B_simple at the target)", fontsize=11)
    return _finish(fig, None if path is None else str(path), dpi=90)
