"""torch.optim.lr_scheduler's per-epoch schedules as pytree specs with closed forms.

A ``Schedule``'s ``name`` is static; its parameters are leaves (floats, and ints such as
``step_size``), so a new value reuses the compiled program. ``spec.lr(base_lr, epoch)`` is the
learning rate in force during 0-based ``epoch``: after ``epoch`` calls of torch's
``scheduler.step()``, which the usual PyTorch loop makes once after each epoch's updates.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from typing import Any, Callable

import jax
import jax.numpy as jnp

from jaxgd.optim import _checks
from jaxgd._errors import InputError


@dataclasses.dataclass(frozen=True, init=False)
class Schedule:
    """A torch.optim.lr_scheduler schedule, stepped once per epoch, as a pytree spec.

    ``params``: ``(name, value)`` pairs, the leaves. Build it with a factory
    (``optim.step_lr(10, 0.5)``).
    """

    name: str
    keys: tuple[str, ...]  # static: the parameters' names
    values: tuple  # the leaves, in the order of keys

    def __init__(self, name, params=(), *, keys=None, values=None):
        # Schedule(name, ((name, value), ...)); jax rebuilds it from its fields.
        if keys is None:
            keys, values = tuple(k for k, _ in params), tuple(v for _, v in params)
        for field, value in (("name", name), ("keys", tuple(keys)), ("values", tuple(values))):
            object.__setattr__(self, field, value)

    @property
    def params(self) -> tuple[tuple[str, Any], ...]:
        """``(name, value)`` pairs: the leaves with their names."""
        return tuple(zip(self.keys, self.values))

    @property
    def kwargs(self) -> dict:
        """The factory's (and torch's) keywords with this spec's values."""
        values = dict(self.params)
        if self.name == "multistep_lr":
            return {"milestones": [values[k] for k, _ in self.params if k.startswith("milestone_")],
                    "gamma": values["gamma"]}
        return values

    @property
    def torch_name(self) -> str:
        return _SCHEDULES[self.name][1]

    def lr(self, base_lr, epoch):
        """The learning rate during ``epoch`` (0-based), a pure jnp function of (possibly traced)
        ``base_lr``, ``epoch`` and this spec's leaves; it has ``base_lr``'s float dtype."""
        dtype = jnp.result_type(base_lr, float)
        base_lr = jnp.asarray(base_lr, dtype)
        if self.name == "constant":
            return base_lr
        return _SCHEDULES[self.name][0](base_lr, jnp.asarray(epoch), dtype, **dict(self.params))


jax.tree_util.register_dataclass(Schedule, data_fields=["values"], meta_fields=["name", "keys"])


def _f(x, dtype):
    return jnp.asarray(x, dtype)


