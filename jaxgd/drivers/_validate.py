"""Input checks for ``train``: every malformed input gets an ``InputError`` (a ``ValueError``)
naming the problem."""

from __future__ import annotations

import functools
import numbers
import warnings
import weakref

import jax
import jax.numpy as jnp
import numpy as np

from jaxgd._errors import InputError


_warned_float64 = False


def _float_dtype(X, explicit=True):
    global _warned_float64
    dtype = getattr(X, "dtype", None)
    if dtype is not None and jnp.issubdtype(dtype, jnp.floating):
        canonical = jax.dtypes.canonicalize_dtype(dtype)
        # Once per process, not on every call; and only for arrays that are float64 by choice,
        # not for Python lists of floats.
        if explicit and canonical != dtype and not _warned_float64:
            _warned_float64 = True
            warnings.warn(
                f"X is {dtype} but JAX's 64-bit mode is off, so jaxgd computes in {canonical}; "
                "enable it first with jax.config.update('jax_enable_x64', True) to train in float64",
                UserWarning,
                stacklevel=4,
            )
        return canonical
    return jax.dtypes.canonicalize_dtype(jnp.float64)  # float32 unless x64 is enabled


def _all_finite(a):
    if isinstance(a, jax.Array):
        return bool(jnp.isfinite(a).all())
    return bool(np.isfinite(a).all())


def _as_array(a, name):
    if isinstance(a, (jax.Array, np.ndarray)):
        arr = a
    else:
        try:
            arr = np.asarray(a)
        except Exception as e:  # ragged nested lists and the like
            raise InputError(f"{name} must be a numeric array: {e}") from None
    if not (jnp.issubdtype(arr.dtype, jnp.number) or arr.dtype == bool):
        raise InputError(f"{name} must be numeric, got dtype {arr.dtype}")
    return arr


def _not_low_precision(arr, name):
    """Refuse floats narrower than 32 bits (float16, bfloat16, float8): in them the optimizers'
    hyperparameters are not representable, so a run would give NaN and blame the learning
    rate. Integer data are converted to float32 as before."""
    if jnp.issubdtype(arr.dtype, jnp.floating) and arr.dtype.itemsize < 4:
        raise InputError(
            f"{name} has dtype {arr.dtype}: jaxgd trains in float32 or float64 only; in {arr.dtype} the "
            "hyperparameters are not representable (Adam's beta2=0.999 rounds to 1.0 in bfloat16, "
            "eps=1e-8 to 0 in float16) and the run would end in NaN. Convert first with "
            f"{name.split()[-1]}.astype(np.float32)"
        )
    return arr


def data(X, y):
    """Shape and dtype checks on the host; values are checked through the initial loss."""
    explicit = hasattr(X, "dtype")
    X, y = (_not_low_precision(_as_array(a, name), name) for a, name in ((X, "X"), (y, "y")))
    if X.ndim != 2:
        raise InputError(f"X must be 2-D with shape (n, d), got shape {X.shape}")
    n, d = X.shape
    if n == 0 or d == 0:
        raise InputError(f"X is empty: shape {X.shape}; need at least one sample and one feature")
    if not (y.shape == (n,) or y.shape == (n, 1)):
        raise InputError(f"y must have shape ({n},) or ({n}, 1) to match X {X.shape}, got {y.shape}")
    return X, y, _float_dtype(X, explicit)


def rows_used(value, rows):
    """``n``: how many leading rows of X are data (the rest padding)."""
    n = _positive_int(value, "n")
    if n < 1:
        raise InputError(f"n must be at least 1, got {n}")
    if n > rows:
        raise InputError(f"n={n} is larger than the {rows} rows of X")
    return n


