"""``train``: one run as one compiled program (the jitted composition of the core's draw and run)."""

from __future__ import annotations

import dataclasses
import functools
import warnings
from typing import Any, NamedTuple, Optional

import jax
import numpy as np

from jaxgd.drivers import _aot, _validate
from jaxgd import analysis, core, optim
from jaxgd.data._mesh import auto_mesh, replicate, shard_rows
from jaxgd.core._plan import variant_name  # noqa: F401  (also importable from here, as before)
from jaxgd.core._model import Params


class Config(NamedTuple):
    batch_size: int
    lr: float
    epochs: int
    seed: int
    variant: str  # "GD", "SGD" or "mini-batch"
    optimizer: optim.Optimizer = optim.sgd()
    schedule: optim.Schedule = optim.constant()


@functools.partial(
    jax.tree_util.register_dataclass,
    data_fields=["w", "b", "w_history", "b_history", "epoch_loss", "step_loss", "val_loss", "trace"],
    meta_fields=["updates", "config"],
)
@dataclasses.dataclass(frozen=True)
class TrainResult:
    """What a run produced; every array field converts with ``np.asarray``.

    ``epoch_loss[e]`` is the full-data loss 1/(2n) sum (y_hat - y)^2 after ``e`` epochs
    (index 0: at the initial parameters); ``step_loss[k]`` is the batch loss of update ``k``
    at the parameters before that update. ``val_loss[e]`` (with ``validation=``; else None) is
    the held-out loss 1/(2m) sum (y_hat - y)^2 over the m held-out rows at the same parameters.
    ``trace`` (with ``record_every=``; else None) is a ``jaxgd.Trace``: the parameters, the
    full-data loss (and held-out loss) on a grid of samples processed. ``updates`` and
    ``config`` are static metadata, not traced leaves. (The final optimizer state stays inside the program: returning it would cost
    every call the dispatch of its buffers; ``jaxgd.core.run`` returns it to those who need it.)
    """

    w: jax.Array  # (d, 1)
    b: jax.Array  # (1,)
    w_history: jax.Array  # (epochs + 1, d, 1)
    b_history: jax.Array  # (epochs + 1, 1)
    epoch_loss: jax.Array  # (epochs + 1,)
    step_loss: jax.Array  # (updates,)
    updates: int
    config: Config
    val_loss: Optional[jax.Array] = None  # (epochs + 1,) with validation=
    trace: Optional[core.Trace] = None  # with record_every=

    @property
    def diverged_at(self) -> Optional[int]:
        """The first epoch whose loss is non-finite or above 1000x the initial loss
        (``analysis.divergence``), or None if the run never diverged."""
        hit, epoch = analysis.divergence(self.epoch_loss)
        return int(epoch) if hit else None


# A Plan is a frozen dataclass of ~9 fields (~4 us to build); train builds the same few again
# and again, so they are cached by their (hashable) arguments.
_plan = functools.lru_cache(maxsize=256)(core.Plan)
# str(np.dtype) takes ~10 us (numpy builds the name each time).
_dtype_name = functools.lru_cache(maxsize=16)(str)


def _draw_and_run(X, y, seed, lr, optimizer, schedule, init, order, validation, plan: core.Plan, axis_name=None):
    """draw -> init_state -> run; ``init`` and ``order`` replace the draw's."""
    params, keys = core.draw(seed, plan, d=X.shape[1])
    if init is not None:
        params = Params(*init)
    state = core.init_state(params, optimizer, lr, schedule=schedule, dtype=plan.dtype)
    state, history = core.run(state, X, y, plan, orders=order, order_keys=None if order is not None else keys,
                              validation=validation, axis_name=axis_name)
    if history.trace is not None:
        history = history._replace(trace=history.trace._replace(samples=None, updates=None))
    return state.params, history


@functools.partial(jax.jit, static_argnames=("plan",))
def _program(X, y, seed, lr, optimizer, schedule, init, order, validation, plan: core.Plan):
    """draw -> init_state -> run, as one program; ``init`` and ``order`` replace the draw's.
    The optimizer and schedule are pytree specs: ``jit`` keeps their structure in the cache
    key and traces their values. Returns the final parameters and the history (not the
    optimizer state: fewer buffers; nor the trace's grid, which the host knows)."""
    return _draw_and_run(X, y, seed, lr, optimizer, schedule, init, order, validation, plan)


