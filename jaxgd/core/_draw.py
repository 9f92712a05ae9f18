"""What a run draws from its seed (initial parameters, per-epoch order keys) and how an epoch's
order becomes its batches."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from jaxgd.core._model import Params, init_params
from jaxgd.core._plan import Plan
from jaxgd.data._orders import epoch_round_keys, permutation, run_keys


def initial_params(seed, d: int, dtype="float32") -> Params:
    """The initial parameters a run draws from ``seed``: the tutorial's w ~ N(0, 0.01^2), b = 0."""
    return init_params(run_keys(seed)[0], d, jnp.dtype(dtype))


def order_keys(seed, n: int, epochs: int, first_epoch=0):
    """The order keys of epochs ``[first_epoch, first_epoch + epochs)`` of a run with ``seed``:
    uint32 (epochs, rounds), the Feistel round keys from which each epoch's permutation of
    range(n) is computed (:func:`orders_from_keys`; ``jaxgd.epoch_orders`` gives the same)."""
    order_key = run_keys(seed)[1]
    return jax.vmap(epoch_round_keys, (None, 0, None))(order_key, first_epoch + jnp.arange(epochs), n)


def draw(seed, plan: Plan, *, d: int, first_epoch=0):
    """What a run draws from ``seed``: ``(initial Params, order keys)``; the keys are None for
    full-batch GD, which needs no order."""
    params = initial_params(seed, d, plan.dtype)
    if plan.full_batch:
        return params, None
    return params, order_keys(seed, plan.n, plan.epochs, first_epoch)


def orders_from_keys(keys, n: int):
    """The permutations of range(n), (epochs, n) int32, that order keys (epochs, rounds) select."""
    return jax.vmap(permutation, (0, None))(keys, n)


def batch_indices(order, plan: Plan):
    """One epoch's order (n,) as the rows of each batch, (num_batches, batch_size).

    A short last batch is filled up to the nominal size with the epoch's first indices: rows of
    earlier batches, so every batch's indices stay distinct (the gathers promise unique
    indices) and the fill rows carry weight 0.
    """
    if plan.padded:
        fill = plan.num_batches * plan.batch_size - plan.n  # < batch_size <= n - batch_size
        order = jnp.concatenate([order, order[:fill]])
    return order.reshape(plan.num_batches, plan.batch_size)


def batch_positions(k, plan: Plan):
    """The positions in the epoch's order of batch ``k``'s rows, (batch_size,): row j of
    :func:`batch_indices` is ``order[batch_positions(j, plan)]``, without the (n,) order."""
    positions = k * plan.batch_size + jnp.arange(plan.batch_size)
    return jnp.where(positions >= plan.n, positions - plan.n, positions) if plan.padded else positions
