"""The sweep's cells over (batch size, lr) and their heatmap (``jaxgd sweep``)."""

from __future__ import annotations

import numpy as np

from jaxgd.plots._common import _figure, _finish


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