@functools.partial(jax.jit, static_argnames=("plan", "mesh"))
def _sharded_program(X, y, seed, lr, optimizer, schedule, init, order, validation, plan: core.Plan, mesh):
    """:func:`_program` with the rows of X and y sharded over every axis of ``mesh``: each
    device runs the draw and the run on its own rows (``shard_map``), and an update's only
    collective is one all-reduce of d + 2 numbers, its gradient and batch loss
    (``core.run(..., axis_name=)``); the batch rows never move. Everything else is replicated."""
    from jax.sharding import PartitionSpec as P

    axes = mesh.axis_names
    replicated = (P(),) * 7
    body = functools.partial(_draw_and_run, plan=plan, axis_name=axes)
    return jax.shard_map(body, mesh=mesh, in_specs=(P(axes), P(axes), *replicated), out_specs=P(), check_vma=False)(
        X, y, seed, lr, optimizer, schedule, init, order, validation)


def train(
    X,
    y,
    *,
    batch_size: Optional[int] = None,
    lr: float = 0.02,
    epochs: int = 50,
    seed: int = 0,
    optimizer: Any = None,
    schedule: Any = None,
    init: Optional[tuple[Any, Any]] = None,
    order: Optional[Any] = None,
    unroll: Optional[int] = None,
    mesh: Optional[jax.sharding.Mesh] = None,
    n: Optional[int] = None,
    validation: Optional[tuple[Any, Any]] = None,
    record_every: Optional[int] = None,
) -> TrainResult:
    """Train y ~ X w + b by gradient descent with the tutorial's loss, as one compiled program.

    Args:
      X: features, (n, d); numpy or JAX array. float64 is kept when JAX's x64 mode is on;
        without it float64 input is computed in float32 (a warning says so once).
        On CPU, JAX uses a float32 numpy array in place only if its data start on a 64-byte
        boundary; otherwise each call copies X first (for large data: pass ``jax.device_put(X)``
        once, or load with ``jaxgd.load_dataset``, which aligns).
      y: targets, (n,) or (n, 1).
      batch_size: ``None`` (the default) or ``n`` for full-batch GD, ``1`` for SGD, anything
        between for mini-batch SGD (the tutorial's is 50). A short last batch is kept and, as in
        the tutorial, divided by the nominal batch size.
      lr: learning rate (> 0; default the tutorial's 0.02). A runtime value: changing it reuses
        the compiled program.
      epochs: passes over the data (>= 1; default the tutorial's 50).
      seed: draws the initial parameters (w ~ N(0, 0.01^2), b = 0) and the epoch orders.
      optimizer: a ``jaxgd.optim`` spec or its name; default plain SGD (the tutorial's
        ``sgd_optimizer``). Its float hyperparameters are runtime values too.
      schedule: a ``jaxgd.optim`` learning-rate schedule (``optim.step_lr(10, 0.5)``, ...),
        stepped once per epoch after the epoch's updates, as ``scheduler.step()`` in the usual
        PyTorch loop; ``lr`` is its base. Default: constant. Its parameters are runtime values.
      init: optional ``(w0, b0)`` with shapes (d, 1) and (1,), replacing the drawn ones.
      order: optional int array (epochs, n); row e is the permutation of range(n) used in
        epoch e. Default: ``jaxgd.epoch_orders(seed, n, epochs)``.
      unroll: how many batch updates one iteration of the compiled loop performs (a speed
        knob only; the results do not depend on it). Default: by batch size.
      mesh: optional ``jax.sharding.Mesh``: the rows of X are sharded across all its devices
        and each device runs the program on its own rows (``shard_map``): it takes the rows of
        each batch it holds, and one all-reduce of d + 2 numbers (the gradient and the batch
        loss) per update completes the update on every device; the batch rows never move, and
        each device computes only the current batch's indices (O(batch) memory, not O(n)).
        When n is not a multiple of the device count, X is padded with weight-0 rows that no
        order visits. Results equal single-device training up to summation order. Across several processes (``jaxgd.distributed``), X and y are
        global arrays whose rows each process holds only in part.
      n: train on the first ``n`` rows of X and y only (default: all of them); the rows after
        them are padding, never in a batch and weight 0 in every sum. For global arrays padded
        to a multiple of the mesh's devices: ``load_dataset(..., mesh=).n_rows``.
        up to summation order. The held-out set (``validation``) is replicated on every device.
      validation: optional held-out data ``(X_val, y_val)``, (m, d) and (m,) or (m, 1): its
        loss 1/(2m) sum (y_hat - y)^2 is computed inside the program at the initial parameters
        and after every epoch (``TrainResult.val_loss``, shaped like ``epoch_loss``).
      record_every: optional positive int R: record a trace (``TrainResult.trace``, a
        ``jaxgd.Trace``) every R samples processed, the same points for every batch size:
        samples 0, R, 2R, ... up to epochs * n (and epochs * n itself). Each point holds the
        parameters after the last update done by then, the full-data loss there (and the
        held-out loss). R = batch_size records every update. Costs memory O(updates * d) in
        the program and K full-data loss evaluations: meant for small data. Off by default.

    Returns:
      A ``TrainResult``. A run that diverges (``TrainResult.diverged_at``) is a result, with
      a ``RuntimeWarning``, not an error.

    Raises:
      ValueError: for malformed data, hyperparameters, ``init`` or ``order``.
    """
    X, y, dtype = _validate.data(X, y)
    rows, d = X.shape
    n = rows if n is None else _validate.rows_used(n, rows)
    batch_size = _validate.batch_size(batch_size, n)
    lr = _validate.lr(lr)
    epochs = _validate.epochs(epochs)
    seed = _validate.seed(seed)
    optimizer = _validate.optimizer(optimizer)
    schedule = _validate.schedule(schedule)
    unroll = _validate.unroll(unroll)
    if init is not None:
        init = _validate.init(init, d)
    if order is not None:
        order = _validate.order(order, epochs, n)
    if validation is not None:
        validation = _validate.validation(validation, d)
    record_every = _validate.record_every(record_every)
    if mesh is not None:
        mesh = auto_mesh(mesh)
        X, y, rows = shard_rows(X, y, mesh)
        if validation is not None:
            validation = replicate(validation, mesh)
    plan = _plan(n, batch_size, epochs, _dtype_name(dtype), unroll or 0, rows, record_every or 0)
    if mesh is None:
        params, hist = _aot.call(_program, {"plan": plan}, X, y, seed, lr, optimizer, schedule, init, order,
                                 validation)  # _program(..., plan) (from disk whole in a command)
    else:
        params, hist = _sharded_program(X, y, seed, lr, optimizer, schedule, init, order, validation, plan, mesh)
    # Non-finite data (or data so large the loss overflows) makes the initial loss non-finite:
    # checked on the one scalar the run already computed instead of another pass over X.
    # One host copy of the (epochs + 1) losses; indexing the device array would dispatch ops.
    losses = np.asarray(hist.epoch_loss)
    if not np.isfinite(losses[0]):
        _validate.explain_nonfinite_loss(X, y, init)
    if validation is not None and not np.isfinite(np.asarray(hist.val_loss)[0]):
        _validate.explain_nonfinite_val_loss(validation)
    config = Config(batch_size, lr, epochs, seed, variant_name(batch_size, n), optimizer, schedule)
    trace = hist.trace
    if trace is not None:
        trace = trace._replace(**dict(zip(("samples", "updates"), core.trace_grid(plan))))
    result = TrainResult(params.w, params.b, hist.w, hist.b, hist.epoch_loss, hist.step_loss,
                         epochs * plan.num_batches, config, hist.val_loss, trace)
    # Fast path (a NaN fails the comparison, so it goes to the full check): a few µs per call.
    hit = not bool(losses.max() <= analysis.DIVERGENCE_FACTOR * losses[0])
    if hit:  # never a silent NaN: divergence is a result, announced
        at = result.diverged_at
        warnings.warn(
            f"training diverged at epoch {int(at)}: the loss is non-finite or above "
            f"{analysis.DIVERGENCE_FACTOR:g}x its initial value (lr={lr}, batch_size={batch_size}); "
            "try a smaller learning rate",
            RuntimeWarning,
            stacklevel=2,
        )
    return result
