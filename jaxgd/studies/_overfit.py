"""Claim 4, measured: "full-batch GD ... loses randomness, and easily over-fits" (the tutorial, 2.1).

Over-fitting is a gap between the loss on held-out data and the loss on the training data.
Each variant (GD, mini-batch, SGD) is trained on many independent draws of the data (one per
random seed), with a large held-out set drawn from the same model, in two regimes:

- the tutorial's: n = 1000 rows, d = 1 feature (two parameters for a thousand rows);
- over-parameterised: n = 100 rows, d = 200 features, true weights N(0, 1/d), the tutorial's
  noise (0.5) and intercept (4): more parameters than rows, so the training data can be fitted
  exactly, noise included.

The generalisation gap (held-out loss minus training loss, both 1/(2m) sum (y_hat - y)^2) is
compared two ways: at equal epochs (the end of training), and at equal training loss (per data
draw, the lowest training loss all three reach, i.e. the largest final one; each variant's gap
where it first gets there, interpolated between epochs in log training loss). The verdict is
on the second: GD over-fits more if its gap at equal training loss exceeds both others'.

Also reported: the best held-out loss over epochs (what early stopping could keep), and where
each variant ends: the distance of its final (w, b) to the minimum-norm least-squares solution
(unique for the tutorial's data; the interpolating solution nearest the start otherwise).
"""

from __future__ import annotations

import dataclasses
from typing import Optional

import numpy as np

from jaxgd import analysis
from jaxgd.analysis import QS
from jaxgd.data._synthetic import synthetic_data
from jaxgd.drivers._runs import quiet_divergence
from jaxgd.drivers._train import train
from jaxgd.studies._claims import (
    CANNOT_JUDGE,
    NAMES,
    NOT_SUPPORTED,
    SUPPORTED,
    WEAKLY,
    Claim,
)
from jaxgd.studies._table import table

CLAIM_TEXT = "GD considers all samples at once, loses randomness and easily over-fits"


@dataclasses.dataclass(frozen=True)
class Regime:
    name: str
    n: int
    d: int
    m: int  # held-out rows
    batch_size: int  # the mini-batch variant's
    lrs: tuple  # (GD, mini-batch, SGD), each stable for its variant
    epochs: int
    weights_seed: Optional[int] = None  # None: the tutorial's w = [3.5]

    def true_w(self):
        if self.weights_seed is None:
            return np.array([3.5])
        return np.random.default_rng(self.weights_seed).normal(size=self.d) / np.sqrt(self.d)


TUTORIAL = Regime("tutorial (n=1000, d=1)", n=1000, d=1, m=10_000, batch_size=50, lrs=(0.02, 0.02, 0.02), epochs=50)
# lrs: GD and mini-batch below 2/lambda_max of their batch Hessians, SGD below 2/|x|^2 ~ 2/d.
OVERPARAMETERISED = Regime("over-parameterised (n=100, d=200)", n=100, d=200, m=10_000, batch_size=10,
                           lrs=(0.2, 0.02, 0.004), epochs=400, weights_seed=12345)
REGIMES = (TUTORIAL, OVERPARAMETERISED)


@dataclasses.dataclass(frozen=True, eq=False)
class RegimeResult:
    regime: Regime
    seeds: int
    final_train: np.ndarray  # (3, seeds)
    final_val: np.ndarray
    best_val: np.ndarray  # min over epochs of the held-out loss
    level: np.ndarray  # (seeds,) the equal-training-loss level
    gap_at_level: np.ndarray  # (3, seeds)
    epochs_to_level: np.ndarray  # (3, seeds), fractional
    distance: np.ndarray  # (3, seeds): |theta_final - theta_min_norm| / |theta_min_norm|
    min_norm_val: np.ndarray  # (seeds,) held-out loss of the minimum-norm solution
    diverged: np.ndarray  # (3, seeds)

    @property
    def final_gap(self):
        return self.final_val - self.final_train


