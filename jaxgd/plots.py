"""Figures built from results (never from inside training)."""

from __future__ import annotations

import numpy as np

COLORS = {"GD": "tab:blue", "mini-batch": "tab:green", "SGD": "tab:red"}


def compare_figure(X, y, true_w, true_b, results, path):
    """The tutorial's comparison: data with true and fitted lines; loss per epoch; loss per update.

    ``results`` maps a label to a ``TrainResult``. Only the first feature is drawn in the data
    panel (the tutorial's data are one-dimensional); ``true_w`` None (a data file) omits the true line.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    X, y = np.asarray(X, np.float64), np.asarray(y, np.float64).reshape(-1)
    A = np.column_stack([X, np.ones(len(X))])
    coef = np.linalg.lstsq(A, y, rcond=None)[0]
    best = float(np.sum((A @ coef - y) ** 2) / (2 * len(y)))  # least-squares optimum of the tutorial's loss
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.8), constrained_layout=True)

    ax = axes[0]
    if X.shape[1] == 1:
        ax.plot(X[:, 0], y, ".", color="0.6", ms=3, label="train data")
        grid = np.linspace(X[:, 0].min(), X[:, 0].max(), 2)
        if true_w is not None:  # synthetic data: the generating line is known
            ax.plot(grid, float(np.ravel(true_w)[0]) * grid + float(true_b), "k-", lw=2.5, label="true line")
        for label, r in results.items():
            w, b = float(np.asarray(r.w).ravel()[0]), float(np.asarray(r.b)[0])
            ax.plot(grid, w * grid + b, "--", lw=1.8, color=COLORS.get(r.config.variant),
                    label=f"{label}: w={w:.3f}, b={b:.3f}")
        ax.set(xlabel="x", ylabel="y", title="Data, true line and fitted lines")
    else:  # several features: a line per feature would mislead; compare predictions instead
        lo, hi = float(y.min()), float(y.max())
        ax.plot([lo, hi], [lo, hi], "k-", lw=1.5, label="perfect prediction")
        for label, r in results.items():
            pred = X @ np.asarray(r.w, np.float64) + np.asarray(r.b, np.float64)
            ax.plot(y, pred[:, 0], ".", ms=2, alpha=0.5, color=COLORS.get(r.config.variant), label=label)
        ax.set(xlabel="y", ylabel="prediction ŷ", title=f"Predictions against targets ({X.shape[1]} features)")
    ax.legend(fontsize=8)

    ax = axes[1]
    for label, r in results.items():
        loss = np.asarray(r.epoch_loss)
        ax.plot(np.arange(len(loss)), loss, "-", color=COLORS.get(r.config.variant), label=label)
    ax.axhline(best, color="k", ls=":", lw=1, label=f"least-squares optimum {best:.4f}")
    ax.set(yscale="log", xlabel="epoch", ylabel="loss  1/(2n) Σ(ŷ−y)²", title="Full-data loss per epoch")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)

    ax = axes[2]
    top = best
    for label, r in results.items():
        color = COLORS.get(r.config.variant)
        per_epoch = r.updates // r.config.epochs
        step = np.asarray(r.step_loss)  # sum r^2 / (2b): already a per-sample mean, as the epoch loss
        ax.plot(np.arange(1, len(step) + 1), step, "-", color=color, alpha=0.15, lw=0.5)
        loss = np.asarray(r.epoch_loss)
        ax.plot(np.arange(len(loss)) * per_epoch + 1, loss, "o-", ms=2.5, color=color,
                label=f"{label} (full-data loss)")
        top = max(top, float(np.nanmax(loss[np.isfinite(loss)], initial=best)))
    ax.axhline(best, color="k", ls=":", lw=1, label="least-squares optimum")
    # Single-sample losses reach ~0; clip the view to the range of the full-data losses.
    ax.set_ylim(best / 10, top * 3)
    ax.set(xscale="log", yscale="log", xlabel="parameter updates + 1",
           ylabel="loss", title="Loss against parameter updates\n(faint: each update's batch loss)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)

    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
