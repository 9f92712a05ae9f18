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

from jaxgd._errors import InputError

NOT_REACHED = -1
DEFAULT_REL_TARGET = 0.01  # target: 1% of the initial excess loss
DIVERGENCE_FACTOR = 1e3  # a loss above this multiple of the initial loss has diverged
QS = (0.05, 0.5, 0.95)  # every table's median and 90% interval over seeds


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
            raise InputError(f"rel must be in (0, 1), got {rel!r}")
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
        raise InputError(f"k must be between 1 and {loss.shape[-1]} (curve length), got {k}")
    return loss[..., -k:].std(axis=-1)


def tail_excess(epoch_loss, optimum_loss, k: int = 10):
    """Mean excess loss over the last ``k`` epochs: how far above the optimum a run hovers."""
    loss = np.asarray(epoch_loss, np.float64)
    if not 1 <= k <= loss.shape[-1]:
        raise InputError(f"k must be between 1 and {loss.shape[-1]} (curve length), got {k}")
    return excess_loss(loss[..., -k:], optimum_loss).mean(axis=-1)


def within_epoch_spread(step_loss, updates_per_epoch: int):
    """(..., epochs) standard deviation of the per-update losses within each epoch.

    ``step_loss``: (..., epochs * updates_per_epoch), as ``TrainResult.step_loss``. Zero for
    GD (one update per epoch).
    """
    step = np.asarray(step_loss, np.float64)
    upe = int(updates_per_epoch)
    if upe < 1 or step.shape[-1] % upe:
        raise InputError(
            f"step_loss length {step.shape[-1]} is not a multiple of updates_per_epoch={upe}"
        )
    return step.reshape(*step.shape[:-1], -1, upe).std(axis=-1)


def quantiles(values, qs=QS, axis=-1):
    """Order-statistic quantiles (``inverted_cdf``: always an actual value, so +inf for "not
    reached" stays +inf instead of turning into NaN by interpolation)."""
    values = np.asarray(values, np.float64)
    return np.quantile(values, qs, axis=axis, method="inverted_cdf")


def describe(values, qs=QS) -> tuple[float, float, float]:
    """(low, median, high) of a 1-D sample, default the median and 90% interval."""
    lo, mid, hi = quantiles(np.asarray(values).ravel(), qs)
    return float(lo), float(mid), float(hi)


def median_over_kept(values, diverged):
    """(...) median over the last axis (seeds) of the runs that did not diverge, NaN where every
    run diverged: the order statistic (:func:`quantiles`), so +inf ("not reached") stays +inf.
    ``values`` and ``diverged``: (..., S)."""
    values, diverged = np.asarray(values, np.float64), np.asarray(diverged, bool)
    cells = np.full(diverged.shape[:-1], np.nan)
    for idx in np.ndindex(*cells.shape):
        kept = values[idx][~diverged[idx]]
        if kept.size:
            cells[idx] = quantiles(kept, 0.5)
    return cells


def as_float_counts(counts):
    """Integer counts with NOT_REACHED -> float with +inf (for medians and intervals)."""
    counts = np.asarray(counts)
    return np.where(reached(counts), counts.astype(np.float64), np.inf)


# --- batch size against steps: the gradient noise scale and McCandlish et al.'s model -------


def _vector(a, name, size=None):
    a = np.asarray(a, np.float64)
    if a.ndim == 2 and a.shape[1] == 1:
        a = a[:, 0]
    if a.ndim != 1 or (size is not None and a.shape[0] != size):
        want = f"({size},) or ({size}, 1)" if size is not None else "1-D"
        raise InputError(f"{name} must have shape {want}, got {np.shape(a)}")
    if not np.isfinite(a).all():
        raise InputError(f"{name} has non-finite values")
    return a