@dataclasses.dataclass(frozen=True, eq=False)
class OverfitReport:
    results: list
    claim: Claim
    text: str


def _first_at(train_loss, gap, level):
    """(epochs, gap) where ``train_loss`` first reaches ``level``, interpolated in log loss."""
    hit = np.flatnonzero(train_loss <= level)
    if hit.size == 0:
        return np.inf, np.nan
    e = int(hit[0])
    if e == 0 or train_loss[e] == level:
        return float(e), float(gap[e])
    lo, hi = np.log(train_loss[e]), np.log(train_loss[e - 1])
    t = (hi - np.log(level)) / (hi - lo) if hi > lo else 1.0
    return e - 1 + t, float(gap[e - 1] + t * (gap[e] - gap[e - 1]))


def measure(regime: Regime, seeds: int = 20) -> RegimeResult:
    """Train the three variants on ``seeds`` independent draws of the data (seed s draws the
    data, the initial parameters and the orders) and collect the metrics."""
    w = regime.true_w()
    shape = (3, seeds)
    final_train, final_val, best_val = np.empty(shape), np.empty(shape), np.empty(shape)
    gap_at, epochs_at, distance = np.empty(shape), np.empty(shape), np.empty(shape)
    diverged = np.zeros(shape, bool)
    level, min_norm_val = np.empty(seeds), np.empty(seeds)
    batch = (regime.n, regime.batch_size, 1)
    for s in range(seeds):
        data = synthetic_data(w, 4.0, regime.n, seed=s, num_validation=regime.m)
        X, y = np.asarray(data.X, np.float64), np.asarray(data.y, np.float64)[:, 0]
        Xv, yv = np.asarray(data.X_val, np.float64), np.asarray(data.y_val, np.float64)[:, 0]
        theta = np.linalg.pinv(np.c_[X, np.ones(regime.n)]) @ y  # minimum-norm least squares
        min_norm_val[s] = 0.5 * np.mean((np.c_[Xv, np.ones(len(yv))] @ theta - yv) ** 2)
        curves = []
        for i in range(3):
            with quiet_divergence():
                r = train(data.X, data.y, batch_size=batch[i], lr=regime.lrs[i], epochs=regime.epochs, seed=s,
                          validation=(data.X_val, data.y_val))
            tr, va = np.asarray(r.epoch_loss, np.float64), np.asarray(r.val_loss, np.float64)
            diverged[i, s] = r.diverged_at is not None
            final_train[i, s], final_val[i, s], best_val[i, s] = tr[-1], va[-1], np.nanmin(va)
            th = np.r_[np.asarray(r.w, np.float64).ravel(), np.asarray(r.b, np.float64).ravel()]
            distance[i, s] = np.linalg.norm(th - theta) / np.linalg.norm(theta)
            curves.append((tr, va - tr))
        level[s] = max(c[0][-1] for c in curves)
        for i, (tr, gap) in enumerate(curves):
            epochs_at[i, s], gap_at[i, s] = _first_at(tr, gap, level[s])
    for a in (final_train, final_val, best_val, gap_at, distance):
        a[diverged] = np.nan
    return RegimeResult(regime, seeds, final_train, final_val, best_val, level, gap_at, epochs_at, distance,
                        min_norm_val, diverged)


def _q(a):
    """The median and 90% interval of the finite values (order statistics, as everywhere in jaxgd)."""
    a = a[np.isfinite(a)]
    return analysis.quantiles(a, QS) if a.size else np.full(3, np.nan)


MARGIN = 0.01  # a gap difference counts when above 1% of the held-out loss (median) of the regime


