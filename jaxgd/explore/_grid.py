"""The runs behind the page: one vmapped sweep per optimizer over (batch size, lr, seed), each
run traced on one grid of samples processed."""

from __future__ import annotations

import dataclasses
import math
from typing import Optional

import numpy as np

from jaxgd._errors import InputError

DEFAULT_BATCH_SIZES = (1, 2, 5, 10, 20, 50, 100, 200, 500, None)  # None: n (full-batch GD)
DEFAULT_LRS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0)  # 1-2-5: a log grid with 0.02
DEFAULT_SEEDS = 3
DEFAULT_POINTS = 101  # trace points a run (the tutorial's 50 epochs: every 500 samples)


@dataclasses.dataclass(frozen=True, eq=False)
class Runs:
    """Every run of the page's grid, as numpy arrays indexed (optimizer, batch size, lr, seed, ...).

    The trace (``samples``, ``updates``, ``loss``, ``w``, ``b``, ``val_loss``) is each run's state
    on one grid of samples processed (``jaxgd.Trace`` has the meaning of each point); the final
    fields are the sweep's own, at full float32 precision.
    """

    optimizers: tuple  # (O,) optimizer names
    batch_sizes: np.ndarray  # (B,) int, n for GD
    lrs: np.ndarray  # (L,)
    seeds: np.ndarray  # (S,)
    n: int
    epochs: int
    samples: np.ndarray  # (K,) samples processed at each trace point
    updates: np.ndarray  # (B, K) updates done there
    loss: np.ndarray  # (O, B, L, S, K) full-data loss there
    w: np.ndarray  # (O, B, L, S, K) w there (one feature)
    b: np.ndarray  # (O, B, L, S, K)
    val_loss: Optional[np.ndarray]  # (O, B, L, S, K) held-out loss there, or None
    epoch_loss: np.ndarray  # (O, B, L, S, epochs + 1)
    final_w: np.ndarray  # (O, B, L, S)
    final_b: np.ndarray  # (O, B, L, S)
    diverged_epoch: np.ndarray  # (O, B, L, S) int, -1 where the run never diverged
    seconds: float  # wall time of the sweeps (compiling included)

    @property
    def final_loss(self) -> np.ndarray:
        return self.epoch_loss[..., -1]

    @property
    def num_runs(self) -> int:
        return int(self.diverged_epoch.size)


def record_every(n: int, epochs: int, points: int) -> int:
    """The trace step giving at most ``points`` points (both ends included) over ``epochs * n`` samples."""
    return max(1, math.ceil(epochs * n / (points - 1)))


def run_grid(X, y, *, batch_sizes=DEFAULT_BATCH_SIZES, lrs=DEFAULT_LRS, seeds=DEFAULT_SEEDS, optimizers=None,
             epochs: int = 50, points: int = DEFAULT_POINTS, validation=None, mesh=None) -> Runs:
    """Every (optimizer, batch size, lr, seed) run on one-feature data, traced at ``points`` points.

    One ``jaxgd.sweep`` per optimizer (each at torch's defaults, a constant rate); run
    ``(o, b, lr, seed)`` is ``jaxgd.train(X, y, batch_size=b, lr=lr, seed=seed, optimizer=o,
    epochs=epochs)`` up to float32 reassociation of the batch sums (vmap).

    Raises:
      InputError: data with more than one feature, an unknown optimizer, ``points`` < 2, or
        anything ``jaxgd.sweep`` refuses.
    """
    import time

    from jaxgd import optim
    from jaxgd.drivers._sweep import sweep

    n, d = np.shape(X)
    if d != 1:
        raise InputError(f"the data has {d} features; jaxgd explore draws the fit and the paths over (w, b) for one")
    if isinstance(points, bool) or not isinstance(points, int) or points < 2:
        raise InputError(f"points must be an integer >= 2, got {points!r}")
    names = tuple(optim.NAMES if optimizers is None else optimizers)
    for name in names:
        if name not in optim.NAMES:
            raise InputError(f"unknown optimizer {name!r}; known: {', '.join(optim.NAMES)}")
    if not names or len(set(names)) != len(names):
        raise InputError(f"optimizers must be distinct names, got {list(names)!r}")
    bs = [n if b is None else b for b in batch_sizes]
    every = record_every(n, epochs, points)
    t0 = time.perf_counter()
    results = [sweep(X, y, batch_sizes=bs, lrs=list(lrs), seeds=seeds, epochs=epochs, optimizer=name,
                     step_loss="none", progress=False, record_every=every, validation=validation, mesh=mesh,
                     fast_compile=True)  # each runs once: its compile outweighs its run
               for name in names]
    seconds = time.perf_counter() - t0
    r0 = results[0]

    def stack(field):
        return np.stack([getattr(r, field) for r in results])

    return Runs(
        optimizers=names, batch_sizes=np.asarray(r0.batch_sizes), lrs=np.asarray(r0.lrs), seeds=np.asarray(r0.seeds),
        n=int(n), epochs=int(epochs), samples=np.asarray(r0.trace_samples), updates=np.asarray(r0.trace_updates),
        loss=stack("trace_loss"), w=stack("trace_w")[..., 0, :], b=stack("trace_b"),
        val_loss=None if validation is None else stack("trace_val_loss"), epoch_loss=stack("epoch_loss"),
        final_w=stack("w")[..., 0], final_b=stack("b"), diverged_epoch=stack("diverged_epoch"), seconds=seconds,
    )
