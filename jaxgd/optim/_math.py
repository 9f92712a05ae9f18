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


# torch keeps a parameter's scalar state (its step, NAdam's mu_product, ASGD's eta and mu) as a
# tensor of torch's default dtype, float32, whatever the parameter's dtype (_get_scalar_dtype).
TORCH_SCALAR_DTYPE = jnp.float32


def torch_scalar(x):
    """``x`` stored as torch stores a scalar state tensor: rounded to ``TORCH_SCALAR_DTYPE``."""
    return jnp.asarray(x).astype(TORCH_SCALAR_DTYPE)


def update_to(new, params):
    """The update ``u = new - p`` that takes ``params`` to torch's new parameters ``new`` (for
    torch steps that change the parameter in place more than once). ``p + u == new`` exactly
    whenever ``new - p`` is exact, e.g. ``new`` within a factor 2 of ``p`` (Sterbenz) or ``p == 0``."""
    return jax.tree.map(lambda n, p: n - p, new, params)


def one_minus_pow(beta, t):
    """torch's ``1 - beta**t``, a Python double (bias corrections). In float64 the same two
    operations; in float32 ``-expm1(t * log(beta))``, which keeps the digits ``1 - beta**t``
    cancels (relative error ~1e-7 instead of up to 6e-5 for beta = 0.999 at t = 1): nearer
    torch's double rounded once."""
    if jnp.result_type(t) == jnp.float64:
        return 1 - beta**t
    return -jnp.expm1(t * jnp.log(beta))
