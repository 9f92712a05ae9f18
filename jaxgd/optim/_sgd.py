"""torch.optim.SGD."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from jaxgd.optim import _checks, _math
from jaxgd.optim._spec import Optimizer, register
from jaxgd._errors import InputError


class SGDMomentumState(NamedTuple):
    """torch's ``momentum_buffer``: ``started`` is torch's ``buffer is not None``."""

    started: jax.Array  # bool scalar
    buf: Any


def _momentum(momentum, dampening, nesterov):
    def init_fn(params):
        return SGDMomentumState(jnp.zeros([], bool), _math.zeros(params))

    def update_fn(updates, state, params=None, **extra):
        del params, extra
        on = momentum != 0
        buf = jax.tree.map(
            lambda g, b: jnp.where(state.started, momentum * b + (1 - dampening) * g, g), updates, state.buf
        )
        direction = jax.tree.map(lambda g, b: g + momentum * b, updates, buf) if nesterov else buf
        return _math.tree_where(on, direction, updates), SGDMomentumState(
            state.started | on, _math.tree_where(on, buf, state.buf)
        )

    return optax.GradientTransformation(init_fn, update_fn)


def _build(learning_rate, *, momentum, dampening, weight_decay, nesterov, momentum_enabled, decay_enabled):
    # Each part only when enabled: plain SGD is exactly the tutorial's p - lr * g, one update
    # per sample, so every op on its dependency chain costs (benchmarks/compare_base.py).
    parts = [optax.add_decayed_weights(weight_decay)] if decay_enabled else []
    if momentum_enabled:
        parts.append(_momentum(momentum, dampening, nesterov))
    parts.append(optax.scale_by_learning_rate(learning_rate))
    return optax.chain(*parts)


@register("sgd", torch_name="SGD", build=_build, color="tab:blue", help={
    "momentum": "momentum factor",
    "dampening": "dampening of the momentum",
    "nesterov": "Nesterov momentum (needs momentum > 0 and dampening 0)",
    "weight_decay": "weight decay (L2 on the gradient)",
})
def sgd(momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False) -> Optimizer:
    r"""torch.optim.SGD: ``p -= lr * d`` with optional L2 decay, momentum and Nesterov.

    .. math::
        g \leftarrow g + \lambda p;\quad
        b_1 = g,\; b_t = \mu b_{t-1} + (1 - \tau) g;\quad
        d = g + \mu b_t \text{ (Nesterov) or } b_t;\quad p \leftarrow p - \eta d

    With ``momentum=0`` (the default) it is exactly the tutorial's ``p - lr * g``.

    Differences from ``optax.sgd``: dampening ``tau`` (absent in optax), applied from the
    second step only (torch's buffer starts as ``g``); weight decay is L2 on the gradient.
    Structure (static options): ``momentum_enabled = momentum != 0`` (a momentum buffer in
    the state) and ``decay_enabled = weight_decay != 0`` (the decay's add in the program).
    Inside an enabled program a runtime momentum or weight decay of 0 still gives torch's
    update (a ``jnp.where``; ``0 * p`` added), so any runtime value is exact.
    """
    momentum = _checks.nonneg("momentum", momentum)
    dampening = _checks.real("dampening", dampening)
    weight_decay = _checks.nonneg("weight_decay", weight_decay)
    nesterov = _checks.flag("nesterov", nesterov)
    if nesterov and (momentum <= 0 or dampening != 0):
        raise InputError(
            f"nesterov=True requires momentum > 0 and dampening == 0 (got momentum={momentum}, dampening={dampening})"
        )
    return Optimizer(
        "sgd",
        (("momentum", momentum), ("dampening", dampening), ("weight_decay", weight_decay)),
        (("nesterov", nesterov), ("momentum_enabled", momentum != 0), ("decay_enabled", weight_decay != 0)),
    )
