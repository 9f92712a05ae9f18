"""Convergence metrics: small pure numpy functions of loss curves.

Every function takes loss curves along the last axis (any leading axes: seeds, learning
rates, ...) and returns arrays of the leading shape.

    opt = analysis.optimum(X, y)                       # least-squares optimum and its loss
    e = analysis.epochs_to_target(result.epoch_loss, opt.loss)   # -1 (NOT_REACHED) if never
    analysis.tail_spread(result.epoch_loss, k=10)      # fluctuation over the last 10 epochs

"Not reached" is the sentinel ``NOT_REACHED = -1`` in integer results and NaN in float ones
(wall time); ``reached(x)`` tests for it.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

NOT_REACHED = -1
DEFAULT_REL_TARGET = 0.01  # target: 1% of the initial excess loss
DIVERGENCE_FACTOR = 1e3  # a loss above this multiple of the initial loss has diverged


class Optimum(NamedTuple):
    w: np.ndarray  # (d, 1)
    b: np.ndarray  # (1,)
    loss: float  # the tutorial's loss 1/(2n) sum (y_hat - y)^2 at (w, b)


def data_loss(X, y, w, b) -> float:
    """The tutorial's full-data loss 1/(2n) sum (X w + b - y)^2, in float64."""
    X = np.asarray(X, np.float64)
    r = X @ np.asarray(w, np.float64).reshape(-1) + float(np.asarray(b).reshape(-1)[0])
    r = r - np.asarray(y, np.float64).reshape(-1)
    return float(r @ r / (2 * len(r)))


def optimum(X, y) -> Optimum:
    """The minimiser of the tutorial's loss by least squares on [X, 1] (float64), and its loss."""
    X = np.asarray(X, np.float64)
    y = np.asarray(y, np.float64).reshape(-1)
    A = np.column_stack([X, np.ones(len(X))])
    coef = np.linalg.lstsq(A, y, rcond=None)[0]
    w, b = coef[:-1].reshape(-1, 1), coef[-1:]
    return Optimum(w, b, data_loss(X, y, w, b))


def excess_loss(loss, optimum_loss):
    """``loss - optimum_loss`` (float64). Tiny negative values are rounding of float32 losses."""
    return np.asarray(loss, np.float64) - float(optimum_loss)


