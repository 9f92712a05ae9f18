"""torch.optim.RAdam."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from jaxgd.optim import _checks, _math
from jaxgd.optim._spec import Optimizer, register


class RAdamState(NamedTuple):
    exp_avg: Any
    exp_avg_sq: Any


def _langevin_series(x):
    """``coth(x / 2) - 2 / x`` for 0 <= x < 1 (the Langevin function at x / 2) by its Taylor
    series, six terms: truncation < 1e-8 relative."""
    y = x / 2
    y2 = y * y
    coefficients = (1 / 3, -1 / 45, 2 / 945, -1 / 4725, 2 / 93555, -1382 / 638512875)  # 2^2n B_2n / (2n)!
    series = coefficients[-1]
    for c in coefficients[-2::-1]:  # Horner in y^2
        series = c + y2 * series
    return y * series


def _rho(beta2, t, bias_correction2, rho_inf):
    """torch's ``rho_t = rho_inf - 2 t beta2**t / (1 - beta2**t)``, a Python double.

    In float64, torch's operations. In float32, while ``t s < 1`` (``s = -log(beta2)``), that
    form loses ~3 digits to cancellation (``rho_inf`` ~ 2000 minus ~1994 at t = 6 with
    beta2 = 0.999: off by 6e-3, which moves the rectification by 2e-3); there the same value
    is ``t + g(s) - t g(t s)`` with ``g(x) = coth(x/2) - 2/x`` (``_langevin_series``), which
    cancels nothing: ``rho_t ~ t - s (t^2 - 1) / 6``. Beyond, torch's form with an accurate
    ``1 - beta2**t`` (``_math.one_minus_pow``) loses at most a factor ~2.4.
    """
    direct = rho_inf - ((2 * t) * beta2**t) / bias_correction2
    if jnp.result_type(t) == jnp.float64:
        return direct
    s = -jnp.log(beta2)
    return jnp.where(t * s < 1, t + _langevin_series(s) - t * _langevin_series(t * s), direct)


def _build(learning_rate, *, betas, eps, weight_decay, decoupled_weight_decay):
    beta1, beta2 = betas

    def init_fn(params):
        zeros = _math.zeros(params)
        return RAdamState(zeros, zeros)

    def update_fn(updates, state, params, *, step, **extra):
        del extra
        t = _math.step_as(step, learning_rate)
        if decoupled_weight_decay:  # torch: p *= 1 - lr * wd, before the step
            start = jax.tree.map(lambda p: p * (1 - learning_rate * weight_decay), params)
        else:
            updates = _math.l2(updates, params, weight_decay)
        exp_avg = jax.tree.map(lambda m, g: _math.lerp(m, g, 1 - beta1), state.exp_avg, updates)
        exp_avg_sq = jax.tree.map(lambda v, g: v * beta2 + ((1 - beta2) * g) * g, state.exp_avg_sq, updates)
        bias_correction1 = _math.one_minus_pow(beta1, t)
        bias_correction2 = _math.one_minus_pow(beta2, t)
        # the length of the approximated SMA, its limit, and the rectification (Python floats in torch)
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = _rho(beta2, t, bias_correction2, rho_inf)
        rect = jnp.sqrt(((rho_t - 4) * (rho_t - 2) * rho_inf) / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
        sqrt_bc2 = jnp.sqrt(bias_correction2)

        def step_of(m, v):
            corrected = m / bias_correction1
            # torch: float / tensor is tensor.reciprocal() * float
            adaptive = jnp.reciprocal(jnp.sqrt(v) + eps) * sqrt_bc2
            return jnp.where(rho_t > 5.0, ((corrected * learning_rate) * adaptive) * rect, corrected * learning_rate)

        if decoupled_weight_decay:  # torch: p.mul_(c), then p.add_(x, alpha=-1)
            new = jax.tree.map(lambda p, m, v: p - step_of(m, v), start, exp_avg, exp_avg_sq)
            updates = _math.update_to(new, params)
        else:  # one p.add_(x, alpha=-1): the update is -x itself
            updates = jax.tree.map(lambda m, v: -step_of(m, v), exp_avg, exp_avg_sq)
        return updates, RAdamState(exp_avg, exp_avg_sq)

    return _math.transformation(init_fn, update_fn)


@register("radam", torch_name="RAdam", build=_build, color="tab:gray", help={
    "betas": "coefficients of the running averages of the gradient and its square",
    "eps": "term added to the denominator for numerical stability",
    "weight_decay": "weight decay (L2 on the gradient; decoupled with --decoupled-weight-decay)",
    "decoupled_weight_decay": "NAdam/RAdam: decoupled weight decay p *= 1 - lr * wd (as AdamW) instead of L2",
})
def radam(betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, decoupled_weight_decay=False) -> Optimizer:
    r"""torch.optim.RAdam: Adam whose adaptive step is rectified, and skipped while its variance is intractable.

    .. math::
        g \leftarrow g + \lambda p \text{ (or } p \leftarrow p(1 - \eta\lambda)
        \text{ decoupled)};\quad
        m \leftarrow \mathrm{lerp}(m, g, 1-\beta_1);\quad
        v \leftarrow \beta_2 v + (1-\beta_2) g^2;\\
        \rho_\infty = \frac{2}{1-\beta_2} - 1;\quad
        \rho_t = \rho_\infty - \frac{2 t \beta_2^t}{1-\beta_2^t};\quad
        r_t = \sqrt{\frac{(\rho_t-4)(\rho_t-2)\rho_\infty}{(\rho_\infty-4)(\rho_\infty-2)\rho_t}};\\
        p \leftarrow p - \eta\, \frac{m}{1-\beta_1^t}\,
        \frac{\sqrt{1-\beta_2^t}}{\sqrt v + \epsilon}\, r_t \text{ if } \rho_t > 5,
        \text{ else } p \leftarrow p - \eta\, \frac{m}{1-\beta_1^t}

    torch's rounding order (``sqrt(1 - beta2**t) / (sqrt(v) + eps)`` as torch evaluates a
    float over a tensor: the reciprocal times the float). torch computes ``rho_t`` and the
    rectification in double; in float32 they are computed here in forms that do not cancel
    (``_rho``, ``_math.one_minus_pow``), to ~1e-7. What remains in float32 is the
    hyperparameter itself: ``beta2`` is float32 (0.999 -> 0.99900001), and
    ``rho_inf = 2 / (1 - beta2) - 1`` carries it (1999.026 instead of 1999), which makes each
    rectified step 6.4e-6 smaller, relatively, than torch's. With the decoupled decay XLA:CPU
    fuses ``p * (1 - lr * wd)`` into the next add, where torch rounds it first. Measured
    against torch (tests/test_optim.py: 50 steps on random gradients, d in {1, 3, 16}, seeds
    0-19; worst over steps of max |diff| / max |p|): float64 <= 2.2e-16, decoupled 1.5e-15;
    float32 <= 5.2e-7, decoupled 8.2e-7, and 3.4e-7 at lr 1 with a float32-exact beta2
    (1 - 2^-10; torch's form of ``rho_t`` evaluated in float32 would be 3.4e-6); over a
    training run (tests/test_optim_train.py, SGD, 115 updates) float32 reaches 7.0e-6 of a
    field's scale, the 6.4e-6 above.

    Differences from ``optax.radam``: optax divides by ``sqrt(v / (1 - beta2**t)) + eps``
    (``eps`` added after the correction; torch adds it to ``sqrt(v)`` and then multiplies by
    ``sqrt(1 - beta2**t)``, so torch's effective ``eps`` is larger by ``1/sqrt(1 - beta2**t)``),
    rectifies from ``rho_t >= 5`` (torch: ``> 5``), and has no weight decay.
    """
    return Optimizer(
        "radam",
        (("betas", _checks.betas(betas)), ("eps", _checks.nonneg("eps", eps)),
         ("weight_decay", _checks.nonneg("weight_decay", weight_decay))),
        (("decoupled_weight_decay", _checks.flag("decoupled_weight_decay", decoupled_weight_decay)),),
    )
