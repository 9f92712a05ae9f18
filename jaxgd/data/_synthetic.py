"""The tutorial's synthetic data set: y = X w + b + eps, with held-out rows from their own stream."""

from __future__ import annotations

from typing import NamedTuple, Optional

import jax
import jax.numpy as jnp
import numpy as np

from jaxgd._errors import InputError


class Dataset(NamedTuple):
    """A linear-regression data set and the parameters that generated it; with
    ``num_validation > 0`` also a held-out set drawn from the same model."""

    X: jax.Array  # (n, d)
    y: jax.Array  # (n, 1), as the tutorial returns labels
    true_w: jax.Array  # (d,)
    true_b: jax.Array  # ()
    X_val: Optional[jax.Array] = None  # (m, d)
    y_val: Optional[jax.Array] = None  # (m, 1)


def synthetic_data(w=(3.5,), b=4.0, num_examples=1000, *, seed=0, noise_std=0.5, dtype=None,
                   num_validation=0):
    """The tutorial's data set: y = X w + b + eps with X ~ N(0, 1) and eps ~ N(0, noise_std^2).

    Mirrors the tutorial's ``synthetic_data(w, b, num_examples)`` (defaults: w = [3.5], b = 4,
    1000 examples, noise N(0, 0.5^2)) with the randomness made explicit by ``seed``.
    ``num_validation`` > 0 also draws that many held-out rows from the same model (same w, b
    and noise) from a stream independent of the training rows', which stay the same draw.

    Returns:
      ``Dataset(X, y, true_w, true_b, X_val, y_val)``; ``X`` is (n, d), ``y`` is (n, 1); the
      held-out ``X_val`` (m, d) and ``y_val`` (m, 1) are None when ``num_validation`` is 0.
    """
    w = jnp.asarray(w, dtype=dtype if dtype is not None else jnp.result_type(float))
    if w.ndim != 1 or w.shape[0] < 1:
        raise InputError(f"w must be a non-empty 1-D vector of true weights, got shape {w.shape}")
    if int(num_examples) != num_examples or num_examples < 1:
        raise InputError(f"num_examples must be a positive integer, got {num_examples!r}")
    if not (np.isfinite(noise_std) and noise_std >= 0):
        raise InputError(f"noise_std must be finite and >= 0, got {noise_std!r}")
    if isinstance(num_validation, bool) or int(num_validation) != num_validation or num_validation < 0:
        raise InputError(f"num_validation must be an integer >= 0, got {num_validation!r}")
    key = jax.random.key(seed)
    X, y = _draw_rows(key, int(num_examples), w, b, noise_std)
    X_val = y_val = None
    if num_validation:  # its own stream: the training rows' keys are split from `key` itself
        X_val, y_val = _draw_rows(jax.random.fold_in(key, _VALIDATION_STREAM), int(num_validation), w, b, noise_std)
    return Dataset(X, y, w, jnp.asarray(b, w.dtype), X_val, y_val)


_VALIDATION_STREAM = 0x76616C  # "val"


def _draw_rows(key, m, w, b, noise_std):
    key_x, key_noise = jax.random.split(key)
    X = jax.random.normal(key_x, (m, w.shape[0]), dtype=w.dtype)
    y = X @ w + jnp.asarray(b, w.dtype)
    y = y + noise_std * jax.random.normal(key_noise, y.shape, dtype=w.dtype)
    return X, y.reshape(-1, 1)


def tutorial_weights(d):
    """True weights for d features: the tutorial's [3.5] for d = 1, else evenly from -2 to 3.5."""
    return [3.5] if d == 1 else list(np.linspace(-2.0, 3.5, d))
