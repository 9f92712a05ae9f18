"""The optimizers compared: each of jaxgd's torch.optim optimizers (torch's defaults) in GD, mini-batch and SGD,
each at its own best learning rate from a vmapped sweep over a log grid, over many random seeds.

Best learning rate (``choose_lr``): among the grid's rates at which no seed diverged, the one with
the lowest median (over seeds) final excess loss. Medians within ``resolution`` of the lowest
(float rounding of the loss: 8 units in the last place of the optimum loss in the data's dtype)
count as ties, broken by the fewest median epochs to the target, then the smaller rate. The
criterion rewards the best loss after the given epochs: a noisy variant (SGD) at a constant rate
wins with a small rate, whose noise floor is low; a smooth one (GD) with the largest stable rate.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Optional

import numpy as np

from jaxgd import analysis, optim
from jaxgd._errors import InputError
from jaxgd.analysis import QS
from jaxgd.drivers._sweep import sweep
from jaxgd.studies._table import table

DEFAULT_LRS = (1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 5e-3, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0)
"""A 1-2-5 log grid; up to 10 because Adadelta's steps are ~sqrt(eps) = 1e-3 times its rate (torch's default 1.0)."""


@dataclasses.dataclass(frozen=True)
class Entry:
    """One optimizer in one variant at its best learning rate (``best_lr`` None: every rate diverged)."""

    optimizer: str
    variant: str
    batch_size: int
    updates_per_epoch: int
    lrs: np.ndarray  # (L,) the grid
    median_final_excess: np.ndarray  # (L,) over seeds that did not diverge; NaN where any seed diverged
    best_lr: Optional[float]
    epoch_loss: Optional[np.ndarray]  # (S, epochs + 1) at the best lr
    diverged: Optional[np.ndarray]  # (S,) at the best lr (all False by the criterion)
    metrics: dict  # name -> (S,) at the best lr: epochs, updates (to target; inf = not reached), final_excess, spread
    # and, with validation=, val_loss: the final held-out loss


@dataclasses.dataclass(frozen=True)
class OptimizersReport:
    entries: list
    n: int
    epochs: int
    seeds: int
    batch_sizes: tuple
    optimum_loss: float
    rel: float
    tail: int
    resolution: float
    compile_seconds: float
    run_seconds: float

    def entry(self, optimizer, variant) -> Entry:
        (e,) = [e for e in self.entries if e.optimizer == optimizer and e.variant == variant]
        return e


def resolution_of(optimum_loss, dtype) -> float:
    """Differences of final losses below this are rounding: 8 ulps of the optimum loss."""
    return float(8 * np.finfo(dtype).eps * abs(optimum_loss))


def choose_lr(epoch_loss, diverged, optimum_loss, *, resolution, rel=analysis.DEFAULT_REL_TARGET):
    """(index of the best rate or None, (L,) median final excess) for one variant's sweep:
    ``epoch_loss`` (L, S, epochs + 1), ``diverged`` (L, S). See the module's docstring."""
    with np.errstate(invalid="ignore", over="ignore"):
        final = analysis.excess_loss(epoch_loss[..., -1], optimum_loss)  # (L, S)
        epochs = analysis.as_float_counts(analysis.epochs_to_target(epoch_loss, optimum_loss, rel=rel))
    ok = ~diverged.any(axis=1)
    med = np.where(ok, np.median(np.where(ok[:, None], final, 0.0), axis=1), np.nan)
    if not ok.any():
        return None, med
    tied = np.flatnonzero(ok & (med <= np.nanmin(med) + resolution))
    speed = np.median(epochs[tied], axis=1)
    return int(tied[np.argmin(speed)]), med  # argmin: the first (smallest rate) of equals


