"""``jaxgd batch-size``: the batch size against the epochs (the tutorial's section 3.6), measured
against McCandlish et al.'s model of large-batch training (2018, arXiv:1812.06162).

For every batch size B (1, 2, 4, ... up to n, the tutorial's 50 and n itself) and every
learning rate of a log grid, a vmapped ``jaxgd.sweep`` over seeds records the full-data loss
on a grid of samples processed (``record_every``); each batch size runs at least the problem's
epochs and updates, and batch sizes with the same number of epochs share one sweep. For each target (a fraction ``rel`` of the
initial excess loss over the least-squares optimum) it reads off, per seed,

  S: the updates done when the loss is first at or below the target (the trace's ``updates``
     at the first grid point there: exact to one update where the grid step R <= B, else at
     most R / B updates late), and
  E: the examples those S updates processed ((S // ceil(n/B)) n + (S % ceil(n/B)) B; = B S
     when B divides n).

Learning rate per batch size and target (``choose_lr``): among the rates at which no seed
diverged, every seed reached the target and every seed *settles* at or below it (the median
excess over the last tenth of the run's recorded points: a run whose noise floor lies above
the target can dip below it by chance; it does not count), the one with the fewest median
updates S; ties go to the smaller rate. No batch size is judged at another's rate.

The model S(B) = S_min + E_min / B is fitted per problem and target over the batch sizes whose
every seed reached it (``analysis.fit_batch_trade_off``; bootstrap over seeds for intervals).
B_crit = E_min / S_min is compared with the gradient noise scale B_simple
(``analysis.gradient_noise_scale``; also B_noise, ``analysis.hessian_noise_scale``) at the
initial parameters and at the target: at the parameters full-batch GD (its tuned rate) holds
when it first reaches it, median over seeds.

Wall time to the target is S times the time of one update, measured by timing ``jaxgd.train``
at that batch size on this machine (median of repeats).
"""

from __future__ import annotations

import dataclasses
import math
import time
from typing import Optional

import numpy as np

from jaxgd import analysis, core
from jaxgd.analysis import QS
from jaxgd.studies._claims import CANNOT_JUDGE, NOT_SUPPORTED, SUPPORTED, WEAKLY, Claim, seconds_per_epoch
from jaxgd.data._synthetic import synthetic_data, tutorial_weights
from jaxgd._errors import InputError
from jaxgd.drivers._sweep import sweep
from jaxgd.studies._table import table
from jaxgd.drivers._runs import quiet_train

DEFAULT_TARGETS = (1e-2, 1e-3, 1e-4)
DEFAULT_LRS = tuple(float(2.0 ** (k / 2)) for k in range(-20, 4))
"""A log grid with ratio sqrt(2) from 2^-10 (~0.001) to 2^1.5 (~2.8): GD's stable limit 2 / lambda_max is
~2 on both problems, and small batches at tight targets want rates near 0.001."""
TUTORIAL_BATCH = 50
CLAIM5 = ("Mini-batch needs the right batch size: batch size and epochs are weighed against each other "
          "for the best result and speed.")


# --- problems ---------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, eq=False)
class Problem:
    """A regression problem and the training budget each batch size gets: at least
    ``epochs_min`` epochs and ``updates_min`` updates; the trace has about ``trace_points``
    points per run."""

    name: str
    X: np.ndarray  # (n, d) float32
    y: np.ndarray  # (n, 1)
    epochs_min: int
    updates_min: int
    trace_points: int

    @property
    def n(self) -> int:
        return self.X.shape[0]

    @property
    def d(self) -> int:
        return self.X.shape[1]

    @property
    def condition(self) -> float:
        """Condition number of the loss's Hessian [X, 1]^T [X, 1] / n."""
        A = np.column_stack([np.asarray(self.X, np.float64), np.ones(self.n)])
        ev = np.linalg.eigvalsh(A.T @ A / self.n)
        return float(ev[-1] / ev[0])


