"""torch.optim.Adadelta."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from jaxgd.optim import _checks, _math
from jaxgd.optim._spec import Optimizer, register


class AdadeltaState(NamedTuple):
    square_avg: Any
    acc_delta: Any


def _build(learning_rate, *, rho, eps, weight_decay):
    def init_fn(params):
        zeros = _math.zeros(params)
        return AdadeltaState(zeros, zeros)

    def update_fn(updates, state, params, **extra):
        del extra
        updates = _math.l2(updates, params, weight_decay)
        square_avg = jax.tree.map(lambda v, g: v * rho + ((1 - rho) * g) * g, state.square_avg, updates)
        delta = jax.tree.map(
            lambda v, u, g: (jnp.sqrt(u + eps) / jnp.sqrt(v + eps)) * g, square_avg, state.acc_delta, updates
        )
        acc_delta = jax.tree.map(lambda u, d: u * rho + ((1 - rho) * d) * d, state.acc_delta, delta)
        new = jax.tree.map(lambda d: (-learning_rate) * d, delta)
        return new, AdadeltaState(square_avg, acc_delta)

    return _math.transformation(init_fn, update_fn)


@register("adadelta", torch_name="Adadelta", build=_build, color="tab:brown", help={
    "rho": "coefficient of the running averages of squared gradients and updates",
    "eps": "term added to the denominator for numerical stability",
    "weight_decay": "weight decay (L2 on the gradient)",
})
def adadelta(rho=0.9, eps=1e-6, weight_decay=0.0) -> Optimizer:
    r"""torch.optim.Adadelta, whose learning rate (torch default 1.0) multiplies the delta.

    .. math::
        g \leftarrow g + \lambda p;\quad v \leftarrow \rho v + (1-\rho) g^2;\quad
        \Delta = \frac{\sqrt{u + \epsilon}}{\sqrt{v + \epsilon}} g;\quad
        u \leftarrow \rho u + (1-\rho)\Delta^2;\quad p \leftarrow p - \eta \Delta

    Differences from ``optax.adadelta``: same defaults and mathematics (torch's rounding
    order: the moments as ``v * rho + ((1 - rho) * g) * g``); L2 ``weight_decay``.
    """
    return Optimizer(
        "adadelta",
        (
            ("rho", _checks.unit("rho", rho, closed=True)),
            ("eps", _checks.nonneg("eps", eps)),
            ("weight_decay", _checks.nonneg("weight_decay", weight_decay)),
        ),
    )
