"""torch.optim.Adam and torch.optim.AdamW."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from jaxgd.optim import _checks, _math
from jaxgd.optim._spec import Optimizer, register


class AdamState(NamedTuple):
    exp_avg: Any
    exp_avg_sq: Any
    max_exp_avg_sq: Any  # () unless amsgrad


def _torch_adam(learning_rate, betas, eps, weight_decay, amsgrad, decoupled):
    beta1, beta2 = betas

    def init_fn(params):
        zeros = _math.zeros(params)
        return AdamState(zeros, zeros, zeros if amsgrad else ())

    def update_fn(updates, state, params, *, step, **extra):
        del extra
        if not decoupled:
            updates = _math.l2(updates, params, weight_decay)
        exp_avg = jax.tree.map(lambda m, g: _math.lerp(m, g, 1 - beta1), state.exp_avg, updates)
        exp_avg_sq = jax.tree.map(lambda v, g: v * beta2 + ((1 - beta2) * g) * g, state.exp_avg_sq, updates)
        t = _math.step_as(step, learning_rate)
        bias_correction1 = 1 - beta1**t
        bias_correction2 = 1 - beta2**t
        step_size = learning_rate / bias_correction1
        bias_correction2_sqrt = jnp.sqrt(bias_correction2)
        if amsgrad:
            max_exp_avg_sq = jax.tree.map(jnp.maximum, state.max_exp_avg_sq, exp_avg_sq)
            second = max_exp_avg_sq
        else:
            max_exp_avg_sq, second = (), exp_avg_sq
        new = jax.tree.map(
            lambda m, v: ((-step_size) * m) / (jnp.sqrt(v) / bias_correction2_sqrt + eps), exp_avg, second
        )
        if decoupled:  # torch: p *= 1 - lr * wd, then p += new; (p * c - p) is exact (Sterbenz)
            new = jax.tree.map(lambda u, p: (p * (1 - learning_rate * weight_decay) - p) + u, new, params)
        return new, AdamState(exp_avg, exp_avg_sq, max_exp_avg_sq)

    return _math.transformation(init_fn, update_fn)


def _build_adam(learning_rate, *, betas, eps, weight_decay, amsgrad):
    return _torch_adam(learning_rate, betas, eps, weight_decay, amsgrad, decoupled=False)


def _build_adamw(learning_rate, *, betas, eps, weight_decay, amsgrad):
    return _torch_adam(learning_rate, betas, eps, weight_decay, amsgrad, decoupled=True)


_HELP = {
    "betas": "coefficients of the running averages of the gradient and its square",
    "eps": "term added to the denominator for numerical stability",
    "amsgrad": "AMSGrad: the maximum of the past second moments",
}


def _spec(name, betas, eps, weight_decay, amsgrad):
    return Optimizer(
        name,
        (("betas", _checks.betas(betas)), ("eps", _checks.nonneg("eps", eps)),
         ("weight_decay", _checks.nonneg("weight_decay", weight_decay))),
        (("amsgrad", _checks.flag("amsgrad", amsgrad)),),
    )


@register("adam", torch_name="Adam", build=_build_adam, color="tab:orange",
          help={**_HELP, "weight_decay": "weight decay (L2 on the gradient)"})
def adam(betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False) -> Optimizer:
    r"""torch.optim.Adam, in torch's order of operations; weight decay is L2 on the gradient.

    .. math::
        g \leftarrow g + \lambda p;\quad m \leftarrow \mathrm{lerp}(m, g, 1-\beta_1);\quad
        v \leftarrow \beta_2 v + (1-\beta_2) g^2;\quad
        p \leftarrow p - \frac{\eta}{1-\beta_1^t}\,
        \frac{m}{\sqrt{\hat v}/\sqrt{1-\beta_2^t} + \epsilon}

    with :math:`\hat v = v`, or with ``amsgrad`` :math:`\hat v = \max_{s \le t} v_s` (the max
    of the *raw* second moments, then divided by :math:`\sqrt{1-\beta_2^t}`).

    Differences from ``optax.adam``: same defaults and the same mathematics, but torch's
    rounding order (``lr / bc1`` times ``m``, over ``sqrt(v) / sqrt(bc2) + eps``; optax
    divides ``m`` and ``v`` by their corrections first). ``optax.amsgrad`` differs in
    substance: it takes the max of the *bias-corrected* ``v``. ``weight_decay`` (absent in
    optax.adam) is added to the gradient. Bias corrections are computed in the
    hyperparameters' dtype; torch computes them in Python floats and rounds once, which
    matters in float32 only.
    """
    return _spec("adam", betas, eps, weight_decay, amsgrad)


@register("adamw", torch_name="AdamW", build=_build_adamw, color="tab:green",
          help={**_HELP, "weight_decay": "decoupled weight decay (p *= 1 - lr * weight_decay before the step)"})
def adamw(betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01, amsgrad=False) -> Optimizer:
    r"""torch.optim.AdamW: Adam with decoupled weight decay ``p *= 1 - lr * wd`` before the step.

    .. math::
        p \leftarrow p (1 - \eta\lambda);\quad \text{then Adam's step (see ``adam``) on } g

    Differences from ``optax.adamw``: default ``weight_decay`` 0.01 (optax: 1e-4); torch's
    AMSGrad and rounding order as in ``adam``. torch changes the parameter in place twice,
    optax returns one update ``u`` applied as ``p + u``: they differ by one rounding of a
    quantity much smaller than ``p``.
    """
    return _spec("adamw", betas, eps, weight_decay, amsgrad)
