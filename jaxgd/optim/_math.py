"""torch's CPU scalar kernels as jnp expressions, and small tree helpers.

``add(x, alpha=a)`` is ``x + a * y``, ``addcmul(t1, t2, value=v)`` is ``x + (v * t1) * t2``,
``addcdiv`` is ``x + (v * t1) / t2``; ``lerp`` has two branches (below).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import optax


def tree_where(cond, a, b):
    return jax.tree.map(lambda x, y: jnp.where(cond, x, y), a, b)


def lerp(x, end, weight):
    """torch's ``x.lerp_(end, weight)`` (CPU scalar kernel), with its two branches."""
    small = x + weight * (end - x)
    large = end - (end - x) * (1 - weight)
    return jnp.where(jnp.abs(weight) < 0.5, small, large)


def step_as(step, like):
    """The update number ``step`` (int) in the hyperparameters' float dtype."""
    return jnp.asarray(step).astype(jnp.result_type(like))


def l2(updates, params, weight_decay):
    """torch's ``grad = grad.add(param, alpha=weight_decay)``."""
    return jax.tree.map(lambda g, p: g + weight_decay * p, updates, params)


def zeros(params):
    return optax.tree.zeros_like(params)


def transformation(init_fn, update_fn):
    return optax.GradientTransformationExtraArgs(init_fn, update_fn)
