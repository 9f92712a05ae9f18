"""Held-out loss (validation=) in train and sweep, and synthetic_data's held-out draw."""

import numpy as np
import pytest

import jaxgd
from numpy_reference import numpy_loss  # tests/numpy_reference.py

N, M, EPOCHS = 40, 30, 5
VARIANTS = [None, 8, 7, 1]  # GD, mini-batch, padded mini-batch (40 = 5 * 7 + 5), SGD

# Float32 tolerance: the program's held-out loss is a float32 sum of M = 30 squared residuals
# (each rounding ~6e-8 relative, summed error <= M * eps ~ 4e-6 relative at worst); the
# reference is float64 numpy at the same float32 parameters. rtol 1e-5 bounds it with margin
# and still catches any wrong row, count or factor (those are O(1) relative errors).
RTOL = 1e-5


@pytest.fixture(scope="module")
def data():
    d = jaxgd.synthetic_data((3.5, -1.5), 4.0, N, seed=3, num_validation=M)
    return tuple(np.asarray(a) for a in (d.X, d.y, d.X_val, d.y_val))



@pytest.mark.slow  # over ~5 s on the 2-core machine (benchmarks/suite-times); .ci/run runs it
@pytest.mark.parametrize("batch_size", VARIANTS)
def test_val_loss_is_the_held_out_loss_at_each_epochs_parameters(data, batch_size):
    X, y, Xv, yv = data
    r = jaxgd.train(X, y, batch_size=batch_size, lr=0.05, epochs=EPOCHS, seed=1, validation=(Xv, yv))
    assert r.val_loss.shape == r.epoch_loss.shape == (EPOCHS + 1,)
    expected = numpy_loss(Xv, yv, r.w_history, r.b_history)
    np.testing.assert_allclose(r.val_loss, expected, rtol=RTOL)
    # The same definition as the training loss: on the training rows it is epoch_loss.
    np.testing.assert_allclose(numpy_loss(X, y, r.w_history, r.b_history), r.epoch_loss, rtol=RTOL)


@pytest.mark.parametrize("batch_size", [pytest.param(None, marks=pytest.mark.slow), 7])  # GD: ~5 s more
def test_validation_does_not_change_training(data, batch_size):
    X, y, Xv, yv = data
    plain = jaxgd.train(X, y, batch_size=batch_size, lr=0.05, epochs=EPOCHS, seed=1)
    held = jaxgd.train(X, y, batch_size=batch_size, lr=0.05, epochs=EPOCHS, seed=1, validation=(Xv, yv[:, 0]))
    # The held-out loss only reads the recorded parameters: the run itself is the same program
    # plus outputs, so the same values bit for bit.
    for f in ("w_history", "b_history", "epoch_loss", "step_loss"):
        np.testing.assert_array_equal(getattr(plain, f), getattr(held, f))


def test_default_result_has_no_val_loss_or_trace(data):
    r = jaxgd.train(*data[:2], batch_size=8, epochs=2)
    assert r.val_loss is None and r.trace is None


@pytest.mark.slow  # over ~5 s on the 2-core machine (benchmarks/suite-times); .ci/run runs it
def test_sweep_val_loss_equals_train(data):
    X, y, Xv, yv = data
    lrs, seeds = [0.05, 0.2], [0, 4]
    # chunk_epochs=2 of 5: the held-out losses are stitched across three chunks
    s = jaxgd.sweep(X, y, batch_sizes=VARIANTS, lrs=lrs, seeds=seeds, epochs=EPOCHS, validation=(Xv, yv),
                    chunk_epochs=2)
    assert s.val_loss.shape == s.epoch_loss.shape
    for i, bs in enumerate(VARIANTS):
        for j, lr in enumerate(lrs):
            for k, seed in enumerate(seeds):
                t = jaxgd.train(X, y, batch_size=bs, lr=lr, epochs=EPOCHS, seed=seed, validation=(Xv, yv))
                # test_sweep.py's tolerance: vmapping reassociates batch sums (a few float32 roundings)
                np.testing.assert_allclose(s.val_loss[i, j, k], t.val_loss, rtol=1e-6)
    rows = list(s.rows())
    assert [r["final_val_loss"] for r in rows] == [float(v) for v in s.val_loss[..., -1].ravel()]
    assert "final_val_loss" in s.to_csv().splitlines()[0].split(",")
    plain = jaxgd.sweep(X, y, batch_sizes=[8], lrs=[0.05], seeds=1, epochs=2)
    assert plain.val_loss is None and plain.trace_loss is None
    assert "final_val_loss" not in plain.to_csv().splitlines()[0].split(",")


def test_synthetic_held_out_set():
    plain = jaxgd.synthetic_data((3.5, -1.5), 4.0, 50, seed=2)
    both = jaxgd.synthetic_data((3.5, -1.5), 4.0, 50, seed=2, num_validation=4000)
    assert plain.X_val is None and plain.y_val is None
    # the training rows are the same draw whether or not a held-out set is asked for
    np.testing.assert_array_equal(plain.X, both.X)
    np.testing.assert_array_equal(plain.y, both.y)
    assert both.X_val.shape == (4000, 2) and both.y_val.shape == (4000, 1)
    assert not np.isin(np.asarray(both.X_val), np.asarray(both.X)).any()  # an independent stream
    # Same model: least squares on the held-out rows recovers w, b and the noise level. With
    # 4000 rows and noise 0.5 the standard errors are ~0.008; 0.05 is > 6 of them.
    Xv, yv = np.asarray(both.X_val, np.float64), np.asarray(both.y_val, np.float64)[:, 0]
    A = np.c_[Xv, np.ones(len(Xv))]
    coef, *_ = np.linalg.lstsq(A, yv, rcond=None)
    np.testing.assert_allclose(coef, [3.5, -1.5, 4.0], atol=0.05)
    assert abs(np.std(yv - A @ coef) - 0.5) < 0.05


@pytest.mark.parametrize("bad", [-1, 1.5, True, "3"])
def test_synthetic_num_validation_errors(bad):
    with pytest.raises(ValueError, match="num_validation"):
        jaxgd.synthetic_data(num_examples=10, num_validation=bad)


def _val(d=2, m=5):
    return np.ones((m, d), np.float32), np.ones(m, np.float32)


@pytest.mark.parametrize("validation, match", [
    (np.ones((5, 2)), "must be a pair"),
    ("ab", "must be a pair"),
    ((np.ones((5, 2)),), "must be a pair"),
    ((np.ones(5), np.ones(5)), r"X_val must be 2-D"),
    ((np.ones((0, 2)), np.ones(0)), "empty"),
    ((np.ones((5, 3)), np.ones(5)), "d=2 columns"),
    ((np.ones((5, 2)), np.ones(4)), r"y_val must have shape \(5,\) or \(5, 1\)"),
    ((np.full((5, 2), np.nan), np.ones(5)), "X_val contains NaN"),
    ((np.ones((5, 2)), np.r_[np.ones(4), np.inf]), "y_val contains NaN or infinite"),
    ((np.array([["a", "b"]] * 5), np.ones(5)), "numeric"),
    ((np.full((5, 2), 1e30), np.ones(5)), "held-out loss at the initial parameters overflows"),
])
def test_bad_validation_is_a_value_error(data, validation, match):
    X, y = data[:2]
    with pytest.raises(ValueError, match=match):
        jaxgd.train(X, y, batch_size=8, epochs=1, validation=validation)
    with pytest.raises(ValueError, match=match):
        jaxgd.sweep(X, y, batch_sizes=[8], lrs=[0.1], seeds=1, epochs=1, validation=validation)
