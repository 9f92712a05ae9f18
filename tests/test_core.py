"""jaxgd.core: the pure draw / update step / run that train and sweep drive."""


import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import jaxgd
from jaxgd import core, optim


@pytest.fixture(scope="module")
def trace():
    """A test-only stateful optimizer, registered the way every optimizer is (one definition)
    and removed afterwards: optax.trace (heavy-ball momentum) then the learning rate."""

    def build(learning_rate, *, decay):
        return optax.chain(optax.trace(decay=decay), optax.scale_by_learning_rate(learning_rate))

    @optim.register("trace", torch_name="SGD", build=build, color="black", help={"decay": "momentum"})
    def factory(decay=0.9):
        return optim.Optimizer("trace", (("decay", float(decay)),))

    yield factory
    del optim.REGISTRY["trace"]


@pytest.fixture(scope="module")
def data():
    d = jaxgd.synthetic_data((3.5, -1.5), 4.0, 40, seed=3)
    return np.asarray(d.X), np.asarray(d.y)


@pytest.mark.parametrize("n,b", [(10, 3), (40, 7), (9, 8), (1000, 50), (5, 1)])
def test_batch_indices_are_distinct_in_every_batch_and_cover_the_epoch(n, b):
    # The gathers promise unique indices: the short last batch must not repeat an index.
    plan = core.Plan(n, b, 1)
    order = jaxgd.epoch_orders(4, n, 1)[0]
    idx = np.asarray(core.batch_indices(order, plan))
    assert idx.shape == (plan.num_batches, b)
    assert all(len(set(row)) == b for row in idx)
    np.testing.assert_array_equal(idx.ravel()[:n], np.asarray(order))  # real rows first, in order


def test_pure_core_runs_under_the_callers_jit_and_vmap(data):
    # The README's recipe: draw, init_state and run composed and vmapped over seeds by the
    # caller; each lane equals jaxgd.train with that seed (vmap reassociates sums: 1e-6).
    X, y = data
    plan = core.Plan(n=40, batch_size=7, epochs=3)

    @jax.jit
    def fit(seed, lr):
        params, keys = core.draw(seed, plan, d=2)
        state = core.init_state(params, optim.sgd(), lr)
        return core.run(state, X, y, plan, order_keys=keys)

    states, hist = jax.vmap(fit, in_axes=(0, None))(jnp.arange(3), 0.05)
    for s in range(3):
        ref = jaxgd.train(X, y, batch_size=7, lr=0.05, epochs=3, seed=s)
        np.testing.assert_allclose(np.asarray(hist.epoch_loss[s]), np.asarray(ref.epoch_loss), rtol=1e-6)
        np.testing.assert_allclose(np.asarray(states.params.w[s]), np.asarray(ref.w), rtol=1e-6, atol=1e-6)


@pytest.mark.slow  # over ~5 s on the 2-core machine (benchmarks/suite-times); .ci/run runs it
def test_a_stateful_optimizer_survives_sweep_chunks(data, trace):
    # The momentum buffer of a test-only optax.trace optimizer lives in the carried TrainState:
    # a sweep chunked every 2 epochs (3 chunks, the last one masked) equals the same sweep in
    # one chunk bit for bit, and train run whole up to float32 rounding. vmapped sums
    # reassociate (a few roundings of 6e-8), and momentum 0.9 carries each rounding on for
    # ~10 updates: measured 1.5e-6 relative on losses, so 1e-5.
    X, y = data
    opt = trace(0.9)
    kw = dict(batch_sizes=[40, 7, 1], lrs=[0.01, 0.03], seeds=[0, 5], epochs=5, optimizer=opt, step_loss="none")
    r = jaxgd.sweep(X, y, chunk_epochs=2, **kw)
    whole = jaxgd.sweep(X, y, **kw)
    assert (r.chunk_epochs, whole.chunk_epochs) == (2, 5)
    np.testing.assert_array_equal(r.epoch_loss, whole.epoch_loss)
    np.testing.assert_array_equal(r.w, whole.w)
    for i, bs in enumerate([40, 7, 1]):
        for j, lr in enumerate([0.01, 0.03]):
            for k, seed in enumerate([0, 5]):
                ref = jaxgd.train(X, y, batch_size=bs, lr=lr, epochs=5, seed=seed, optimizer=opt)
                np.testing.assert_allclose(r.epoch_loss[i, j, k], np.asarray(ref.epoch_loss), rtol=1e-5)
                np.testing.assert_allclose(r.w[i, j, k], np.asarray(ref.w)[:, 0], rtol=1e-5, atol=1e-5)
    # The momentum really matters: restarting the buffer at each chunk would give other losses.
    plain = jaxgd.sweep(X, y, batch_sizes=[7], lrs=[0.01], seeds=[0], epochs=5, step_loss="none")
    assert np.max(np.abs(plain.epoch_loss[0, 0, 0] - r.epoch_loss[1, 0, 0])) > 1e-2


