"""torch.optim.Adagrad."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from jaxgd.optim import _checks, _math
from jaxgd.optim._spec import Optimizer, register


class AdagradState(NamedTuple):
    sum: Any


def _build(learning_rate, *, lr_decay, weight_decay, initial_accumulator_value, eps):
    def init_fn(params):
        return AdagradState(jax.tree.map(lambda p: jnp.full_like(p, initial_accumulator_value), params))

    def update_fn(updates, state, params, *, step, **extra):
        del extra
        t = _math.step_as(step, learning_rate)
        updates = _math.l2(updates, params, weight_decay)
        clr = learning_rate / (1 + (t - 1) * lr_decay)
        total = jax.tree.map(lambda s, g: s + g * g, state.sum, updates)
        new = jax.tree.map(lambda g, s: ((-clr) * g) / (jnp.sqrt(s) + eps), updates, total)
        return new, AdagradState(total)

    return _math.transformation(init_fn, update_fn)


@register("adagrad", torch_name="Adagrad", build=_build, color="tab:red", help={
    "lr_decay": "learning-rate decay",
    "weight_decay": "weight decay (L2 on the gradient)",
    "initial_accumulator_value": "initial value of the sum of squared gradients",
    "eps": "term added to the denominator for numerical stability",
})
def adagrad(lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10) -> Optimizer:
    r"""torch.optim.Adagrad, with torch's learning-rate decay and eps outside the square root.

    .. math::
        g \leftarrow g + \lambda p;\quad \eta_t = \frac{\eta}{1 + (t-1)\,\delta};\quad
        s \leftarrow s + g^2;\quad p \leftarrow p - \eta_t \frac{g}{\sqrt{s} + \epsilon},
        \quad s_0 = \text{initial\_accumulator\_value}

    Differences from ``optax.adagrad``: ``initial_accumulator_value`` 0 (optax 0.1), ``eps``
    1e-10 added to ``sqrt(s)`` (optax: 1e-7 inside the square root, and a zero update where
    ``s == 0``), ``lr_decay`` (absent in optax), L2 ``weight_decay``.
    ``initial_accumulator_value`` is read at ``init`` only, as in torch.
    """
    return Optimizer(
        "adagrad",
        (
            ("lr_decay", _checks.nonneg("lr_decay", lr_decay)),
            ("weight_decay", _checks.nonneg("weight_decay", weight_decay)),
            ("initial_accumulator_value", _checks.nonneg("initial_accumulator_value", initial_accumulator_value)),
            ("eps", _checks.nonneg("eps", eps)),
        ),
    )