def _lr_step(base_lr, epoch, dtype, *, step_size, gamma):
    return base_lr * _f(gamma, dtype) ** (epoch // step_size).astype(dtype)


def _lr_multistep(base_lr, epoch, dtype, *, gamma, **milestones):
    passed = sum(((epoch >= m).astype(dtype) for m in milestones.values()), _f(0, dtype))
    return base_lr * _f(gamma, dtype) ** passed


def _lr_exponential(base_lr, epoch, dtype, *, gamma):
    return base_lr * _f(gamma, dtype) ** epoch.astype(dtype)


def _lr_cosine(base_lr, epoch, dtype, *, T_max, eta_min):
    eta_min = _f(eta_min, dtype)
    return eta_min + (base_lr - eta_min) * (1 + jnp.cos(math.pi * epoch.astype(dtype) / _f(T_max, dtype))) / 2


def _lr_linear(base_lr, epoch, dtype, *, start_factor, end_factor, total_iters):
    start, end = _f(start_factor, dtype), _f(end_factor, dtype)
    reached = jnp.minimum(epoch, total_iters).astype(dtype)
    return base_lr * (start + (end - start) * reached / _f(total_iters, dtype))


# name -> (closed form, torch.optim.lr_scheduler class name)
_SCHEDULES: dict[str, tuple[Callable, str]] = {
    "constant": (None, ""),
    "step_lr": (_lr_step, "StepLR"),
    "multistep_lr": (_lr_multistep, "MultiStepLR"),
    "exponential_lr": (_lr_exponential, "ExponentialLR"),
    "cosine_annealing_lr": (_lr_cosine, "CosineAnnealingLR"),
    "linear_lr": (_lr_linear, "LinearLR"),
}
SCHEDULE_NAMES = tuple(_SCHEDULES)


def _gamma(gamma):
    gamma = _checks.real("gamma", gamma)
    if gamma <= 0:
        raise InputError(f"Invalid gamma value: {gamma} (must be > 0)")
    return gamma


def constant() -> Schedule:
    """A constant learning rate (no scheduler): ``lr_e = base_lr``."""
    return Schedule("constant")


def step_lr(step_size, gamma=0.1) -> Schedule:
    r"""torch.optim.lr_scheduler.StepLR: :math:`\eta_e = \eta_0 \gamma^{\lfloor e / s \rfloor}`.

    Closed form; torch multiplies the previous lr by gamma at each boundary (a product of
    the same factors, rounded after each). Both ``step_size`` and ``gamma`` are runtime.
    torch does not check its arguments; here ``step_size`` must be a positive int and
    ``gamma > 0`` (torch fails with ZeroDivisionError for ``step_size=0``).
    """
    return Schedule("step_lr", (("step_size", _checks.positive_int("step_size", step_size)), ("gamma", _gamma(gamma))))


def multistep_lr(milestones, gamma=0.1) -> Schedule:
    r"""torch.optim.lr_scheduler.MultiStepLR: :math:`\eta_e = \eta_0 \gamma^{\#\{i: m_i \le e\}}`.

    Milestones count with multiplicity, in any order, as torch's Counter does. Their values
    are runtime ints (leaves ``milestone_0, milestone_1, ...``); their *number* is static.
    Each must be a non-negative int (torch accepts negative ones but never reaches them,
    while its closed form would count them).
    """
    try:
        milestones = tuple(milestones)
    except TypeError:
        raise InputError(f"milestones must be a sequence of ints, got {milestones!r}") from None
    for m in milestones:
        if isinstance(m, bool) or not isinstance(m, numbers.Integral) or m < 0:
            raise InputError(f"Invalid milestones value: {m!r} (each must be a non-negative integer)")
    return Schedule(
        "multistep_lr", (("gamma", _gamma(gamma)),) + tuple((f"milestone_{i}", int(m)) for i, m in enumerate(milestones))
    )


def exponential_lr(gamma) -> Schedule:
    r"""torch.optim.lr_scheduler.ExponentialLR: :math:`\eta_e = \eta_0 \gamma^e` (closed form; torch multiplies recursively)."""
    return Schedule("exponential_lr", (("gamma", _gamma(gamma)),))


def cosine_annealing_lr(T_max, eta_min=0.0) -> Schedule:
    r"""torch.optim.lr_scheduler.CosineAnnealingLR in closed form.

    .. math:: \eta_e = \eta_{min} + (\eta_0 - \eta_{min}) \frac{1 + \cos(\pi e / T_{max})}{2}

    torch's recursive form (a ratio of consecutive cosines times ``lr - eta_min``, with a
    special step after each trough) follows the same periodic curve beyond ``T_max``.
    ``T_max`` must be a positive int (torch: ZeroDivisionError for 0), ``eta_min >= 0``.
    """
    return Schedule(
        "cosine_annealing_lr",
        (("T_max", _checks.positive_int("T_max", T_max)), ("eta_min", _checks.nonneg("eta_min", eta_min))),
    )


def linear_lr(start_factor=1.0 / 3, end_factor=1.0, total_iters=5) -> Schedule:
    r"""torch.optim.lr_scheduler.LinearLR: the factor goes linearly from start to end over ``total_iters`` epochs.

    .. math:: \eta_e = \eta_0 \left(f_s + (f_e - f_s) \frac{\min(e, T)}{T}\right)

    torch's checks: ``start_factor`` in (0, 1], ``end_factor`` in [0, 1]; here also
    ``total_iters`` a positive int (torch divides by it in its closed form).
    """
    start_factor = _checks.real("start_factor", start_factor)
    if not 0.0 < start_factor <= 1.0:
        raise InputError(f"Invalid start_factor value: {start_factor} (must be in (0, 1])")
    return Schedule(
        "linear_lr",
        (
            ("start_factor", start_factor),
            ("end_factor", _checks.unit("end_factor", end_factor, closed=True)),
            ("total_iters", _checks.positive_int("total_iters", total_iters)),
        ),
    )


def get_schedule(name_or_spec) -> Schedule:
    """The ``Schedule`` for a spec, or for ``"constant"`` (the only schedule without required arguments)."""
    if isinstance(name_or_spec, Schedule):
        return name_or_spec
    if name_or_spec is None or name_or_spec == "constant":
        return constant()
    if isinstance(name_or_spec, str) and name_or_spec in SCHEDULE_NAMES:
        raise InputError(f"schedule {name_or_spec!r} has required arguments: build it with optim.{name_or_spec}(...)")
    raise InputError(f"unknown schedule {name_or_spec!r}; expected one of {SCHEDULE_NAMES} or an optim.Schedule")