def gradient_noise_scale(X, y, w, b) -> float:
    """The simple gradient noise scale B_simple = tr(Sigma) / |G|^2 of the tutorial's loss at
    (w, b), in closed form and float64 (McCandlish et al. 2018, arXiv:1812.06162, eq. 2.8).

    Example i's loss 1/2 (x_i . w + b - y_i)^2 has the gradient g_i = r_i [x_i, 1] with respect
    to (w, b), r_i its residual. G = mean_i g_i is the full-data gradient and Sigma the
    population covariance of the g_i over the n rows (divided by n), so

        |G|^2 = |X^T r / n|^2 + (mean r)^2,   tr(Sigma) = mean_i r_i^2 (|x_i|^2 + 1) - |G|^2.

    The mean gradient of B rows drawn with replacement has variance tr(Sigma) / B: B_simple is
    the batch size at which that noise is as large as the signal |G|^2. Far from the optimum
    (|G| large) it is small; near the optimum it grows without bound.

    Args:
      X: (n, d) features; y: (n,) or (n, 1) targets; w: (d,) or (d, 1); b: one number.

    Returns:
      B_simple as a float; +inf where G = 0 exactly (at the optimum, noise at any batch size).

    Raises:
      ValueError: for malformed shapes, no rows, or non-finite values.
    """
    X = np.asarray(X, np.float64)
    if X.ndim != 2 or X.shape[0] < 1 or X.shape[1] < 1:
        raise InputError(f"X must be a 2-D (n, d) array with n, d >= 1, got shape {X.shape}")
    if not np.isfinite(X).all():
        raise InputError("X has non-finite values")
    n, d = X.shape
    y = _vector(y, "y", n)
    w = _vector(w, "w", d)
    b = np.asarray(b, np.float64)
    if b.size != 1 or not np.isfinite(b).all():
        raise InputError(f"b must be one finite number, got shape {b.shape}")
    r = X @ w + float(b.reshape(-1)[0]) - y
    G2 = float(np.sum((X.T @ r / n) ** 2) + np.mean(r) ** 2)
    trace = float(np.mean(r**2 * (np.sum(X**2, axis=1) + 1.0))) - G2
    if G2 == 0.0:
        return float("inf")
    return max(trace, 0.0) / G2  # max: rounding can leave a tiny negative trace when Sigma = 0


def hessian_noise_scale(X, y, w, b) -> float:
    """The noise scale B_noise = tr(H Sigma) / (G^T H G) of the tutorial's loss at (w, b), in
    closed form and float64 (McCandlish et al. 2018, eq. 2.7): ``gradient_noise_scale`` with
    the noise and the signal weighted by the Hessian H = [X, 1]^T [X, 1] / n.

    B_simple is B_noise for H proportional to the identity. On an ill-conditioned problem they
    differ by where G points: late in a run G lies along the flat directions (small G^T H G)
    while the noise sits along the steep ones, and B_noise exceeds B_simple. With
    a_i = [x_i, 1] and g_i = r_i a_i: tr(H Sigma) = mean_i r_i^2 a_i^T H a_i - G^T H G.

    Same arguments, result (+inf where G^T H G = 0) and errors as ``gradient_noise_scale``.
    """
    X = np.asarray(X, np.float64)
    gradient_noise_scale(X, y, w, b)  # the one set of input checks
    n, d = X.shape
    A = np.column_stack([X, np.ones(n)])
    r = A @ np.concatenate([_vector(w, "w", d), np.asarray(b, np.float64).reshape(-1)]) - _vector(y, "y", n)
    H = A.T @ A / n
    G = A.T @ r / n
    signal = float(G @ H @ G)
    noise = float(np.mean(r**2 * np.einsum("ij,jk,ik->i", A, H, A))) - signal
    if signal == 0.0:
        return float("inf")
    return max(noise, 0.0) / signal


class TradeOffFit(NamedTuple):
    """McCandlish et al.'s model S(B) = S_min + E_min / B fitted to measured steps to a target.

    Equivalently (S / S_min - 1)(E / E_min - 1) = 1 with E = B S: S_min is the fewest steps
    (any batch size), E_min the fewest examples (batch size -> 0), and B_crit = E_min / S_min
    the critical batch size, where both are twice their minimum. ``intervals`` maps
    "S_min", "E_min" and "B_crit" to (low, high) bootstrap intervals over seeds (NaN without
    seeds to resample).
    """

    S_min: float
    E_min: float
    B_crit: float
    intervals: dict
    level: float  # the intervals' coverage, e.g. 0.9
    batch_sizes: np.ndarray  # (k,) the batch sizes fitted (those every seed reached)
    steps: np.ndarray  # (k,) their mean steps over seeds, what the point fit used

    def steps_at(self, batch_size):
        """The model's steps S(B) = S_min + E_min / B."""
        return self.S_min + self.E_min / np.asarray(batch_size, np.float64)

    def samples_at(self, batch_size):
        """The model's examples E(B) = B S(B) = B S_min + E_min."""
        return np.asarray(batch_size, np.float64) * self.steps_at(batch_size)