def test_a_new_optimizer_hyperparameter_does_not_recompile(data, trace, compile_counter):
    X, y = data
    jax.block_until_ready(jaxgd.train(X, y, batch_size=7, lr=0.01, epochs=2, optimizer=trace(0.9)))
    before = compile_counter()
    a = jaxgd.train(X, y, batch_size=7, lr=0.01, epochs=2, optimizer=trace(0.5))
    b = jaxgd.train(X, y, batch_size=7, lr=0.02, epochs=2, optimizer=trace(0.5))
    jax.block_until_ready((a, b))
    assert compile_counter() == before
    assert float(a.epoch_loss[-1]) != float(b.epoch_loss[-1])


def test_a_run_continues_from_the_state_another_ended_in(data, trace):
    # Two core runs of 2 epochs, the second starting from the first's TrainState (momentum
    # buffer included) with the next epochs' keys, equal train's one run of 4 epochs. Same
    # arithmetic in other programs: float32 rounding may differ, 1e-6 relative.
    X, y = data
    opt = trace()
    whole = jaxgd.train(X, y, batch_size=7, lr=0.02, epochs=4, seed=1, optimizer=opt)
    plan = core.Plan(40, 7, 2)
    run = jax.jit(core.run, static_argnames="plan")
    state = core.init_state(core.initial_params(1, 2), opt, 0.02)
    state, first = run(state, X, y, plan=plan, order_keys=core.order_keys(1, 40, 2))
    state, second = run(state, X, y, plan=plan, order_keys=core.order_keys(1, 40, 2, first_epoch=2))
    np.testing.assert_allclose(np.asarray(first.epoch_loss), np.asarray(whole.epoch_loss[:3]), rtol=1e-6)
    np.testing.assert_allclose(np.asarray(second.epoch_loss), np.asarray(whole.epoch_loss[2:]), rtol=1e-6)
    np.testing.assert_allclose(np.asarray(state.params.w), np.asarray(whole.w), rtol=1e-6)


@pytest.mark.slow  # over ~5 s on the 2-core machine (benchmarks/suite-times); .ci/run runs it
@pytest.mark.parametrize("opt,schedule", [(optim.adam(), optim.step_lr(2, 0.5)),
                                          (optim.sgd(momentum=0.9, dampening=0.1), optim.cosine_annealing_lr(4)),
                                          (optim.rmsprop(momentum=0.5, centered=True), None)],
                         ids=["adam-step_lr", "momentum-cosine", "rmsprop-centered"])
def test_real_optimizer_state_and_schedules_survive_sweep_chunks(data, opt, schedule):
    # Adam's moments, the momentum buffer and the schedule's epoch count live in the carried
    # TrainState: a sweep in chunks of 2 epochs (the last one masked) equals the same sweep in
    # one chunk bit for bit, and each run equals train (vmap reassociates sums: measured 1.5e-6
    # relative with momentum, so 1e-5).
    X, y = data
    kw = dict(batch_sizes=[40, 7, 1], lrs=[0.005, 0.02], seeds=[0, 5], epochs=5, optimizer=opt,
              schedule=schedule, step_loss="none")
    chunked, whole = jaxgd.sweep(X, y, chunk_epochs=2, **kw), jaxgd.sweep(X, y, **kw)
    np.testing.assert_array_equal(chunked.epoch_loss, whole.epoch_loss)
    for i, bs in enumerate([40, 7, 1]):
        for j, lr in enumerate([0.005, 0.02]):
            ref = jaxgd.train(X, y, batch_size=bs, lr=lr, epochs=5, seed=5, optimizer=opt, schedule=schedule)
            np.testing.assert_allclose(chunked.epoch_loss[i, j, 1], np.asarray(ref.epoch_loss), rtol=1e-5)


