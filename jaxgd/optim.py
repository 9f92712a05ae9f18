"""torch.optim's optimizers and per-epoch LR schedules as hashable specs that build optax.

An ``Optimizer`` is a frozen, hashable specification: ``name``, ``hyperparams`` (runtime
floats other than the learning rate) and ``options`` (static structure). Its
``transformation(learning_rate, **hyperparams)`` returns an ``optax.GradientTransformation``
whose update is torch.optim's, with torch's defaults and torch's order of operations::

    spec = optim.adam(betas=(0.9, 0.99))
    tx = optax.inject_hyperparams(spec.transformation)(learning_rate=0.01, **dict(spec.hyperparams))
    state = tx.init(params)
    updates, state = tx.update(grads, state, params)   # params: needed for weight decay
    params = optax.apply_updates(params, updates)

Static versus runtime. Every float, the learning rate included, is a runtime value held in
``inject_hyperparams``' state, so changing one never recompiles; ``spec.static()`` (every
value replaced by None) is what a compiled program's cache key should hold. What decides the
*shape* of the program or of its state is an option, derived in the factory from the values:

- torch's own booleans: ``nesterov`` (SGD), ``amsgrad`` (Adam, AdamW), ``centered`` (RMSprop);
- ``momentum_enabled`` (SGD: ``momentum != 0``; RMSprop: ``momentum > 0``): whether a
  momentum buffer exists in the state. Inside an enabled program a runtime momentum of 0
  still takes torch's momentum-free path (a ``jnp.where``), so the update is torch's for any
  runtime value; a disabled program has no buffer and is exactly ``p - lr * g`` for SGD.
- ``decay_enabled`` (SGD only: ``weight_decay != 0``): whether the program adds ``wd * p`` to
  the gradient. Inside an enabled program a runtime weight decay of 0 adds ``0 * p``, which
  changes nothing for finite ``p`` (torch skips the add), so the update is torch's for any
  runtime value. Plain SGD makes one update per sample (50,000 per tutorial run) and the add
  sits on the update's dependency chain: applied unconditionally it made plain SGD measurably
  slower than before the optimizers existed (benchmarks/compare_base.py). The other
  optimizers always apply their weight decay at runtime (their updates are longer anyway).

Exactness. Each update follows torch's single-tensor CPU kernels (``foreach=None`` resolves
to the single-tensor path for CPU tensors) operation by operation: ``add(x, alpha=a)`` is
``x + a * y``, ``addcmul(t1, t2, value=v)`` is ``x + (v * t1) * t2``, ``addcdiv`` is
``x + (v * t1) / t2``, ``lerp(end, w)`` is ``x + w * (end - x)`` for ``|w| < 0.5`` and
``end - (end - x) * (1 - w)`` otherwise. The one structural difference: torch changes the
parameter in place, optax returns an update ``u`` applied as ``p + u``; only AdamW's decoupled
decay (two in-place writes in torch) differs from torch by more than nothing because of it,
by one rounding of a quantity much smaller than ``p``. Bias corrections and other scalars are
computed in the hyperparameters' dtype (the params' dtype, as ``inject_hyperparams`` casts);
torch computes them in Python floats and rounds once, which matters in float32 only.

XLA:CPU flushes subnormal floats to zero, torch does not: a subnormal hyperparameter (below
2.2e-308 in float64, 1.2e-38 in float32) acts as 0 here, e.g. a subnormal SGD momentum takes
the momentum-free path.

Runtime values set in ``opt_state.hyperparams`` are not validated (they may be traced); the
factories validate as torch's constructors do, so build a spec with the values to check them.
Hyperparameters read only at ``init`` (Adagrad's ``initial_accumulator_value``) have no effect
when changed after ``init``, as in torch.

Schedules (``Schedule``) give the learning rate in force during each epoch as a closed form
of traced values; see ``constant`` and the other schedule factories.
"""

from __future__ import annotations

import dataclasses
import inspect
import math
import numbers
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