def _fit_trade_off(B, S):
    """(S_min, E_min) >= 0 minimising sum ((S_i - S_min - E_min / B_i) / S_i)^2: least squares
    on relative errors, linear in the two parameters; on the boundary when the free fit is not."""
    A = np.column_stack([1.0 / S, 1.0 / (B * S)])
    cost = lambda p: float(np.sum((A @ p - 1.0) ** 2))
    p = np.linalg.lstsq(A, np.ones(len(S)), rcond=None)[0]
    if (p >= 0).all():
        return float(p[0]), float(p[1])
    # One parameter at 0: the other has a closed form (positive, as every column entry is).
    candidates = [np.array([A[:, 0].sum() / (A[:, 0] ** 2).sum(), 0.0]),
                  np.array([0.0, A[:, 1].sum() / (A[:, 1] ** 2).sum()])]
    best = min(candidates, key=cost)
    return float(best[0]), float(best[1])


def _b_crit(s_min, e_min):
    return e_min / s_min if s_min > 0 else float("inf")


def fit_batch_trade_off(batch_sizes, steps, *, level: float = 0.9, bootstrap: int = 1000,
                        seed: int = 0) -> TradeOffFit:
    """Fits S(B) = S_min + E_min / B (McCandlish et al. 2018) to steps (updates) to a target.

    The fit minimises the squared *relative* error of S over the batch sizes (weights 1/S^2):
    S spans orders of magnitude from B = 1 to B = n, and an absolute fit would be decided by
    the smallest batch sizes alone. S_min, E_min >= 0 (the fit sits on the boundary when the
    free optimum does not).

    Args:
      batch_sizes: (k,) distinct positive batch sizes.
      steps: (k,) steps to the target, or (k, seeds): one column per seed. The point fit uses
        each batch size's mean over seeds. Non-finite entries (inf or NaN: the target not
        reached) drop that batch size from the fit; at least 2 must remain.
      level: coverage of the intervals (default 0.9: the 5% and 95% percentiles).
      bootstrap: resamples of the seeds (columns, with replacement, the same columns for every
        batch size, since one seed's runs share their initial parameters); 0: no intervals.
      seed: the bootstrap's random seed (fixed: the same input gives the same intervals).

    Returns:
      A ``TradeOffFit``.

    Raises:
      ValueError: for malformed input or fewer than 2 batch sizes with finite steps.
    """
    B = np.asarray(batch_sizes, np.float64)
    S = np.asarray(steps, np.float64)
    if B.ndim != 1 or B.size < 2:
        raise InputError(f"batch_sizes must be 1-D with at least 2 batch sizes, got shape {B.shape}")
    if not (np.isfinite(B).all() and (B > 0).all()):
        raise InputError(f"batch_sizes must be finite and > 0, got {B.tolist()}")
    if len(np.unique(B)) != B.size:
        raise InputError(f"batch_sizes must be distinct, got {B.tolist()}")
    if S.ndim == 1:
        S = S[:, None]
    if S.ndim != 2 or S.shape[0] != B.size or S.shape[1] < 1:
        raise InputError(f"steps must have shape ({B.size},) or ({B.size}, seeds), got {np.shape(steps)}")
    with np.errstate(invalid="ignore"):
        if (S[np.isfinite(S)] <= 0).any():
            raise InputError("steps must be > 0 (or inf / NaN for a target not reached)")
    if not 0 < level < 1:
        raise InputError(f"level must be in (0, 1), got {level!r}")
    if isinstance(bootstrap, bool) or int(bootstrap) != bootstrap or bootstrap < 0:
        raise InputError(f"bootstrap must be an integer >= 0, got {bootstrap!r}")
    keep = np.isfinite(S).all(axis=1)
    if keep.sum() < 2:
        raise InputError(f"at least 2 batch sizes need finite steps for every seed, got {int(keep.sum())}")
    B, S = B[keep], S[keep]
    mean = S.mean(axis=1)
    s_min, e_min = _fit_trade_off(B, mean)
    names = ("S_min", "E_min", "B_crit")
    intervals = dict.fromkeys(names, (float("nan"), float("nan")))
    seeds = S.shape[1]
    if bootstrap and seeds > 1:
        rng = np.random.default_rng(seed)
        draws = np.empty((int(bootstrap), 3))
        for i in range(int(bootstrap)):
            sm, em = _fit_trade_off(B, S[:, rng.integers(0, seeds, seeds)].mean(axis=1))
            draws[i] = sm, em, _b_crit(sm, em)
        lo, hi = quantiles(draws, ((1 - level) / 2, (1 + level) / 2), axis=0)
        intervals = {k: (float(lo[j]), float(hi[j])) for j, k in enumerate(names)}
    return TradeOffFit(s_min, e_min, _b_crit(s_min, e_min), intervals, float(level), B.astype(np.int64)
                       if np.all(B == np.round(B)) else B, mean)


__all__ = [
    "DEFAULT_REL_TARGET",
    "TradeOffFit",
    "fit_batch_trade_off",
    "gradient_noise_scale",
    "hessian_noise_scale",
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
