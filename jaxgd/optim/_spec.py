"""The optimizer spec (a pytree) and the registry: one definition per optimizer.

An ``Optimizer`` is a frozen dataclass registered as a pytree. Its ``name`` and ``options``
(torch's booleans and the structure derived from the values, such as whether a momentum
buffer exists) are static aux data; every float hyperparameter is a leaf. Passed to ``jit``
as an ordinary argument, ``jit`` splits the two: a new hyperparameter value reuses the
compiled program, a new option compiles a new one. Built from Python floats, a spec is
hashable (it can be a static argument or a dict key); inside a program its leaves are arrays.

A ``Definition`` is everything jaxgd knows about one optimizer, in one place: its factory
(torch's keywords and checks), its transformation, its torch class, its colour in figures and
the help of its keywords on the command line. ``register`` makes one; the CLI flags, the
parity mapping, the figure colours and the unroll rule are all derived from the registry.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
from typing import Any, Callable

import jax
import jax.numpy as jnp
import optax

from jaxgd.optim import _checks
from jaxgd._errors import InputError

# torch.optim keywords that select a torch kernel or autograd mode, not the arithmetic that
# jaxgd follows (torch's single-tensor CPU path): accepted at that path's values, refused
# otherwise with the reason. The value is (accepted values, why another value is refused).
TORCH_ONLY = {
    "foreach": ((None, False), "foreach=True selects torch's multi-tensor kernel, whose rounding jaxgd does not follow"),
    "fused": ((None, False), "fused=True selects torch's fused kernel, whose rounding jaxgd does not follow"),
    "capturable": ((False,), "capturable=True keeps torch's step on the device for CUDA graphs; jaxgd follows the "
                             "CPU path"),
    "differentiable": ((False,), "differentiable=True makes torch's step differentiable by autograd; jaxgd's update "
                                 "is not differentiated"),
}


@dataclasses.dataclass(frozen=True, init=False)
class Optimizer:
    """A torch.optim optimizer as a pytree spec; build it with a factory (``optim.adam()``).

    ``hyperparams``: ``(keyword, value)`` pairs, torch's keywords, the leaves (runtime values;
    ``betas`` is a pair of leaves). ``options``: ``(keyword, value)`` pairs of static structure:
    torch's booleans (``nesterov``, ``amsgrad``, ``maximize``, ...) and derived structure
    (``momentum_enabled``, ...). ``transformation(lr)`` builds the optax transformation.
    """

    name: str
    keys: tuple[str, ...]  # static: the hyperparameters' keywords
    values: tuple  # the leaves: the hyperparameters' values, in the order of keys
    options: tuple[tuple[str, Any], ...]  # static

    def __init__(self, name, hyperparams=(), options=(), *, keys=None, values=None):
        # Optimizer(name, ((keyword, value), ...), options); jax rebuilds it from its fields.
        if keys is None:
            keys, values = tuple(k for k, _ in hyperparams), tuple(v for _, v in hyperparams)
        for field, value in (("name", name), ("keys", tuple(keys)), ("values", tuple(values)),
                             ("options", tuple(options))):
            object.__setattr__(self, field, value)

    @property
    def hyperparams(self) -> tuple[tuple[str, Any], ...]:
        """``(keyword, value)`` pairs: the leaves with their names."""
        return tuple(zip(self.keys, self.values))

    @property
    def definition(self) -> "Definition":
        return REGISTRY[self.name]

    @property
    def kwargs(self) -> dict:
        """The factory's (and torch's) keywords with this spec's values: hyperparameters and
        torch's own options (not the derived structure)."""
        takes = self.definition.keywords
        return {**dict(self.hyperparams), **{k: v for k, v in self.options if k in takes}}

    def replace(self, **kwargs) -> "Optimizer":
        """A new, validated spec with some of the factory's keywords changed (structure re-derived)."""
        takes = self.definition.keywords
        unknown = sorted(set(kwargs) - set(takes))
        if unknown:
            raise InputError(f"{self.name} takes no keyword(s) {unknown}; it takes {tuple(takes)}")
        return self.definition.factory(**{**self.kwargs, **kwargs})

    def transformation(self, learning_rate) -> optax.GradientTransformationExtraArgs:
        """The optax transformation of this spec at ``learning_rate`` (the lr in force).

        ``update(grads, state, params, *, step)`` needs ``step``, the 1-based number of this
        update (torch's ``state['step']``), as an extra argument: the run's one counter
        (``jaxgd.core.TrainState.step``) is handed in, so no transformation keeps its own.
        Every value may be traced. For a plain optax transformation with its own counter,
        see ``optim.as_optax``.
        """
        options = dict(self.options)
        maximize = options.pop("maximize", False)
        tx = self.definition.build(learning_rate, **dict(self.hyperparams), **options)
        if not maximize:
            return tx

        def update(updates, state, params=None, **extra):  # torch: grad = -grad, first
            return tx.update(jax.tree.map(jnp.negative, updates), state, params, **extra)

        return optax.GradientTransformationExtraArgs(tx.init, update)