def explain_nonfinite_loss(X, y, init):
    """Raise the InputError that names why the loss at the initial parameters is not finite."""
    for name, a in (("X", X), ("y", y)):
        if not _all_finite(a):
            raise InputError(f"{name} contains NaN or infinite values")
    if init is not None and not all(_all_finite(p) for p in init):
        raise InputError("init contains NaN or infinite values")
    raise InputError(
        "the loss at the initial parameters overflows the floating-point range; "
        "scale X and y (or enable float64)"
    )


def _positive_int(value, name):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise InputError(f"{name} must be an integer, got {value!r}")
    return int(value)


def batch_size(value, n, name="batch_size"):
    """``None`` means n (full batch); otherwise an integer in [1, n]."""
    if value is None:
        return n
    if isinstance(value, np.integer):
        value = int(value)
    value = _positive_int(value, name)
    if not 1 <= value <= n:
        raise InputError(f"{name} must be between 1 and n={n}, got {value}")
    return value


def unroll(value):
    """``None`` (the default by batch size) or a positive integer."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise InputError(f"unroll must be a positive integer, got {value!r}")
    return int(value)


def optimizer(value):
    """None (plain SGD), a name or a ``jaxgd.optim`` spec; ``optim.get`` names what is wrong."""
    from jaxgd import optim

    return _defaults()[0] if value is None else optim.get(value)


def lr(value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InputError(f"lr must be a number, got {value!r}")
    if not (np.isfinite(value) and value > 0):
        raise InputError(f"lr must be a finite number > 0, got {value!r}")
    return float(value)


def epochs(value):
    value = _positive_int(value, "epochs")
    if value < 1:
        raise InputError(f"epochs must be >= 1, got {value}")
    return value


def seed(value):
    value = _positive_int(value, "seed")
    if not 0 <= value < 2**31:
        raise InputError(f"seed must be an integer in [0, 2**31), got {value}")
    return value


def init(value, d):
    try:
        w0, b0 = value
    except (TypeError, ValueError):
        raise InputError("init must be a pair (w0, b0)") from None
    w0, b0 = _as_array(w0, "init w0"), _as_array(b0, "init b0")
    if w0.shape != (d, 1):
        raise InputError(f"init w0 must have shape ({d}, 1), got {w0.shape}")
    if b0.shape != (1,):
        raise InputError(f"init b0 must have shape (1,), got {b0.shape}")
    return w0, b0


# JAX arrays are immutable: one that passed the permutation check can skip it next time
# (replaying the same orders across learning rates or seeds). id -> (weakref, epochs, n).
_checked_orders: dict = {}


def order(value, epochs, n):
    if isinstance(value, jax.Array) and value.dtype == jnp.int32:
        seen = _checked_orders.get(id(value))
        if seen is not None and seen[0]() is value and seen[1:] == (epochs, n):
            return value
    host = np.asarray(value)
    if host.shape != (epochs, n):
        raise InputError(f"order must have shape (epochs, n) = ({epochs}, {n}), got {host.shape}")
    if not np.issubdtype(host.dtype, np.integer):
        raise InputError(f"order must hold integers, got dtype {host.dtype}")
    if host.min() < 0 or host.max() >= n:
        raise InputError(f"order values must lie in [0, {n}), got range [{host.min()}, {host.max()}]")
    # Each row is a permutation iff every (row, value) pair occurs exactly once.
    counts = np.bincount((host + n * np.arange(epochs)[:, None]).ravel(), minlength=epochs * n)
    if not (counts == 1).all():
        bad = int(np.flatnonzero((counts != 1).reshape(epochs, n).any(axis=1))[0])
        raise InputError(f"order row {bad} is not a permutation of range({n})")
    if isinstance(value, jax.Array) and value.dtype == jnp.int32:
        if len(_checked_orders) > 64:  # drop entries whose arrays are gone
            for key in [k for k, v in _checked_orders.items() if v[0]() is None]:
                del _checked_orders[key]
        _checked_orders[id(value)] = (weakref.ref(value), epochs, n)
        return value
    return jnp.asarray(host, jnp.int32)


def nonempty(values, name):
    """``values`` as a non-empty list (any iterable or numpy array)."""
    if isinstance(values, (str, bytes)) or not hasattr(values, "__len__"):
        try:
            values = list(values)
        except TypeError:
            raise InputError(f"{name} must be a non-empty sequence, got {values!r}") from None
    values = list(np.asarray(values).ravel()) if isinstance(values, np.ndarray) else list(values)
    if not values:
        raise InputError(f"{name} is empty; give at least one value")
    return values


def unique(values, name):
    seen = set()
    for v in values:
        if v in seen:
            raise InputError(f"{name} contains {v!r} twice")
        seen.add(v)
    return values


def seeds(value):
    """A count S (meaning range(S)) or a sequence of distinct seeds, as a list of ints."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        if value < 1:
            raise InputError(f"seeds must be a positive count or a non-empty list, got {value}")
        value = range(int(value))
    return unique([seed(s.item() if isinstance(s, np.generic) else s) for s in nonempty(value, "seeds")], "seeds")


