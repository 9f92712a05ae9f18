"""The compiled run: every epoch and batch of a training run as one XLA program."""

from __future__ import annotations

import dataclasses
import functools
import math
import warnings
from typing import Any, NamedTuple, Optional

import jax
import jax.numpy as jnp
import numpy as np

from . import _validate
from ._data import epoch_round_keys, permutation, run_keys
from ._model import Batch, Params, batch_loss, init_params
from ._step import _update_step, optimizer


@dataclasses.dataclass(frozen=True)
class Plan:
    """The static shape of a run: everything that, when changed, needs a new program."""

    n: int
    batch_size: int
    epochs: int
    dtype: str
    unroll: int
    rows: int = 0  # rows of X as passed: n, or n padded to a multiple of the mesh's devices

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


class Config(NamedTuple):
    batch_size: int
    lr: float
    epochs: int
    seed: int
    variant: str  # "GD", "SGD" or "mini-batch"


class TrainResult(NamedTuple):
    """What a run produced; every array field converts with ``np.asarray``.

    ``epoch_loss[e]`` is the full-data seed loss 1/(2n) sum (y_hat - y)^2 after ``e`` epochs
    (index 0: at the initial parameters); ``step_loss[k]`` is the batch loss of update ``k``
    at the parameters before that update.
    """

    w: jax.Array  # (d, 1)
    b: jax.Array  # (1,)
    w_history: jax.Array  # (epochs + 1, d, 1)
    b_history: jax.Array  # (epochs + 1, 1)
    epoch_loss: jax.Array  # (epochs + 1,)
    step_loss: jax.Array  # (updates,)
    updates: int
    config: Config

    @property
    def diverged_at(self) -> Optional[int]:
        """The first epoch whose loss is not finite, or None if the run stayed finite."""
        bad = np.flatnonzero(~np.isfinite(np.asarray(self.epoch_loss)))
        return int(bad[0]) if bad.size else None


def variant_name(batch_size, n):
    return "GD" if batch_size == n else "SGD" if batch_size == 1 else "mini-batch"


def _full_loss(params, X, y, row_weight=None, n=None):
    return batch_loss(params, Batch(X, y, row_weight, n))


def _default_unroll(batch_size, n):
    # A small batch's update is a handful of tiny ops, so the loop's own per-iteration cost
    # matters; unrolling 4 updates per iteration amortises it (measured: SGD and batch 50 on
    # the seed workload ~25% faster). Full-batch GD has one update per epoch: nothing to gain.
    return 1 if batch_size == n else 4


@functools.partial(jax.jit, static_argnames=("plan",))
def _run(X, y, seed, lr, init, order, plan: Plan):
    """The whole run as one program. ``init`` and ``order`` may be None: then drawn from ``seed``."""
    X = jnp.asarray(X, plan.dtype)
    y = jnp.asarray(y, plan.dtype).reshape(plan.row_count, 1)
    # Rows beyond n pad X to a multiple of the mesh's devices: weight 0, never in an order.
    row_weight = None
    if plan.row_count != plan.n:
        row_weight = (jnp.arange(plan.row_count) < plan.n).astype(X.dtype)[:, None]
    full_loss = functools.partial(_full_loss, X=X, y=y, row_weight=row_weight, n=plan.n)
    init_key, order_key = run_keys(seed)
    params0 = init_params(init_key, X.shape[1], X.dtype) if init is None else Params(*init)
    params0 = jax.tree.map(lambda p: p.astype(X.dtype), params0)
    opt_state0 = optimizer(jnp.asarray(lr, X.dtype)).init(params0)
    n, b, nb = plan.n, plan.batch_size, plan.num_batches

    if plan.full_batch:
        # GD: one update per epoch over every sample. The order only permutes the summation,
        # so no gather; the update's loss is the full-data loss before it, i.e. the epoch loss.
        def epoch(carry, _):
            params, opt_state = carry
            params, opt_state, loss = _update_step(params, opt_state, Batch(X, y, row_weight, n))
            return (params, opt_state), (params, loss)

        (params, _), (history, losses) = jax.lax.scan(
            epoch, (params0, opt_state0), None, length=plan.epochs
        )
        epoch_loss = jnp.concatenate([losses, full_loss(params)[None]])
        step_loss = losses
    else:
        if plan.padded:
            # The short last batch is padded to the nominal size with weight-0 rows.
            pad = nb * b - n
            weight = (jnp.arange(nb * b) < n).astype(X.dtype).reshape(nb, b, 1)

        def batch_step(carry, xs):
            params, opt_state = carry
            idx, w = xs
            # Orders are validated (or drawn) permutations: skip the bounds handling.
            Xb = X.at[idx].get(mode="promise_in_bounds", unique_indices=True)
            # Materialise the gathered rows once: fused into each consumer, XLA:CPU would
            # redo the random-access gather for the forward and again for the gradient.
            Xb = jax.lax.optimization_barrier(Xb)
            batch = Batch(Xb, y.at[idx].get(mode="promise_in_bounds", unique_indices=True), w)
            params, opt_state, loss = _update_step(params, opt_state, batch)
            return (params, opt_state), loss

        def epoch(carry, xs):
            order_e = permutation(xs, n) if order is None else xs
            if plan.padded:
                order_e = jnp.concatenate([order_e, jnp.zeros((pad,), order_e.dtype)])
            idx = order_e.reshape(nb, b)
            carry, losses = jax.lax.scan(
                batch_step, carry, (idx, weight if plan.padded else None), unroll=plan.unroll
            )
            params = carry[0]
            return carry, (params, losses, full_loss(params))

        if order is None:  # every epoch's round keys in one vectorised draw, before the loop
            xs = jax.vmap(epoch_round_keys, (None, 0, None))(order_key, jnp.arange(plan.epochs), n)
        else:
            xs = order
        (params, _), (history, losses, after) = jax.lax.scan(epoch, (params0, opt_state0), xs)
        epoch_loss = jnp.concatenate([full_loss(params0)[None], after])
        step_loss = losses.reshape(-1)

    w_history = jnp.concatenate([params0.w[None], history.w])
    b_history = jnp.concatenate([params0.b[None], history.b])
    return params, w_history, b_history, epoch_loss, step_loss


