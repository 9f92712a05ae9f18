"""The update step: the one place where the arithmetic of a parameter update lives."""

from __future__ import annotations

import jax
import optax

from ._model import loss_and_grad


def optimizer(lr):
    """``optax.sgd`` with the learning rate held in the optimizer state.

    ``inject_hyperparams`` makes ``lr`` a runtime value of the state rather than a constant
    baked into the compiled program, so a new learning rate never recompiles.
    optax.sgd applies ``p + (-lr * g)``, which equals the seed's ``p -= lr * p.grad`` exactly.
    """
    return optax.inject_hyperparams(optax.sgd)(learning_rate=lr)


def _update_step(params, opt_state, batch):
    loss, grads = loss_and_grad(params, batch)
    # The optimizer is stateless apart from its injected hyperparameters; the learning rate
    # comes from ``opt_state``, so the transformation can be built with a placeholder.
    updates, opt_state = optimizer(0.0).update(grads, opt_state, params)
    return optax.apply_updates(params, updates), opt_state, loss


update_step = jax.jit(_update_step)
update_step.__doc__ = """One gradient-descent update: ``(params, opt_state, batch) -> (params, opt_state, loss)``.

``loss`` is the batch loss at the parameters *before* the update (the seed's ``l.sum()``).
GD, SGD and mini-batch SGD differ only in the batch they pass here. Build ``opt_state`` with
``jaxgd.optimizer(lr).init(params)``.
"""