__all__ = [
    "NAMES",
    "Optimizer",
    "SCHEDULE_NAMES",
    "Schedule",
    "adadelta",
    "adagrad",
    "adam",
    "adamw",
    "constant",
    "cosine_annealing_lr",
    "exponential_lr",
    "get",
    "get_schedule",
    "linear_lr",
    "multistep_lr",
    "rmsprop",
    "sgd",
    "step_lr",
]

NAMES = ("sgd", "adam", "adamw", "adagrad", "rmsprop", "adadelta")
SCHEDULE_NAMES = ("constant", "step_lr", "multistep_lr", "exponential_lr", "cosine_annealing_lr", "linear_lr")


# --------------------------------------------------------------------------------------
# Validation (torch's checks, with the argument's name in every message)


def _real(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a real number, got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"Invalid {name} value: {value} (must be finite)")
    return value


def _nonneg(name, value):
    value = _real(name, value)
    if value < 0.0:
        raise ValueError(f"Invalid {name} value: {value} (must be >= 0)")
    return value


def _unit(name, value, *, closed):
    value = _real(name, value)
    if not (0.0 <= value <= 1.0 if closed else 0.0 <= value < 1.0):
        raise ValueError(f"Invalid {name} value: {value} (must be in [0, 1{']' if closed else ')'})")
    return value


def _betas(betas):
    try:
        beta1, beta2 = betas
    except (TypeError, ValueError):
        raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}") from None
    return _unit("betas[0] (beta1)", beta1, closed=False), _unit("betas[1] (beta2)", beta2, closed=False)


def _flag(name, value):
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be a bool, got {value!r}")
    return value


def _positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"Invalid {name} value: {value!r} (must be a positive integer)")
    return int(value)


def _check_learning_rate(learning_rate):
    """The learning rate's check (torch: ``lr >= 0``); for callers holding a concrete value."""
    return _nonneg("lr", learning_rate)


# --------------------------------------------------------------------------------------
# The spec


