"""The compiled programs of a sweep: the draw, and one chunk program per batch size.

* The draw is two programs: one gives the initial ``TrainState`` of every (lr, seed) run, the
  other every seed's order of one epoch (called once per epoch). Random-number code is the
  most expensive part of a program to compile, so it is compiled once rather than once per
  batch size, and since neither depends on the batch sizes, the epochs or the chunk length,
  sweeps of other batch sizes or epochs on the same data (``jaxgd batch-size`` runs 7 per
  problem) share them (``DrawShape``).
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
import jax.numpy as jnp
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
    fast_compile: bool = False  # XLA:CPU's loop emitters (``_compile``)

    @property
    def with_orders(self) -> bool:
        return any(not p.full_batch for p in self.plans)

    def draw_shape(self) -> "DrawShape":
        return DrawShape(self.n, self.d, self.dtype, self.num_lrs, self.num_seeds, self.specs, self.spec_leaves,
                         self.with_orders, self.mesh, self.fast_compile)


@dataclasses.dataclass(frozen=True)
class DrawShape:
    """Everything static about a sweep's draw programs: the cache key of ``draw_programs``."""

    n: int
    d: int
    dtype: str
    num_lrs: int
    num_seeds: int
    specs: jax.tree_util.PyTreeDef
    spec_leaves: tuple
    with_orders: bool
    mesh: Optional[jax.sharding.Mesh] = None
    fast_compile: bool = False

    def spec_args(self):
        """``(optimizer, schedule)`` with ``ShapeDtypeStruct`` leaves: what the draw is lowered with."""
        return jax.tree.unflatten(self.specs, [jax.ShapeDtypeStruct(s, d) for s, d in self.spec_leaves])


def _initial_states(seeds, lrs, specs, *, d: int, dtype: str):
    """Every run's initial state, (L, S, ...): run (lr, seed) starts from the seed's parameters,
    as ``train(seed=...)`` does. ``specs``: the ``(optimizer, schedule)`` every run shares."""
    params = jax.vmap(lambda s: core.initial_params(s, d, dtype))(seeds)
    optimizer, schedule = specs

    def state(lr, p):
        return core.init_state(p, optimizer, lr, schedule=schedule, dtype=dtype)

    return jax.vmap(lambda lr: jax.vmap(lambda p: state(lr, p))(params))(lrs)


def _epoch_orders(seeds, epoch, *, n: int):
    """Every seed's order of ``epoch``, (S, n): ``epoch_orders(seed, n)[epoch]`` for each."""
    # vmap over seeds: every lane walks its cycles as long as the longest walk among the S * n
    # values, but one epoch's walks are short, and lax.map's S sequential steps an epoch ran
    # the sweep's draw ~2x slower (50 seeds, n = 1000).
    return jax.vmap(lambda s: core.orders_from_keys(core.order_keys(s, n, 1, epoch), n)[0])(seeds)


def _chunk(X, y, states, orders, valid, validation, *, plan: core.Plan, record: str):
    """``plan.epochs`` epochs of every (lr, seed) run from ``states`` (L, S, ...), visiting samples
    in ``orders``, one (S, n) array per epoch (None for GD). Only the first ``valid`` epochs
    count: the states returned are those after ``valid`` epochs, so a short last chunk reuses
    the same program. ``validation``: the held-out ``(X_val, y_val)`` or None. Returns (states,
    outputs), every leaf (L, S, ...); with ``plan.record_every``, the trace's losses on the
    chunk's own grid."""
    if orders is not None:
        orders = jnp.stack(orders, axis=1)  # (S, epochs, n)

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


def _draw_jits(shape: DrawShape):
    """``(initial states, epoch orders or None)`` as jitted functions, and their arguments' specs."""
    sds = jax.ShapeDtypeStruct
    seeds_spec = sds((shape.num_seeds,), np.int32)
    states_args = (seeds_spec, sds((shape.num_lrs,), np.dtype(shape.dtype)), shape.spec_args())
    orders_args = (seeds_spec, sds((), np.int32))
    states_kw, orders_kw = {}, {}
    orders_fn = functools.partial(_epoch_orders, n=shape.n)
    if shape.mesh is not None:
        from jax.sharding import PartitionSpec as P

        sh = _shardings(shape.mesh)
        states_kw = dict(in_shardings=(sh["seeds"], sh["rep"], sh["rep"]), out_shardings=sh["runs"])
        orders_kw = dict(in_shardings=(sh["seeds"], sh["rep"]), out_shardings=sh["seeds"])
        # Each device draws its own seeds' orders. Left to GSPMD, the cycle walk's loop (it runs
        # while any value is outside [0, n)) tests every device's seeds: an all-reduce per
        # iteration (with lax.map over seeds, an all-gather of them), and 4 CPU devices calling
        # such a program once an epoch could stall in its rendezvous. Seeds never interact.
        seeds_axis = P(tuple(shape.mesh.axis_names))
        orders_fn = jax.shard_map(orders_fn, mesh=shape.mesh, in_specs=(seeds_axis, P()), out_specs=seeds_axis,
                                  check_vma=False)
    states = jax.jit(functools.partial(_initial_states, d=shape.d, dtype=shape.dtype), **states_kw)
    orders = jax.jit(orders_fn, **orders_kw) if shape.with_orders else None
    return (states, states_args), (orders, orders_args)


