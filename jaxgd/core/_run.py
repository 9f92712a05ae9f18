"""The run: a ``lax.scan`` of the update step over every batch of every epoch, and what it
records (``History``, ``Trace``)."""

from __future__ import annotations

import functools
from typing import Any, NamedTuple, Optional

import jax
import jax.numpy as jnp

from jaxgd._errors import InputError
from jaxgd.core._draw import batch_indices, batch_positions
from jaxgd.core._model import Batch, Params, loss
from jaxgd.core._plan import Plan, default_unroll, trace_grid
from jaxgd.core._state import TrainState, _check_state, _stateful, learning_rate, update_step
from jaxgd.data._orders import permutation, permutation_at


class Trace(NamedTuple):
    """The run recorded on a grid of samples processed (``Plan.record_every``): point k is the
    state after the last update whose cumulative samples processed are <= ``samples[k]``.

    The grid is ``0, R, 2R, ..`` up to ``epochs * n``, plus ``epochs * n`` itself when it is not
    on the grid (:func:`trace_grid`); it is the same for every batch size, so variants can be
    compared at the same points.
    """

    samples: Any  # (K,) samples processed at each point
    updates: Any  # (K,) updates done at each point
    w: jax.Array  # (K, d, 1) the parameters in force there
    b: jax.Array  # (K, 1)
    loss: jax.Array  # (K,) full-data training loss at those parameters
    val_loss: Optional[jax.Array] = None  # (K,) held-out loss there (with validation data)


class History(NamedTuple):
    """What a run records. Index 0 of the per-epoch fields is the state the run started from.

    ``val_loss`` (with validation data) and ``trace`` (with ``Plan.record_every``) are None
    otherwise.
    """

    w: jax.Array  # (epochs + 1, d, 1)
    b: jax.Array  # (epochs + 1, 1)
    epoch_loss: jax.Array  # (epochs + 1,) full-data loss at the start and after each epoch
    step_loss: jax.Array  # (epochs * num_batches,) each update's batch loss, before the update
    val_loss: Optional[jax.Array] = None  # (epochs + 1,) held-out loss at the same parameters
    trace: Optional[Trace] = None


# Losses at many parameters are evaluated a block of parameters at a time, so the program never
# holds more than ~this many residuals at once (a plain vmap over K trace points would hold
# K x n: 200 MB for the tutorial's SGD traced every sample, and ran 10x slower on CPU).
_LOSS_BLOCK_ELEMENTS = 2**18