@pytest.mark.slow  # over ~5 s on the 2-core machine (benchmarks/suite-times); .ci/run runs it
def test_the_schedule_a_state_carries_is_the_one_the_run_uses(data):
    # The review's silent bug: Plan(schedule=step_lr(1, 0.1)) with a state built without it
    # trained at a constant lr (final lr 0.02 instead of 2e-7). The schedule now lives only in
    # the state: a Plan cannot hold one, and core.run with a state built the documented way
    # equals train with that schedule (same arithmetic in other programs: float32, 1e-6).
    X, y = data
    with pytest.raises(TypeError):
        core.Plan(40, 7, 5, schedule=optim.step_lr(1, 0.1))
    plan = core.Plan(40, 7, 5)
    state = core.init_state(core.initial_params(2, 2), optim.sgd(), 0.02, schedule=optim.step_lr(1, 0.1))
    final, hist = jax.jit(core.run, static_argnames="plan")(state, X, y, plan=plan,
                                                            order_keys=core.order_keys(2, 40, 5))
    assert int(final.step) == 5 * plan.num_batches
    lr_now = float(core.learning_rate(final, final.step // plan.num_batches))
    assert lr_now == pytest.approx(0.02 * 0.1**5, rel=1e-6)
    ref = jaxgd.train(X, y, batch_size=7, lr=0.02, epochs=5, seed=2, schedule=optim.step_lr(1, 0.1))
    np.testing.assert_allclose(np.asarray(hist.epoch_loss), np.asarray(ref.epoch_loss), rtol=1e-6)
    constant = jaxgd.train(X, y, batch_size=7, lr=0.02, epochs=5, seed=2)
    assert abs(float(constant.epoch_loss[-1]) - float(ref.epoch_loss[-1])) > 1e-2  # the schedule matters here


def test_a_state_whose_parts_disagree_is_refused_at_trace_time(data):
    # Where a hand-built state could still disagree with itself or the plan, run raises.
    X, y = data
    plan = core.Plan(40, 7, 1)
    keys = core.order_keys(0, 40, 1)
    state = core.init_state(core.initial_params(0, 2), optim.sgd(), 0.02)
    with pytest.raises(ValueError, match="opt_state does not match its optimizer sgd"):
        core.run(state._replace(optimizer=optim.sgd(momentum=0.9)), X, y, plan, order_keys=keys)
    with pytest.raises(ValueError, match="float32 but the plan computes in float64"):
        core.run(state, X, y, core.Plan(40, 7, 1, "float64"), order_keys=keys)
    with pytest.raises(ValueError, match="exactly one of orders"):
        core.run(state, X, y, plan)
    with pytest.raises(ValueError, match="exactly one of orders"):
        core.run(state, X, y, plan, orders=jaxgd.epoch_orders(0, 40, 1), order_keys=keys)


@pytest.mark.slow  # over ~5 s on the 2-core machine (benchmarks/suite-times); .ci/run runs it
def test_orders_are_told_from_keys_by_argument_never_by_dtype(data):
    # The review's risk: any uint32 array passed as orders was taken as Feistel keys. A uint32
    # permutation is a permutation: the same run as its int32 copy, bit for bit.
    X, y = data
    perm = np.asarray(jaxgd.epoch_orders(7, 40, 2))
    a = jaxgd.train(X, y, batch_size=7, lr=0.02, epochs=2, order=perm.astype(np.uint32))
    b = jaxgd.train(X, y, batch_size=7, lr=0.02, epochs=2, order=perm.astype(np.int32))
    np.testing.assert_array_equal(np.asarray(a.epoch_loss), np.asarray(b.epoch_loss))
    plan = core.Plan(40, 7, 2)
    state = core.init_state(core.initial_params(0, 2), optim.sgd(), 0.02)  # train draws init from seed 0
    _, hist = core.run(state, X, y, plan, orders=jnp.asarray(perm, jnp.uint32))
    # core.run here is eager (op by op), train one compiled program: the reductions round
    # differently (measured 1 float32 ulp, 8e-8). Keys misread as orders differed by 1e-3.
    np.testing.assert_allclose(np.asarray(hist.epoch_loss), np.asarray(b.epoch_loss), rtol=1e-6)
