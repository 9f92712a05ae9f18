"""Model and loss: the tutorial's ``line_regression`` and ``squared_loss``, as pure functions.

There is one loss, :func:`loss`. Its gradient is written out in closed form and attached with
``jax.custom_vjp`` (why: see :func:`_loss_bwd`); ``jax.grad(loss)`` is checked against autodiff
of the same definition (:func:`plain_loss`) in the tests.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import NamedTuple, Optional

import jax
import jax.numpy as jnp


class Params(NamedTuple):
    """Linear-regression parameters, shaped as the tutorial shapes them."""

    w: jax.Array  # (d, 1)
    b: jax.Array  # (1,)


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class Batch:
    """A batch of rows. ``weight`` (0/1, or None: every row real) marks padding rows.

    ``size`` is the nominal batch size the loss divides by (static metadata, never traced;
    default ``X.shape[0]``): the tutorial divides a short last batch by the nominal size too, so
    padding it with weight-0 rows up to the nominal size is exact.
    """

    X: jax.Array  # (b, d)
    y: jax.Array  # (b, 1)
    weight: Optional[jax.Array] = None  # (b, 1) or None
    size: Optional[int] = dataclasses.field(default=None, metadata=dict(static=True))

    @property
    def nominal_size(self) -> int:
        return self.X.shape[0] if self.size is None else self.size


def init_params(key, d, dtype=jnp.float32) -> Params:
    """The tutorial's initialisation: w ~ N(0, 0.01^2) of shape (d, 1), b = 0 of shape (1,)."""
    return Params(0.01 * jax.random.normal(key, (d, 1), dtype=dtype), jnp.zeros((1,), dtype))


def predict(params, X):
    """The tutorial's ``line_regression``: X @ w + b, shape (n, 1)."""
    return X @ params.w + params.b[None, :]  # (n, 1) + (1, 1): no implicit rank promotion


def _residual(params, batch):
    return predict(params, batch.X) - batch.y.reshape(-1, 1)


def plain_loss(params, batch):
    """:func:`loss` without its hand-written gradient: what autodiff makes of the definition
    (the reference the closed-form gradient is tested against)."""
    r = _residual(params, batch)
    per_sample = r * r if batch.weight is None else batch.weight * (r * r)
    return jnp.sum(per_sample) / (2 * batch.nominal_size)


def loss(params: Params, batch: Batch):
    """The tutorial's batch loss: sum over the batch of (y_hat - y)^2 / (2 * nominal size).

    This is the tutorial's ``squared_loss(...).sum()``; with the whole data set as the batch it
    is the full-data loss 1/(2n) sum (y_hat - y)^2 that the tutorial prints per epoch. Rows with
    ``weight`` 0 do not count. Its gradient is the closed form of :func:`_loss_bwd`.
    """
    return _loss((batch.nominal_size, batch.size), params, batch)


@functools.partial(jax.custom_vjp, nondiff_argnums=(0,))
def _loss(sizes, params, batch):
    del sizes  # static: (nominal size, Batch.size), for the backward pass
    return plain_loss(params, batch)


def _loss_fwd(sizes, params, batch):
    raw = _residual(params, batch)
    r = raw if batch.weight is None else raw * batch.weight  # weights are 0/1: w r^2 == (w r)^2
    # Saved: only what the gradient needs (not y: it would keep the gathered targets alive).
    saved = (params.w, batch.X, r, None if batch.weight is None else raw)
    return jnp.sum(r * r) / (2 * sizes[0]), saved


def _loss_bwd(sizes, saved, g):
    """Closed form: with r = y_hat - y (0 on padding rows) and m the nominal size,
    dL/dw = X^T r / m, dL/db = sum r / m.

    Written out rather than left to autodiff because XLA:CPU runs the transposed matrix-vector
    product that autodiff emits for X^T r ~10x slower than the fused multiply-and-reduce
    ``sum(X * r, axis=0)`` (1e6 x 64 float32: 256 ms against 13 ms); on GPU both are fine.
    The cotangents of the batch are exact too (dead code unless someone asks for them).
    """
    m, size = sizes
    w, X, r, raw = saved
    grad_w = (g * jnp.sum(X * r, axis=0) / m)[:, None]
    grad_b = g * jnp.sum(r, axis=0) / m
    gr = g * r / m
    grad_X = gr * w[:, 0][None, :]
    grad_weight = None if raw is None else g * raw * raw / (2 * m)
    return Params(grad_w, grad_b), Batch(grad_X, -gr, grad_weight, size)


_loss.defvjp(_loss_fwd, _loss_bwd)