def tutorial_problem(n: int = 1000, data_seed: int = 0, *, epochs_min: int = 2, updates_min: int = 50,
                     trace_points: int = 2000) -> Problem:
    """The tutorial's data: y = 3.5 x + 4 + N(0, 0.5^2), x ~ N(0, 1); condition number ~1."""
    data = synthetic_data(num_examples=n, seed=data_seed)
    return Problem("tutorial", np.asarray(data.X), np.asarray(data.y), epochs_min, updates_min, trace_points)


def ill_conditioned_problem(n: int = 1000, d: int = 8, condition: float = 100.0, data_seed: int = 0, *,
                            epochs_min: int = 20, updates_min: int = 600, trace_points: int = 2000) -> Problem:
    """The tutorial's model in d features whose scales spread geometrically from 1 down to
    1 / sqrt(condition), so the Hessian's condition number is about ``condition``.

    Drawn as ``synthetic_data`` with d features (weights evenly from -2 to 3.5, b = 4, noise
    N(0, 0.5^2)), then feature j scaled by s_j: y is unchanged, the true weights become w_j / s_j.
    """
    if d < 2:
        raise InputError(f"d must be at least 2 for an ill-conditioned problem, got {d}")
    if not condition > 1:
        raise InputError(f"condition must be > 1, got {condition!r}")
    data = synthetic_data(tutorial_weights(d), 4.0, n, seed=data_seed)
    scales = np.geomspace(1.0, 1.0 / math.sqrt(condition), d).astype(np.float32)
    X = (np.asarray(data.X) * scales).astype(np.float32)
    return Problem("ill-conditioned", X, np.asarray(data.y), epochs_min, updates_min, trace_points)


def default_batch_sizes(n: int) -> list[int]:
    """1, 2, 4, ... below n, the tutorial's 50 (when below n) and n."""
    sizes = {2**k for k in range(max(1, n.bit_length())) if 2**k < n} | {n}
    if TUTORIAL_BATCH < n:
        sizes.add(TUTORIAL_BATCH)
    return sorted(sizes)


# --- measuring ----------------------------------------------------------------------------------


