"""Behaviour of jaxgd.train on its own: semantics, shapes, determinism, compilation."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxgd
from jaxgd import core
from jaxgd.parity import x64_enabled


@pytest.fixture(scope="module")
def tutorial_data():
    return jaxgd.synthetic_data(seed=0)


def numpy_reference(X, y, batch_size, lr, epochs, w0, b0, orders):
    """The tutorial's arithmetic written out in float64 numpy: the expected result of train."""
    X, y = np.asarray(X, np.float64), np.asarray(y, np.float64).reshape(-1, 1)
    w, b = np.array(w0, np.float64), np.array(b0, np.float64)
    n = len(X)
    ws, bs, epoch_loss, step_loss = [w.copy()], [b.copy()], [((X @ w + b - y) ** 2).sum() / (2 * n)], []
    for e in range(epochs):
        for i in range(0, n, batch_size):
            idx = orders[e][i : i + batch_size]
            r = X[idx] @ w + b - y[idx]
            step_loss.append((r**2).sum() / (2 * batch_size))  # nominal batch size, as the tutorial
            w = w - lr * X[idx].T @ r / batch_size
            b = b - lr * r.sum(0) / batch_size
        ws.append(w.copy()), bs.append(b.copy())
        epoch_loss.append(((X @ w + b - y) ** 2).sum() / (2 * n))
    return np.array(ws), np.array(bs), np.array(epoch_loss), np.array(step_loss)