def _shard_rows(X, y, mesh):
    """Pad X and y to a multiple of the mesh's devices and shard their rows across all of them."""
    from jax.sharding import Mesh, NamedSharding, PartitionSpec

    if not isinstance(mesh, Mesh):
        raise ValueError(f"mesh must be a jax.sharding.Mesh, got {type(mesh).__name__}")
    axis_type = getattr(jax.sharding, "AxisType", None)
    if axis_type is not None:  # let XLA choose the collectives (GSPMD), whatever the mesh's mode
        mesh = Mesh(mesh.devices, mesh.axis_names, axis_types=(axis_type.Auto,) * len(mesh.axis_names))
    n = X.shape[0]
    rows = -(-n // mesh.size) * mesh.size
    xp = jnp if isinstance(X, jax.Array) else np
    y = y.reshape(n, 1)
    if rows != n:
        X = xp.concatenate([X, xp.zeros((rows - n, X.shape[1]), X.dtype)])
        y = xp.concatenate([y, xp.zeros((rows - n, 1), y.dtype)])
    sharding = NamedSharding(mesh, PartitionSpec(mesh.axis_names, None))
    return jax.device_put(X, sharding), jax.device_put(y, sharding), rows


def train(
    X,
    y,
    *,
    batch_size: Optional[int],
    lr: float,
    epochs: int,
    seed: int = 0,
    init: Optional[tuple[Any, Any]] = None,
    order: Optional[Any] = None,
    unroll: Optional[int] = None,
    mesh: Optional[jax.sharding.Mesh] = None,
) -> TrainResult:
    """Train y ~ X w + b by gradient descent with the seed's loss, as one compiled program.

    Args:
      X: features, (n, d); numpy or JAX array. float64 is kept when JAX x64 is enabled.
        On CPU, JAX uses a float32 numpy array in place only if its data start on a 64-byte
        boundary; otherwise each call copies X first (for large data: pass ``jax.device_put(X)``
        once, or load with ``jaxgd``'s data loader, which aligns).
      y: targets, (n,) or (n, 1).
      batch_size: ``None`` or ``n`` for full-batch GD, ``1`` for SGD, anything between for
        mini-batch SGD. A short last batch is kept and, as in the seed, divided by the nominal
        batch size.
      lr: learning rate (> 0). A runtime value: changing it reuses the compiled program.
      epochs: passes over the data (>= 1).
      seed: draws the initial parameters (w ~ N(0, 0.01^2), b = 0) and the epoch orders.
      init: optional ``(w0, b0)`` with shapes (d, 1) and (1,), replacing the drawn ones.
      order: optional int array (epochs, n); row e is the permutation of range(n) used in
        epoch e. Default: ``jaxgd.epoch_orders(seed, n, epochs)``.
      unroll: how many batch updates one iteration of the compiled loop performs (a speed
        knob only; the results do not depend on it). Default: by batch size.
      mesh: optional ``jax.sharding.Mesh``: the rows of X are sharded across all its devices
        and XLA partitions the program (GSPMD), reducing sums over rows, and so gradients and
        losses, with its collectives. When n is not a multiple of the device count, X is
        padded with weight-0 rows that no order visits. Results equal single-device training
        up to summation order.

    Returns:
      A ``TrainResult``.

    Raises:
      ValueError: for malformed data, hyperparameters, ``init`` or ``order``.
    """
    X, y, dtype = _validate.data(X, y)
    n, d = X.shape
    batch_size = _validate.batch_size(batch_size, n)
    lr = _validate.lr(lr)
    epochs = _validate.epochs(epochs)
    seed = _validate.seed(seed)
    if init is not None:
        init = _validate.init(init, d)
    if order is not None:
        order = _validate.order(order, epochs, n)
    if unroll is None:
        unroll = _default_unroll(batch_size, n)
    elif isinstance(unroll, bool) or int(unroll) != unroll or unroll < 1:
        raise ValueError(f"unroll must be a positive integer, got {unroll!r}")
    rows = n
    if mesh is not None:
        X, y, rows = _shard_rows(X, y, mesh)
    plan = Plan(n, batch_size, epochs, str(dtype), int(unroll), rows)
    params, w_hist, b_hist, epoch_loss, step_loss = _run(X, y, seed, lr, init, order, plan)
    # Non-finite data (or data so large the loss overflows) makes the initial loss non-finite:
    # checked on the one scalar the run already computed instead of another pass over X.
    # One host copy of the (epochs + 1) losses; indexing the device array would dispatch ops.
    losses = np.asarray(epoch_loss)
    if not np.isfinite(losses[0]):
        _validate.explain_nonfinite_loss(X, y, init)
    config = Config(batch_size, lr, epochs, seed, variant_name(batch_size, n))
    result = TrainResult(
        params.w, params.b, w_hist, b_hist, epoch_loss, step_loss, epochs * plan.num_batches, config
    )
    if not np.isfinite(losses[-1]):  # never a silent NaN: divergence is a result, announced
        warnings.warn(
            f"training diverged: the loss is not finite from epoch {result.diverged_at} on "
            f"(lr={lr}, batch_size={batch_size}); try a smaller learning rate",
            RuntimeWarning,
            stacklevel=2,
        )
    return result
