"""The static shape of a run (``Plan``), its trace grid and the loop's unroll rule."""

from __future__ import annotations

import dataclasses
import functools
import math

import numpy as np

from jaxgd._errors import InputError


def variant_name(batch_size, n):
    """The tutorial's name for training with batches of ``batch_size`` of n rows."""
    return "GD" if batch_size == n else "SGD" if batch_size == 1 else "mini-batch"


def default_unroll(batch_size: int, n: int, stateful: bool = False) -> int:
    """Updates per iteration of the compiled batch loop: a speed knob only.

    A small batch's update is a handful of tiny ops, so the loop's own per-iteration cost
    matters; unrolling 4 updates per iteration amortises it (measured: plain SGD at batch 1
    and 50 on the tutorial's workload ~25% faster). Full-batch GD has one update per epoch:
    nothing to gain. But at batch size 1 an optimizer with state (momentum buffers, moments:
    ``stateful``, read off its ``opt_state``) unrolled 4 times runs 15-25x slower on XLA:CPU
    (tutorial SGD, 50,000 updates: momentum 23 ms against 1.0 ms unrolled once, Adam 42 ms
    against 1.8 ms): one update per iteration.
    """
    if batch_size == n:
        return 1
    return 1 if (stateful and batch_size == 1) else 4


@dataclasses.dataclass(frozen=True)
class Plan:
    """The static shape of a run: everything that, when changed, needs a new program.

    What the run optimizes with (optimizer, schedule, learning rate) is in the ``TrainState``,
    not here: the two cannot disagree.
    """

    n: int
    batch_size: int
    epochs: int
    dtype: str = "float32"
    unroll: int = 0  # 0: default_unroll(batch_size, n, the state's optimizer has buffers)
    rows: int = 0  # rows of X as passed: n, or n padded to a multiple of the mesh's devices (0: n)
    record_every: int = 0  # trace grid step in samples processed (0: no trace)

    @property
    def row_count(self) -> int:
        return self.rows or self.n

    @property
    def num_batches(self) -> int:
        return math.ceil(self.n / self.batch_size)

    @property
    def full_batch(self) -> bool:
        return self.batch_size == self.n

    @property
    def padded(self) -> bool:
        return self.n % self.batch_size != 0

    @property
    def updates(self) -> int:
        return self.epochs * self.num_batches


@functools.lru_cache(maxsize=256)
def _trace_grid(n, batch_size, epochs, record_every):
    total = epochs * n
    samples = np.arange(0, total + 1, record_every, dtype=np.int64)
    if samples[-1] != total:
        samples = np.append(samples, np.int64(total))
    # Update j (1-based) of epoch e ends at sample e*n + min(j*b, n): the updates done by sample s
    # are whole epochs' updates plus the batches that fit in the part of an epoch after them.
    num_batches = -(-n // batch_size)
    updates = (samples // n) * num_batches + (samples % n) // batch_size
    for a in (samples, updates):
        a.setflags(write=False)
    return samples, updates


def trace_grid(plan: Plan):
    """The trace grid of ``plan`` as numpy int64 arrays ``(samples, updates)``, both (K,):
    ``samples = 0, R, 2R, ..`` up to ``epochs * n`` (plus ``epochs * n`` when off the grid) with
    ``R = plan.record_every``, and the updates done by each point. Static: a function of the plan."""
    if plan.record_every < 1:
        raise InputError(f"plan.record_every must be >= 1 for a trace, got {plan.record_every}")
    return _trace_grid(plan.n, plan.batch_size, plan.epochs, plan.record_every)
