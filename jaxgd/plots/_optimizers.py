"""The optimizer comparison: each optimizer at its best rate per variant (``jaxgd optimizers``)."""

from __future__ import annotations

import numpy as np

from jaxgd.analysis import QS
from jaxgd.plots._common import _figure, _finish, _note


def _optimizer_color(name):
    """The registered optimizer's colour (``optim.REGISTRY``), or None for matplotlib's cycle."""
    from jaxgd import optim

    definition = optim.REGISTRY.get(name)
    return None if definition is None else definition.color


def optimizers_figure(report, path):
    """2x3: excess loss (log) against epochs (top) and parameter updates (bottom), one column per
    variant (GD, mini-batch, SGD); per optimizer its median over seeds at its best learning rate
    with the 90% band. A variant in which every rate diverged for an optimizer is said
    so in that panel's legend."""
    variants = list(dict.fromkeys(e.variant for e in report.entries))
    E = report.epochs
    e = np.arange(E + 1)
    floor = max(report.resolution / 8, 1e-12)  # excess below one ulp of the loss is rounding
    # Room below the panels for one legend per column: a row per two optimizers.
    rows = -(-len(dict.fromkeys(x.optimizer for x in report.entries)) // 2)
    fig = _figure(figsize=(6 * len(variants), 8.5 + 0.2 * rows), layout="constrained")
    axes = fig.subplots(2, len(variants), squeeze=False)
    for col, variant in enumerate(variants):
        entries = [x for x in report.entries if x.variant == variant]
        for row, (xlabel, xscale) in enumerate((("epochs", "linear"), ("parameter updates + 1 (log)", "log"))):
            ax = axes[row, col]
            drawn = False
            for x in entries:
                color = _optimizer_color(x.optimizer)
                if x.best_lr is None:
                    ax.plot([], [], color=color, alpha=0.35, label=f"{x.optimizer}: every lr diverged")
                    continue
                with np.errstate(invalid="ignore"):
                    curves = np.clip(x.epoch_loss - report.optimum_loss, floor, None)
                lo, med, hi = np.quantile(curves, QS, axis=0)
                # log x: updates + 1, so the start (update 0) is drawn at 1, as in the top row
                xs = (e * x.updates_per_epoch + 1).astype(float) if row else e.astype(float)
                ax.plot(xs, med, color=color, lw=2, label=f"{x.optimizer} (lr {x.best_lr:g})")
                ax.fill_between(xs, lo, hi, color=color, alpha=0.2, lw=0)
                drawn = True
            first = entries[0]
            # Log axes need a positive point: a panel with nothing drawn keeps linear ones and a note.
            ax.set(xscale=xscale if drawn else "linear", yscale="log" if drawn else "linear", xlabel=xlabel, ylabel="excess loss over least-squares optimum (log)",
                   title=f"{variant} (batch {first.batch_size}, {first.updates_per_epoch:,} "
                         f"update{'s' if first.updates_per_epoch != 1 else ''}/epoch)")
            ax.grid(True, which="both", alpha=0.3)
            if row == 1:  # one legend per column (the rates differ by variant), below it
                # Two columns at 8 pt stay within the panel's width (three overlapped the
                # neighbouring column's legend with eleven optimizers).
                ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2, frameon=False)
            if not drawn:
                _note(ax, "every learning rate diverged for every optimizer")
    fig.suptitle(
        f"torch.optim's optimizers (torch's defaults), each at its best learning rate per variant: n={report.n}, "
        f"{report.epochs} epochs;\nmedian line and 90% band over {report.seeds} seeds; losses measured at "
        f"epoch ends, excess clipped at {floor:.1g} (float rounding)", fontsize=11)
    return _finish(fig, None if path is None else str(path), dpi=90)
