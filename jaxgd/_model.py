"""Model and loss: the seed's ``line_regression`` and ``squared_loss``, as pure functions."""

from __future__ import annotations

from typing import NamedTuple, Optional

import jax
import jax.numpy as jnp


class Params(NamedTuple):
    """Linear-regression parameters, shaped as the seed shapes them."""

    w: jax.Array  # (d, 1)
    b: jax.Array  # (1,)


class Batch(NamedTuple):
    """A batch of rows; ``weight`` (0/1) marks padding rows, ``size`` is the nominal batch size.

    ``weight`` is None when every row is real. ``size`` defaults to ``X.shape[0]``: the seed
    divides a short last batch by the nominal size too, so padding it with weight-0 rows up to
    the nominal size is exact.
    """

    X: jax.Array  # (b, d)
    y: jax.Array  # (b, 1)
    weight: Optional[jax.Array] = None  # (b, 1) or None
    size: Optional[int] = None  # nominal batch size; None: X.shape[0]

    @property
    def nominal_size(self):
        return self.X.shape[0] if self.size is None else self.size


def init_params(key, d, dtype=jnp.float32):
    """The seed's initialisation: w ~ N(0, 0.01^2) of shape (d, 1), b = 0 of shape (1,)."""
    return Params(0.01 * jax.random.normal(key, (d, 1), dtype=dtype), jnp.zeros((1,), dtype))


def predict(params, X):
    """The seed's ``line_regression``: X @ w + b, shape (n, 1)."""
    return X @ params.w + params.b[None, :]  # (n, 1) + (1, 1): no implicit rank promotion


def squared_loss(y_hat, y, batch_size):
    """The seed's per-sample loss (y_hat - y)^2 / (2 * batch_size), shape of ``y_hat``."""
    return (y_hat - y.reshape(y_hat.shape)) ** 2 / (2 * batch_size)


def batch_loss(params, batch):
    """Sum of the seed's per-sample losses over a batch, divided by the nominal batch size.

    This is the seed's ``l.sum()``: with ``batch_size = n`` it is the full-data loss
    1/(2n) * sum (y_hat - y)^2 that the seed prints per epoch.
    """
    per_sample = squared_loss(predict(params, batch.X), batch.y, batch.nominal_size)
    if batch.weight is not None:
        per_sample = per_sample * batch.weight
    return jnp.sum(per_sample)


def loss_and_grad(params, batch):
    """``(batch_loss, its gradient)`` in closed form, equal to ``jax.value_and_grad(batch_loss)``.

    With r = y_hat - y (zeroed on padding rows) and b the nominal batch size:
    loss = sum r^2 / (2b), dL/dw = X^T r / b, dL/db = sum r / b.
    Written out rather than differentiated because XLA:CPU runs the transposed matrix-vector
    product that autodiff emits for X^T r ~10x slower than the fused multiply-and-reduce
    ``sum(X * r, axis=0)`` (1e6 x 64 float32: 256 ms against 13 ms); on GPU both are fine.
    """
    r = predict(params, batch.X) - batch.y.reshape(-1, 1)
    if batch.weight is not None:
        r = r * batch.weight
    size = batch.nominal_size
    loss = jnp.sum(r * r) / (2 * size)
    grad_w = (jnp.sum(batch.X * r, axis=0) / size)[:, None]
    grad_b = jnp.sum(r, axis=0) / size
    return loss, Params(grad_w, grad_b)
