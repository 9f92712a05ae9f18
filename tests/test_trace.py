"""The trace (record_every=): the grid, its parameters and losses, in train and sweep."""

import numpy as np
import pytest

import jaxgd
from jaxgd import core
from numpy_reference import numpy_loss  # tests/numpy_reference.py

N, M, EPOCHS, LR, SEED = 40, 30, 3, 0.05, 2

# Float32 tolerance of losses at the trace's parameters: a float32 sum over 40 (or 30) rows,
# <= 40 roundings of 6e-8 relative each, against float64 numpy at the same parameters:
# rtol 1e-5 bounds it; any wrong point (another update's parameters) is off by far more.
RTOL = 1e-5


@pytest.fixture(scope="module")
def data():
    d = jaxgd.synthetic_data((3.5, -1.5), 4.0, N, seed=3, num_validation=M)
    return tuple(np.asarray(a) for a in (d.X, d.y, d.X_val, d.y_val))



def replay(X, y, w0, b0, batch_size, epochs, seed, lr):
    """The tutorial's loop in float64 numpy, in jaxgd's epoch orders: every update's (w, b),
    index 0 the initial ones. The short last batch is divided by the nominal batch size."""
    X, y = np.asarray(X, np.float64), np.asarray(y, np.float64).reshape(-1, 1)
    n = X.shape[0]
    orders = np.asarray(jaxgd.epoch_orders(seed, n, epochs)) if batch_size < n else [np.arange(n)] * epochs
    w, b = np.asarray(w0, np.float64), np.asarray(b0, np.float64)
    ws, bs = [w], [b]
    for order in orders:
        for start in range(0, n, batch_size):
            idx = order[start:start + batch_size]
            r = X[idx] @ w + b - y[idx]
            w = w - lr * X[idx].T @ r / batch_size
            b = b - lr * r.sum(axis=0) / batch_size
            ws.append(w)
            bs.append(b)
    return np.stack(ws), np.stack(bs)


def test_grid_samples_and_updates():
    # n = 10, batch 3: updates end at samples 3, 6, 9, 10 of each epoch
    plan = core.Plan(10, 3, 2, record_every=4)
    samples, updates = core.trace_grid(plan)
    assert samples.dtype == np.int64 and updates.dtype == np.int64
    assert samples.tolist() == [0, 4, 8, 12, 16, 20]
    assert updates.tolist() == [0, 1, 2, 4, 6, 8]
    # the run's end is a point even off the grid
    samples, updates = core.trace_grid(core.Plan(10, 3, 2, record_every=6))
    assert samples.tolist() == [0, 6, 12, 18, 20] and updates.tolist() == [0, 2, 4, 6, 8]
    # GD: one update per n samples
    samples, updates = core.trace_grid(core.Plan(10, 10, 3, record_every=4))
    assert samples.tolist() == [0, 4, 8, 12, 16, 20, 24, 28, 30]
    assert updates.tolist() == [0, 0, 0, 1, 1, 2, 2, 2, 3]


