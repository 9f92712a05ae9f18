"""The compiled programs of a sweep: one shared draw, and one chunk program per batch size.

* The draw, for every seed, gives the initial ``TrainState`` of every (lr, seed) run and the
  epoch orders of one chunk. Random-number code is the most expensive part of a program to
  compile, so it is compiled once per sweep rather than once per batch size.
* A chunk program runs ``core.run`` vmapped over seeds (outer) and learning rates (inner) for
  one chunk of epochs, from the states the previous chunk ended in: the whole ``TrainState``,
  optimizer state included, is handed on, so nothing restarts between chunks.

Programs are lowered in turn, then compiled concurrently (XLA compiles without holding the
GIL), and cached by ``SweepShape``, so a repeated sweep of the same shape neither traces nor
compiles again; in a command they are kept whole on disk too (``_aot.kept``).
"""

from __future__ import annotations

import dataclasses
import functools
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Optional

import jax
import numpy as np

from jaxgd import core
from jaxgd.drivers import _aot


@dataclasses.dataclass(frozen=True)
class SweepShape:
    """Everything static about a sweep's programs: the cache key of ``programs``."""

    n: int
    d: int
    dtype: str
    num_lrs: int  # L
    num_seeds: int  # S: seed lanes the programs run (padded to the mesh's devices)
    chunk_epochs: int
    record: str  # "none", "summary" or "full"
    x_shape: tuple
    y_shape: tuple
    x_dtype: str
    specs: jax.tree_util.PyTreeDef  # structure of (optimizer, schedule): jit's own static part
    spec_leaves: tuple  # (shape, dtype) of each of their leaves (the runtime values)
    plans: tuple  # one core.Plan per batch size, each of chunk_epochs epochs (and record_every)
    mesh: Optional[jax.sharding.Mesh] = None
    val_shapes: Optional[tuple] = None  # ((m, d), (m, 1)) of the held-out set, if any

    def spec_args(self):
        """``(optimizer, schedule)`` with ``ShapeDtypeStruct`` leaves: what the draw is lowered with."""
        return jax.tree.unflatten(self.specs, [jax.ShapeDtypeStruct(s, d) for s, d in self.spec_leaves])

    @property
    def with_orders(self) -> bool:
        return any(not p.full_batch for p in self.plans)


def _draw(seeds, e0, lrs, specs, *, shape: SweepShape):
    """Every run's initial state (L, S, ...) and the orders of epochs [e0, e0 + chunk), (S, chunk, n).
    ``specs``: the ``(optimizer, schedule)`` pytree specs every run shares."""
    params = jax.vmap(lambda s: core.initial_params(s, shape.d, shape.dtype))(seeds)
    optimizer, schedule = specs

    def state(lr, p):
        return core.init_state(p, optimizer, lr, schedule=schedule, dtype=shape.dtype)

    states = jax.vmap(lambda lr: jax.vmap(lambda p: state(lr, p))(params))(lrs)
    if not shape.with_orders:
        return states, None
    # lax.map over seeds: vmapping the cycle walk of the permutation over every seed would run
    # each lane for as many iterations as the longest walk among S * chunk * n values.
    orders = jax.lax.map(
        lambda s: core.orders_from_keys(core.order_keys(s, shape.n, shape.chunk_epochs, e0), shape.n), seeds
    )
    return states, orders


def _chunk(X, y, states, orders, valid, validation, *, plan: core.Plan, record: str):
    """``plan.epochs`` epochs of every (lr, seed) run from ``states`` (L, S, ...), visiting samples
    in ``orders`` (S, epochs, n) (None for GD). Only the first ``valid`` epochs count: the states
    returned are those after ``valid`` epochs, so a short last chunk reuses the same program.
    ``validation``: the held-out ``(X_val, y_val)`` or None. Returns (states, outputs), every
    leaf (L, S, ...); with ``plan.record_every``, the trace's losses on the chunk's own grid."""

    def per_seed(state_s, order):
        def per_lr(state):
            final, hist = core.run(state, X, y, plan, orders=order, active_epochs=valid, validation=validation)
            out = {"epoch_loss": hist.epoch_loss}
            if hist.val_loss is not None:
                out["val_loss"] = hist.val_loss
            if hist.trace is not None:
                out["trace_loss"] = hist.trace.loss
                out["trace_w"] = hist.trace.w[..., 0].T  # (d, K): the grid axis last, as the losses'
                out["trace_b"] = hist.trace.b[..., 0]
                if hist.trace.val_loss is not None:
                    out["trace_val_loss"] = hist.trace.val_loss
            if record == "summary":
                per_epoch = hist.step_loss.reshape(plan.epochs, plan.num_batches)
                out["step_mean"] = per_epoch.mean(axis=1)
                out["step_std"] = per_epoch.std(axis=1)
            elif record == "full":
                out["step_loss"] = hist.step_loss
            return final, out

        # Inner: learning rates. The batches a seed's order gathers are shared by its lrs.
        return jax.vmap(per_lr)(state_s)

    # Outer: seeds. out_axes=1 puts the seed axis second: every output is (L, S, ...).
    return jax.vmap(per_seed, in_axes=(1, 0), out_axes=1)(states, orders)