@dataclasses.dataclass(frozen=True)
class Optimizer:
    """A torch.optim optimizer as a frozen, hashable spec; build it with a factory (``optim.adam()``).

    ``hyperparams`` are runtime floats (values may be None: see ``static``), ``options`` the
    static structure. ``transformation`` builds the ``optax.GradientTransformation``.
    """

    name: str
    hyperparams: tuple[tuple[str, Any], ...]
    options: tuple[tuple[str, Any], ...] = ()

    def static(self) -> "Optimizer":
        """This spec with every hyperparameter value None: the part a compiled program depends on."""
        return dataclasses.replace(self, hyperparams=tuple((k, None) for k, _ in self.hyperparams))

    def replace(self, **hyperparams) -> "Optimizer":
        """A new, validated spec with some hyperparameters changed (options re-derived)."""
        unknown = set(hyperparams) - {k for k, _ in self.hyperparams}
        if unknown:
            raise ValueError(f"{self.name} has no hyperparameter(s) {sorted(unknown)}; it has {self.hyperparam_names}")
        values = dict(self.hyperparams) | hyperparams
        if any(v is None for v in values.values()):
            raise ValueError("replace needs a value for every hyperparameter of a static() spec")
        return _REBUILD[self.name](values, dict(self.options))

    @property
    def hyperparam_names(self) -> tuple[str, ...]:
        return tuple(k for k, _ in self.hyperparams)

    @property
    def transformation(self):
        """``transformation(learning_rate, **hyperparams) -> optax.GradientTransformation``.

        A property returning a function whose signature names each hyperparameter (defaulting
        to this spec's value), so that ``optax.inject_hyperparams(spec.transformation)`` sees
        them as separate, injectable numeric arguments. Every value may be a traced scalar.
        """
        builder = _BUILDERS[self.name]
        options = dict(self.options)
        names = self.hyperparam_names

        def transformation(learning_rate, **hyperparams):
            missing = [k for k in names if k not in hyperparams]
            extra = [k for k in hyperparams if k not in names]
            if missing or extra:
                raise TypeError(f"{self.name}.transformation needs exactly {names}; missing {missing}, unexpected {extra}")
            return builder(learning_rate, **hyperparams, **options)

        default = lambda v: inspect.Parameter.empty if v is None else v  # noqa: E731
        transformation.__signature__ = inspect.Signature(
            [inspect.Parameter("learning_rate", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
            + [inspect.Parameter(k, inspect.Parameter.KEYWORD_ONLY, default=default(v)) for k, v in self.hyperparams]
        )
        transformation.__name__ = f"{self.name}_transformation"
        transformation.__qualname__ = transformation.__name__
        return transformation


def _tree_where(cond, a, b):
    return jax.tree.map(lambda x, y: jnp.where(cond, x, y), a, b)


def _lerp(x, end, weight):
    """torch's ``x.lerp_(end, weight)`` (CPU scalar kernel), with its two branches."""
    small = x + weight * (end - x)
    large = end - (end - x) * (1 - weight)
    return jnp.where(jnp.abs(weight) < 0.5, small, large)


def _step_as(count, like):
    return count.astype(jnp.result_type(like))


# --------------------------------------------------------------------------------------
# SGD


class SGDMomentumState(NamedTuple):
    """torch's ``momentum_buffer``: ``started`` is torch's ``buffer is not None``."""

    started: jax.Array  # bool scalar
    buf: Any


def _sgd_momentum(momentum, dampening, nesterov) -> optax.GradientTransformation:
    def init_fn(params):
        return SGDMomentumState(jnp.zeros([], bool), optax.tree.zeros_like(params))

    def update_fn(updates, state, params=None):
        del params
        on = momentum != 0
        buf = jax.tree.map(
            lambda g, b: jnp.where(state.started, momentum * b + (1 - dampening) * g, g), updates, state.buf
        )
        direction = jax.tree.map(lambda g, b: g + momentum * b, updates, buf) if nesterov else buf
        return _tree_where(on, direction, updates), SGDMomentumState(
            state.started | on, _tree_where(on, buf, state.buf)
        )

    return optax.GradientTransformation(init_fn, update_fn)


def _build_sgd(learning_rate, *, momentum, dampening, weight_decay, nesterov, momentum_enabled, decay_enabled=True):
    parts = [optax.add_decayed_weights(weight_decay)] if decay_enabled else []
    if momentum_enabled:
        parts.append(_sgd_momentum(momentum, dampening, nesterov))
    parts.append(optax.scale_by_learning_rate(learning_rate))
    return optax.chain(*parts)


def sgd(momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False) -> Optimizer:
    r"""torch.optim.SGD: ``p -= lr * d`` with optional L2 decay, momentum and Nesterov.

    .. math::
        g \leftarrow g + \lambda p;\quad
        b_1 = g,\; b_t = \mu b_{t-1} + (1 - \tau) g;\quad
        d = g + \mu b_t \text{ (Nesterov) or } b_t;\quad p \leftarrow p - \eta d

    With ``momentum=0`` (the default) it is exactly the tutorial's ``p - lr * g``.

    Differences from ``optax.sgd``: dampening ``tau`` (absent in optax), applied from the
    second step only (torch's buffer starts as ``g``); weight decay is L2 on the gradient;
    ``momentum_enabled = momentum != 0`` is a static option (a momentum buffer in the state),
    as is ``decay_enabled = weight_decay != 0`` (the decay's add in the program).
    Built as ``chain(add_decayed_weights(wd), <torch momentum>, scale_by_learning_rate(lr))``,
    each part present only when enabled.
    """
    momentum = _nonneg("momentum", momentum)
    dampening = _real("dampening", dampening)
    weight_decay = _nonneg("weight_decay", weight_decay)
    nesterov = _flag("nesterov", nesterov)
    if nesterov and (momentum <= 0 or dampening != 0):
        raise ValueError(
            f"nesterov=True requires momentum > 0 and dampening == 0 (got momentum={momentum}, dampening={dampening})"
        )
    return Optimizer(
        "sgd",
        (("momentum", momentum), ("dampening", dampening), ("weight_decay", weight_decay)),
        (("nesterov", nesterov), ("momentum_enabled", momentum != 0), ("decay_enabled", weight_decay != 0)),
    )


# --------------------------------------------------------------------------------------
# Adam, AdamW


class AdamState(NamedTuple):
    count: jax.Array  # int32: torch's ``step``
    exp_avg: Any
    exp_avg_sq: Any
    max_exp_avg_sq: Any  # () unless amsgrad


def _torch_adam(learning_rate, beta1, beta2, eps, weight_decay, amsgrad, decoupled) -> optax.GradientTransformation:
    def init_fn(params):
        zeros = optax.tree.zeros_like(params)
        return AdamState(jnp.zeros([], jnp.int32), zeros, zeros, zeros if amsgrad else ())

    def update_fn(updates, state, params):
        count = optax.safe_increment(state.count)
        if not decoupled:
            updates = jax.tree.map(lambda g, p: g + weight_decay * p, updates, params)
        exp_avg = jax.tree.map(lambda m, g: _lerp(m, g, 1 - beta1), state.exp_avg, updates)
        exp_avg_sq = jax.tree.map(lambda v, g: v * beta2 + ((1 - beta2) * g) * g, state.exp_avg_sq, updates)
        step = _step_as(count, learning_rate)
        bias_correction1 = 1 - beta1**step
        bias_correction2 = 1 - beta2**step
        step_size = learning_rate / bias_correction1
        bias_correction2_sqrt = jnp.sqrt(bias_correction2)
        if amsgrad:
            max_exp_avg_sq = jax.tree.map(jnp.maximum, state.max_exp_avg_sq, exp_avg_sq)
            second = max_exp_avg_sq
        else:
            max_exp_avg_sq, second = (), exp_avg_sq
        new = jax.tree.map(
            lambda m, v: ((-step_size) * m) / (jnp.sqrt(v) / bias_correction2_sqrt + eps), exp_avg, second
        )
        if decoupled:  # torch: p *= 1 - lr * wd, then p += new; (p * c - p) is exact (Sterbenz)
            new = jax.tree.map(lambda u, p: (p * (1 - learning_rate * weight_decay) - p) + u, new, params)
        return new, AdamState(count, exp_avg, exp_avg_sq, max_exp_avg_sq)

    return optax.GradientTransformation(init_fn, update_fn)


def _build_adam(learning_rate, *, beta1, beta2, eps, weight_decay, amsgrad):
    return _torch_adam(learning_rate, beta1, beta2, eps, weight_decay, amsgrad, decoupled=False)


def _build_adamw(learning_rate, *, beta1, beta2, eps, weight_decay, amsgrad):
    return _torch_adam(learning_rate, beta1, beta2, eps, weight_decay, amsgrad, decoupled=True)


def _adam_spec(name, betas, eps, weight_decay, amsgrad):
    beta1, beta2 = _betas(betas)
    return Optimizer(
        name,
        (
            ("beta1", beta1),
            ("beta2", beta2),
            ("eps", _nonneg("eps", eps)),
            ("weight_decay", _nonneg("weight_decay", weight_decay)),
        ),
        (("amsgrad", _flag("amsgrad", amsgrad)),),
    )


def adam(betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False) -> Optimizer:
    r"""torch.optim.Adam, in torch's order of operations; weight decay is L2 on the gradient.

    .. math::
        g \leftarrow g + \lambda p;\quad m \leftarrow \mathrm{lerp}(m, g, 1-\beta_1);\quad
        v \leftarrow \beta_2 v + (1-\beta_2) g^2;\quad
        p \leftarrow p - \frac{\eta}{1-\beta_1^t}\,
        \frac{m}{\sqrt{\hat v}/\sqrt{1-\beta_2^t} + \epsilon}

    with :math:`\hat v = v`, or with ``amsgrad`` :math:`\hat v = \max_{s \le t} v_s` (the max
    of the *raw* second moments, then divided by :math:`\sqrt{1-\beta_2^t}`).

    Differences from ``optax.adam``: same defaults and the same mathematics, but torch's
    rounding order (``lr / bc1`` times ``m``, over ``sqrt(v) / sqrt(bc2) + eps``; optax
    divides ``m`` and ``v`` by their corrections first). ``optax.amsgrad`` differs in
    substance: it takes the max of the *bias-corrected* ``v``. ``weight_decay`` (absent in
    optax.adam) is added to the gradient. ``betas`` is split into ``beta1``, ``beta2``.
    """
    return _adam_spec("adam", betas, eps, weight_decay, amsgrad)


def adamw(betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01, amsgrad=False) -> Optimizer:
    r"""torch.optim.AdamW: Adam with decoupled weight decay ``p *= 1 - lr * wd`` before the step.

    .. math::
        p \leftarrow p (1 - \eta\lambda);\quad \text{then Adam's step (see ``adam``) on } g

    Differences from ``optax.adamw``: default ``weight_decay`` 0.01 (optax: 1e-4); torch's
    AMSGrad and rounding order as in ``adam``. optax's ``p - lr (u + wd p)`` is the same
    mathematics as torch's two in-place writes.
    """
    return _adam_spec("adamw", betas, eps, weight_decay, amsgrad)


# --------------------------------------------------------------------------------------
# Adagrad


class AdagradState(NamedTuple):
    count: jax.Array  # int32: torch's ``step``
    sum: Any


def _build_adagrad(learning_rate, *, lr_decay, weight_decay, initial_accumulator_value, eps):
    def init_fn(params):
        return AdagradState(
            jnp.zeros([], jnp.int32),
            jax.tree.map(lambda p: jnp.full_like(p, initial_accumulator_value), params),
        )

    def update_fn(updates, state, params):
        count = optax.safe_increment(state.count)
        step = _step_as(count, learning_rate)
        updates = jax.tree.map(lambda g, p: g + weight_decay * p, updates, params)
        clr = learning_rate / (1 + (step - 1) * lr_decay)
        total = jax.tree.map(lambda s, g: s + g * g, state.sum, updates)
        new = jax.tree.map(lambda g, s: ((-clr) * g) / (jnp.sqrt(s) + eps), updates, total)
        return new, AdagradState(count, total)

    return optax.GradientTransformation(init_fn, update_fn)


def adagrad(lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10) -> Optimizer:
    r"""torch.optim.Adagrad, with torch's learning-rate decay and eps outside the square root.

    .. math::
        g \leftarrow g + \lambda p;\quad \eta_t = \frac{\eta}{1 + (t-1)\,\delta};\quad
        s \leftarrow s + g^2;\quad p \leftarrow p - \eta_t \frac{g}{\sqrt{s} + \epsilon},
        \quad s_0 = \text{initial\_accumulator\_value}

    Differences from ``optax.adagrad``: ``initial_accumulator_value`` 0 (optax 0.1), ``eps``
    1e-10 added to ``sqrt(s)`` (optax: 1e-7 inside the square root, and a zero update where
    ``s == 0``), ``lr_decay`` (absent in optax), L2 ``weight_decay``.
    ``initial_accumulator_value`` is read at ``init`` only.
    """
    return Optimizer(
        "adagrad",
        (
            ("lr_decay", _nonneg("lr_decay", lr_decay)),
            ("weight_decay", _nonneg("weight_decay", weight_decay)),
            ("initial_accumulator_value", _nonneg("initial_accumulator_value", initial_accumulator_value)),
            ("eps", _nonneg("eps", eps)),
        ),
    )


# --------------------------------------------------------------------------------------
# RMSprop


class RMSpropState(NamedTuple):
    square_avg: Any
    grad_avg: Any  # () unless centered
    momentum_buffer: Any  # () unless momentum_enabled


def _build_rmsprop(learning_rate, *, alpha, eps, weight_decay, momentum, centered, momentum_enabled):
    def init_fn(params):
        zeros = optax.tree.zeros_like(params)
        return RMSpropState(zeros, zeros if centered else (), zeros if momentum_enabled else ())

    def update_fn(updates, state, params):
        updates = jax.tree.map(lambda g, p: g + weight_decay * p, updates, params)
        square_avg = jax.tree.map(lambda v, g: v * alpha + ((1 - alpha) * g) * g, state.square_avg, updates)
        if centered:
            grad_avg = jax.tree.map(lambda m, g: _lerp(m, g, 1 - alpha), state.grad_avg, updates)
            avg = jax.tree.map(lambda v, m: jnp.sqrt(v + (-m) * m) + eps, square_avg, grad_avg)
        else:
            grad_avg = ()
            avg = jax.tree.map(lambda v: jnp.sqrt(v) + eps, square_avg)
        plain = jax.tree.map(lambda g, a: ((-learning_rate) * g) / a, updates, avg)
        if momentum_enabled:
            buf = jax.tree.map(lambda b, g, a: b * momentum + g / a, state.momentum_buffer, updates, avg)
            heavy = jax.tree.map(lambda b: (-learning_rate) * b, buf)
            new = _tree_where(momentum > 0, heavy, plain)
        else:
            buf, new = (), plain
        return new, RMSpropState(square_avg, grad_avg, buf)

    return optax.GradientTransformation(init_fn, update_fn)


def rmsprop(alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False) -> Optimizer:
    r"""torch.optim.RMSprop: decay 0.99, eps added to the square root, optional momentum buffer.

    .. math::
        g \leftarrow g + \lambda p;\quad v \leftarrow \alpha v + (1-\alpha) g^2;\quad
        a = \sqrt{v - \bar g^2} + \epsilon \text{ (centered, } \bar g \leftarrow
        \mathrm{lerp}(\bar g, g, 1-\alpha)) \text{ or } \sqrt{v} + \epsilon;\\
        b \leftarrow \mu b + g / a,\; p \leftarrow p - \eta b \text{ if } \mu > 0,
        \text{ else } p \leftarrow p - \eta g / a

    Differences from ``optax.rmsprop``: ``alpha`` 0.99 (optax ``decay`` 0.9); ``eps`` added
    to ``sqrt(v)`` (optax: inside the square root); momentum buffer accumulates ``g / a``
    and is scaled by ``lr`` afterwards (optax's trace comes after its learning-rate scale);
    L2 ``weight_decay``. ``momentum_enabled = momentum > 0`` is a static option (buffer in
    the state); ``centered`` is static.
    """
    momentum = _nonneg("momentum", momentum)
    return Optimizer(
        "rmsprop",
        (
            ("alpha", _nonneg("alpha", alpha)),
            ("eps", _nonneg("eps", eps)),
            ("weight_decay", _nonneg("weight_decay", weight_decay)),
            ("momentum", momentum),
        ),
        (("centered", _flag("centered", centered)), ("momentum_enabled", momentum > 0)),
    )


# --------------------------------------------------------------------------------------
# Adadelta


class AdadeltaState(NamedTuple):
    square_avg: Any
    acc_delta: Any


def _build_adadelta(learning_rate, *, rho, eps, weight_decay):
    def init_fn(params):
        zeros = optax.tree.zeros_like(params)
        return AdadeltaState(zeros, zeros)

    def update_fn(updates, state, params):
        updates = jax.tree.map(lambda g, p: g + weight_decay * p, updates, params)
        square_avg = jax.tree.map(lambda v, g: v * rho + ((1 - rho) * g) * g, state.square_avg, updates)
        delta = jax.tree.map(
            lambda v, u, g: (jnp.sqrt(u + eps) / jnp.sqrt(v + eps)) * g, square_avg, state.acc_delta, updates
        )
        acc_delta = jax.tree.map(lambda u, d: u * rho + ((1 - rho) * d) * d, state.acc_delta, delta)
        new = jax.tree.map(lambda d: (-learning_rate) * d, delta)
        return new, AdadeltaState(square_avg, acc_delta)

    return optax.GradientTransformation(init_fn, update_fn)


def adadelta(rho=0.9, eps=1e-6, weight_decay=0.0) -> Optimizer:
    r"""torch.optim.Adadelta, whose learning rate (torch default 1.0) multiplies the delta.

    .. math::
        g \leftarrow g + \lambda p;\quad v \leftarrow \rho v + (1-\rho) g^2;\quad
        \Delta = \frac{\sqrt{u + \epsilon}}{\sqrt{v + \epsilon}} g;\quad
        u \leftarrow \rho u + (1-\rho)\Delta^2;\quad p \leftarrow p - \eta \Delta

    Differences from ``optax.adadelta``: same defaults and mathematics (torch's rounding
    order: the moments as ``v * rho + ((1 - rho) * g) * g``); L2 ``weight_decay``.
    """
    return Optimizer(
        "adadelta",
        (
            ("rho", _unit("rho", rho, closed=True)),
            ("eps", _nonneg("eps", eps)),
            ("weight_decay", _nonneg("weight_decay", weight_decay)),
        ),
    )


_BUILDERS = {
    "sgd": _build_sgd,
    "adam": _build_adam,
    "adamw": _build_adamw,
    "adagrad": _build_adagrad,
    "rmsprop": _build_rmsprop,
    "adadelta": _build_adadelta,
}
_FACTORIES = {"sgd": sgd, "adam": adam, "adamw": adamw, "adagrad": adagrad, "rmsprop": rmsprop, "adadelta": adadelta}


def _rebuild_adam(name):
    def rebuild(v, o):
        return _FACTORIES[name]((v["beta1"], v["beta2"]), v["eps"], v["weight_decay"], o["amsgrad"])

    return rebuild


_REBUILD = {
    "sgd": lambda v, o: sgd(v["momentum"], v["dampening"], v["weight_decay"], o["nesterov"]),
    "adam": _rebuild_adam("adam"),
    "adamw": _rebuild_adam("adamw"),
    "adagrad": lambda v, o: adagrad(**v),
    "rmsprop": lambda v, o: rmsprop(**v, centered=o["centered"]),
    "adadelta": lambda v, o: adadelta(**v),
}


def get(name_or_spec) -> Optimizer:
    """The ``Optimizer`` for a name (torch's defaults) or the spec itself; ValueError otherwise."""
    if isinstance(name_or_spec, Optimizer):
        return name_or_spec
    if isinstance(name_or_spec, str) and name_or_spec.lower() in _FACTORIES:
        return _FACTORIES[name_or_spec.lower()]()
    raise ValueError(f"unknown optimizer {name_or_spec!r}; expected one of {NAMES} or an optim.Optimizer")


# --------------------------------------------------------------------------------------
# Schedules


@dataclasses.dataclass(frozen=True)
class Schedule:
    """A torch.optim.lr_scheduler schedule, stepped once per epoch, as a frozen hashable spec.

    ``params`` are runtime values (floats, and ints such as ``step_size``); ``lr(base_lr,
    epoch, **params)`` is the learning rate in force during 0-based ``epoch``.
    """

    name: str
    params: tuple[tuple[str, Any], ...] = ()

    def static(self) -> "Schedule":
        """This spec with every parameter value None: the part a compiled program depends on."""
        return dataclasses.replace(self, params=tuple((k, None) for k, _ in self.params))

    @property
    def param_names(self) -> tuple[str, ...]:
        return tuple(k for k, _ in self.params)

    def lr(self, base_lr, epoch, **params):
        """The learning rate during ``epoch`` (0-based; after ``epoch`` calls of torch's ``scheduler.step()``).

        A pure jnp function of (possibly traced) ``base_lr``, ``epoch`` and ``params``;
        parameters not given take this spec's values. The result has ``base_lr``'s float dtype.
        """
        values = dict(self.params) | params
        if set(values) != set(self.param_names) or any(v is None for v in values.values()):
            raise TypeError(f"{self.name}.lr needs values for {self.param_names}, got {sorted(params)}")
        dtype = jnp.result_type(base_lr, float)
        base_lr = jnp.asarray(base_lr, dtype)
        epoch = jnp.asarray(epoch)
        return _LR[self.name](base_lr, epoch, dtype, **values)


def _f(x, dtype):
    return jnp.asarray(x, dtype)


def _lr_constant(base_lr, epoch, dtype):
    return base_lr


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


_LR = {
    "constant": _lr_constant,
    "step_lr": _lr_step,
    "multistep_lr": _lr_multistep,
    "exponential_lr": _lr_exponential,
    "cosine_annealing_lr": _lr_cosine,
    "linear_lr": _lr_linear,
}


def _gamma(gamma):
    gamma = _real("gamma", gamma)
    if gamma <= 0:
        raise ValueError(f"Invalid gamma value: {gamma} (must be > 0)")
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
    return Schedule("step_lr", (("step_size", _positive_int("step_size", step_size)), ("gamma", _gamma(gamma))))


def multistep_lr(milestones, gamma=0.1) -> Schedule:
    r"""torch.optim.lr_scheduler.MultiStepLR: :math:`\eta_e = \eta_0 \gamma^{\#\{i: m_i \le e\}}`.

    Milestones count with multiplicity, in any order, as torch's Counter does. Their values
    are runtime ints ``milestone_0, milestone_1, ...``; their *number* is static (it is in
    the parameter names). Each must be a non-negative int (torch accepts negative ones but
    never reaches them, while its closed form would count them).
    """
    try:
        milestones = tuple(milestones)
    except TypeError:
        raise ValueError(f"milestones must be a sequence of ints, got {milestones!r}") from None
    for m in milestones:
        if isinstance(m, bool) or not isinstance(m, numbers.Integral) or m < 0:
            raise ValueError(f"Invalid milestones value: {m!r} (each must be a non-negative integer)")
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
        "cosine_annealing_lr", (("T_max", _positive_int("T_max", T_max)), ("eta_min", _nonneg("eta_min", eta_min)))
    )


def linear_lr(start_factor=1.0 / 3, end_factor=1.0, total_iters=5) -> Schedule:
    r"""torch.optim.lr_scheduler.LinearLR: the factor goes linearly from start to end over ``total_iters`` epochs.

    .. math:: \eta_e = \eta_0 \left(f_s + (f_e - f_s) \frac{\min(e, T)}{T}\right)

    torch's checks: ``start_factor`` in (0, 1], ``end_factor`` in [0, 1]; here also
    ``total_iters`` a positive int (torch divides by it in its closed form).
    """
    start_factor = _real("start_factor", start_factor)
    if not 0.0 < start_factor <= 1.0:
        raise ValueError(f"Invalid start_factor value: {start_factor} (must be in (0, 1])")
    return Schedule(
        "linear_lr",
        (
            ("start_factor", start_factor),
            ("end_factor", _unit("end_factor", end_factor, closed=True)),
            ("total_iters", _positive_int("total_iters", total_iters)),
        ),
    )


def get_schedule(name_or_spec) -> Schedule:
    """The ``Schedule`` for a spec, or for ``"constant"`` (the only schedule without required arguments)."""
    if isinstance(name_or_spec, Schedule):
        return name_or_spec
    if name_or_spec is None or name_or_spec == "constant":
        return constant()
    if isinstance(name_or_spec, str) and name_or_spec in SCHEDULE_NAMES:
        raise ValueError(f"schedule {name_or_spec!r} has required arguments: build it with optim.{name_or_spec}(...)")
    raise ValueError(f"unknown schedule {name_or_spec!r}; expected one of {SCHEDULE_NAMES} or an optim.Schedule")