@pytest.mark.parametrize("n,d,batch_size", [(7, 1, 3), (12, 3, 5), (10, 2, 10), (9, 2, 1), (16, 1, 4)])
def test_train_matches_the_tutorial_arithmetic_in_float64(n, d, batch_size):
    # Same formula, float64 both sides: only summation order differs, ~1e-16 per op.
    with x64_enabled():
        rng = np.random.default_rng(n * 10 + d)
        X, y = rng.normal(size=(n, d)), rng.normal(size=(n,))
        w0, b0 = rng.normal(size=(d, 1)) * 0.1, np.array([0.3])
        orders = np.stack([rng.permutation(n) for _ in range(4)])
        r = jaxgd.train(X, y, batch_size=batch_size, lr=0.05, epochs=4, init=(w0, b0), order=orders)
        ws, bs, el, sl = numpy_reference(X, y, batch_size, 0.05, 4, w0, b0, orders)
        assert r.w.dtype == jnp.float64
    for got, want in ((r.w_history, ws), (r.b_history, bs), (r.epoch_loss, el), (r.step_loss, sl)):
        np.testing.assert_allclose(np.asarray(got), want, rtol=1e-12, atol=1e-12)
    assert r.updates == 4 * -(-n // batch_size) == len(sl)


def test_result_fields_have_the_documented_shapes(tutorial_data):
    r = jaxgd.train(tutorial_data.X, tutorial_data.y, batch_size=300, lr=0.02, epochs=3)
    assert r.w.shape == (1, 1) and r.b.shape == (1,)
    assert r.w_history.shape == (4, 1, 1) and r.b_history.shape == (4, 1)
    assert r.epoch_loss.shape == (4,)
    assert r.updates == 3 * 4 and r.step_loss.shape == (12,)
    assert r.config.variant == "mini-batch" and r.config.batch_size == 300
    np.testing.assert_array_equal(np.asarray(r.w_history[-1]), np.asarray(r.w))
    # Initial parameters as the tutorial draws them: b0 = 0, |w0| ~ 0.01.
    assert float(r.b_history[0, 0]) == 0.0 and abs(float(r.w_history[0, 0, 0])) < 0.05


@pytest.mark.slow  # over ~5 s on the 2-core machine (benchmarks/suite-times); .ci/run runs it
@pytest.mark.parametrize("batch_size,variant,updates", [(None, "GD", 50), (1000, "GD", 50), (1, "SGD", 50_000), (50, "mini-batch", 1000)])
def test_batch_size_selects_the_variant(tutorial_data, batch_size, variant, updates):
    r = jaxgd.train(tutorial_data.X, tutorial_data.y, batch_size=batch_size, lr=0.02, epochs=50)
    assert r.config.variant == variant and r.updates == updates and r.step_loss.shape == (updates,)


def test_the_tutorial_conclusions_hold_on_the_tutorial_run(tutorial_data):
    X, y = np.asarray(tutorial_data.X, np.float64), np.asarray(tutorial_data.y, np.float64)
    A = np.column_stack([X, np.ones(len(X))])
    coef = np.linalg.lstsq(A, y[:, 0], rcond=None)[0]
    best = ((A @ coef - y[:, 0]) ** 2).sum() / (2 * len(X))
    runs = {b: jaxgd.train(tutorial_data.X, tutorial_data.y, batch_size=b, lr=0.02, epochs=50) for b in (1000, 50, 1)}
    final = {b: float(r.epoch_loss[-1]) for b, r in runs.items()}
    # GD at lr 0.02 contracts the error by ~(1 - 0.02)^50: still far from the optimum.
    assert final[1000] > 5 * best
    # mini-batch reaches the optimum to 0.1%; SGD hovers above it.
    assert final[50] < best * 1.001
    assert best < final[1] < best * 1.1
    sgd_tail, mb_tail = np.asarray(runs[1].epoch_loss[-20:]), np.asarray(runs[50].epoch_loss[-20:])
    assert sgd_tail.std() > 10 * mb_tail.std()


def test_same_seed_same_result_bit_for_bit(tutorial_data):
    a = jaxgd.train(tutorial_data.X, tutorial_data.y, batch_size=50, lr=0.02, epochs=5, seed=3)
    b = jaxgd.train(tutorial_data.X, tutorial_data.y, batch_size=50, lr=0.02, epochs=5, seed=3)
    c = jaxgd.train(tutorial_data.X, tutorial_data.y, batch_size=50, lr=0.02, epochs=5, seed=4)
    for f in ("w_history", "b_history", "epoch_loss", "step_loss"):
        np.testing.assert_array_equal(np.asarray(getattr(a, f)), np.asarray(getattr(b, f)))
    assert not np.array_equal(np.asarray(a.step_loss), np.asarray(c.step_loss))


@pytest.mark.slow  # over ~5 s on the 2-core machine (benchmarks/suite-times); .ci/run runs it
@pytest.mark.parametrize("batch_size", [1, 50, 300])
def test_epoch_orders_replay_the_default_run(tutorial_data, batch_size):
    # Passing the published orders and the drawn init must reproduce the default run exactly.
    a = jaxgd.train(tutorial_data.X, tutorial_data.y, batch_size=batch_size, lr=0.02, epochs=4, seed=9)
    init = (a.w_history[0], a.b_history[0])
    b = jaxgd.train(tutorial_data.X, tutorial_data.y, batch_size=batch_size, lr=0.02, epochs=4, seed=123,
                    init=init, order=jaxgd.epoch_orders(9, 1000, 4))
    np.testing.assert_array_equal(np.asarray(a.w_history), np.asarray(b.w_history))
    np.testing.assert_array_equal(np.asarray(a.step_loss), np.asarray(b.step_loss))


def test_gd_ignores_the_order_up_to_summation_order(tutorial_data):
    # GD sums over all samples: any order gives the same update up to float32 rounding
    # (a 1000-term sum: ~1e-6 relative at most).
    a = jaxgd.train(tutorial_data.X, tutorial_data.y, batch_size=None, lr=0.02, epochs=5, seed=1)
    rev = np.tile(np.arange(999, -1, -1), (5, 1))
    b = jaxgd.train(tutorial_data.X, tutorial_data.y, batch_size=None, lr=0.02, epochs=5, seed=1, order=rev)
    np.testing.assert_allclose(np.asarray(a.w_history), np.asarray(b.w_history), rtol=1e-6)


@pytest.mark.slow  # over ~5 s on the 2-core machine (benchmarks/suite-times); .ci/run runs it
def test_input_forms_agree(tutorial_data):
    # numpy or JAX arrays, y as (n,) or (n, 1), nested lists: the same float32 values give
    # the same program and so the same bits.
    X, y = np.asarray(tutorial_data.X), np.asarray(tutorial_data.y)
    ref = jaxgd.train(X, y, batch_size=50, lr=0.02, epochs=3)
    for Xi, yi in ((tutorial_data.X, tutorial_data.y), (X, y[:, 0]), (X.tolist(), y[:, 0].tolist())):
        r = jaxgd.train(Xi, yi, batch_size=50, lr=0.02, epochs=3)
        np.testing.assert_array_equal(np.asarray(r.w_history), np.asarray(ref.w_history))
    r = jaxgd.train(np.round(X * 10).astype(int), y, batch_size=50, lr=1e-4, epochs=1)
    assert r.w.dtype == jnp.float32  # integer features are cast to the default float


def test_unroll_is_only_a_speed_knob(tutorial_data):
    # Unrolling can change XLA's fusion and so float32 rounding: 1e-6 relative covers it.
    a = jaxgd.train(tutorial_data.X, tutorial_data.y, batch_size=7, lr=0.02, epochs=3, unroll=1)
    b = jaxgd.train(tutorial_data.X, tutorial_data.y, batch_size=7, lr=0.02, epochs=3, unroll=4)
    np.testing.assert_allclose(np.asarray(a.w_history), np.asarray(b.w_history), rtol=1e-6)


def test_a_new_learning_rate_or_seed_does_not_recompile(tutorial_data, compile_counter):
    X, y = tutorial_data.X, tutorial_data.y
    first = jaxgd.train(X, y, batch_size=50, lr=0.02, epochs=5, seed=0)
    jax.block_until_ready(first)
    before = compile_counter()
    others = [jaxgd.train(X, y, batch_size=50, lr=lr, epochs=5, seed=s) for lr, s in ((0.05, 0), (0.001, 1), (0.3, 2))]
    jax.block_until_ready(others)
    assert compile_counter() == before
    assert len({float(r.epoch_loss[-1]) for r in [first, *others]}) == 4  # and they really differ
    jaxgd.train(X, y, batch_size=40, lr=0.02, epochs=5)  # a new batch size is a new program
    assert compile_counter() > before


def test_divergence_is_reported_as_non_finite_not_raised(tutorial_data):
    # Too large a learning rate diverges; that is a result, not an input error.
    # One meaning of divergence (analysis.divergence): non-finite, or above 1000x the initial loss.
    with pytest.warns(RuntimeWarning, match="training diverged at epoch 3"):
        r = jaxgd.train(tutorial_data.X, tutorial_data.y, batch_size=None, lr=5.0, epochs=200)
    loss = np.asarray(r.epoch_loss)
    assert not np.isfinite(loss[-1])
    assert r.diverged_at == 3 and loss[2] <= 1e3 * loss[0] < loss[3]
    ok = jaxgd.train(tutorial_data.X, tutorial_data.y, batch_size=None, lr=0.02, epochs=2)
    assert ok.diverged_at is None


def test_update_step_is_one_sgd_step():
    params = core.Params(jnp.array([[1.0], [-1.0]]), jnp.array([0.5]))
    X = jnp.array([[1.0, 2.0], [3.0, -1.0], [0.0, 1.0]])
    y = jnp.array([[1.0], [2.0], [-1.0]])
    sgd = jaxgd.optim.sgd()
    state = core.init_state(params, sgd, 0.1)
    new, loss = jax.jit(core.update_step)(state, core.Batch(X, y), state.lr)
    r = np.asarray(X) @ np.asarray(params.w) + np.asarray(params.b) - np.asarray(y)
    np.testing.assert_allclose(float(loss), (r**2).sum() / 6, rtol=1e-6)
    np.testing.assert_allclose(np.asarray(new.params.w), np.asarray(params.w) - 0.1 * np.asarray(X).T @ r / 3, rtol=1e-6)
    np.testing.assert_allclose(np.asarray(new.params.b), np.asarray(params.b) - 0.1 * r.sum(0) / 3, rtol=1e-6)
    # The learning rate lives in the state: a new one is a new state, not a new program.
    assert float(new.lr) == pytest.approx(0.1) and int(new.step) == 1


@pytest.mark.parametrize("weighted", [False, True])
def test_closed_form_gradient_equals_autodiff(weighted):
    # core.loss carries a hand-written gradient (custom_vjp) for speed; it must equal autodiff
    # of the same definition (core.plain_loss), for the parameters and for the batch.
    # float64, so only rounding order differs: 1e-13 relative.
    with x64_enabled():
        rng = np.random.default_rng(1)
        params = core.Params(jnp.asarray(rng.normal(size=(3, 1))), jnp.asarray(rng.normal(size=(1,))))
        weight = jnp.asarray((np.arange(7) < 5).astype(float)[:, None]) if weighted else None
        batch = core.Batch(jnp.asarray(rng.normal(size=(7, 3))), jnp.asarray(rng.normal(size=(7, 1))), weight, 9)
        loss, grads = jax.value_and_grad(core.loss, argnums=(0, 1))(params, batch)
        ref_loss, ref_grads = jax.value_and_grad(core.plain_loss, argnums=(0, 1))(params, batch)
    np.testing.assert_allclose(float(loss), float(ref_loss), rtol=1e-13)
    leaves, ref_leaves = jax.tree.leaves(grads), jax.tree.leaves(ref_grads)
    assert len(leaves) == len(ref_leaves) == (5 if weighted else 4)  # w, b, X, y (, weight)
    for g, ref in zip(leaves, ref_leaves):
        assert g.shape == ref.shape
        np.testing.assert_allclose(np.asarray(g), np.asarray(ref), rtol=1e-13, atol=1e-15)


def test_batch_size_is_static_metadata_not_a_traced_leaf():
    batch = core.Batch(jnp.ones((4, 2)), jnp.ones((4, 1)), None, 9)
    assert len(jax.tree.leaves(batch)) == 2
    assert jax.tree.map(lambda a: a, batch).size == 9
    r = jaxgd.train(np.ones((6, 1), np.float32), np.ones(6), batch_size=4, lr=0.1, epochs=1)
    assert len(jax.tree.leaves(r)) == 6  # the arrays; updates and config are metadata


def test_defaults_are_the_tutorial_settings(tutorial_data):
    # train(X, y) is full-batch GD at the tutorial's lr 0.02 for its 50 epochs.
    r = jaxgd.train(tutorial_data.X, tutorial_data.y)
    assert r.config[:5] == (1000, 0.02, 50, 0, "GD") and r.config.optimizer == jaxgd.optim.sgd()
    ref = jaxgd.train(tutorial_data.X, tutorial_data.y, batch_size=None, lr=0.02, epochs=50, seed=0)
    np.testing.assert_array_equal(np.asarray(r.epoch_loss), np.asarray(ref.epoch_loss))


def test_float64_input_without_x64_warns_once(monkeypatch):
    from jaxgd.drivers import _validate

    monkeypatch.setattr(_validate, "_warned_float64", False)
    X, y = np.ones((5, 1)), np.ones(5)  # numpy float64
    with pytest.warns(UserWarning, match="JAX's 64-bit mode is off"):
        r = jaxgd.train(X, y, batch_size=2, lr=0.1, epochs=1)
    assert r.w.dtype == jnp.float32
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a second float64 call stays quiet
        jaxgd.train(X, y, batch_size=2, lr=0.1, epochs=1)
        jaxgd.train(X.tolist(), y.tolist(), batch_size=2, lr=0.1, epochs=1)  # lists never warn


def test_quiet_divergence_silences_only_trains_divergence_warning(tutorial_data):
    # The one switch the claims, studies, parity check and commands use to silence a divergence
    # they report themselves: other warnings still show, and the caller's filters come back.
    import warnings

    from jaxgd.drivers._runs import quiet_divergence

    before = list(warnings.filters)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with quiet_divergence():
            r = jaxgd.train(tutorial_data.X, tutorial_data.y, batch_size=None, lr=5.0, epochs=5)
            warnings.warn("another problem", RuntimeWarning)
    assert r.diverged_at is not None
    assert [str(w.message) for w in caught] == ["another problem"]
    assert warnings.filters == before


def test_timed_train_returns_the_run_and_its_times(tutorial_data):
    # The one timing loop (jaxgd compare/train, the claims' and batch-size study's time per
    # update): the run itself, the median of `repeats` warm calls, the first call's time.
    from jaxgd.drivers._runs import timed_train

    kw = dict(batch_size=100, lr=0.02, epochs=2, seed=1)
    r, warm, first = timed_train(tutorial_data.X, tutorial_data.y, repeats=3, **kw)
    np.testing.assert_array_equal(r.epoch_loss, jaxgd.train(tutorial_data.X, tutorial_data.y, **kw).epoch_loss)
    assert 0 < warm and 0 < first