def _shardings(mesh):
    """Run-axis shardings: the seed axis split over every mesh axis, the rest replicated.
    Every state and output leaf is (L, S, ...), so one PartitionSpec prefix covers them all."""
    from jax.sharding import NamedSharding, PartitionSpec as P

    axes = tuple(mesh.axis_names)
    return {
        "rep": NamedSharding(mesh, P()),
        "seeds": NamedSharding(mesh, P(axes)),  # (S,) and the orders (S, epochs, n)
        "runs": NamedSharding(mesh, P(None, axes)),  # (L, S, ...)
    }


@functools.lru_cache(maxsize=32)
def programs(shape: SweepShape):
    """``(draw, [chunk program per plan])``, compiled for ``shape``; in a command, kept whole on
    disk (``_aot.kept``, keyed by ``repr(shape)``: not a mesh's), so a warm command neither
    traces, lowers nor compiles them."""
    if shape.mesh is None:
        draw, *chunks = _aot.kept("sweep", repr(shape), lambda: _compiled(shape))
    else:
        draw, *chunks = _compiled(shape)
    return draw, chunks


def _compiled(shape: SweepShape):
    """``[draw, chunk program per plan]``, lowered in turn and compiled concurrently."""
    dtype = np.dtype(shape.dtype)
    L, S = shape.num_lrs, shape.num_seeds
    sds = jax.ShapeDtypeStruct
    draw_args = (sds((S,), np.int32), sds((), np.int32), sds((L,), dtype), shape.spec_args())
    draw_fn = functools.partial(_draw, shape=shape)
    states_spec, orders_spec = jax.eval_shape(draw_fn, *draw_args)
    draw_kw, chunk_kw = {}, {}
    if shape.mesh is not None:
        sh = _shardings(shape.mesh)
        rep, seeds, runs = sh["rep"], sh["seeds"], sh["runs"]
        draw_kw = dict(in_shardings=(seeds, rep, rep, rep), out_shardings=(runs, seeds if shape.with_orders else None))
        chunk_kw = dict(in_shardings=(rep, rep, runs, seeds, rep, rep), out_shardings=(runs, runs))
    lowered = [jax.jit(draw_fn, **draw_kw).lower(*draw_args)]
    x_spec, y_spec = sds(shape.x_shape, shape.x_dtype), sds(shape.y_shape, shape.x_dtype)
    val_spec = None if shape.val_shapes is None else tuple(sds(s, shape.x_dtype) for s in shape.val_shapes)
    for plan in shape.plans:
        chunk = jax.jit(functools.partial(_chunk, plan=plan, record=shape.record), **chunk_kw)
        lowered.append(chunk.lower(x_spec, y_spec, states_spec, None if plan.full_batch else orders_spec,
                                   sds((), np.int32), val_spec))
    with ThreadPoolExecutor(max_workers=min(len(lowered), os.cpu_count() or 1)) as pool:
        return list(pool.map(_compile, lowered))


# XLA:CPU hands the sweep's batched (seed, lr, batch) reductions and products to YNNPACK
# fusions, which run them ~5x slower than its own loops at these sizes (1000 tutorial-workload
# runs: 490 ms against 100 ms); turned off for the sweep's programs only.
_CPU_COMPILER_OPTIONS = {"xla_cpu_experimental_ynn_fusion_type": ""}


def _compile(lowered):
    if jax.default_backend() != "cpu":
        return lowered.compile()
    try:
        return lowered.compile(compiler_options=_CPU_COMPILER_OPTIONS)
    except jax.errors.JaxRuntimeError as e:
        if "No such compile option" not in str(e):  # a real compile error: never hidden
            raise
        return lowered.compile()  # an XLA without this option: its default fusions
