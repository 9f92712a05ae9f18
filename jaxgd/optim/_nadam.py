"""torch.optim.NAdam."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from jaxgd.optim import _checks, _math
from jaxgd.optim._spec import Optimizer, register


class NAdamState(NamedTuple):
    exp_avg: Any
    exp_avg_sq: Any
    mu_product: jax.Array  # torch's state['mu_product']: the product of the momentum schedule, float32 as torch's


def _build(learning_rate, *, betas, eps, weight_decay, momentum_decay, decoupled_weight_decay):
    beta1, beta2 = betas

    def init_fn(params):
        zeros = _math.zeros(params)
        return NAdamState(zeros, zeros, jnp.ones([], _math.TORCH_SCALAR_DTYPE))

    def update_fn(updates, state, params, *, step, **extra):
        del extra
        t = _math.step_as(step, learning_rate)
        bias_correction2 = _math.one_minus_pow(beta2, t)
        if decoupled_weight_decay:  # torch: p *= 1 - lr * wd, before the step
            start = jax.tree.map(lambda p: p * (1 - learning_rate * weight_decay), params)
        else:
            start = params
            updates = _math.l2(updates, params, weight_decay)
        # The momentum schedule mu_t, mu_{t+1} (Python floats in torch); the product is a float32
        # tensor in torch, multiplied by mu rounded to float32, then read back as a Python float.
        mu = beta1 * (1.0 - 0.5 * (0.96 ** (t * momentum_decay)))
        mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((t + 1) * momentum_decay)))
        mu_product = state.mu_product * _math.torch_scalar(mu)
        product = mu_product.astype(t.dtype)
        product_next = product * mu_next
        exp_avg = jax.tree.map(lambda m, g: _math.lerp(m, g, 1 - beta1), state.exp_avg, updates)
        exp_avg_sq = jax.tree.map(lambda v, g: v * beta2 + ((1 - beta2) * g) * g, state.exp_avg_sq, updates)
        grad_coef = ((-learning_rate) * (1.0 - mu)) / (1.0 - product)
        avg_coef = ((-learning_rate) * mu_next) / (1.0 - product_next)
        # torch: two addcdiv_ on p in turn, p + (c * t1) / denom each
        new = jax.tree.map(
            lambda p, g, m, v: (p + (grad_coef * g) / (jnp.sqrt(v / bias_correction2) + eps))
            + (avg_coef * m) / (jnp.sqrt(v / bias_correction2) + eps),
            start, updates, exp_avg, exp_avg_sq,
        )
        return _math.update_to(new, params), NAdamState(exp_avg, exp_avg_sq, mu_product)

    return _math.transformation(init_fn, update_fn)


@register("nadam", torch_name="NAdam", build=_build, color="tab:pink", help={
    "betas": "coefficients of the running averages of the gradient and its square",
    "eps": "term added to the denominator for numerical stability",
    "weight_decay": "weight decay (L2 on the gradient; decoupled with --decoupled-weight-decay)",
    "momentum_decay": "NAdam's momentum decay psi: mu_t = beta1 (1 - 0.96^(t psi) / 2)",
    "decoupled_weight_decay": "NAdam/RAdam: decoupled weight decay p *= 1 - lr * wd (as AdamW) instead of L2",
})
def nadam(betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, momentum_decay=4e-3,
          decoupled_weight_decay=False) -> Optimizer:
    r"""torch.optim.NAdam: Adam with Nesterov momentum and Dozat's momentum schedule.

    .. math::
        g \leftarrow g + \lambda p \text{ (or } p \leftarrow p(1 - \eta\lambda)
        \text{ decoupled)};\quad
        \mu_t = \beta_1 \left(1 - \tfrac12\, 0.96^{t\psi}\right);\quad
        \Pi_t = \textstyle\prod_{s \le t} \mu_s;\\
        m \leftarrow \mathrm{lerp}(m, g, 1-\beta_1);\quad
        v \leftarrow \beta_2 v + (1-\beta_2) g^2;\quad
        d = \sqrt{v / (1-\beta_2^t)} + \epsilon;\\
        p \leftarrow p - \frac{\eta (1-\mu_t)}{1-\Pi_t} \frac{g}{d}
        - \frac{\eta\, \mu_{t+1}}{1-\Pi_t \mu_{t+1}} \frac{m}{d}

    torch's rounding, operation by operation: ``Pi_t`` is kept as torch keeps its
    ``mu_product``, a float32 scalar (torch's default dtype) multiplied by ``mu_t`` rounded
    to float32, whatever the parameters' dtype (a float64 product would differ from torch by
    up to 1.5e-9); the two ``addcdiv_`` are applied in turn and the update returned is the
    new parameter's difference from ``p`` (``_math.update_to``). Remaining differences: in
    float32 the scalars (``mu_t``, the two coefficients) are computed in float32 here, in
    double by torch and rounded once (``1 - beta2**t`` as ``_math.one_minus_pow``); with the
    decoupled decay XLA:CPU fuses ``p * (1 - lr * wd)`` into the next add, where torch rounds
    it first. Measured against torch (tests/test_optim.py: 50 steps on random gradients,
    d in {1, 3, 16}, seeds 0-19; worst over steps of max |diff| / max |p|): float64 <= 3.9e-16,
    decoupled 1.9e-15; float32 <= 1.5e-7, decoupled 8.8e-7.

    Differences from ``optax.nadam`` (``adam(nesterov=True)``): optax uses a constant
    ``mu = beta1`` (no momentum schedule, no ``momentum_decay``) and bias-corrects ``m`` and
    ``g`` by ``1 - beta1**t``; torch's schedule makes ``mu_1 = beta1 (1 - 0.96^psi / 2)``,
    about ``beta1 / 2``, so the two differ in substance. ``eps`` is added to the square root of
    the corrected ``v`` in both. Weight decay (L2 or decoupled) is absent in optax.nadam.
    """
    return Optimizer(
        "nadam",
        (("betas", _checks.betas(betas)), ("eps", _checks.nonneg("eps", eps)),
         ("weight_decay", _checks.nonneg("weight_decay", weight_decay)),
         ("momentum_decay", _checks.nonneg("momentum_decay", momentum_decay))),
        (("decoupled_weight_decay", _checks.flag("decoupled_weight_decay", decoupled_weight_decay)),),
    )
