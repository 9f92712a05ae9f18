"""The state of a run (``TrainState``: parameters, optimizer state, the one counter, the base lr
and the two specs), how it starts (``init_state``) and the one update step (``update_step``)."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax
from jax.flatten_util import ravel_pytree

from jaxgd import optim
from jaxgd._errors import InputError
from jaxgd.core._model import Batch, Params, loss
from jaxgd.core._plan import Plan


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


def update_step(state: TrainState, batch: Batch, lr, axis_name=None):
    """One update: ``(state, batch, lr in force) -> (state, loss)``.

    ``loss`` is the batch loss at the parameters *before* the update (the tutorial's
    ``l.sum()``). GD, SGD and mini-batch SGD differ only in the batch they pass here; the
    optimizer is the spec the state carries (its structure static, its hyperparameters
    leaves). ``lr`` is the learning rate in force (:func:`learning_rate`; ``run`` computes it
    once per epoch).

    ``axis_name`` (inside ``shard_map``): ``batch`` holds only this device's rows of the batch
    (the others weighted 0), so its loss and gradient are partial sums; one all-reduce of the
    d + 2 numbers (gradient of w and b, and the loss) over that mesh axis completes them.
    """
    loss_value, grads = jax.value_and_grad(loss)(state.params, batch)
    if axis_name is not None:
        loss_value, grads = all_reduce((loss_value, grads), axis_name)
    step = state.step + 1
    updates, opt_state = state.optimizer.transformation(lr).update(grads, state.opt_state, state.params, step=step)
    return state._replace(params=optax.apply_updates(state.params, updates), opt_state=opt_state,
                          step=step), loss_value


def all_reduce(tree, axis_name):
    """The sum of ``tree`` (a pytree of arrays of one dtype) over the devices of ``axis_name``,
    as one all-reduce of its leaves packed into one vector: the collective's latency, not its
    size, is what costs at a linear model's few numbers."""
    flat, unflatten = ravel_pytree(tree)
    return unflatten(jax.lax.psum(flat, axis_name))


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
