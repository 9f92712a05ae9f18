"""torch's argument checks, with the argument's name in every message (``ValueError``)."""

from __future__ import annotations

import math
import numbers
from jaxgd._errors import InputError


def real(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InputError(f"{name} must be a real number, got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise InputError(f"Invalid {name} value: {value} (must be finite)")
    return value


def nonneg(name, value):
    value = real(name, value)
    if value < 0.0:
        raise InputError(f"Invalid {name} value: {value} (must be >= 0)")
    return value



def unit(name, value, *, closed):
    value = real(name, value)
    if not (0.0 <= value <= 1.0 if closed else 0.0 <= value < 1.0):
        raise InputError(f"Invalid {name} value: {value} (must be in [0, 1{']' if closed else ')'})")
    return value


def pair(name, value):
    try:
        first, second = value
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a pair, got {value!r}") from None
    return first, second


def betas(value):
    beta1, beta2 = pair("betas", value)
    return unit("betas[0] (beta1)", beta1, closed=False), unit("betas[1] (beta2)", beta2, closed=False)


def flag(name, value):
    if not isinstance(value, bool):
        raise InputError(f"{name} must be a bool, got {value!r}")
    return value


def positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise InputError(f"Invalid {name} value: {value!r} (must be a positive integer)")
    return int(value)