def compare_optimizers(X, y, *, optimizers=optim.NAMES, batch_size=50, lrs=DEFAULT_LRS, seeds=20, epochs=50,
                       rel=analysis.DEFAULT_REL_TARGET, tail=None, validation=None) -> OptimizersReport:
    """Sweeps each optimizer (names or specs) over ``lrs`` x ``seeds`` in GD (batch n), mini-batch
    (``batch_size``) and SGD (batch 1), one ``jaxgd.sweep`` per optimizer, and keeps each
    variant's best rate (``choose_lr``). ``tail``: epochs the fluctuation is measured over
    (default the last 10, or all when there are fewer). ``validation=(X_val, y_val)``: the final
    held-out loss is reported too (the best rate is still chosen on the training loss)."""
    X = np.asarray(X)
    n = X.shape[0]
    if not 1 < batch_size < n:
        raise InputError(f"batch_size must be between 2 and n - 1 for a mini-batch variant, got {batch_size} with n={n}")
    tail = min(10, epochs) if tail is None else tail
    batch_sizes = (n, batch_size, 1)
    entries, compile_s, run_s = [], 0.0, 0.0
    opt_loss = resolution = None
    for spec in optimizers:
        spec = optim.get(spec)
        held = {} if validation is None else {"validation": validation}
        r = sweep(X, y, batch_sizes=list(batch_sizes), lrs=list(lrs), seeds=seeds, epochs=epochs,
                  optimizer=spec, step_loss="none", fast_compile=True, **held)  # compiled to run once
        compile_s += r.compile_seconds
        run_s += r.draw_seconds + float(np.sum(r.run_seconds))
        opt_loss = r.optimum_loss
        resolution = resolution_of(opt_loss, X.dtype)
        for i, (bs, variant) in enumerate(zip(r.batch_sizes, r.variants)):
            j, med = choose_lr(r.epoch_loss[i], r.diverged[i], opt_loss, resolution=resolution, rel=rel)
            upe = int(r.updates_per_epoch[i])
            if j is None:
                entries.append(Entry(spec.name, variant, int(bs), upe, r.lrs, med, None, None, None, {}))
                continue
            loss = r.epoch_loss[i, j]
            e_to = analysis.epochs_to_target(loss, opt_loss, rel=rel)
            metrics = {
                "epochs": analysis.as_float_counts(e_to),
                "updates": analysis.as_float_counts(analysis.updates_to_target(e_to, upe)),
                "final_excess": analysis.excess_loss(loss[:, -1], opt_loss),
                "spread": analysis.tail_spread(loss, tail),
            }
            if validation is not None:
                metrics["val_loss"] = np.asarray(r.val_loss)[i, j, :, -1]
            entries.append(Entry(spec.name, variant, int(bs), upe, r.lrs, med, float(r.lrs[j]), loss,
                                 r.diverged[i, j], metrics))
    return OptimizersReport(entries, n, epochs, int(np.size(r.seeds)), batch_sizes, float(opt_loss), rel, tail,
                            resolution, compile_s, run_s)


def _fmt(v):
    if np.isinf(v):
        return "never"
    if float(v).is_integer() and abs(v) < 1e15:
        return f"{int(v):,}"
    return f"{v:.3g}"


def _describe(values):
    lo, mid, hi = analysis.describe(values, QS)
    return f"{_fmt(mid)} [{_fmt(lo)}, {_fmt(hi)}]"


def table_header(report: OptimizersReport) -> list:
    """The printed columns (and the metrics behind the last ones: ``TABLE_METRICS``)."""
    held = any("val_loss" in e.metrics for e in report.entries)
    return ["optimizer", "variant", "batch", "best lr", "epochs to target", "updates to target",
            "final excess loss", f"fluctuation (last {report.tail} ep.)"] + (["final held-out loss"] if held else [])


TABLE_METRICS = ("epochs", "updates", "final_excess", "spread", "val_loss")


def format_table(report: OptimizersReport) -> str:
    header = table_header(report)
    rows = []
    for e in report.entries:
        if e.best_lr is None:
            rows.append([e.optimizer, e.variant, e.batch_size, "every lr diverged"] + ["-"] * (len(header) - 4))
            continue
        m = e.metrics
        edge = " (edge)" if e.best_lr in (float(e.lrs.min()), float(e.lrs.max())) else ""
        rows.append([e.optimizer, e.variant, e.batch_size, f"{e.best_lr:g}{edge}",
                     *(_describe(m[k]) for k in TABLE_METRICS[: len(header) - 4])])
    return table(header, rows)


def format_report(report: OptimizersReport, figure=None, total=None) -> str:
    lrs = report.entries[0].lrs
    lines = [
        f"jaxgd optimizers: torch.optim's optimizers at torch's defaults, each variant at its best learning "
        f"rate; median [5%, 95%] over {report.seeds} random seeds",
        f"data: n={report.n}; {report.epochs} epochs; least-squares optimum loss {report.optimum_loss:.5f}; "
        f"learning rates tried: {', '.join(f'{v:g}' for v in lrs)}",
        "best lr: the lowest median final excess loss among the rates at which no seed diverged (medians within "
        f"{report.resolution:.2g}, the loss's rounding, are ties: the fewest epochs to the target wins)",
        f"target: excess loss over the optimum <= {report.rel:.0%} of the initial excess (measured at epoch ends); "
        f"fluctuation: std of the epoch loss over the last {report.tail} epochs",
        "",
        format_table(report),
    ]
    if any(e.best_lr is not None and e.best_lr in (float(e.lrs.min()), float(e.lrs.max())) for e in report.entries):
        lines.append("(edge): the smallest or largest rate tried; a rate beyond the grid may do better (--lrs)")
    if figure:
        lines.append(f"\nfigure: {figure}")
    if total is not None:
        lines.append(f"total time {total:.1f} s (compile {report.compile_seconds:.1f} s, "
                     f"run {report.run_seconds:.1f} s)")
    return "\n".join(lines)


def run_optimizers(X, y, *, out=None, **kwargs):
    """``compare_optimizers``, its figure (``out``, None: none) and text: (report, text)."""
    start = time.perf_counter()
    report = compare_optimizers(X, y, **kwargs)
    figure = None
    if out:
        from jaxgd.plots import optimizers_figure

        figure = optimizers_figure(report, out)
    return report, format_report(report, figure, time.perf_counter() - start)
