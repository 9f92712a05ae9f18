"""torch.optim.Rprop."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from jaxgd.optim import _checks, _math
from jaxgd._errors import InputError
from jaxgd.optim._spec import Optimizer, register


class RpropState(NamedTuple):
    prev: Any  # the previous update's gradient, zero where its sign flipped (torch's state['prev'])
    step_size: Any  # each entry's step size (set to the lr in force at the first update)


def _build(learning_rate, *, etas, step_sizes):
    etaminus, etaplus = etas
    step_size_min, step_size_max = step_sizes

    def init_fn(params):
        zeros = _math.zeros(params)
        return RpropState(zeros, zeros)

    def update_fn(updates, state, params=None, *, step, **extra):
        del params, extra

        def factor(sign):
            return jnp.where(sign > 0, etaplus, jnp.where(sign < 0, etaminus, jnp.where(sign == 0, 1, sign)))

        sign = jax.tree.map(lambda g, prev: jnp.sign(g * prev), updates, state.prev)
        # torch creates the state at the first step: step_size = the lr then in force
        size = jax.tree.map(lambda s: jnp.where(step == 1, jnp.full_like(s, learning_rate), s), state.step_size)
        size = jax.tree.map(lambda s, z: jnp.clip(z * factor(s).astype(z.dtype), step_size_min, step_size_max),
                            sign, size)
        # torch: grad[sign.eq(etaminus)] = 0 (where the sign flipped), then
        # p.addcmul_(grad.sign(), step_size, value=-1): the update is (-sign(g)) * step_size, exactly
        prev = jax.tree.map(lambda s, g: jnp.where(s < 0, jnp.zeros_like(g), g), sign, updates)
        new = jax.tree.map(lambda g, z: (-jnp.sign(g)) * z, prev, size)
        return new, RpropState(prev, size)

    return _math.transformation(init_fn, update_fn)


@register("rprop", torch_name="Rprop", build=_build, color="gold", help={
    "etas": "Rprop's (decrease, increase) factors of the step sizes",
    "step_sizes": "Rprop's (minimum, maximum) step size",
})
def rprop(etas=(0.5, 1.2), step_sizes=(1e-6, 50.0)) -> Optimizer:
    r"""torch.optim.Rprop: a step of its own size per entry, against the sign of the gradient.

    .. math::
        s = \mathrm{sign}(g\, g_{prev});\quad
        \Delta \leftarrow \mathrm{clip}(\Delta \cdot (\eta_+ \text{ if } s > 0,\
        \eta_- \text{ if } s < 0,\ 1 \text{ if } s = 0), \Delta_{min}, \Delta_{max});\\
        g \leftarrow 0 \text{ where } s < 0;\quad
        p \leftarrow p - \mathrm{sign}(g)\, \Delta;\quad g_{prev} \leftarrow g

    with :math:`\Delta_0` the learning rate in force at the first update; the learning rate
    is not read again (a schedule has no effect after the first update, as in torch).
    Exactly torch's arithmetic: the update is a sign times a clipped product, so jaxgd
    equals torch bit for bit on the same gradients in both float64 and float32.

    Differences from ``optax.rprop`` (0.2.8): optax leaves a step size unchanged (unclipped)
    where ``s = 0``, torch multiplies by 1 and clips (at the first update, too); and optax
    returns the *previous* update's ``sign(g) * Delta`` (its first update is 0), torch the
    current one. ``etas = (eta_minus, eta_plus)`` and ``step_sizes = (min, max)`` are
    optax's ``eta_minus``, ``eta_plus``, ``min_step_size``, ``max_step_size``.
    torch's check: ``0 < etas[0] < 1 < etas[1]``; here also ``0 <= step_sizes[0] <= step_sizes[1]``
    (torch does not check them).
    """
    etaminus, etaplus = _checks.pair("etas", etas)
    etaminus, etaplus = _checks.real("etas[0] (etaminus)", etaminus), _checks.real("etas[1] (etaplus)", etaplus)
    if not 0.0 < etaminus < 1.0 < etaplus:
        raise InputError(f"Invalid eta values: {etaminus}, {etaplus} (etas must satisfy 0 < etas[0] < 1 < etas[1])")
    low, high = _checks.pair("step_sizes", step_sizes)
    low, high = _checks.nonneg("step_sizes[0] (minimum)", low), _checks.nonneg("step_sizes[1] (maximum)", high)
    if low > high:
        raise InputError(f"Invalid step_sizes values: {low}, {high} (the minimum must be <= the maximum)")
    return Optimizer("rprop", (("etas", (etaminus, etaplus)), ("step_sizes", (low, high))))