@functools.lru_cache(maxsize=32)
def draw_programs(shape: DrawShape):
    """``(initial states, epoch orders or None)``, compiled for ``shape``; in a command, kept whole
    on disk (``_aot.kept``; not a mesh's)."""
    def build():
        return _compile_all([jit.lower(*args) for jit, args in _draw_jits(shape) if jit is not None],
                            shape.fast_compile)

    states, *orders = _aot.kept("sweep-draw", repr(shape), build) if shape.mesh is None else build()
    return states, (orders[0] if orders else None)


@functools.lru_cache(maxsize=32)
def programs(shape: SweepShape):
    """``((states, orders), [chunk program per plan])``, compiled for ``shape``; in a command,
    kept whole on disk (``_aot.kept``, keyed by ``repr(shape)``: not a mesh's), so a warm
    command neither traces, lowers nor compiles them."""
    draw = draw_programs(shape.draw_shape())
    chunks = _aot.kept("sweep", repr(shape), lambda: _compiled(shape)) if shape.mesh is None else _compiled(shape)
    return draw, chunks


def _compiled(shape: SweepShape):
    """``[chunk program per plan]``, lowered in turn and compiled concurrently."""
    sds = jax.ShapeDtypeStruct
    (states_jit, states_args), (orders_jit, orders_args) = _draw_jits(shape.draw_shape())
    states_spec = jax.eval_shape(states_jit, *states_args)
    orders_spec = None
    if orders_jit is not None:
        orders_spec = (jax.eval_shape(orders_jit, *orders_args),) * shape.chunk_epochs
    chunk_kw = {}
    if shape.mesh is not None:
        sh = _shardings(shape.mesh)
        rep, seeds, runs = sh["rep"], sh["seeds"], sh["runs"]
        chunk_kw = dict(in_shardings=(rep, rep, runs, seeds, rep, rep), out_shardings=(runs, runs))
    x_spec, y_spec = sds(shape.x_shape, shape.x_dtype), sds(shape.y_shape, shape.x_dtype)
    val_spec = None if shape.val_shapes is None else tuple(sds(s, shape.x_dtype) for s in shape.val_shapes)
    lowered = []
    for plan in shape.plans:
        chunk = jax.jit(functools.partial(_chunk, plan=plan, record=shape.record), **chunk_kw)
        lowered.append(chunk.lower(x_spec, y_spec, states_spec, None if plan.full_batch else orders_spec,
                                   sds((), np.int32), val_spec))
    return _compile_all(lowered, shape.fast_compile)


def _compile_all(lowered, fast_compile: bool):
    """The lowered programs compiled concurrently (XLA compiles without holding the GIL)."""
    with ThreadPoolExecutor(max_workers=min(len(lowered), os.cpu_count() or 1)) as pool:
        return list(pool.map(lambda low: _compile(low, fast_compile), lowered))


# XLA:CPU hands the sweep's batched (seed, lr, batch) reductions and products to YNNPACK
# fusions, which run them ~5x slower than its own loops at these sizes (1000 tutorial-workload
# runs: 490 ms against 100 ms); turned off for the sweep's programs only.
_CPU_COMPILER_OPTIONS = {"xla_cpu_experimental_ynn_fusion_type": ""}

# fast_compile: XLA:CPU's loop emitters instead of its MLIR fusion emitters. The batch-size
# study's 12 chunk programs of one problem compile in 40% of the CPU time (5.85 against 14.48
# CPU-s), and the 1000-run tutorial sweep runs 9% slower (108.6 against 99.2 ms), with the same
# bits for SGD (benchmarks/runs/2026-12-03b/compile_emitters.json, from
# benchmarks/compile_emitters.py); float32's last bit apart for some adaptive optimizers
# (tests/test_sweep.py).
_FAST_COMPILE_OPTIONS = {"xla_cpu_use_fusion_emitters": False}


def _compile(lowered, fast_compile: bool = False):
    if jax.default_backend() != "cpu":
        return lowered.compile()  # fast_compile is XLA:CPU's: elsewhere, the default compile
    # An XLA without an option: the sweep's own options without it, then XLA's defaults.
    tries = ([_CPU_COMPILER_OPTIONS | _FAST_COMPILE_OPTIONS] if fast_compile else []) + [_CPU_COMPILER_OPTIONS]
    for options in tries:
        try:
            return lowered.compile(compiler_options=options)
        except jax.errors.JaxRuntimeError as e:
            if "No such compile option" not in str(e):  # a real compile error: never hidden
                raise
    return lowered.compile()
