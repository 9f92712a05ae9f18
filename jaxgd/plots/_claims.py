"""The claims figure: excess loss of GD, mini-batch and SGD against epochs, updates, samples
and wall time (``jaxgd claims``)."""

from __future__ import annotations

import numpy as np

from jaxgd.analysis import QS
from jaxgd.plots._common import COLORS, _figure, _finish, _note


def claims_figure(result, sec_per_epoch, rel, path):
    """2x2: excess loss against epochs, parameter updates, samples processed and wall time;
    median line and 90% band (5th to 95th percentile, the tables' intervals: ``analysis.QS``)
    across seeds, per variant. Diverged runs are left out and said so; a variant whose every run
    diverged is named in the legend, and a panel with nothing left to draw says why. One legend,
    below the panels."""
    from matplotlib.lines import Line2D

    E = result.epochs
    e = np.arange(E + 1)
    diverged = result.diverged[:, 0]  # (3, S)
    S = diverged.shape[1]
    lr = float(result.lrs[0])
    with np.errstate(invalid="ignore", over="ignore"):
        excess = result.excess_loss[:, 0]  # (3, S, E + 1)
    target = rel * np.median(excess[..., 0])  # the initial loss is finite in every run
    # A fixed layout (margins in figure fractions, room below for the legend): constrained
    # layout's pass over every text cost ~0.5 s of a ~0.9 s savefig (the same as in compare).
    fig = _figure(figsize=(12, 9))
    axes = fig.subplots(2, 2, gridspec_kw=dict(left=0.07, right=0.985, top=0.92, bottom=0.165, wspace=0.2,
                                               hspace=0.27))
    panels = [
        # (title, x label, x of epoch ends, x scale, first epoch drawn): updates + 1 on a log axis
        # draws the start (update 0) at 1; wall time has no such point (0 s is off a log axis).
        ("epochs", "epochs", lambda i: e, "linear", 0),
        ("parameter updates", "parameter updates + 1 (log)", lambda i: e * result.updates_per_epoch[i] + 1, "log", 0),
        ("samples processed", "samples processed (gradients of one sample)", lambda i: e * result.n, "linear", 0),
        ("wall time", "wall time of one run, s (log)", lambda i: e * sec_per_epoch[i], "log", 1),
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
    for ax, (title, xlabel, xs, xscale, first) in zip(axes.ravel(), panels):
        for i, variant in enumerate(result.variants):
            ok = ~diverged[i]
            if not ok.any():
                continue
            curves = np.clip(excess[i, ok], floor, None)
            lo, med, hi = np.quantile(curves, QS, axis=0)
            x = xs(i).astype(float)
            sl = slice(first, None)
            # GD is dashed and drawn on top: per update it coincides with mini-batch.
            style = dict(ls="--", lw=2.5, zorder=3) if variant == "GD" else dict(ls="-", lw=2)
            ax.plot(x[sl], med[sl], color=COLORS[variant], **style)
            ax.fill_between(x[sl], lo[sl], hi[sl], color=COLORS[variant], alpha=0.25, lw=0)
        ax.axhline(target, color="k", ls=":", lw=1)
        ax.set(xscale=xscale, yscale="log", xlabel=xlabel, ylabel="excess loss over least-squares optimum",
               title=f"Excess loss against {title}")
        ax.grid(True, which="both", alpha=0.3)
        if diverged.all():  # nothing drawn: still show the ranges the curves would span
            sl = slice(first, None)
            x = np.concatenate([xs(i).astype(float)[sl] for i in range(len(result.variants))])
            ax.set_xlim(x.min(), x.max())
            ax.set_ylim(target / 10, target * 1e3)
            _note(ax, f"all runs diverged at lr={lr:g}")
    title = f"median line and 90% band over {S} seeds, losses measured at epoch ends"
    if diverged.any():
        title += f"; diverged: loss non-finite or above {result.divergence_factor:g}x the initial loss"
    fig.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 0.005), ncol=2, fontsize=9, frameon=False,
               title=title, title_fontsize=9)
    fig.suptitle(
        f"GD vs mini-batch vs SGD, lr={lr:g}, n={result.n}: excess loss 1/(2n)Σ(ŷ−y)² − optimum",
        fontsize=12, y=0.975,
    )
    return _finish(fig, None if path is None else str(path), dpi=100)