def divergence(epoch_loss, factor: float = DIVERGENCE_FACTOR):
    """``(diverged, diverged_epoch)`` of loss curves (..., epochs + 1): jaxgd's one meaning of
    divergence, used by ``train``, ``sweep``, the figures and the CLI.

    A run has *diverged* from the first epoch whose loss is non-finite or above ``factor``
    (default 1000) times its loss at epoch 0. ``diverged`` is a bool array of the leading
    shape, ``diverged_epoch`` that first epoch, -1 where there is none.
    """
    loss = np.asarray(epoch_loss, np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        bad = ~np.isfinite(loss) | (loss > factor * loss[..., :1])
    hit = bad.any(axis=-1)
    return hit, np.where(hit, np.argmax(bad, axis=-1), -1)


def first_at_or_below(curve, threshold):
    """Index along the last axis of the first value <= ``threshold``; NOT_REACHED if none.

    ``threshold`` broadcasts against ``curve[..., 0]``. NaN never counts as reached.
    """
    curve = np.asarray(curve, np.float64)
    threshold = np.asarray(threshold, np.float64)[..., None]
    with np.errstate(invalid="ignore"):
        hit = curve <= threshold
    return np.where(hit.any(axis=-1), np.argmax(hit, axis=-1), NOT_REACHED)


def reached(count):
    """True where a ``*_to_target`` result is a real count (not the NOT_REACHED / NaN sentinel)."""
    count = np.asarray(count)
    if np.issubdtype(count.dtype, np.floating):
        return ~np.isnan(count)
    return count != NOT_REACHED


def epochs_to_target(epoch_loss, optimum_loss, *, rel: float = DEFAULT_REL_TARGET, target=None):
    """Epochs until the excess loss first is at or below the target.

    Args:
      epoch_loss: (..., epochs + 1) loss after each epoch, index 0 at the initial parameters.
      optimum_loss: the least-squares optimum loss (``optimum(X, y).loss``).
      rel: target as a fraction of the initial excess loss (default 1%).
      target: an absolute excess-loss target instead (broadcasts over the leading axes).

    Returns:
      int array of the leading shape: the first epoch ``e`` with excess <= target (0 if the
      initial parameters already are), or ``NOT_REACHED`` (-1) where no epoch of the curve
      gets there (also for curves that diverge to inf/NaN first).

    The loss is measured at epoch boundaries, so this is exact to one epoch, not one update.
    """
    excess = excess_loss(epoch_loss, optimum_loss)
    if target is None:
        if not 0 < rel < 1:
            raise ValueError(f"rel must be in (0, 1), got {rel!r}")
        target = rel * excess[..., 0]
    return first_at_or_below(excess, target)


def updates_to_target(epochs, updates_per_epoch):
    """Parameter updates to the target: epochs x ceil(n / b); NOT_REACHED passes through."""
    epochs = np.asarray(epochs)
    return np.where(reached(epochs), epochs * np.asarray(updates_per_epoch), NOT_REACHED)


def samples_to_target(epochs, n):
    """Samples processed (gradients of one sample) to the target: epochs x n, for every variant."""
    epochs = np.asarray(epochs)
    return np.where(reached(epochs), epochs * int(n), NOT_REACHED)


def time_to_target(epochs, seconds_per_epoch):
    """Wall time to the target given a measured time per epoch; NaN where not reached."""
    epochs = np.asarray(epochs)
    return np.where(reached(epochs), epochs * np.asarray(seconds_per_epoch, np.float64), np.nan)


def tail_spread(epoch_loss, k: int = 10):
    """Standard deviation of the epoch loss over the last ``k`` epochs (fluctuation late on)."""
    loss = np.asarray(epoch_loss, np.float64)
    if not 1 <= k <= loss.shape[-1]:
        raise ValueError(f"k must be between 1 and {loss.shape[-1]} (curve length), got {k}")
    return loss[..., -k:].std(axis=-1)


def tail_excess(epoch_loss, optimum_loss, k: int = 10):
    """Mean excess loss over the last ``k`` epochs: how far above the optimum a run hovers."""
    loss = np.asarray(epoch_loss, np.float64)
    if not 1 <= k <= loss.shape[-1]:
        raise ValueError(f"k must be between 1 and {loss.shape[-1]} (curve length), got {k}")
    return excess_loss(loss[..., -k:], optimum_loss).mean(axis=-1)


def within_epoch_spread(step_loss, updates_per_epoch: int):
    """(..., epochs) standard deviation of the per-update losses within each epoch.

    ``step_loss``: (..., epochs * updates_per_epoch), as ``TrainResult.step_loss``. Zero for
    GD (one update per epoch).
    """
    step = np.asarray(step_loss, np.float64)
    upe = int(updates_per_epoch)
    if upe < 1 or step.shape[-1] % upe:
        raise ValueError(
            f"step_loss length {step.shape[-1]} is not a multiple of updates_per_epoch={upe}"
        )
    return step.reshape(*step.shape[:-1], -1, upe).std(axis=-1)


def quantiles(values, qs=(0.05, 0.5, 0.95), axis=-1):
    """Order-statistic quantiles (``inverted_cdf``: always an actual value, so +inf for "not
    reached" stays +inf instead of turning into NaN by interpolation)."""
    values = np.asarray(values, np.float64)
    return np.quantile(values, qs, axis=axis, method="inverted_cdf")


def describe(values, qs=(0.05, 0.5, 0.95)) -> tuple[float, float, float]:
    """(low, median, high) of a 1-D sample, default the median and 90% interval."""
    lo, mid, hi = quantiles(np.asarray(values).ravel(), qs)
    return float(lo), float(mid), float(hi)


def as_float_counts(counts):
    """Integer counts with NOT_REACHED -> float with +inf (for medians and intervals)."""
    counts = np.asarray(counts)
    return np.where(reached(counts), counts.astype(np.float64), np.inf)


__all__ = [
    "DEFAULT_REL_TARGET",
    "NOT_REACHED",
    "Optimum",
    "as_float_counts",
    "describe",
    "divergence",
    "epochs_to_target",
    "excess_loss",
    "first_at_or_below",
    "optimum",
    "quantiles",
    "reached",
    "samples_to_target",
    "data_loss",
    "tail_excess",
    "tail_spread",
    "time_to_target",
    "updates_to_target",
    "within_epoch_spread",
]