def _losses_at(batch_loss, params: Params, rows: int):
    """``batch_loss`` at each of the stacked ``params`` (leading axis K), in blocks."""
    block = max(1, _LOSS_BLOCK_ELEMENTS // rows)
    if params.w.shape[0] <= block:
        return jax.vmap(batch_loss)(params)
    return jax.lax.map(batch_loss, params, batch_size=block)


def _select(keep, new, old):
    return jax.tree.map(lambda a, b: jnp.where(keep, a, b), new, old)


def run(state: TrainState, X, y, plan: Plan, *, orders=None, order_keys=None, active_epochs=None,
        validation=None, axis_name=None):
    """``plan.epochs`` epochs from ``state``: ``(final TrainState, History)``.

    Args:
      state: the starting ``TrainState`` (from :func:`init_state`, or a previous run's).
      X: the features, (rows, d); rows beyond ``plan.n`` (a mesh's padding) carry weight 0
        and are never visited.
      y: the targets, (rows,) or (rows, 1).
      plan: the static ``Plan``.
      orders: the per-epoch sample orders as (epochs, n) permutations of range(n), or
      order_keys: the per-epoch order keys, (epochs, rounds) uint32 from :func:`draw` (the
        permutations are then computed in the program). Exactly one of the two, except for
        full-batch GD, which needs neither (the order only permutes its sum).
      active_epochs: optional traced count: epochs from that one on leave the state unchanged
        (so one program serves a shorter last chunk of a sweep). Their history entries hold
        the final state.
      validation: optional ``(X_val, y_val)``, (m, d) and (m,) or (m, 1): the held-out loss
        1/(2m) sum (y_hat - y)^2 at the start and after every epoch goes to
        ``History.val_loss`` (and to the trace's ``val_loss``).

      axis_name: optional mesh axis (or tuple of axes) over which X and y are sharded by rows,
        for a caller inside ``shard_map``: X, y are then this device's block of the
        ``plan.row_count`` rows (device i holds rows i*len(X) onwards). Each device gathers only
        the rows of each batch it holds (the others weighted 0), and one all-reduce of d + 2
        numbers per update (:func:`update_step`) completes the gradient and the batch loss;
        the full-data losses take one more per evaluation. Batch indices are computed a batch
        at a time from ``order_keys`` (``permutation_at``: O(batch) memory, not O(n)). The
        validation data, orders and state are replicated. Results equal the unsharded run up
        to summation order.

    With ``plan.record_every`` set, ``History.trace`` holds the run on :func:`trace_grid`'s
    points: each update's parameters are kept (memory O(updates * d)), the grid's gathered and
    the full-data loss evaluated there (K more passes over the data). Without it the program
    keeps no per-update parameters.

    Raises ValueError (at trace time) when the state's parts disagree (its opt_state is not
    its optimizer's, its dtype is not the plan's) or the orders are ambiguous or missing.
    """
    _check_state(state, plan)
    if not plan.full_batch:
        if (orders is None) == (order_keys is None):
            raise InputError("run needs exactly one of orders= (permutations) and order_keys= (from core.draw) "
                             f"for batch_size {plan.batch_size} < n {plan.n}")
        expected = (plan.epochs, plan.n)
        if orders is not None and tuple(orders.shape) != expected:
            raise InputError(f"orders must be (epochs, n) = {expected} permutations, got shape {tuple(orders.shape)}")
    unroll = plan.unroll or default_unroll(plan.batch_size, plan.n, _stateful(state))
    X = jnp.asarray(X, plan.dtype)
    rows = plan.row_count if axis_name is None else X.shape[0]  # the rows this device holds
    y = jnp.asarray(y, plan.dtype).reshape(rows, 1)
    offset = 0 if axis_name is None else jax.lax.axis_index(axis_name) * rows  # its first row's index
    row_weight = None
    if plan.row_count != plan.n:
        row_weight = (offset + jnp.arange(rows) < plan.n).astype(X.dtype)[:, None]
    full = Batch(X, y, row_weight, plan.n)

    def full_loss(params):
        value = loss(params, full)
        return value if axis_name is None else jax.lax.psum(value, axis_name)
    val_loss = None
    if validation is not None:
        X_val = jnp.asarray(validation[0], plan.dtype)
        val = Batch(X_val, jnp.asarray(validation[1], plan.dtype).reshape(X_val.shape[0], 1), None, X_val.shape[0])
        val_loss = functools.partial(_losses_at, functools.partial(loss, batch=val), rows=X_val.shape[0])
    tracing = plan.record_every > 0
    epoch_ids = jnp.arange(plan.epochs)

    def masked(e, new, old):
        return new if active_epochs is None else _select(e < active_epochs, new, old)

    if plan.full_batch:
        # GD: one update per epoch over every sample. The order only permutes the summation,
        # so no gather; the update's loss is the full-data loss before it, i.e. the epoch loss.
        def epoch(state, e):
            new, step_loss = update_step(state, full, learning_rate(state, state.step), axis_name)
            new = masked(e, new, state)
            return new, (new.params, step_loss)

        final, (params, losses) = jax.lax.scan(epoch, state, epoch_ids)
        epoch_loss = jnp.concatenate([losses, full_loss(final.params)[None]])
        step_loss = losses
    else:
        b, nb = plan.batch_size, plan.num_batches
        weight = None
        if plan.padded and axis_name is None:  # the fill rows of the short last batch: weight 0
            weight = (jnp.arange(nb * b) < plan.n).astype(X.dtype).reshape(nb, b, 1)

        def gather(idx, w):
            """The batch at global row indices ``idx`` (this device's rows of it, sharded)."""
            if axis_name is None:
                # Orders are validated (or drawn) permutations and batch_indices keeps each
                # batch's indices distinct: skip the bounds handling and promise uniqueness.
                Xb = X.at[idx].get(mode="promise_in_bounds", unique_indices=True)
                yb = y.at[idx].get(mode="promise_in_bounds", unique_indices=True)
            else:  # the rows held elsewhere: any local row, weighted 0
                local = idx - offset
                held = ((local >= 0) & (local < rows)).astype(X.dtype)[:, None]
                local = jnp.clip(local, 0, rows - 1)
                Xb = X.at[local].get(mode="promise_in_bounds")
                yb = y.at[local].get(mode="promise_in_bounds")
                w = held if w is None else held * w
            # Materialise the gathered rows once: fused into each consumer, XLA:CPU would
            # redo the random-access gather for the forward and again for the gradient.
            return Batch(jax.lax.optimization_barrier(Xb), yb, w, b)

        def batch_step(carry, xs):
            state, lr, order, k = carry
            if axis_name is None:
                idx, w = xs
            else:  # batch k's indices and fill weights, computed here: O(batch), not O(n)
                positions = batch_positions(k, plan)
                idx = permutation_at(order, plan.n, positions) if order_keys is not None else order[positions]
                w = (k * b + jnp.arange(b) < plan.n).astype(X.dtype)[:, None] if plan.padded else None
                k = k + 1
            new, loss_value = update_step(state, gather(idx, w), lr, axis_name)
            # With a trace, every update's parameters are a scan output too.
            return (new, lr, order, k), ((loss_value, new.params) if tracing else loss_value)

        def epoch(state, xs):
            e, order = xs
            if axis_name is not None:  # each batch's indices computed when it is drawn (batch_step)
                xs, k = None, jnp.zeros((), jnp.int32)
            else:
                if order_keys is not None:  # order keys: the permutation is computed here
                    order = permutation(order, plan.n)
                xs, order, k = (batch_indices(order, plan), weight), None, None
            # The lr in force is the schedule's at this epoch: computed once per epoch.
            lr = learning_rate(state, state.step // nb)
            (new, *_), out = jax.lax.scan(batch_step, (state, lr, order, k), xs, length=nb, unroll=unroll)
            new = masked(e, new, state)
            if not tracing:
                return new, (new.params, out, full_loss(new.params))
            losses, stepped = out  # a masked epoch's updates: the state it leaves unchanged
            stepped = masked(e, stepped, jax.tree.map(lambda p: jnp.broadcast_to(p, (nb, *p.shape)), state.params))
            return new, (new.params, losses, full_loss(new.params), stepped)

        final, (params, losses, after, *stepped) = jax.lax.scan(
            epoch, state, (epoch_ids, orders if order_keys is None else order_keys))
        epoch_loss = jnp.concatenate([full_loss(state.params)[None], after])
        step_loss = losses.reshape(-1)

    w = jnp.concatenate([state.params.w[None], params.w])
    b_hist = jnp.concatenate([state.params.b[None], params.b])
    history = History(w, b_hist, epoch_loss, step_loss)
    if val_loss is not None:
        history = history._replace(val_loss=val_loss(Params(w, b_hist)))
    if tracing:
        samples, updates = trace_grid(plan)
        if plan.full_batch:  # GD's updates are its epochs: the history holds every one
            per_update = Params(w, b_hist)
        else:
            per_update = jax.tree.map(lambda p0, p: jnp.concatenate([p0[None], p.reshape(-1, *p.shape[2:])]),
                                      state.params, stepped[0])
        at = jax.tree.map(lambda p: p[updates], per_update)  # static indices
        history = history._replace(trace=Trace(
            jnp.asarray(samples), jnp.asarray(updates), at.w, at.b, _losses_at(full_loss, at, rows),
            None if val_loss is None else val_loss(at)))
    return final, history
