"""Input checks for ``train``: every malformed input gets a ValueError naming the problem."""

from __future__ import annotations

import numbers

import jax
import jax.numpy as jnp
import numpy as np


def _float_dtype(X):
    dtype = getattr(X, "dtype", None)
    if dtype is not None and jnp.issubdtype(dtype, jnp.floating):
        return jax.dtypes.canonicalize_dtype(dtype)
    return jax.dtypes.canonicalize_dtype(jnp.float64)  # float32 unless x64 is enabled


def _all_finite(a):
    if isinstance(a, jax.Array):
        return bool(jnp.isfinite(a).all())
    return bool(np.isfinite(a).all())


def data(X, y):
    try:
        X_shape, y_shape = np.shape(X), np.shape(y)
    except Exception as e:  # ragged lists and the like
        raise ValueError(f"X and y must be numeric arrays: {e}") from None
    if len(X_shape) != 2:
        raise ValueError(f"X must be 2-D with shape (n, d), got shape {X_shape}")
    n, d = X_shape
    if n == 0 or d == 0:
        raise ValueError(f"X is empty: shape {X_shape}; need at least one sample and one feature")
    if not (y_shape == (n,) or y_shape == (n, 1)):
        raise ValueError(f"y must have shape ({n},) or ({n}, 1) to match X {X_shape}, got {y_shape}")
    dtype = _float_dtype(X)
    for name, a in (("X", X), ("y", y)):
        if not isinstance(a, jax.Array):
            a = np.asarray(a)
            if not (np.issubdtype(a.dtype, np.number) or a.dtype == bool):
                raise ValueError(f"{name} must be numeric, got dtype {a.dtype}")
        if not _all_finite(a):
            raise ValueError(f"{name} contains NaN or infinite values")
    X = jnp.asarray(X, dtype)
    y = jnp.asarray(y, dtype).reshape(n, 1)
    return X, y


def _positive_int(value, name):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    return int(value)


def batch_size(value, n):
    if value is None:
        return n
    value = _positive_int(value, "batch_size")
    if not 1 <= value <= n:
        raise ValueError(f"batch_size must be between 1 and n={n}, got {value}")
    return value


def lr(value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"lr must be a number, got {value!r}")
    if not (np.isfinite(value) and value > 0):
        raise ValueError(f"lr must be a finite number > 0, got {value!r}")
    return float(value)


def epochs(value):
    value = _positive_int(value, "epochs")
    if value < 1:
        raise ValueError(f"epochs must be >= 1, got {value}")
    return value


def seed(value):
    return _positive_int(value, "seed") if value != 0 else 0


def init(value, d, dtype):
    try:
        w0, b0 = value
    except (TypeError, ValueError):
        raise ValueError("init must be a pair (w0, b0)") from None
    if np.shape(w0) != (d, 1):
        raise ValueError(f"init w0 must have shape ({d}, 1), got {np.shape(w0)}")
    if np.shape(b0) != (1,):
        raise ValueError(f"init b0 must have shape (1,), got {np.shape(b0)}")
    if not (_all_finite(w0) and _all_finite(b0)):
        raise ValueError("init contains NaN or infinite values")
    return jnp.asarray(w0, dtype), jnp.asarray(b0, dtype)


def order(value, epochs, n):
    host = np.asarray(value)
    if host.shape != (epochs, n):
        raise ValueError(f"order must have shape (epochs, n) = ({epochs}, {n}), got {host.shape}")
    if not np.issubdtype(host.dtype, np.integer):
        raise ValueError(f"order must hold integers, got dtype {host.dtype}")
    if host.min() < 0 or host.max() >= n:
        raise ValueError(f"order values must lie in [0, {n}), got range [{host.min()}, {host.max()}]")
    # Each row is a permutation iff every (row, value) pair occurs exactly once.
    counts = np.bincount((host + n * np.arange(epochs)[:, None]).ravel(), minlength=epochs * n)
    if not (counts == 1).all():
        bad = int(np.flatnonzero((counts != 1).reshape(epochs, n).any(axis=1))[0])
        raise ValueError(f"order row {bad} is not a permutation of range({n})")
    if isinstance(value, jax.Array) and value.dtype == jnp.int32:
        return value
    return jnp.asarray(host, jnp.int32)
