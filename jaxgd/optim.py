"""Optimizers as hashable specifications that build optax transformations.

Interim: plain SGD only (the tutorial's ``sgd_optimizer``); the torch.optim family lands on top
of this interface.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import optax

NAMES = ("sgd",)


@dataclasses.dataclass(frozen=True)
class Optimizer:
    """A hashable optimizer specification.

    ``name`` and ``options`` fix the structure of the compiled program; ``hyperparams`` (floats
    other than the learning rate) are runtime values that live in the optimizer state.
    """

    name: str
    hyperparams: tuple[tuple[str, Any], ...] = ()
    options: tuple[tuple[str, Any], ...] = ()

    def static(self) -> "Optimizer":
        """This spec with every hyperparameter value replaced by None: a compiled program's key."""
        return dataclasses.replace(self, hyperparams=tuple((k, None) for k, _ in self.hyperparams))

    def transformation(self, learning_rate, **hyperparams) -> optax.GradientTransformation:
        return _BUILDERS[self.name](learning_rate, **hyperparams, **dict(self.options))


def _sgd(learning_rate):
    # optax.sgd applies p + (-lr * g): bit for bit the tutorial's p -= lr * p.grad.
    return optax.sgd(learning_rate)


_BUILDERS = {"sgd": _sgd}


def sgd() -> Optimizer:
    """Plain SGD, ``p <- p - lr * g``: the tutorial's ``sgd_optimizer``."""
    return Optimizer("sgd")


def get(spec) -> Optimizer:
    """An ``Optimizer`` from a name (its defaults) or a spec (returned as is)."""
    if isinstance(spec, Optimizer):
        return spec
    if isinstance(spec, str) and spec.lower() in NAMES:
        return globals()[spec.lower()]()
    raise ValueError(f"unknown optimizer {spec!r}; choose one of {', '.join(NAMES)} or pass an optim spec")
