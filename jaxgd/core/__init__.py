"""The pure core of jaxgd, for those who build on it: a draw, an update step and a run.

``jaxgd.train`` and ``jaxgd.sweep`` are two drivers of these functions; every function here is
pure (no host work, no validation, no printing) and works under your own ``jax.jit`` and
``jax.vmap``::

    import jax, jax.numpy as jnp, jaxgd
    from jaxgd import core, optim

    plan = core.Plan(n=1000, batch_size=50, epochs=50)
    @jax.jit
    def fit(X, y, seed, lr, optimizer, schedule):
        params, keys = core.draw(seed, plan, d=X.shape[1])
        state = core.init_state(params, optimizer, lr, schedule=schedule)
        return core.run(state, X, y, plan, order_keys=keys)       # (final TrainState, History)
    data = jaxgd.synthetic_data()
    fit(data.X, data.y, 0, 0.02, optim.sgd(), optim.step_lr(10, 0.5))
    jax.vmap(fit, in_axes=(None, None, 0, None, None, None))(     # 8 seeds at once
        data.X, data.y, jnp.arange(8), 0.02, optim.adam(), optim.constant())

Data flow: ``draw`` (seed -> initial parameters, per-epoch order keys) -> ``init_state``
(parameters, optimizer spec, learning rate, schedule spec -> ``TrainState``) -> ``run`` (state,
data, orders, static ``Plan`` -> final state, ``History``), which scans :func:`update_step` over
every batch of every epoch. ``update_step`` is the one place the arithmetic of an update lives;
the optimizer it applies is the spec the state carries.

One spec, one state. The optimizer and schedule specs are pytrees (``jaxgd.optim``): their
structure is static, their values are leaves. The ``TrainState`` carries both specs, the base
learning rate and the one update counter, so nothing a run needs can disagree with the state
it runs from; the ``Plan`` holds only the shape of the run (sizes, dtype, unroll, trace grid).

Two recordings are optional: ``run(..., validation=(X_val, y_val))`` adds the held-out loss at
each epoch's parameters (``History.val_loss``), and ``Plan(record_every=R)`` a :class:`Trace`
on a grid of samples processed (:func:`trace_grid`), built from each update's parameters.
"""

from jaxgd.core._draw import batch_indices, draw, initial_params, order_keys, orders_from_keys
from jaxgd.core._model import Batch, Params, init_params, loss, plain_loss, predict
from jaxgd.core._plan import Plan, default_unroll, trace_grid
from jaxgd.core._run import History, Trace, run
from jaxgd.core._state import TrainState, init_state, learning_rate, update_step

__all__ = ["Batch", "History", "Params", "Plan", "Trace", "TrainState", "batch_indices", "default_unroll",
           "draw", "init_state", "init_params", "initial_params", "learning_rate", "loss", "order_keys", "plain_loss",
           "orders_from_keys", "predict", "run", "trace_grid", "update_step"]
