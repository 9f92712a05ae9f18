"""The batch-size study: updates against examples to each target, and wall time, per problem
(``jaxgd batch-size``)."""

from __future__ import annotations

import numpy as np

from jaxgd.plots._common import _figure, _finish, _note


def batch_size_figure(problems, path):
    """One row per problem of ``jaxgd batch-size``: (left) updates S against examples E to each
    target (log-log; medians over seeds, each batch size at its own best rate), every point
    labelled with its batch size, the fitted hyperbola S = S_min + E_min / B dashed, B_crit
    (S = 2 S_min, E = 2 E_min) as a star and B_simple at the target as a diamond on it; one
    legend entry per target (its fit's numbers) and one key for the marks. (Right, smaller)
    wall time to the target against the batch size, the fastest on this machine ringed: timing
    information only, not part of the verdict. Batch sizes that never reach a target are left
    out of its curve."""
    import matplotlib
    from matplotlib.lines import Line2D

    colors = matplotlib.colormaps["viridis"](np.linspace(0.0, 0.8, max(len(p.targets) for p in problems)))
    fig = _figure(figsize=(14, 6.2 * len(problems)), layout="constrained")
    axes = fig.subplots(len(problems), 2, squeeze=False, width_ratios=[1.7, 1])
    for row, p in enumerate(problems):
        ax, wax = axes[row]
        S, E, wall = p.median_steps, p.median_samples, p.wall_seconds
        reached = np.isfinite(S)
        drawn = False
        for t, rel in enumerate(p.targets):
            c, ok = colors[t], reached[t]
            if not ok.any():
                ax.plot([], [], "o", color=c, label=f"target {rel:g}: no batch size reaches it")
                continue
            drawn = True
            fit = p.fits[t]
            numbers = ""
            if fit is not None:
                numbers = f": S_min {fit.S_min:.3g}, E_min {fit.E_min:.3g}, B_crit {fit.B_crit:.3g}"
                bs = p.b_simple_target[t]
                numbers += f", B_simple {bs:.3g}" if np.isfinite(bs) else ""
            ax.plot(E[t][ok], S[t][ok], "o", color=c, ms=6, label=f"target {rel:g} x initial excess{numbers}")
            for i, (b, e, s) in enumerate(zip(p.batch_sizes[ok], E[t][ok], S[t][ok])):
                # alternate above / below so neighbours' labels do not collide
                ax.annotate(f"{b}", (e, s), textcoords="offset points", xytext=(4, 5 if i % 2 == 0 else -10),
                            fontsize=7, color=0.65 * np.asarray(c[:3]))  # darker: readable on white
            if fit is not None:
                B = np.geomspace(0.5, 2.0 * p.n, 200)
                ax.plot(fit.samples_at(B), fit.steps_at(B), "--", color=c, lw=1.2)
                if fit.S_min > 0 and fit.E_min > 0:
                    ax.plot(2 * fit.E_min, 2 * fit.S_min, "*", color=c, ms=16, mec="k", mew=0.8)
                bs = p.b_simple_target[t]
                if np.isfinite(bs):
                    ax.plot(fit.samples_at(bs), fit.steps_at(bs), "D", color=c, ms=8, mec="k", mew=0.8)
            ok_w = np.isfinite(wall[t])
            wax.plot(p.batch_sizes[ok_w], wall[t][ok_w] * 1e3, "o-", color=c, label=f"target {rel:g}")
            if ok_w.any():
                best = int(np.argmin(np.where(ok_w, wall[t], np.inf)))
                wax.plot(p.batch_sizes[best], wall[t][best] * 1e3, "o", ms=15, mfc="none", mec=c, mew=2)
        ax.set(xlabel="examples processed to the target, E (log)", ylabel="updates to the target, S (log)",
               title=f"{p.name} (n={p.n}, d={p.d}, condition number {p.condition:.3g}): updates against examples\n"
                     f"(each point a batch size, labelled)")
        wax.set(xlabel="batch size (log)", ylabel="wall time to the target, ms (log)",
                title=f"{p.name}: wall time to the target\n(fastest on this machine ringed; not part of the verdict)")
        if not drawn:  # nothing on a log scale to show
            _note(ax, "no batch size reaches any target")
            _note(wax, "no batch size reaches any target")
            continue
        ax.set(xscale="log", yscale="log")
        ax.grid(True, which="both", alpha=0.3)
        keys = [Line2D([], [], ls="--", color="0.3", label="fit S = S_min + E_min / B"),
                Line2D([], [], ls="", marker="*", ms=12, color="0.6", mec="k", label="B_crit (S = 2 S_min)"),
                Line2D([], [], ls="", marker="D", ms=7, color="0.6", mec="k", label="B_simple at the target")]
        handles, _ = ax.get_legend_handles_labels()
        # Below the panel: the points fill the panel's corners.
        ax.legend(handles=handles + keys, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2,
                  frameon=False)
        wax.set(xscale="log", yscale="log")
        wax.set_xticks(p.batch_sizes, [str(b) for b in p.batch_sizes], fontsize=7, rotation=90)
        wax.minorticks_off()
        wax.grid(True, which="major", alpha=0.3)
        wax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=len(p.targets),
                   frameon=False, title="median updates x one update's measured time", title_fontsize=8)
    seeds = len(problems[0].seeds)
    fig.suptitle(f"Batch size against epochs: each batch size at its own best learning rate, medians over {seeds} "
                 f"seeds; McCandlish et al.'s S = S_min + E_min / B fitted per target", fontsize=11)
    return _finish(fig, None if path is None else str(path), dpi=90)
