"""torch.optim.RMSprop."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from jaxgd.optim import _checks, _math
from jaxgd.optim._spec import Optimizer, register


class RMSpropState(NamedTuple):
    square_avg: Any
    grad_avg: Any  # () unless centered
    momentum_buffer: Any  # () unless momentum_enabled


def _build(learning_rate, *, alpha, eps, weight_decay, momentum, centered, momentum_enabled):
    def init_fn(params):
        zeros = _math.zeros(params)
        return RMSpropState(zeros, zeros if centered else (), zeros if momentum_enabled else ())

    def update_fn(updates, state, params, **extra):
        del extra
        updates = _math.l2(updates, params, weight_decay)
        square_avg = jax.tree.map(lambda v, g: v * alpha + ((1 - alpha) * g) * g, state.square_avg, updates)
        if centered:
            grad_avg = jax.tree.map(lambda m, g: _math.lerp(m, g, 1 - alpha), state.grad_avg, updates)
            avg = jax.tree.map(lambda v, m: jnp.sqrt(v + (-m) * m) + eps, square_avg, grad_avg)
        else:
            grad_avg = ()
            avg = jax.tree.map(lambda v: jnp.sqrt(v) + eps, square_avg)
        plain = jax.tree.map(lambda g, a: ((-learning_rate) * g) / a, updates, avg)
        if momentum_enabled:
            buf = jax.tree.map(lambda b, g, a: b * momentum + g / a, state.momentum_buffer, updates, avg)
            heavy = jax.tree.map(lambda b: (-learning_rate) * b, buf)
            new = _math.tree_where(momentum > 0, heavy, plain)
        else:
            buf, new = (), plain
        return new, RMSpropState(square_avg, grad_avg, buf)

    return _math.transformation(init_fn, update_fn)


@register("rmsprop", torch_name="RMSprop", build=_build, color="tab:purple", help={
    "alpha": "smoothing constant of the squared-gradient average",
    "eps": "term added to the denominator for numerical stability",
    "weight_decay": "weight decay (L2 on the gradient)",
    "momentum": "momentum factor",
    "centered": "centered RMSprop (normalised by an estimate of the gradient's variance)",
})
def rmsprop(alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False) -> Optimizer:
    r"""torch.optim.RMSprop: decay 0.99, eps added to the square root, optional momentum buffer.

    .. math::
        g \leftarrow g + \lambda p;\quad v \leftarrow \alpha v + (1-\alpha) g^2;\quad
        a = \sqrt{v - \bar g^2} + \epsilon \text{ (centered, } \bar g \leftarrow
        \mathrm{lerp}(\bar g, g, 1-\alpha)) \text{ or } \sqrt{v} + \epsilon;\\
        b \leftarrow \mu b + g / a,\; p \leftarrow p - \eta b \text{ if } \mu > 0,
        \text{ else } p \leftarrow p - \eta g / a

    Differences from ``optax.rmsprop``: ``alpha`` 0.99 (optax ``decay`` 0.9); ``eps`` added
    to ``sqrt(v)`` (optax: inside the square root); momentum buffer accumulates ``g / a``
    and is scaled by ``lr`` afterwards (optax's trace comes after its learning-rate scale);
    L2 ``weight_decay``. ``momentum_enabled = momentum > 0`` is a static option (buffer in
    the state); ``centered`` is static.
    """
    momentum = _checks.nonneg("momentum", momentum)
    return Optimizer(
        "rmsprop",
        (
            ("alpha", _checks.nonneg("alpha", alpha)),
            ("eps", _checks.nonneg("eps", eps)),
            ("weight_decay", _checks.nonneg("weight_decay", weight_decay)),
            ("momentum", momentum),
        ),
        (("centered", _checks.flag("centered", centered)), ("momentum_enabled", momentum > 0)),
    )