@pytest.mark.slow  # over ~5 s on the 2-core machine (benchmarks/suite-times); .ci/run runs it
@pytest.mark.parametrize("batch_size", [None, 8, 7, 1])
def test_train_trace_shapes_and_grid(data, batch_size):
    X, y, Xv, yv = data
    r = jaxgd.train(X, y, batch_size=batch_size, lr=LR, epochs=EPOCHS, seed=SEED, record_every=15,
                    validation=(Xv, yv))
    t = r.trace
    assert isinstance(t, jaxgd.Trace)
    assert t.samples.tolist() == list(range(0, EPOCHS * N, 15)) + [EPOCHS * N]  # 0, 15, .., 105, 120
    bs = batch_size or N
    nb = -(-N // bs)
    assert t.updates.tolist() == [(s // N) * nb + (s % N) // bs for s in t.samples.tolist()]
    assert t.updates[-1] == r.updates
    K = len(t.samples)
    assert t.w.shape == (K, 2, 1) and t.b.shape == (K, 1) and t.loss.shape == (K,) and t.val_loss.shape == (K,)
    np.testing.assert_allclose(t.loss, numpy_loss(X, y, t.w, t.b), rtol=RTOL)
    np.testing.assert_allclose(t.val_loss, numpy_loss(Xv, yv, t.w, t.b), rtol=RTOL)


@pytest.mark.slow  # over ~5 s on the 2-core machine (benchmarks/suite-times); .ci/run runs it
@pytest.mark.parametrize("batch_size", [None, 8, 7, 1])
def test_trace_equals_history_at_epoch_boundaries(data, batch_size):
    X, y = data[:2]
    r = jaxgd.train(X, y, batch_size=batch_size, lr=LR, epochs=EPOCHS, seed=SEED, record_every=N // 2)
    t = r.trace
    at_epochs = np.flatnonzero(t.samples % N == 0)
    assert (t.samples[at_epochs] // N).tolist() == list(range(EPOCHS + 1))
    # the same parameters, gathered from the same run: exactly equal
    np.testing.assert_array_equal(t.w[at_epochs], r.w_history)
    np.testing.assert_array_equal(t.b[at_epochs], r.b_history)
    np.testing.assert_allclose(t.loss[at_epochs], r.epoch_loss, rtol=RTOL)


@pytest.mark.slow  # over ~5 s on the 2-core machine (benchmarks/suite-times); .ci/run runs it
@pytest.mark.parametrize("batch_size, record_every", [(None, 40), (8, 8), (1, 1), (7, 1)])
def test_trace_holds_every_update(data, batch_size, record_every):
    # R = batch size (when it divides n) or R = 1: every update's parameters, in order.
    X, y = data[:2]
    r = jaxgd.train(X, y, batch_size=batch_size, lr=LR, epochs=EPOCHS, seed=SEED, record_every=record_every)
    t = r.trace
    assert np.array_equal(np.unique(t.updates), np.arange(r.updates + 1))
    ws, bs = replay(X, y, r.w_history[0], r.b_history[0], batch_size or N, EPOCHS, SEED, LR)
    # float32 run against a float64 replay: each update rounds at ~6e-8 relative and the
    # contraction keeps the errors from adding up (measured <= 5e-7 over these <= 120
    # updates); atol 2e-5 leaves margin below what one update moves the parameters
    # (lr * grad, up to 0.7 here), so an off-by-one update fails.
    np.testing.assert_allclose(t.w, ws[t.updates], atol=2e-5)
    np.testing.assert_allclose(t.b, bs[t.updates], atol=2e-5)


def test_gd_trace_is_a_step_function(data):
    X, y = data[:2]
    r = jaxgd.train(X, y, lr=LR, epochs=EPOCHS, seed=SEED, record_every=10)
    t = r.trace
    np.testing.assert_array_equal(t.w, r.w_history[t.samples // N])


def test_a_long_trace_is_exact(data):
    # 2000 rows traced every sample: K = 6001 points, more than the program evaluates at once
    # (it holds ~2**18 residuals at a time), so the losses are computed block by block.
    d = jaxgd.synthetic_data((3.5, -1.5), 4.0, 2000, seed=4, num_validation=50)
    X, y, Xv, yv = map(np.asarray, (d.X, d.y, d.X_val, d.y_val))
    r = jaxgd.train(X, y, lr=0.3, epochs=3, record_every=1, validation=(Xv, yv))
    t = r.trace
    assert len(t.samples) == 6001
    np.testing.assert_array_equal(t.w, r.w_history[t.updates])
    # float32 sums over 2000 rows: <= 2000 roundings of 6e-8, ~1e-4 relative at the very worst;
    # pairwise summation keeps it far lower (measured 1.2e-7). rtol 1e-4.
    np.testing.assert_allclose(t.loss, numpy_loss(X, y, t.w, t.b), rtol=1e-4)
    np.testing.assert_allclose(t.val_loss, numpy_loss(Xv, yv, t.w, t.b), rtol=RTOL)


@pytest.mark.slow  # over ~5 s on the 2-core machine (benchmarks/suite-times); .ci/run runs it
@pytest.mark.parametrize("batch_size", [None, 7])
def test_trace_does_not_change_training(data, batch_size):
    X, y = data[:2]
    plain = jaxgd.train(X, y, batch_size=batch_size, lr=LR, epochs=EPOCHS, seed=SEED)
    traced = jaxgd.train(X, y, batch_size=batch_size, lr=LR, epochs=EPOCHS, seed=SEED, record_every=5)
    for f in ("w_history", "b_history", "epoch_loss", "step_loss"):
        np.testing.assert_array_equal(getattr(plain, f), getattr(traced, f))
    assert plain.trace is None


@pytest.mark.parametrize("bad", [0, -3, 1.5, True, "10", None])
def test_bad_record_every_is_a_value_error(data, bad):
    X, y = data[:2]
    if bad is None:  # None means off, not an error
        assert jaxgd.train(X, y, batch_size=8, epochs=1, record_every=bad).trace is None
        return
    with pytest.raises(ValueError, match="record_every must be a positive integer"):
        jaxgd.train(X, y, batch_size=8, epochs=1, record_every=bad)
    with pytest.raises(ValueError, match="record_every must be a positive integer"):
        jaxgd.sweep(X, y, batch_sizes=[8], lrs=[0.1], seeds=1, epochs=1, record_every=bad)


# Sweep: one grid for every batch size; chunk_epochs=2 of 5 epochs with R = 15 (n = 40): chunks
# hold a multiple of 15 / gcd(40, 15) = 3 epochs, so 3 + a masked last chunk of 2 valid epochs,
# whose end (200 samples) is off the grid (195, 210).
SWEEP_EPOCHS = 5


@pytest.fixture(scope="module")
def swept(data):
    X, y, Xv, yv = data
    kw = dict(batch_sizes=[None, 7, 1], lrs=[0.05, 0.2], seeds=[0, 3], epochs=SWEEP_EPOCHS,
              validation=(Xv, yv), record_every=15)
    return jaxgd.sweep(X, y, chunk_epochs=2, **kw), jaxgd.sweep(X, y, **kw)


@pytest.mark.slow  # over ~5 s on the 2-core machine (benchmarks/suite-times); .ci/run runs it
def test_sweep_trace_lanes_equal_train(data, swept):
    X, y, Xv, yv = data
    s, whole = swept
    assert s.chunk_epochs == 3 and whole.chunk_epochs == SWEEP_EPOCHS
    K = len(s.trace_samples)
    assert s.trace_samples.tolist() == list(range(0, 200, 15)) + [200]
    assert s.trace_loss.shape == s.trace_val_loss.shape == s.trace_b.shape == (3, 2, 2, K)
    assert s.trace_w.shape == (3, 2, 2, X.shape[1], K) and s.trace_updates.shape == (3, K)
    for i, bs in enumerate(s.batch_sizes):
        for j, lr in enumerate(s.lrs):
            for k, seed in enumerate(s.seeds):
                t = jaxgd.train(X, y, batch_size=int(bs), lr=float(lr), epochs=SWEEP_EPOCHS, seed=int(seed),
                                validation=(Xv, yv), record_every=15)
                np.testing.assert_array_equal(s.trace_samples, t.trace.samples)
                np.testing.assert_array_equal(s.trace_updates[i], t.trace.updates)
                # test_sweep.py's tolerance: vmapping reassociates the batch sums
                np.testing.assert_allclose(s.trace_loss[i, j, k], t.trace.loss, rtol=1e-6)
                np.testing.assert_allclose(s.trace_val_loss[i, j, k], t.trace.val_loss, rtol=1e-6)
                # the parameters there: the same reassociation, and |w|, |b| pass near 0 early on
                np.testing.assert_allclose(s.trace_w[i, j, k], t.trace.w[..., 0].T, rtol=1e-6, atol=1e-7)
                np.testing.assert_allclose(s.trace_b[i, j, k], t.trace.b[..., 0], rtol=1e-6, atol=1e-7)


@pytest.mark.slow  # its module's shared fixture runs a study, a sweep, a command or a cluster (over ~10 s); .ci/run runs it
def test_sweep_trace_does_not_depend_on_chunks(swept):
    s, whole = swept
    # each chunk starts from the state the last one ended in, on the grid: the same points
    np.testing.assert_array_equal(s.trace_samples, whole.trace_samples)
    np.testing.assert_array_equal(s.trace_updates, whole.trace_updates)
    np.testing.assert_allclose(s.trace_loss, whole.trace_loss, rtol=1e-6)
    np.testing.assert_allclose(s.trace_val_loss, whole.trace_val_loss, rtol=1e-6)
    np.testing.assert_allclose(s.trace_w, whole.trace_w, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(s.trace_b, whole.trace_b, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(s.val_loss, whole.val_loss, rtol=1e-6)


@pytest.mark.slow  # over ~5 s on the 2-core machine (benchmarks/suite-times); .ci/run runs it
def test_sweep_trace_without_validation(data):
    X, y = data[:2]
    s = jaxgd.sweep(X, y, batch_sizes=[8], lrs=[0.05], seeds=1, epochs=2, record_every=40)
    assert s.trace_samples.tolist() == [0, 40, 80] and s.trace_updates.tolist() == [[0, 5, 10]]
    assert s.trace_val_loss is None and s.val_loss is None
    np.testing.assert_allclose(s.trace_loss[..., [0, -1]], s.epoch_loss[..., [0, -1]], rtol=1e-6)