def positive_int(value, name):
    value = _positive_int(value.item() if isinstance(value, np.generic) else value, name)
    if value < 1:
        raise InputError(f"{name} must be >= 1, got {value}")
    return value


@functools.cache
def _defaults():
    # the default specs, built (and validated) once: train() is called in loops, and building
    # optim.sgd() on every call cost a few µs of the ~0.2 ms tutorial GD run
    from jaxgd import optim

    return optim.sgd(), optim.constant()


def schedule(value):
    """None (constant), ``"constant"`` or a ``jaxgd.optim`` schedule; ``optim.get_schedule`` names what is wrong."""
    from jaxgd import optim

    return _defaults()[1] if value is None else optim.get_schedule(value)


def validation(value, d):
    """``(X_val, y_val)``: a pair of arrays, X_val (m, d) with m >= 1 and y_val (m,) or (m, 1).
    Returns the pair (X_val as given, y_val as (m, 1)). Values are checked through the held-out
    loss at the initial parameters (:func:`explain_nonfinite_val_loss`), as X's are."""
    if isinstance(value, (str, bytes)):
        raise InputError("validation must be a pair (X_val, y_val) of arrays")
    try:
        X_val, y_val = value
    except (TypeError, ValueError):
        raise InputError("validation must be a pair (X_val, y_val) of arrays") from None
    X_val, y_val = (_not_low_precision(_as_array(a, name), name)
                    for a, name in ((X_val, "validation X_val"), (y_val, "validation y_val")))
    if X_val.ndim != 2:
        raise InputError(f"validation X_val must be 2-D with shape (m, {d}), got shape {X_val.shape}")
    m = X_val.shape[0]
    if m == 0:
        raise InputError("validation X_val is empty: need at least one held-out row")
    if X_val.shape[1] != d:
        raise InputError(f"validation X_val must have d={d} columns like X, got shape {X_val.shape}")
    if not (y_val.shape == (m,) or y_val.shape == (m, 1)):
        raise InputError(f"validation y_val must have shape ({m},) or ({m}, 1) to match X_val {X_val.shape}, "
                         f"got {y_val.shape}")
    return X_val, y_val.reshape(m, 1)


def explain_nonfinite_val_loss(validation):
    """Raise the InputError that names why the held-out loss at the (finite) initial parameters
    is not finite."""
    for name, a in zip(("X_val", "y_val"), validation):
        if not _all_finite(a):
            raise InputError(f"validation {name} contains NaN or infinite values")
    raise InputError("the held-out loss at the initial parameters overflows the floating-point range; "
                     "scale X_val and y_val (or enable float64)")


def record_every(value):
    """``None`` (no trace) or a positive integer: the trace's step in samples processed."""
    if value is None:
        return None
    if isinstance(value, np.integer):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise InputError(f"record_every must be a positive integer (samples between trace points), got {value!r}")
    return int(value)
