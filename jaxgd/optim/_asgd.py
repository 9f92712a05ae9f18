"""torch.optim.ASGD."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from jaxgd.optim import _checks, _math
from jaxgd.optim._spec import Optimizer, register


class ASGDState(NamedTuple):
    """torch's per-parameter state: ``eta`` and ``mu`` float32 scalars as torch's, ``ax`` the average."""

    eta: jax.Array  # the step size of the next update (set at the first update from the lr in force)
    mu: jax.Array  # the averaging weight of the next update
    ax: Any  # the averaged parameters (torch's state['ax']; not used by the update)


def _build(learning_rate, *, lambd, alpha, t0, weight_decay):
    def init_fn(params):
        scalar = _math.TORCH_SCALAR_DTYPE
        return ASGDState(jnp.zeros([], scalar), jnp.ones([], scalar), _math.zeros(params))

    def update_fn(updates, state, params, *, step, **extra):
        del extra
        t = _math.step_as(step, learning_rate)
        # torch creates the state at the first step: eta = lr then in force, mu = 1
        first = step == 1
        eta = jnp.where(first, _math.torch_scalar(learning_rate), state.eta).astype(t.dtype)
        mu = jnp.where(first, jnp.ones_like(state.mu), state.mu)
        updates = _math.l2(updates, params, weight_decay)
        # torch: p.mul_(1 - lambd * eta), then p.add_(g, alpha=-eta)
        new = jax.tree.map(lambda p, g: p * (1 - lambd * eta) + (-eta) * g, params, updates)
        ax = jax.tree.map(lambda a, p: jnp.where(mu == 1, p, a + (p - a) * mu.astype(p.dtype)), state.ax, new)
        # the next update's eta and mu, Python floats in torch, stored as float32 tensors
        next_eta = _math.torch_scalar(learning_rate / ((1 + lambd * learning_rate * t) ** alpha))
        next_mu = _math.torch_scalar(1 / jnp.maximum(1, t - t0))
        return _math.update_to(new, params), ASGDState(next_eta, next_mu, ax)

    return _math.transformation(init_fn, update_fn)


@register("asgd", torch_name="ASGD", build=_build, color="tab:cyan", help={
    "lambd": "ASGD's decay term",
    "alpha": "ASGD's power of the step-size decay",
    "t0": "ASGD's update count after which the parameters are averaged",
    "weight_decay": "weight decay (L2 on the gradient)",
})
def asgd(lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0.0) -> Optimizer:
    r"""torch.optim.ASGD: SGD with a decaying step size and a running average of the parameters.

    .. math::
        g \leftarrow g + \lambda_{wd} p;\quad
        p \leftarrow p (1 - \lambda \eta_t) - \eta_t g;\quad
        \bar p \leftarrow p \text{ if } \mu_t = 1 \text{ else } \bar p + \mu_t (p - \bar p);\\
        \eta_{t+1} = \frac{\eta}{(1 + \lambda \eta t)^\alpha};\quad
        \mu_{t+1} = \frac{1}{\max(1, t - t_0)};\quad \eta_1 = \eta,\ \mu_1 = 1

    where :math:`\eta` is the learning rate in force at that update: a schedule changes the
    step size one update late, as in torch. The average :math:`\bar p` is in the state
    (``ASGDState.ax``), as in torch; the update does not use it.

    torch's rounding, operation by operation: ``eta`` and ``mu`` are kept as torch keeps
    them, float32 scalars (torch's default dtype) whatever the parameters' dtype (float64
    ones would differ from torch by up to 4e-8); the decay and the step are applied in turn
    and the update returned is the new parameter's difference from ``p``
    (``_math.update_to``). Remaining differences: XLA:CPU fuses the decay's product
    ``p * (1 - lambd * eta)`` into the step's add, where torch rounds it first (and fuses
    ``-eta * g`` instead); in float32 ``eta`` is computed in float32, in double by torch.
    Measured against torch (tests/test_optim.py: 50 steps on random gradients, d in
    {1, 3, 16}, seeds 0-19; worst over steps of max |diff| / max |p|): float64 <= 1.3e-15,
    float32 <= 1.5e-6 (1.6e-7 with ``lambd=0``: the fused decay). ``lambd`` must be >= 0
    (torch does not check it; a negative one can make the base of the power negative and
    torch's eta complex).

    optax has no ASGD.
    """
    return Optimizer(
        "asgd",
        (("lambd", _checks.nonneg("lambd", lambd)), ("alpha", _checks.real("alpha", alpha)),
         ("t0", _checks.real("t0", t0)), ("weight_decay", _checks.nonneg("weight_decay", weight_decay))),
    )
