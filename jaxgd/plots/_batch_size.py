"""The batch-size study: updates against examples to each target, and wall time, per problem
(``jaxgd batch-size``)."""

from __future__ import annotations

import numpy as np

from jaxgd.plots._common import _figure, _finish, _note


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