def verdict(results) -> Claim:
    """GD over-fits more than both others: its gap at equal training loss exceeds each other
    variant's in paired comparisons (same data draw) by more than ``MARGIN`` x the regime's
    median held-out loss (float32 round-off and differences no one would notice are not
    over-fitting). SUPPORTED when in some regime the 90% interval of both paired differences
    lies above the margin, WEAKLY SUPPORTED when only their medians do, NOT SUPPORTED otherwise."""
    if any(r.diverged.any() for r in results):
        bad = [f"{NAMES[i]} in {r.regime.name}" for r in results for i in range(3) if r.diverged[i].any()]
        return Claim(4, CLAIM_TEXT, CANNOT_JUDGE, f"runs diverged ({', '.join(bad)})")
    best, parts = NOT_SUPPORTED, []
    for r in results:
        d_mb = r.gap_at_level[0] - r.gap_at_level[1]
        d_sgd = r.gap_at_level[0] - r.gap_at_level[2]
        q_mb, q_sgd = _q(d_mb), _q(d_sgd)
        margin = MARGIN * float(_q(r.min_norm_val)[1])
        if q_mb[0] > margin and q_sgd[0] > margin:
            v = SUPPORTED
        elif q_mb[1] > margin and q_sgd[1] > margin:
            v = WEAKLY
        else:
            v = NOT_SUPPORTED
        if [NOT_SUPPORTED, WEAKLY, SUPPORTED].index(v) > [NOT_SUPPORTED, WEAKLY, SUPPORTED].index(best):
            best = v
        g = [_q(r.gap_at_level[i])[1] for i in range(3)]
        parts.append(f"{r.regime.name}: gap at equal training loss GD {g[0]:.3g}, mini-batch {g[1]:.3g}, "
                     f"SGD {g[2]:.3g} (median; GD minus mini-batch {q_mb[1]:+.2g} [{q_mb[0]:+.2g}, {q_mb[2]:+.2g}], "
                     f"GD minus SGD {q_sgd[1]:+.2g} [{q_sgd[0]:+.2g}, {q_sgd[2]:+.2g}], 90% of data draws; "
                     f"a difference counts above {margin:.2g})")
    return Claim(4, CLAIM_TEXT, best, "; ".join(parts))


def _cell(a, digits=2):
    q = _q(a)
    if not np.isfinite(q[1]):
        return "-"
    return f"{q[1]:.{digits}g} [{q[0]:.{digits}g}, {q[2]:.{digits}g}]"


def format_report(results, claim: Claim) -> str:
    lines = [f"Claim 4: {CLAIM_TEXT}.",
             "gap = held-out loss - training loss, at the end (train, held-out, gap) and where every variant has "
             "reached the same training loss; best held-out: the lowest over epochs; to min-norm: distance of the "
             "final (w, b) to the minimum-norm least-squares solution, relative. Median [90% interval] over "
             "independent data draws."]
    for r in results:
        g = r.regime
        lines.append("")
        lines.append(f"{g.name}: {r.seeds} data draws, {g.m} held-out rows, {g.epochs} epochs, "
                     f"lr GD {g.lrs[0]:g} / mini-batch (batch {g.batch_size}) {g.lrs[1]:g} / SGD {g.lrs[2]:g}")
        rows = []
        for i in range(3):
            rows.append([NAMES[i], _cell(r.final_train[i]), _cell(r.final_val[i]), _cell(r.final_gap[i]),
                         _cell(r.gap_at_level[i]), _cell(r.epochs_to_level[i], 3), _cell(r.best_val[i]),
                         _cell(r.distance[i])])
        lines.append(table(["variant", "train", "held-out", "gap", "gap at equal train", "epochs to it",
                            "best held-out", "to min-norm"], rows))
        lines.append(f"equal training loss: {_cell(r.level)} (the largest final training loss of the three); "
                     f"held-out loss of the minimum-norm solution {_cell(r.min_norm_val)}; "
                     f"the noise alone gives 0.125")
    lines.append("")
    lines.append(f"verdict: {claim.verdict}: {claim.reason}")
    return "\n".join(lines)


def check_overfitting(seeds: int = 20, regimes=REGIMES) -> OverfitReport:
    results = [measure(g, seeds) for g in regimes]
    claim = verdict(results)
    return OverfitReport(results, claim, format_report(results, claim))