# A dataclass pytree (flattened by JAX's C++ registry: jit flattens the specs on every call of a
# program, 2 us here against 15 us for a Python flatten function): values are the leaves.
jax.tree_util.register_dataclass(Optimizer, data_fields=["values"], meta_fields=["name", "keys", "options"])


def as_optax(spec: Optimizer, learning_rate) -> optax.GradientTransformation:
    """``spec`` as a plain ``optax.GradientTransformation`` that counts its own updates, for use
    outside jaxgd's run (``tx.init(params)``, ``tx.update(grads, state, params)``)."""
    def init(params):
        return (jnp.zeros([], jnp.int32), spec.transformation(learning_rate).init(params))

    def update(updates, state, params=None):
        count, inner = state
        count = count + 1
        updates, inner = spec.transformation(learning_rate).update(updates, inner, params, step=count)
        return updates, (count, inner)

    return optax.GradientTransformation(init, update)


@dataclasses.dataclass(frozen=True)
class Definition:
    """One optimizer, everything about it: see ``register``."""

    name: str
    torch_name: str  # the torch.optim class: torch.optim.<torch_name>(params, lr=lr, **spec.kwargs)
    factory: Callable[..., Optimizer]  # validated spec from torch's keywords (torch's defaults)
    build: Callable[..., optax.GradientTransformationExtraArgs]  # (learning_rate, **hyperparams, **options)
    color: str  # its colour in figures
    help: dict  # keyword -> what it is (the CLI's help)

    @functools.cached_property
    def keywords(self) -> dict:
        """{keyword: torch's default} of the factory (``maximize`` included); read once (the CLI
        asks for every optimizer's keywords for every flag)."""
        return {k: p.default for k, p in inspect.signature(self.factory).parameters.items()
                if p.kind is inspect.Parameter.KEYWORD_ONLY or p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD}


REGISTRY: dict[str, Definition] = {}


def register(name: str, *, torch_name: str, build, color: str, help: dict):
    """Decorator: register the factory of optimizer ``name`` (its keywords are torch's).

    The registered factory also takes torch's ``maximize`` (the gradient negated before
    anything else, as every torch.optim optimizer does) and refuses, with a ``ValueError``
    naming it, any keyword it does not take; torch's kernel-selection keywords
    (``TORCH_ONLY``) are accepted at the values of the single-tensor CPU path that jaxgd
    follows.
    """

    def decorate(factory):
        own = inspect.signature(factory).parameters

        @functools.wraps(factory)
        def make(*args, maximize=False, **kwargs):
            for key in [k for k in kwargs if k not in own]:
                value = kwargs.pop(key)
                if key not in TORCH_ONLY:
                    raise InputError(f"optim.{name}() takes no keyword {key!r}; it takes "
                                     f"{', '.join(list(own) + ['maximize'])}")
                accepted, why = TORCH_ONLY[key]
                if not any(value is a for a in accepted):
                    raise InputError(f"optim.{name}(): {why} ({key}={value!r}; accepted: "
                                     f"{' or '.join(map(repr, accepted))}, a no-op)")
            spec = factory(*args, **kwargs)
            return dataclasses.replace(spec, options=spec.options + (("maximize", _checks.flag("maximize", maximize)),))

        make.__signature__ = inspect.signature(factory).replace(parameters=[
            *own.values(), inspect.Parameter("maximize", inspect.Parameter.KEYWORD_ONLY, default=False)])
        REGISTRY[name] = Definition(name, torch_name, make, build, color,
                                    {**help, "maximize": "maximise the objective instead of minimising it (torch: "
                                                         "the gradient negated)"})
        return make

    return decorate


def names() -> tuple[str, ...]:
    """The registered optimizers' names, in registration order."""
    return tuple(REGISTRY)


def get(name_or_spec) -> Optimizer:
    """The ``Optimizer`` for a name (torch's defaults) or the spec itself; ValueError otherwise."""
    if isinstance(name_or_spec, Optimizer):
        return name_or_spec
    if isinstance(name_or_spec, str) and name_or_spec.lower() in REGISTRY:
        return REGISTRY[name_or_spec.lower()].factory()
    raise InputError(f"unknown optimizer {name_or_spec!r}; expected one of {names()} or an optim.Optimizer")


def cast(tree, dtype):
    """A spec (or any pytree of hyperparameters) with float leaves as arrays of ``dtype`` and
    integer leaves as int32: the form a program's state holds."""
    def leaf(v):
        if jnp.issubdtype(jnp.result_type(v), jnp.integer):
            return jnp.asarray(v, jnp.int32)
        return jnp.asarray(v, dtype)

    return jax.tree.map(leaf, tree)
