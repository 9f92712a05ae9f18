"""Every malformed input to train raises a ValueError that names the problem."""

import jax.numpy as jnp
import numpy as np
import pytest

import jaxgd

rng = np.random.default_rng(0)
X = rng.normal(size=(20, 2)).astype(np.float32)
y = rng.normal(size=(20, 1)).astype(np.float32)
OK = dict(batch_size=5, lr=0.1, epochs=3)


def bad(**overrides):
    args = {"X": X, "y": y, **OK, **overrides}
    return jaxgd.train(args.pop("X"), args.pop("y"), **args)


@pytest.mark.parametrize(
    "overrides,match",
    [
        (dict(y=y[:19]), r"y must have shape \(20,\) or \(20, 1\)"),
        (dict(y=np.ones((20, 2))), r"y must have shape"),
        (dict(X=X[:, 0]), r"X must be 2-D"),
        (dict(X=np.ones((20, 2, 1))), r"X must be 2-D"),
        (dict(X=np.ones((0, 2)), y=np.ones(0)), r"X is empty"),
        (dict(X=np.ones((20, 0))), r"X is empty"),
        (dict(X=np.where(np.arange(40).reshape(20, 2) == 7, np.nan, X)), r"X contains NaN or infinite"),
        (dict(X=np.where(np.arange(40).reshape(20, 2) == 7, np.inf, X)), r"X contains NaN or infinite"),
        (dict(y=np.where(np.arange(20).reshape(20, 1) == 3, np.nan, y)), r"y contains NaN or infinite"),
        (dict(X=jnp.asarray(X).at[2, 1].set(jnp.nan)), r"X contains NaN or infinite"),
        (dict(X=np.full((20, 2), 1e30, np.float32)), r"overflows"),
        (dict(X=np.array([["a", "b"]] * 20)), r"X must be numeric"),
        (dict(batch_size=0), r"batch_size must be between 1 and n=20, got 0"),
        (dict(batch_size=21), r"batch_size must be between 1 and n=20, got 21"),
        (dict(batch_size=2.5), r"batch_size must be an integer"),
        (dict(lr=0.0), r"lr must be a finite number > 0"),
        (dict(lr=-0.1), r"lr must be a finite number > 0"),
        (dict(lr=float("nan")), r"lr must be a finite number > 0"),
        (dict(lr="0.1"), r"lr must be a number"),
        (dict(epochs=0), r"epochs must be >= 1"),
        (dict(epochs=1.5), r"epochs must be an integer"),
        (dict(init=(np.zeros((3, 1)), np.zeros(1))), r"init w0 must have shape \(2, 1\)"),
        (dict(init=(np.zeros((2,)), np.zeros(1))), r"init w0 must have shape \(2, 1\)"),
        (dict(init=(np.zeros((2, 1)), np.zeros(()))), r"init b0 must have shape \(1,\)"),
        (dict(init=np.zeros(3)), r"init must be a pair"),
        (dict(init=(np.full((2, 1), np.nan), np.zeros(1))), r"init contains NaN"),
        (dict(order=np.zeros((3, 19), int)), r"order must have shape \(epochs, n\) = \(3, 20\)"),
        (dict(order=np.zeros((2, 20), int)), r"order must have shape"),
        (dict(order=np.tile(np.arange(20.0), (3, 1))), r"order must hold integers"),
        (dict(order=np.tile(np.arange(1, 21), (3, 1))), r"order values must lie in \[0, 20\)"),
        (dict(order=np.vstack([np.arange(20), np.arange(20), np.r_[0, np.arange(19)]])), r"order row 2 is not a permutation"),
        (dict(unroll=0), r"unroll must be a positive integer"),
        (dict(seed=-1), r"seed must be an integer in \[0, 2\*\*31\)"),
        (dict(seed=2**31), r"seed must be an integer in"),
        (dict(seed=1.5), r"seed must be an integer"),
    ],
)
def test_bad_input_raises_a_named_value_error(overrides, match):
    with pytest.raises(ValueError, match=match):
        bad(**overrides)


def test_valid_edge_cases_train():
    # One sample, batch = n = 1, one epoch: all three variants coincide and nothing breaks.
    r = jaxgd.train(np.ones((1, 1), np.float32), np.ones(1, np.float32), batch_size=1, lr=0.1, epochs=1)
    assert r.updates == 1 and np.isfinite(np.asarray(r.epoch_loss)).all()
    r = jaxgd.train(X, y, batch_size=20, lr=0.1, epochs=1, order=np.tile(np.arange(20), (1, 1)))
    assert r.config.variant == "GD"


def test_a_checked_jax_order_is_not_rechecked_but_a_new_one_is():
    import jax.numpy as jnp

    good = jnp.asarray(np.tile(np.arange(20), (3, 1)), jnp.int32)
    jaxgd.train(X, y, **OK, order=good)
    jaxgd.train(X, y, **OK, order=good)  # cached: same immutable array
    bad = jnp.asarray(np.vstack([np.arange(20)] * 2 + [np.r_[0, np.arange(19)]]), jnp.int32)
    with pytest.raises(ValueError, match="order row 2 is not a permutation"):
        jaxgd.train(X, y, **OK, order=bad)
    with pytest.raises(ValueError, match=r"order must have shape"):  # same array, other epochs
        jaxgd.train(X, y, batch_size=5, lr=0.1, epochs=2, order=good)


# Low-precision floats are refused, not converted: in bfloat16 Adam's beta2 = 0.999 rounds to
# 1.0 (NaN from the second update, blamed on the learning rate) and in float16 eps = 1e-8
# rounds to 0. Integer data are still converted to float32 (tests/test_train.py).
LOW_PRECISION = [jnp.bfloat16, jnp.float16]


def _low(a, dtype):
    return jnp.asarray(a, dtype)


@pytest.mark.parametrize("dtype", LOW_PRECISION, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("which", ["X", "y", "X_val", "y_val"])
def test_train_refuses_low_precision_float_data(which, dtype):
    name = np.dtype(dtype).name
    arrays = {"X": X, "y": y, "X_val": X[:5], "y_val": y[:5]}
    arrays[which] = _low(arrays[which], dtype)
    label = {"X_val": "validation X_val", "y_val": "validation y_val"}.get(which, which)
    with pytest.raises(ValueError, match=rf"{label} has dtype {name}.*float32 or float64.*astype\(np.float32\)"):
        jaxgd.train(arrays["X"], arrays["y"], **OK, optimizer="adam",
                    validation=(arrays["X_val"], arrays["y_val"]))


@pytest.mark.parametrize("dtype", LOW_PRECISION, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("which", ["X", "y", "X_val"])
def test_sweep_refuses_low_precision_float_data(which, dtype):
    name = np.dtype(dtype).name
    arrays = {"X": X, "y": y, "X_val": X[:5], "y_val": y[:5]}
    arrays[which] = np.asarray(_low(arrays[which], dtype))  # a numpy array of the ml_dtypes type
    label = {"X_val": "validation X_val"}.get(which, which)
    with pytest.raises(ValueError, match=rf"{label} has dtype {name}.*float32 or float64"):
        jaxgd.sweep(arrays["X"], arrays["y"], batch_sizes=[5], lrs=[0.1], seeds=1, epochs=2,
                    validation=(arrays["X_val"], arrays["y_val"]))
