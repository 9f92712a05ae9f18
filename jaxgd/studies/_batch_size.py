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

Claim 5's verdict (``evaluate_claim5``) rests on S and E alone, never on wall time. S and E
are deterministic for fixed seeds (the same sweep, the same first crossing of the target), and
so are the fit and its bootstrap (fixed seed): the verdict comes out the same in every run on a
machine (``benchmarks/claim5_stability.py`` runs it 5 times). A (problem, target) supports the
claim when B_crit's 90% interval lies inside (1, n): the batch size B_crit, strictly between SGD
and GD, reaches the target in 2 S_min updates and 2 E_min examples, within twice the fewest
updates (the time where updates are the cost) and within twice the fewest examples (the time
where examples are) that any batch size needs; SGD spends more updates, GD more examples.

Wall time is reported beside the verdict as information about this machine, not as part of it.
An earlier verdict also asked for the batch size fastest in measured wall time to lie strictly
between 1 and n, and it read "4 of 6", "5 of 6" and "3 of 6" in runs on one commit. That ranking
rests on per-update times of ~0.05-40 us (the report's us/update) whose rounds differed by up to
2.4-7.3x on a shared 2-core machine, and on the ill-conditioned problem the best mid-size batch
led the faster of SGD and GD by only 1.2-3x, the fastest one moving between 8 and 50 from run to
run (five runs in a row: benchmarks/claim5_stability-2026-12-01.txt). And the cost's shape is
XLA:CPU's, not the method's: one update is not a + b B here. On the tutorial's data (d = 1)
SGD's update (B = 1) takes ~0.07 us against batch 2's ~1.3 us, and GD's draws no batch (no
permutation, no gather: ~7 us against batch 512's ~34 us), where the tutorial's ``data_iter``
shuffles and gathers for every batch size. A fitted a + b B would describe neither end, and
which side is fastest turns on exactly those two points: wall time answers "which batch size is
fastest on this machine", not "does the batch size trade updates against epochs".

The wall time to the target is median S times one update's time: ``jaxgd.train`` at that batch
size (at a rate it used), each call long enough (``timing_examples`` examples, 200,000 by
default, at least ``timing_updates`` updates) that the call's own overhead (~0.2-0.3 ms) is at
most a few percent of it (SGD on the tutorial's data, the shortest call: 200,000 updates at
~0.07 us, ~14 ms; the earlier 2,000 updates a call timed mostly that overhead at batch 1: 0.27
us an update; 10^6 examples a call made the timing most of a warm ``jaxgd claims``), the
batch sizes timed in interleaved rounds (``repeats``) so that a change of load falls on all of
them, the median over rounds. The report gives the fastest batch size, how far ahead of the
other side (SGD and GD against the best mid-size batch) it is, and how much the rounds spread.
"""

from __future__ import annotations

import dataclasses
import os
import math
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Optional

import jax
import numpy as np

from jaxgd import analysis, core
from jaxgd._errors import InputError
from jaxgd.data._synthetic import synthetic_data, tutorial_weights
from jaxgd.drivers._runs import quiet_divergence, quiet_train
from jaxgd.drivers._sweep import sweep
from jaxgd.drivers._train import train
from jaxgd.studies._batch_size_report import (  # noqa: F401
    CLAIM5,
    TUTORIAL_BATCH,
    claim5,
    evaluate_claim5,
    fit_rows,
    format_report,
    rows,
)
from jaxgd.studies._claims import Claim

DEFAULT_TARGETS = (1e-2, 1e-3, 1e-4)


DEFAULT_LRS = tuple(float(2.0 ** (k / 2)) for k in range(-20, 4))


"""A log grid with ratio sqrt(2) from 2^-10 (~0.001) to 2^1.5 (~2.8): GD's stable limit 2 / lambda_max is
~2 on both problems, and small batches at tight targets want rates near 0.001."""


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
    seconds_per_update: np.ndarray  # (B,) one update in jaxgd.train, median over interleaved rounds
    fits: tuple  # (T,) analysis.TradeOffFit, or None with fewer than 2 batch sizes reaching it
    b_simple_initial: float  # median over seeds at the initial parameters
    b_simple_target: np.ndarray  # (T,) median over seeds at GD's parameters on reaching the target
    b_noise_initial: float  # the same for B_noise (analysis.hessian_noise_scale)
    b_noise_target: np.ndarray  # (T,)
    update_seconds: Optional[np.ndarray] = None  # (B, rounds) one update's time in each round

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
        """(T,) the batch size with the shortest wall time to each target on this machine; 0 where
        none reaches it. Information beside claim 5's verdict, not part of it."""
        wall = self.wall_seconds
        return np.where(np.isfinite(wall).any(axis=1), self.batch_sizes[np.argmin(wall, axis=1)], 0)

    @property
    def mid_speedup(self) -> np.ndarray:
        """(T,) wall time to the target of the faster of SGD and GD over that of the fastest batch
        size strictly between them: > 1 where a mid-size batch is fastest (by that factor), < 1
        where SGD or GD is; NaN where either side reaches no target. Information only."""
        wall = self.wall_seconds
        edge = np.isin(self.batch_sizes, (1, self.n))
        with np.errstate(invalid="ignore", divide="ignore"):
            out = wall[:, edge].min(axis=1, initial=np.inf) / wall[:, ~edge].min(axis=1, initial=np.inf)
        return np.where(np.isfinite(out) & (out > 0), out, np.nan)

    @property
    def timing_spread(self) -> float:
        """The largest max / min of one update's time over the rounds, over the batch sizes timed
        (NaN without rounds): how much this machine's timings moved while the study ran."""
        if self.update_seconds is None or self.update_seconds.shape[-1] < 2:
            return float("nan")
        t = np.asarray(self.update_seconds, np.float64)
        return float(np.max(t.max(axis=1) / t.min(axis=1)))

    def index(self, batch_size) -> int:
        return int(np.flatnonzero(self.batch_sizes == batch_size)[0])


def time_updates(X, y, batch_sizes, rates, *, timing_examples: int = 2 * 10**5, timing_updates: int = 2000,
                 rounds: int = 5) -> np.ndarray:
    """Seconds per update of ``jaxgd.train`` at each batch size: ``(B, rounds)``.

    Each call runs enough epochs for ``timing_examples`` examples and at least ``timing_updates``
    updates, so that the call's own overhead is small beside it. Every batch size is compiled
    and run once first; then ``rounds`` rounds each time every batch size once, in turn, so that
    a change of the machine's load falls on all of them alike. ``rates``: one learning rate per
    batch size (a diverging run is timed like any other).
    """
    X, y = jax.device_put(np.asarray(X)), jax.device_put(np.asarray(y))
    runs = _timing_runs(X.shape[0], batch_sizes, rates, timing_examples, timing_updates)
    with quiet_divergence(), ThreadPoolExecutor(max_workers=min(len(runs), os.cpu_count() or 1)) as pool:
        # Compiles each batch size's program, in threads: XLA compiles one while Python traces the next.
        for result in pool.map(lambda run: train(X, y, **run[0]), runs):
            jax.block_until_ready(result)
        out = np.empty((len(runs), max(1, int(rounds))))
        for r in range(out.shape[1]):
            for i, (kw, updates) in enumerate(runs):
                t0 = time.perf_counter()
                jax.block_until_ready(train(X, y, **kw))
                out[i, r] = (time.perf_counter() - t0) / updates
    return out


def _timing_runs(n, batch_sizes, rates, timing_examples, timing_updates):
    """``[(train's keyword arguments, updates)]`` of each batch size's timed call."""
    runs = []
    for bs, rate in zip(batch_sizes, rates):
        nb = -(-n // bs)
        epochs = max(1, -(-timing_examples // n), -(-timing_updates // nb))
        runs.append((dict(batch_size=int(bs), lr=float(rate), epochs=epochs), epochs * nb))
    return runs


_COMPILE_LR = 1e-9  # moves the parameters by next to nothing: a run at it cannot diverge, so it warns of nothing


def _compile_timing_programs(X, y, batch_sizes, timing_examples, timing_updates):
    """Runs each timed call once at ``_COMPILE_LR``, so its program is compiled before
    ``time_updates`` needs it: the learning rate is a runtime argument, so the timed calls, at
    their own rates, reuse the program. (A rate of the study's grid could diverge and warn, and
    the filter of ``quiet_divergence`` is process-wide state, not to be set from a thread.)"""
    X, y = jax.device_put(np.asarray(X)), jax.device_put(np.asarray(y))
    rates = [_COMPILE_LR] * len(batch_sizes)
    for kw, _ in _timing_runs(X.shape[0], batch_sizes, rates, timing_examples, timing_updates):
        jax.block_until_ready(train(X, y, **kw).w)


def measure(problem: Problem, *, batch_sizes=None, lrs=DEFAULT_LRS, seeds=4, targets=DEFAULT_TARGETS,
            timing_examples: int = 2 * 10**5, timing_updates: int = 2000, repeats: int = 5,
            bootstrap: int = 1000) -> ProblemResult:
    """Runs the study on one problem (see the module's docstring); returns a ``ProblemResult``.

    ``timing_examples``, ``timing_updates``, ``repeats``: the wall-time measurement
    (``time_updates``; its rounds), which informs the report and never the verdict."""
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
    # The timed calls' programs (one per batch size) compile in a thread beside the sweeps: a
    # cold command is mostly XLA compiles, and between them (tracing, lowering, the runs) a core
    # would otherwise wait.
    compiling = ThreadPoolExecutor(max_workers=1)
    timing_compiled = compiling.submit(_compile_timing_programs, X, y, batch_sizes, timing_examples, timing_updates)
    compiling.shutdown(wait=False)
    for epochs in sorted(set(epochs_run.tolist())):
        group = [i for i in range(B) if epochs_run[i] == epochs]
        R = record_step(epochs * n, n, problem.trace_points, batch_sizes[group[0]])
        steps_grid[group] = R
        # Each sweep runs once a command, so its compile outweighs its run: unroll=1 (unroll 4
        # compiled ~11% longer for ~5% less run time here) and fast_compile (the chunk programs
        # in ~40% of the CPU time); the results are the same bits.
        r = sweep(X, y, batch_sizes=[batch_sizes[i] for i in group], lrs=list(lrs), seeds=seeds, epochs=epochs,
                  step_loss="none", record_every=R, progress=False, unroll=1, fast_compile=True)
        updates = np.asarray(r.trace_updates).reshape(-1, len(r.trace_samples))
        for g, i in enumerate(group):
            st, usable = steps_to_targets(r.trace_loss[g], updates[g], opt.loss, targets, r.diverged[g])
            for t in range(T):
                j = choose_lr(st[t], usable[t])
                if j is not None:
                    lr[t, i], steps[t, i] = r.lrs[j], st[t, j]
    samples = np.stack([samples_of(steps[:, i], bs, n) for i, bs in enumerate(batch_sizes)], axis=1)

    # One update's wall time per batch size: jaxgd.train at a rate that batch size used.
    rates = [next((float(v) for v in lr[:, i] if np.isfinite(v)), float(min(lrs))) for i in range(B)]
    timing_compiled.result()
    update_seconds = time_updates(X, y, batch_sizes, rates, timing_examples=timing_examples,
                                  timing_updates=timing_updates, rounds=repeats)
    spu = np.median(update_seconds, axis=1)

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
                         samples, spu, tuple(fits), b_init, b_target, noise_init, noise_target, update_seconds)


@dataclasses.dataclass(frozen=True, eq=False)
class Study:
    problems: list  # ProblemResult per problem
    verdict: str
    reason: str
    seconds: float

    @property
    def claim(self) -> Claim:
        return Claim(5, CLAIM5, self.verdict, self.reason)


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