def record_step(total_samples: int, n: int, points: int, batch_size: int = 1) -> int:
    """The trace grid step R for a run of ``total_samples``: at most about ``points`` points
    but no finer than one point per batch (R up to the batch size costs no resolution), R a
    divisor of n (or a multiple of n) so that a sweep's chunks may start at any epoch."""
    want = max(1, total_samples // max(points, 1), min(batch_size, n))
    if want >= n:
        return (want // n) * n
    return max(r for r in range(1, want + 1) if n % r == 0)


def samples_of(updates, batch_size: int, n: int):
    """Examples processed by the first ``updates`` updates at ``batch_size`` (the last batch of an
    epoch holds n - (ceil(n/B) - 1) B rows); inf stays inf."""
    updates = np.asarray(updates, np.float64)
    nb = -(-n // batch_size)
    with np.errstate(invalid="ignore"):
        done = np.where(np.isfinite(updates), updates, 0)
        out = (done // nb) * n + (done % nb) * batch_size
    return np.where(np.isfinite(updates), out, np.inf)


def steps_to_targets(trace_loss, trace_updates, optimum_loss, rels, diverged):
    """Updates to each target from traces: ``(steps, usable)``.

    Args:
      trace_loss: (L, S, K) full-data loss on the trace grid (point 0: the initial parameters).
      trace_updates: (K,) updates done at each grid point.
      optimum_loss: the least-squares optimum loss.
      rels: (T,) targets as fractions of each run's initial excess loss.
      diverged: (L, S) the sweep's divergence flags.

    Returns:
      steps (T, L, S) float, inf where not reached; usable (T, L, S) bool: not diverged,
      reached, and settled at or below the target at the end of the run (the median excess over
      the last tenth of the trace's points: robust to one spike of a noisy run).
    """
    tail = max(1, trace_loss.shape[-1] // 10)
    with np.errstate(invalid="ignore", over="ignore"):
        excess = analysis.excess_loss(trace_loss, optimum_loss)
        finite = np.isfinite(excess).all(axis=-1) & ~np.asarray(diverged)
        steps, usable = [], []
        for rel in rels:
            target = rel * excess[..., 0]
            first = analysis.first_at_or_below(excess, target)
            hit = analysis.reached(first)
            s = np.where(hit, np.asarray(trace_updates)[np.where(hit, first, 0)], np.inf)
            steps.append(s.astype(np.float64))
            usable.append(finite & hit & (np.median(excess[..., -tail:], axis=-1) <= target))
    return np.stack(steps), np.stack(usable)


def choose_lr(steps, usable) -> Optional[int]:
    """Index of the rate with the fewest median updates among those usable for every seed
    (``steps``, ``usable``: (L, S)); the smaller rate on ties; None when no rate is usable."""
    ok = usable.all(axis=1)
    if not ok.any():
        return None
    med = np.where(ok, np.median(np.where(usable, steps, 0.0), axis=1), np.inf)
    return int(np.argmin(med))


@dataclasses.dataclass(frozen=True, eq=False)
class ProblemResult:
    """One problem's measurements: arrays indexed (target, batch size, seed)."""

    name: str
    n: int
    d: int
    condition: float
    optimum_loss: float
    batch_sizes: np.ndarray  # (B,)
    lrs: np.ndarray  # (L,) the grid
    seeds: np.ndarray  # (S,)
    targets: np.ndarray  # (T,) fractions of the initial excess loss
    epochs: np.ndarray  # (B,) epochs each batch size ran
    record_every: np.ndarray  # (B,) trace grid step in samples
    lr: np.ndarray  # (T, B) chosen learning rate, NaN where no rate was usable
    steps: np.ndarray  # (T, B, S) updates to the target at the chosen rate, inf where none
    samples: np.ndarray  # (T, B, S) examples processed by those updates
    seconds_per_update: np.ndarray  # (B,) one jaxgd.train run, median of repeats
    fits: tuple  # (T,) analysis.TradeOffFit, or None with fewer than 2 batch sizes reaching it
    b_simple_initial: float  # median over seeds at the initial parameters
    b_simple_target: np.ndarray  # (T,) median over seeds at GD's parameters on reaching the target
    b_noise_initial: float  # the same for B_noise (analysis.hessian_noise_scale)
    b_noise_target: np.ndarray  # (T,)

    @property
    def median_steps(self) -> np.ndarray:
        return np.median(self.steps, axis=-1)

    @property
    def median_samples(self) -> np.ndarray:
        return np.median(self.samples, axis=-1)

    @property
    def wall_seconds(self) -> np.ndarray:
        """(T, B) median updates to the target x seconds per update; inf where not reached."""
        return self.median_steps * self.seconds_per_update

    @property
    def fastest(self) -> np.ndarray:
        """(T,) the batch size with the shortest wall time to each target; 0 where none reaches it."""
        wall = self.wall_seconds
        return np.where(np.isfinite(wall).any(axis=1), self.batch_sizes[np.argmin(wall, axis=1)], 0)

    def index(self, batch_size) -> int:
        return int(np.flatnonzero(self.batch_sizes == batch_size)[0])


def measure(problem: Problem, *, batch_sizes=None, lrs=DEFAULT_LRS, seeds=4, targets=DEFAULT_TARGETS,
            timing_updates: int = 2000, repeats: int = 5, bootstrap: int = 1000) -> ProblemResult:
    """Runs the study on one problem (see the module's docstring); returns a ``ProblemResult``."""
    X, y, n = problem.X, problem.y, problem.n
    batch_sizes = default_batch_sizes(n) if batch_sizes is None else sorted({int(b) for b in batch_sizes})
    if not batch_sizes or batch_sizes[0] < 1 or batch_sizes[-1] > n:
        raise InputError(f"batch sizes must be between 1 and n={n}, got {batch_sizes}")
    if len(batch_sizes) < 2:
        raise InputError(f"at least 2 batch sizes are needed for the trade-off, got {batch_sizes}")
    targets = np.asarray(sorted({float(t) for t in targets}, reverse=True))
    if not ((targets > 0) & (targets < 1)).all():
        raise InputError(f"targets must be fractions in (0, 1) of the initial excess loss, got {targets.tolist()}")
    opt = analysis.optimum(X, y)
    seeds = list(range(seeds)) if isinstance(seeds, int) else list(seeds)
    T, B, S = len(targets), len(batch_sizes), len(seeds)
    lr = np.full((T, B), np.nan)
    steps = np.full((T, B, S), np.inf)
    epochs_run, steps_grid = np.zeros(B, int), np.zeros(B, int)
    # Batch sizes with the same budget of epochs share one sweep (its programs compile together)
    # and one trace grid, fine enough for the smallest of them.
    for i, bs in enumerate(batch_sizes):
        epochs_run[i] = max(problem.epochs_min, -(-problem.updates_min // -(-n // bs)))
    for epochs in sorted(set(epochs_run.tolist())):
        group = [i for i in range(B) if epochs_run[i] == epochs]
        R = record_step(epochs * n, n, problem.trace_points, batch_sizes[group[0]])
        steps_grid[group] = R
        r = sweep(X, y, batch_sizes=[batch_sizes[i] for i in group], lrs=list(lrs), seeds=seeds, epochs=epochs,
                  step_loss="none", record_every=R, progress=False)
        updates = np.asarray(r.trace_updates).reshape(-1, len(r.trace_samples))
        for g, i in enumerate(group):
            st, usable = steps_to_targets(r.trace_loss[g], updates[g], opt.loss, targets, r.diverged[g])
            for t in range(T):
                j = choose_lr(st[t], usable[t])
                if j is not None:
                    lr[t, i], steps[t, i] = r.lrs[j], st[t, j]
    samples = np.stack([samples_of(steps[:, i], bs, n) for i, bs in enumerate(batch_sizes)], axis=1)

    # One update's wall time per batch size: jaxgd.train at a rate that batch size used.
    spu = np.empty(B)
    for i, bs in enumerate(batch_sizes):
        nb = -(-n // bs)
        rate = next((float(v) for v in lr[:, i] if np.isfinite(v)), float(min(lrs)))
        spu[i] = seconds_per_epoch(X, y, bs, rate, max(1, -(-timing_updates // nb)), repeats) / nb

    fits = []
    for t in range(T):
        # S = 0 (the initial parameters already at the target) says nothing about the trade-off.
        usable_steps = np.where(steps[t] > 0, steps[t], np.inf)
        reached_all = np.isfinite(usable_steps).all(axis=1)
        fits.append(analysis.fit_batch_trade_off(batch_sizes, usable_steps, bootstrap=bootstrap)
                    if reached_all.sum() >= 2 else None)

    # B_simple at the initial parameters and where full-batch GD first reaches each target.
    d = problem.d
    init = [core.initial_params(s, d) for s in seeds]
    b_init = float(np.median([analysis.gradient_noise_scale(X, y, p.w, p.b) for p in init]))
    noise_init = float(np.median([analysis.hessian_noise_scale(X, y, p.w, p.b) for p in init]))
    b_target, noise_target = np.full(T, np.nan), np.full(T, np.nan)
    gd = batch_sizes.index(n) if n in batch_sizes else None
    for t in range(T):
        if gd is None or not np.isfinite(lr[t, gd]):
            continue
        values = []
        for s in seeds:
            res = quiet_train(X, y, batch_size=n, lr=float(lr[t, gd]), epochs=int(epochs_run[gd]), seed=s)
            loss = np.asarray(res.epoch_loss, np.float64)
            e = int(analysis.epochs_to_target(loss, opt.loss, rel=float(targets[t])))
            if e != analysis.NOT_REACHED:  # GD: epoch e is update e
                at = (X, y, np.asarray(res.w_history[e]), np.asarray(res.b_history[e]))
                values.append((analysis.gradient_noise_scale(*at), analysis.hessian_noise_scale(*at)))
        if values:
            b_target[t], noise_target[t] = np.median(np.asarray(values), axis=0)
    return ProblemResult(problem.name, n, d, problem.condition, opt.loss, np.asarray(batch_sizes),
                         np.asarray(lrs, np.float64), np.asarray(seeds), targets, epochs_run, steps_grid, lr, steps,
                         samples, spu, tuple(fits), b_init, b_target, noise_init, noise_target)


@dataclasses.dataclass(frozen=True, eq=False)
class Study:
    problems: list  # ProblemResult per problem
    verdict: str
    reason: str
    seconds: float

    @property
    def claim(self) -> Claim:
        return Claim(5, CLAIM5, self.verdict, self.reason)


# --- the verdict ----------------------------------------------------------------------------------


def _crit_inside(fit, n) -> bool:
    lo, hi = fit.intervals["B_crit"]
    if not (np.isfinite(lo) and np.isfinite(hi)):  # no interval (one seed): the point estimate
        lo = hi = fit.B_crit
    return bool(1 < lo and hi < n)


def evaluate_claim5(problems) -> tuple[str, str]:
    """Claim 5's verdict from ``ProblemResult``s: ``(verdict, reason)``.

    The claim holds for a (problem, target) when both (a) the batch size / epochs trade-off
    has a finite critical batch size inside the range studied (B_crit's interval within
    (1, n): below it larger batches save updates at little cost in examples, above it they
    cost examples for few saved updates), and (b) the batch size with the shortest wall time
    to the target lies strictly between SGD (1) and GD (n). SUPPORTED when it holds for every
    (problem, target) with a fit, WEAKLY SUPPORTED for some, NOT SUPPORTED for none, CANNOT
    JUDGE when no target was fitted.
    """
    held, failed = [], []
    for p in problems:
        for t, fit in enumerate(p.fits):
            if fit is None:
                continue
            label = f"{p.name} {p.targets[t]:g}"
            why = []
            if not _crit_inside(fit, p.n):
                lo, hi = fit.intervals["B_crit"]
                why.append(f"B_crit {fit.B_crit:.3g} [{lo:.3g}, {hi:.3g}] not inside (1, {p.n})")
            fastest = int(p.fastest[t])
            if fastest in (1, p.n):
                why.append(f"fastest batch size is {fastest}")
            (failed if why else held).append(label + (f" ({'; '.join(why)})" if why else ""))
    total = len(held) + len(failed)
    if not total:
        return CANNOT_JUDGE, "no target was reached by at least 2 batch sizes in every seed."
    verdict = SUPPORTED if not failed else WEAKLY if held else NOT_SUPPORTED
    reason = (f"{len(held)} of {total} (problem, target) pairs have a critical batch size inside (1, n) and a "
              f"fastest batch size strictly between SGD and GD")
    reason += f": {', '.join(held)}." if held else "."
    if failed:
        reason += f" Not: {', '.join(failed)}."
    return verdict, reason


def claim5(problems) -> Claim:
    """``evaluate_claim5`` as a ``_claims.Claim`` (number 5), for ``jaxgd claims``."""
    return Claim(5, CLAIM5, *evaluate_claim5(problems))


# --- text ---------------------------------------------------------------------------------------


def _fmt(v, digits=3):
    v = float(v)
    if not np.isfinite(v):
        return "never" if v > 0 else "-"
    if v.is_integer() and abs(v) < 1e15:
        return f"{int(v):,}"
    return f"{v:.{digits}g}"


def _secs(v):
    if not np.isfinite(v):
        return "never"
    return f"{v * 1e3:.3g} ms" if v < 1 else f"{v:.3g} s"


def _interval(values):
    lo, mid, hi = analysis.quantiles(np.asarray(values, np.float64), QS)
    return f"{_fmt(mid)} [{_fmt(lo)}, {_fmt(hi)}]"


def rows(p: ProblemResult) -> list[dict]:
    """The table's rows as dicts (one per target and batch size), for JSON."""
    out = []
    wall = p.wall_seconds
    for t, rel in enumerate(p.targets):
        for i, bs in enumerate(p.batch_sizes):
            reached = bool(np.isfinite(p.steps[t, i]).all())
            out.append({
                "problem": p.name, "target": float(rel), "batch_size": int(bs),
                "lr": float(p.lr[t, i]) if np.isfinite(p.lr[t, i]) else None,
                "epochs_run": int(p.epochs[i]), "record_every": int(p.record_every[i]),
                "steps": [float(v) if np.isfinite(v) else None for v in p.steps[t, i]],
                "samples": [float(v) if np.isfinite(v) else None for v in p.samples[t, i]],
                "median_steps": float(p.median_steps[t, i]) if reached else None,
                "median_samples": float(p.median_samples[t, i]) if reached else None,
                "seconds_per_update": float(p.seconds_per_update[i]),
                "wall_seconds": float(wall[t, i]) if np.isfinite(wall[t, i]) else None,
            })
    return out


def fit_rows(p: ProblemResult) -> list[dict]:
    out = []
    for t, fit in enumerate(p.fits):
        row = {"problem": p.name, "target": float(p.targets[t]), "b_simple_initial": p.b_simple_initial,
               "b_simple_target": float(p.b_simple_target[t]), "b_noise_initial": p.b_noise_initial,
               "b_noise_target": float(p.b_noise_target[t]), "fastest_batch_size": int(p.fastest[t]) or None}
        if fit is not None:
            row.update({k: float(getattr(fit, k)) for k in ("S_min", "E_min", "B_crit")})
            row["intervals"] = {k: [float(a), float(b)] for k, (a, b) in fit.intervals.items()}
        out.append(row)
    return out


def _claim1(p: ProblemResult) -> list[str]:
    """Claim 1 ("GD converges slowly") at the tuned rates, in words, per target."""
    lines = []
    gd = p.index(p.n) if p.n in p.batch_sizes else None
    if gd is None:
        return lines
    for t, rel in enumerate(p.targets):
        ep = p.median_samples[t] / p.n
        gd_ep, gd_up = ep[gd], p.median_steps[t, gd]
        others = [(int(b), ep[i], p.median_steps[t, i]) for i, b in enumerate(p.batch_sizes) if i != gd]
        reach = [o for o in others if np.isfinite(o[1])]
        if not np.isfinite(gd_ep):
            lines.append(f"  target {rel:g}: GD does not reach it in {p.epochs[gd]} epochs at any stable rate.")
            continue
        if not reach:
            lines.append(f"  target {rel:g}: GD needs {_fmt(gd_up)} updates; no other batch size reaches it.")
            continue
        best = min(reach, key=lambda o: o[1])
        mb = next((o for o in others if o[0] == TUTORIAL_BATCH), None)
        sgd = next((o for o in others if o[0] == 1), None)
        parts = [f"GD needs {_fmt(gd_up)} updates = {_fmt(gd_ep)} epochs"]
        for name, o in (("mini-batch 50", mb), ("SGD", sgd)):
            if o is not None:
                parts.append(f"{name} {_fmt(o[1], 2)} epochs ({_fmt(o[2])} updates)" if np.isfinite(o[1])
                             else f"{name} never")
        slower = gd_ep / best[1]
        word = (f"GD takes {slower:.3g}x the epochs of the best (batch {best[0]}, {_fmt(best[1], 2)} epochs)"
                if slower > 1 else "GD needs no more epochs than any other batch size")
        lines.append(f"  target {rel:g}: {', '.join(parts)}; {word}.".replace(" 1 updates", " 1 update")
                     .replace(" 1 epochs", " 1 epoch"))
    return lines


def format_report(problems, verdict, reason, figure=None, total=None) -> str:
    first = problems[0]
    lines = [
        f"jaxgd batch-size: updates S and examples E to a target against the batch size, each batch size at its "
        f"own best learning rate; median [5%, 95%] over {len(first.seeds)} seeds",
        f"learning rates tried: {len(first.lrs)}, {first.lrs.min():.3g} to {first.lrs.max():.3g} (ratio "
        f"{first.lrs[1] / first.lrs[0]:.3g}); per batch size and target the one with the fewest median updates "
        "among those where every seed reached the target, settled below it (median of the last tenth of the run) and none diverged",
        "target: excess loss over the least-squares optimum <= target x the initial excess; S read from the loss "
        "recorded every R samples (exact where R <= batch size, else at most R/B updates late); "
        "E = examples those S updates processed",
    ]
    for p in problems:
        lines += ["", f"== {p.name}: n={p.n}, d={p.d}, Hessian condition number {p.condition:.3g}; optimum loss "
                      f"{p.optimum_loss:.5f}; at the initial parameters B_simple {_fmt(p.b_simple_initial)}, "
                      f"B_noise {_fmt(p.b_noise_initial)}"]
        body = []
        for t, rel in enumerate(p.targets):
            for i, bs in enumerate(p.batch_sizes):
                ok = np.isfinite(p.lr[t, i])
                body.append([f"{rel:g}", int(bs), int(p.epochs[i]), int(p.record_every[i]),
                             f"{p.lr[t, i]:.3g}" if ok else "none",
                             _interval(p.steps[t, i]) if ok else "never",
                             _interval(p.samples[t, i]) if ok else "never",
                             _fmt(p.median_samples[t, i] / p.n, 3) if ok else "never",
                             f"{p.seconds_per_update[i] * 1e6:.3g}", _secs(p.wall_seconds[t, i])])
        lines.append(table(["target", "batch", "epochs run", "R", "best lr", "updates S", "examples E",
                            "epochs", "us/update", "time to target"], body))
        lines.append("")
        fit_body = []
        for t, rel in enumerate(p.targets):
            fit = p.fits[t]
            fastest = int(p.fastest[t])
            if fit is None:
                fit_body.append([f"{rel:g}", "-", "-", "-", _fmt(p.b_simple_target[t]), _fmt(p.b_noise_target[t]),
                                 fastest or "none", "-"])
                continue
            iv = fit.intervals
            fit_body.append([
                f"{rel:g}", f"{_fmt(fit.S_min)} [{_fmt(iv['S_min'][0])}, {_fmt(iv['S_min'][1])}]",
                f"{_fmt(fit.E_min)} [{_fmt(iv['E_min'][0])}, {_fmt(iv['E_min'][1])}]",
                f"{_fmt(fit.B_crit)} [{_fmt(iv['B_crit'][0])}, {_fmt(iv['B_crit'][1])}]",
                _fmt(p.b_simple_target[t]), _fmt(p.b_noise_target[t]), fastest or "none",
                f"{len(fit.batch_sizes)}/{len(p.batch_sizes)}"])
        lines.append(table(["target", "S_min", "E_min", "B_crit", "B_simple at target", "B_noise at target",
                            "fastest batch", "fitted on"], fit_body))
        lines.append(f"Claim 1 (GD converges slowly) at the tuned rates, {p.name}:")
        lines += _claim1(p)
    lines += [
        "",
        "model: S(B) = S_min + E_min / B (McCandlish et al. 2018), least squares on relative errors over the batch "
        "sizes every seed reached; [5%, 95%] by bootstrap over seeds. B_crit = E_min / S_min: below it a larger "
        "batch saves updates at little cost in examples, above it it costs examples and saves few updates.",
        "B_simple = tr(Sigma)/|G|^2, the gradient noise scale, and B_noise = tr(H Sigma)/(G^T H G), its "
        "curvature-weighted form (closed forms); at the target: at the parameters full-batch GD holds when it "
        "first reaches the target (median over seeds).",
        "time to target: median S x one update's time (jaxgd.train at that batch size on this machine, median of "
        "repeats).",
        "",
        f"Claim 5: {CLAIM5}",
        f"  -> {verdict}: {reason}",
    ]
    if figure:
        lines.append(f"figure: {figure}")
    if total is not None:
        lines.append(f"total time {total:.1f} s (compilation included)")
    return "\n".join(lines)


# --- the study -------------------------------------------------------------------------------------


def run_study(problems=None, *, out: Optional[str] = "jaxgd_batch_size.png", **kwargs) -> tuple[Study, str]:
    """``measure`` on each problem (default: the tutorial's and the ill-conditioned one), the
    verdict, the figure (``out``; None: none) and the text: ``(Study, text)``."""
    start = time.perf_counter()
    problems = [tutorial_problem(), ill_conditioned_problem()] if problems is None else problems
    results = [measure(p, **kwargs) for p in problems]
    verdict, reason = evaluate_claim5(results)
    figure = None
    if out:
        from jaxgd.plots import batch_size_figure

        figure = batch_size_figure(results, out)
    total = time.perf_counter() - start
    return Study(results, verdict, reason, total), format_report(results, verdict, reason, figure, total)
