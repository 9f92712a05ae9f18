"""The pure core of jaxgd, for those who build on it: a draw, an update step and a run.

``jaxgd.train`` and ``jaxgd.sweep`` are two drivers of these functions; every function here is
pure (no host work, no validation, no printing) and works under your own ``jax.jit`` and
``jax.vmap``::

    import jax, jax.numpy as jnp, jaxgd
    from jaxgd import core, optim

    plan = core.Plan(n=1000, batch_size=50, epochs=50)
    @jax.jit
    def fit(X, y, seed, lr, optimizer, schedule):
        params, keys = core.draw(seed, plan, d=X.shape[1])
        state = core.init_state(params, optimizer, lr, schedule=schedule)
        return core.run(state, X, y, plan, order_keys=keys)       # (final TrainState, History)
    data = jaxgd.synthetic_data()
    fit(data.X, data.y, 0, 0.02, optim.sgd(), optim.step_lr(10, 0.5))
    jax.vmap(fit, in_axes=(None, None, 0, None, None, None))(     # 8 seeds at once
        data.X, data.y, jnp.arange(8), 0.02, optim.adam(), optim.constant())

Data flow: ``draw`` (seed -> initial parameters, per-epoch order keys) -> ``init_state``
(parameters, optimizer spec, learning rate, schedule spec -> ``TrainState``) -> ``run`` (state,
data, orders, static ``Plan`` -> final state, ``History``), which scans :func:`update_step` over
every batch of every epoch. ``update_step`` is the one place the arithmetic of an update lives;
the optimizer it applies is the spec the state carries.

One spec, one state. The optimizer and schedule specs are pytrees (``jaxgd.optim``): their
structure is static, their values are leaves. The ``TrainState`` carries both specs, the base
learning rate and the one update counter, so nothing a run needs can disagree with the state
it runs from; the ``Plan`` holds only the shape of the run (sizes, dtype, unroll, trace grid).

Two recordings are optional: ``run(..., validation=(X_val, y_val))`` adds the held-out loss at
each epoch's parameters (``History.val_loss``), and ``Plan(record_every=R)`` a :class:`Trace`
on a grid of samples processed (:func:`trace_grid`), built from each update's parameters.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from typing import Any, NamedTuple, Optional

import jax
import jax.numpy as jnp
import numpy as np
import optax

from . import optim
from ._data import epoch_round_keys, permutation, run_keys
from ._model import Batch, Params, init_params, loss, plain_loss, predict
from ._errors import InputError

__all__ = ["Batch", "History", "Params", "Plan", "Trace", "TrainState", "batch_indices", "default_unroll",
           "draw", "init_state", "init_params", "initial_params", "learning_rate", "loss", "order_keys", "plain_loss",
           "orders_from_keys", "predict", "run", "trace_grid", "update_step"]


class TrainState(NamedTuple):
    """Everything a run needs and changes, and nothing else.

    ``params`` and ``opt_state`` (the optimizer's own buffers: moments, momentum) change with
    each update; ``step`` counts the updates done (int32, the one counter: Adam's bias
    correction uses ``step + 1``, the schedule's epoch is ``step // num_batches``). ``lr`` (the
    base learning rate), ``optimizer`` and ``schedule`` (``jaxgd.optim`` pytree specs) stay
    as they are: the learning rate in force is ``schedule.lr(lr, epoch)``
    (:func:`learning_rate`).
    """

    params: Params
    opt_state: Any
    step: jax.Array
    lr: jax.Array
    optimizer: optim.Optimizer
    schedule: optim.Schedule


class Trace(NamedTuple):
    """The run recorded on a grid of samples processed (``Plan.record_every``): point k is the
    state after the last update whose cumulative samples processed are <= ``samples[k]``.

    The grid is ``0, R, 2R, ..`` up to ``epochs * n``, plus ``epochs * n`` itself when it is not
    on the grid (:func:`trace_grid`); it is the same for every batch size, so variants can be
    compared at the same points.
    """

    samples: Any  # (K,) samples processed at each point
    updates: Any  # (K,) updates done at each point
    w: jax.Array  # (K, d, 1) the parameters in force there
    b: jax.Array  # (K, 1)
    loss: jax.Array  # (K,) full-data training loss at those parameters
    val_loss: Optional[jax.Array] = None  # (K,) held-out loss there (with validation data)


class History(NamedTuple):
    """What a run records. Index 0 of the per-epoch fields is the state the run started from.

    ``val_loss`` (with validation data) and ``trace`` (with ``Plan.record_every``) are None
    otherwise.
    """

    w: jax.Array  # (epochs + 1, d, 1)
    b: jax.Array  # (epochs + 1, 1)
    epoch_loss: jax.Array  # (epochs + 1,) full-data loss at the start and after each epoch
    step_loss: jax.Array  # (epochs * num_batches,) each update's batch loss, before the update
    val_loss: Optional[jax.Array] = None  # (epochs + 1,) held-out loss at the same parameters
    trace: Optional[Trace] = None


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


# --- the state and the update step ---------------------------------------------------------


def init_state(params: Params, optimizer=None, lr=0.02, *, schedule=None, dtype=None) -> TrainState:
    """The state a run starts from: ``params`` (cast to ``dtype``, default theirs), a fresh state
    of ``optimizer`` (a ``jaxgd.optim`` spec; default plain SGD), the base learning rate ``lr``,
    ``schedule`` (default constant) and ``step`` 0. The specs' float leaves are cast to
    ``dtype``, their int leaves to int32: the state holds arrays only."""
    optimizer = optim.sgd() if optimizer is None else optimizer
    schedule = optim.constant() if schedule is None else schedule
    if not isinstance(optimizer, optim.Optimizer):
        raise InputError(f"optimizer must be a jaxgd.optim spec (optim.adam(), ...), got {optimizer!r}")
    if not isinstance(schedule, optim.Schedule):
        raise InputError(f"schedule must be a jaxgd.optim schedule (optim.step_lr(10), ...), got {schedule!r}")
    dtype = jnp.dtype(dtype or params.w.dtype)
    params = jax.tree.map(lambda p: jnp.asarray(p, dtype), params)
    optimizer, schedule = optim.cast(optimizer, dtype), optim.cast(schedule, dtype)
    lr = jnp.asarray(lr, dtype)
    opt_state = optimizer.transformation(lr).init(params)
    return TrainState(params, opt_state, jnp.zeros((), jnp.int32), lr, optimizer, schedule)


def learning_rate(state: TrainState, epoch):
    """The learning rate in force during ``epoch`` (0-based): ``state.schedule.lr(state.lr, epoch)``."""
    return state.schedule.lr(state.lr, epoch).astype(state.lr.dtype)


def update_step(state: TrainState, batch: Batch, lr):
    """One update: ``(state, batch, lr in force) -> (state, loss)``.

    ``loss`` is the batch loss at the parameters *before* the update (the tutorial's
    ``l.sum()``). GD, SGD and mini-batch SGD differ only in the batch they pass here; the
    optimizer is the spec the state carries (its structure static, its hyperparameters
    leaves). ``lr`` is the learning rate in force (:func:`learning_rate`; ``run`` computes it
    once per epoch).
    """
    loss_value, grads = jax.value_and_grad(loss)(state.params, batch)
    step = state.step + 1
    updates, opt_state = state.optimizer.transformation(lr).update(grads, state.opt_state, state.params, step=step)
    return state._replace(params=optax.apply_updates(state.params, updates), opt_state=opt_state,
                          step=step), loss_value


def _check_state(state: TrainState, plan: Plan):
    """Trace-time checks where a hand-built state could disagree with itself or the plan."""
    if not isinstance(state.optimizer, optim.Optimizer) or not isinstance(state.schedule, optim.Schedule):
        raise InputError("state.optimizer and state.schedule must be jaxgd.optim specs: build the state with "
                         "core.init_state")
    dtype = jnp.dtype(plan.dtype)
    if state.params.w.dtype != dtype:
        raise InputError(f"the state's parameters are {state.params.w.dtype} but the plan computes in {dtype}: "
                         f"build the state with core.init_state(..., dtype={plan.dtype!r})")
    expected = jax.eval_shape(state.optimizer.transformation(state.lr).init, state.params)
    if jax.tree.structure(expected) != jax.tree.structure(state.opt_state):
        raise InputError(f"the state's opt_state does not match its optimizer {state.optimizer.name} "
                         f"({dict(state.optimizer.options)}): build the state with core.init_state")


def _stateful(state: TrainState) -> bool:
    """Whether the optimizer keeps buffers (moments, momentum): read off its state."""
    return bool(jax.tree.leaves(state.opt_state))


# --- the draw -------------------------------------------------------------------------------


def initial_params(seed, d: int, dtype="float32") -> Params:
    """The initial parameters a run draws from ``seed``: the tutorial's w ~ N(0, 0.01^2), b = 0."""
    return init_params(run_keys(seed)[0], d, jnp.dtype(dtype))


def order_keys(seed, n: int, epochs: int, first_epoch=0):
    """The order keys of epochs ``[first_epoch, first_epoch + epochs)`` of a run with ``seed``:
    uint32 (epochs, rounds), the Feistel round keys from which each epoch's permutation of
    range(n) is computed (:func:`orders_from_keys`; ``jaxgd.epoch_orders`` gives the same)."""
    order_key = run_keys(seed)[1]
    return jax.vmap(epoch_round_keys, (None, 0, None))(order_key, first_epoch + jnp.arange(epochs), n)


def draw(seed, plan: Plan, *, d: int, first_epoch=0):
    """What a run draws from ``seed``: ``(initial Params, order keys)``; the keys are None for
    full-batch GD, which needs no order."""
    params = initial_params(seed, d, plan.dtype)
    if plan.full_batch:
        return params, None
    return params, order_keys(seed, plan.n, plan.epochs, first_epoch)


def orders_from_keys(keys, n: int):
    """The permutations of range(n), (epochs, n) int32, that order keys (epochs, rounds) select."""
    return jax.vmap(permutation, (0, None))(keys, n)


def batch_indices(order, plan: Plan):
    """One epoch's order (n,) as the rows of each batch, (num_batches, batch_size).

    A short last batch is filled up to the nominal size with the epoch's first indices: rows of
    earlier batches, so every batch's indices stay distinct (the gathers promise unique
    indices) and the fill rows carry weight 0.
    """
    if plan.padded:
        fill = plan.num_batches * plan.batch_size - plan.n  # < batch_size <= n - batch_size
        order = jnp.concatenate([order, order[:fill]])
    return order.reshape(plan.num_batches, plan.batch_size)


# --- the run --------------------------------------------------------------------------------


# Losses at many parameters are evaluated a block of parameters at a time, so the program never
# holds more than ~this many residuals at once (a plain vmap over K trace points would hold
# K x n: 200 MB for the tutorial's SGD traced every sample, and ran 10x slower on CPU).
_LOSS_BLOCK_ELEMENTS = 2**18


def _losses_at(batch_loss, params: Params, rows: int):
    """``batch_loss`` at each of the stacked ``params`` (leading axis K), in blocks."""
    block = max(1, _LOSS_BLOCK_ELEMENTS // rows)
    if params.w.shape[0] <= block:
        return jax.vmap(batch_loss)(params)
    return jax.lax.map(batch_loss, params, batch_size=block)


def _select(keep, new, old):
    return jax.tree.map(lambda a, b: jnp.where(keep, a, b), new, old)


def run(state: TrainState, X, y, plan: Plan, *, orders=None, order_keys=None, active_epochs=None,
        validation=None):
    """``plan.epochs`` epochs from ``state``: ``(final TrainState, History)``.

    Args:
      state: the starting ``TrainState`` (from :func:`init_state`, or a previous run's).
      X, y: the data, (rows, d) and (rows,) or (rows, 1); rows beyond ``plan.n`` (a mesh's
        padding) carry weight 0 and are never visited.
      plan: the static ``Plan``.
      orders: the per-epoch sample orders as (epochs, n) permutations of range(n), or
      order_keys: the per-epoch order keys, (epochs, rounds) uint32 from :func:`draw` (the
        permutations are then computed in the program). Exactly one of the two, except for
        full-batch GD, which needs neither (the order only permutes its sum).
      active_epochs: optional traced count: epochs from that one on leave the state unchanged
        (so one program serves a shorter last chunk of a sweep). Their history entries hold
        the final state.
      validation: optional ``(X_val, y_val)``, (m, d) and (m,) or (m, 1): the held-out loss
        1/(2m) sum (y_hat - y)^2 at the start and after every epoch goes to
        ``History.val_loss`` (and to the trace's ``val_loss``).

    With ``plan.record_every`` set, ``History.trace`` holds the run on :func:`trace_grid`'s
    points: each update's parameters are kept (memory O(updates * d)), the grid's gathered and
    the full-data loss evaluated there (K more passes over the data). Without it the program
    keeps no per-update parameters.

    Raises ValueError (at trace time) when the state's parts disagree (its opt_state is not
    its optimizer's, its dtype is not the plan's) or the orders are ambiguous or missing.
    """
    _check_state(state, plan)
    if not plan.full_batch:
        if (orders is None) == (order_keys is None):
            raise InputError("run needs exactly one of orders= (permutations) and order_keys= (from core.draw) "
                             f"for batch_size {plan.batch_size} < n {plan.n}")
        expected = (plan.epochs, plan.n)
        if orders is not None and tuple(orders.shape) != expected:
            raise InputError(f"orders must be (epochs, n) = {expected} permutations, got shape {tuple(orders.shape)}")
    unroll = plan.unroll or default_unroll(plan.batch_size, plan.n, _stateful(state))
    X = jnp.asarray(X, plan.dtype)
    y = jnp.asarray(y, plan.dtype).reshape(plan.row_count, 1)
    row_weight = None
    if plan.row_count != plan.n:
        row_weight = (jnp.arange(plan.row_count) < plan.n).astype(X.dtype)[:, None]
    full = Batch(X, y, row_weight, plan.n)
    full_loss = functools.partial(loss, batch=full)
    val_loss = None
    if validation is not None:
        X_val = jnp.asarray(validation[0], plan.dtype)
        val = Batch(X_val, jnp.asarray(validation[1], plan.dtype).reshape(X_val.shape[0], 1), None, X_val.shape[0])
        val_loss = functools.partial(_losses_at, functools.partial(loss, batch=val), rows=X_val.shape[0])
    tracing = plan.record_every > 0
    epoch_ids = jnp.arange(plan.epochs)

    def masked(e, new, old):
        return new if active_epochs is None else _select(e < active_epochs, new, old)

    if plan.full_batch:
        # GD: one update per epoch over every sample. The order only permutes the summation,
        # so no gather; the update's loss is the full-data loss before it, i.e. the epoch loss.
        def epoch(state, e):
            new, step_loss = update_step(state, full, learning_rate(state, state.step))
            new = masked(e, new, state)
            return new, (new.params, step_loss)

        final, (params, losses) = jax.lax.scan(epoch, state, epoch_ids)
        epoch_loss = jnp.concatenate([losses, full_loss(final.params)[None]])
        step_loss = losses
    else:
        b, nb = plan.batch_size, plan.num_batches
        weight = None
        if plan.padded:  # the fill rows of the short last batch: weight 0
            weight = (jnp.arange(nb * b) < plan.n).astype(X.dtype).reshape(nb, b, 1)

        def batch_step(carry, xs):
            state, lr = carry
            idx, w = xs
            # Orders are validated (or drawn) permutations and batch_indices keeps each batch's
            # indices distinct: skip the bounds handling and promise uniqueness.
            Xb = X.at[idx].get(mode="promise_in_bounds", unique_indices=True)
            # Materialise the gathered rows once: fused into each consumer, XLA:CPU would
            # redo the random-access gather for the forward and again for the gradient.
            Xb = jax.lax.optimization_barrier(Xb)
            yb = y.at[idx].get(mode="promise_in_bounds", unique_indices=True)
            new, loss_value = update_step(state, Batch(Xb, yb, w, b), lr)
            # With a trace, every update's parameters are a scan output too.
            return (new, lr), ((loss_value, new.params) if tracing else loss_value)

        def epoch(state, xs):
            e, order = xs
            if order_keys is not None:  # order keys: the permutation is computed here
                order = permutation(order, plan.n)
            # The lr in force is the schedule's at this epoch: computed once per epoch.
            lr = learning_rate(state, state.step // nb)
            (new, _), out = jax.lax.scan(batch_step, (state, lr), (batch_indices(order, plan), weight),
                                         unroll=unroll)
            new = masked(e, new, state)
            if not tracing:
                return new, (new.params, out, full_loss(new.params))
            losses, stepped = out  # a masked epoch's updates: the state it leaves unchanged
            stepped = masked(e, stepped, jax.tree.map(lambda p: jnp.broadcast_to(p, (nb, *p.shape)), state.params))
            return new, (new.params, losses, full_loss(new.params), stepped)

        final, (params, losses, after, *stepped) = jax.lax.scan(
            epoch, state, (epoch_ids, orders if order_keys is None else order_keys))
        epoch_loss = jnp.concatenate([full_loss(state.params)[None], after])
        step_loss = losses.reshape(-1)

    w = jnp.concatenate([state.params.w[None], params.w])
    b_hist = jnp.concatenate([state.params.b[None], params.b])
    history = History(w, b_hist, epoch_loss, step_loss)
    if val_loss is not None:
        history = history._replace(val_loss=val_loss(Params(w, b_hist)))
    if tracing:
        samples, updates = trace_grid(plan)
        if plan.full_batch:  # GD's updates are its epochs: the history holds every one
            per_update = Params(w, b_hist)
        else:
            per_update = jax.tree.map(lambda p0, p: jnp.concatenate([p0[None], p.reshape(-1, *p.shape[2:])]),
                                      state.params, stepped[0])
        at = jax.tree.map(lambda p: p[updates], per_update)  # static indices
        history = history._replace(trace=Trace(
            jnp.asarray(samples), jnp.asarray(updates), at.w, at.b, _losses_at(full_loss, at, plan.row_count),
            None if val_loss is None else val_loss(at)))
    return final, history
