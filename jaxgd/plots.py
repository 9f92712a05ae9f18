"""Figures built from results (never from inside training).

Each function writes a PNG to ``path`` and returns the path; with ``path=None`` it returns the
open matplotlib ``Figure`` instead (for inspection; close it with ``plt.close(fig)``).
"""

from __future__ import annotations

import numpy as np

COLORS = {"GD": "tab:blue", "mini-batch": "tab:green", "SGD": "tab:red"}


def _finish(fig, path, dpi):
    """Save and close the figure and return ``path``; with ``path`` None return the open figure."""
    if path is None:
        return fig
    import matplotlib.pyplot as plt

    fig.savefig(path, dpi=dpi)
    plt.close(fig)
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


def compare_figure(X, y, true_w, true_b, results, path):
    """The tutorial's comparison: data with true and fitted lines; loss per epoch; loss per update.

    ``results`` maps a label to a ``TrainResult``. Only the first feature is drawn in the data
    panel (the tutorial's data are one-dimensional; with several features the panel shows
    predictions against targets); ``true_w`` None (a data file) omits the true line. A run that
    diverged (``TrainResult.diverged_at``) is named in the legends with its epoch; its loss
    curves are drawn until they leave the panel.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .analysis import optimum

    X, y = np.asarray(X, np.float64), np.asarray(y, np.float64).reshape(-1)
    best = optimum(X, y).loss  # least-squares optimum of the tutorial's loss
    fig, axes = plt.subplots(1, 3, figsize=(16, 5.2), layout="constrained")
    div = {label: r.diverged_at for label, r in results.items()}
    lrs = sorted({float(r.config.lr) for r in results.values()})
    all_diverged = all(k is not None for k in div.values())
    note = f"all runs diverged at lr={', '.join(f'{lr:g}' for lr in lrs)}"

    def diverged_label(label):
        return f"{label}: diverged at epoch {div[label]}"

    ax = axes[0]
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
            w, b = float(np.asarray(r.w).ravel()[0]), float(np.asarray(r.b).ravel()[0])
            ax.plot(grid, w * grid + b, "--", lw=1.8, color=color, label=f"{label}: w={w:.3f}, b={b:.3f}")
        ax.set(xlabel="x", ylabel="y", title="Data, true line and fitted lines")
    else:  # several features: a line per feature would mislead; compare predictions instead
        lo, hi = float(y.min()), float(y.max())
        ax.plot([lo, hi], [lo, hi], "k-", lw=1.5, label="perfect prediction")
        for label, r in results.items():
            color = COLORS.get(r.config.variant)
            if div[label] is not None:
                ax.plot([], [], ".", ms=2, color=color, label=diverged_label(label))
                continue
            pred = X[shown] @ np.asarray(r.w, np.float64) + np.asarray(r.b, np.float64)
            ax.plot(y[shown], pred[:, 0], ".", ms=2, alpha=0.5, color=color, label=label + subset)
        ax.set(xlabel="y", ylabel="prediction ŷ", title=f"Predictions against targets ({X.shape[1]} features)")
    ax.legend(fontsize=8, loc="upper left", markerscale=3 if X.shape[1] > 1 else 1)
    if all_diverged:
        _note(ax, note, y=0.1)

    # Loss panels: a diverged curve is drawn until it leaves the view; the view ends a little
    # above the largest loss of the runs that did not diverge (or 1000x the initial loss).
    initial = max(float(np.asarray(r.epoch_loss)[0]) for r in results.values())
    top = max([best, initial] + [float(np.nanmax(_finite(r.epoch_loss))) for lb, r in results.items()
                                 if div[lb] is None])
    top = min(top, 1e3 * initial) * 3
    epochs = max(r.config.epochs for r in results.values())

    ax = axes[1]
    for label, r in results.items():
        loss = _finite(r.epoch_loss)
        ax.plot(np.arange(len(loss)), loss, "-", color=COLORS.get(r.config.variant),
                label=label if div[label] is None else diverged_label(label))
    _held_out_curves(ax, results)
    ax.axhline(best, color="k", ls=":", lw=1, label=f"least-squares optimum {best:.4f}")
    ax.set(yscale="log", xlabel="epoch", ylabel="loss  1/(2n) Σ(ŷ−y)²", title="Full-data loss per epoch",
           xlim=(0, epochs), ylim=(best / 3, top))
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="upper right")
    if all_diverged:
        _note(ax, note)

    ax = axes[2]
    most = 1
    for label, r in results.items():
        color = COLORS.get(r.config.variant)
        per_epoch = r.updates // r.config.epochs
        step = _finite(r.step_loss)  # sum r^2 / (2b): already a per-sample mean, as the epoch loss
        _faint_series(ax, step, color)
        loss = _finite(r.epoch_loss)
        ax.plot(np.arange(len(loss)) * per_epoch + 1, loss, "o-", ms=2.5, color=color,
                label=f"{label} (full-data loss)" if div[label] is None else diverged_label(label))
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
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    E = result.epochs
    e = np.arange(E + 1)
    diverged = result.diverged[:, 0]  # (3, S)
    S = diverged.shape[1]
    lr = float(result.lrs[0])
    with np.errstate(invalid="ignore", over="ignore"):
        excess = result.excess_loss[:, 0]  # (3, S, E + 1)
    target = rel * np.median(excess[..., 0])  # the initial loss is finite in every run
    fig, axes = plt.subplots(2, 2, figsize=(12, 9), layout="constrained")
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
    from . import analysis

    ok = ~result.diverged
    with np.errstate(invalid="ignore", over="ignore"):  # diverged runs: inf - inf; masked below
        if metric == "excess":
            values = analysis.excess_loss(result.final_loss, result.optimum_loss)
            label = "final excess loss over the least-squares optimum"
        else:
            values = analysis.as_float_counts(result.epochs_to_target())
            label = "epochs to the target"
    values = np.where(ok, values, np.nan)
    cells = np.full(result.shape[:2], np.nan)
    for idx in np.ndindex(*result.shape[:2]):
        v = values[idx][ok[idx]]
        if v.size:
            cells[idx] = np.quantile(v, 0.5, method="inverted_cdf")
    return cells, label


def sweep_heatmap(result, metric, path):
    """Heatmap over (batch size, lr) of the median across seeds; diverged cells hatched and
    marked, partially diverged cells annotated with how many seeds diverged. The legend below
    names only what the figure shows."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.colors as mcolors
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch, Rectangle

    cells, label = sweep_cells(result, metric)
    B, L, S = result.shape
    k_div = result.diverged.sum(axis=-1)  # (B, L) seeds diverged per cell
    fig, ax = plt.subplots(figsize=(max(1.5 * L + 3.5, 7.5), 0.9 * B + 3.2), layout="constrained")
    finite = cells[np.isfinite(cells)]
    cmap = plt.get_cmap("viridis").with_extremes(bad="0.85")
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


OPTIMIZER_COLORS = {"sgd": "tab:blue", "adam": "tab:orange", "adamw": "tab:green", "adagrad": "tab:red",
                    "rmsprop": "tab:purple", "adadelta": "tab:brown"}


def optimizers_figure(report, path):
    """2x3: excess loss (log) against epochs (top) and parameter updates (bottom), one column per
    variant (GD, mini-batch, SGD); per optimizer its median over seeds at its best learning rate
    with the interquartile band. A variant in which every rate diverged for an optimizer is said
    so in that panel's legend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    variants = list(dict.fromkeys(e.variant for e in report.entries))
    E = report.epochs
    e = np.arange(E + 1)
    floor = max(report.resolution / 8, 1e-12)  # excess below one ulp of the loss is rounding
    fig, axes = plt.subplots(2, len(variants), figsize=(6 * len(variants), 9.5), layout="constrained",
                             squeeze=False)
    for col, variant in enumerate(variants):
        entries = [x for x in report.entries if x.variant == variant]
        for row, (xlabel, xscale) in enumerate((("epochs", "linear"), ("parameter updates (log)", "log"))):
            ax = axes[row, col]
            drawn = False
            for x in entries:
                color = OPTIMIZER_COLORS.get(x.optimizer)
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
