import math

import jax
import numpy as np
import pytest

import jaxgd
from jaxgd.data._orders import epoch_order, run_keys


def test_synthetic_data_follows_the_seed_model():
    data = jaxgd.synthetic_data(num_examples=20_000, seed=3)
    X, y = np.asarray(data.X, np.float64), np.asarray(data.y, np.float64)
    assert X.shape == (20_000, 1) and y.shape == (20_000, 1)
    noise = y[:, 0] - (3.5 * X[:, 0] + 4.0)
    # Standard errors at n = 20,000: mean 0.5/141 = 0.0035, std of the std ~0.5/200 = 0.0025;
    # 5 standard errors keeps the test deterministic-safe while catching a wrong model.
    assert abs(noise.mean()) < 0.02
    assert abs(noise.std() - 0.5) < 0.0125
    assert abs(X.mean()) < 0.04 and abs(X.std() - 1.0) < 0.04
    np.testing.assert_array_equal(np.asarray(data.true_w), [3.5])
    assert float(data.true_b) == 4.0


def test_synthetic_data_is_reproducible_and_seed_dependent():
    a, b, c = (jaxgd.synthetic_data([1.0, -2.0], 0.5, 50, seed=s) for s in (1, 1, 2))
    np.testing.assert_array_equal(np.asarray(a.X), np.asarray(b.X))
    np.testing.assert_array_equal(np.asarray(a.y), np.asarray(b.y))
    assert not np.array_equal(np.asarray(a.X), np.asarray(c.X))
    assert a.X.shape == (50, 2)


@pytest.mark.parametrize("n", [1, 2, 3, 7, 64, 100, pytest.param(513, marks=pytest.mark.slow), 1000,
                               pytest.param(4097, marks=pytest.mark.slow)])  # a program each: ~1.5 s
def test_epoch_orders_are_permutations(n):
    orders = np.asarray(jaxgd.epoch_orders(5, n, 6))
    assert orders.shape == (6, n) and orders.dtype == np.int32
    for row in orders:
        np.testing.assert_array_equal(np.sort(row), np.arange(n))
    if n >= 64:  # distinct epochs get distinct orders
        assert len({tuple(r) for r in orders}) == 6


def test_epoch_orders_match_the_in_program_order():
    key = run_keys(7)[1]
    orders = np.asarray(jaxgd.epoch_orders(7, 300, 4))
    for e in range(4):
        np.testing.assert_array_equal(orders[e], np.asarray(jax.jit(epoch_order, static_argnums=2)(key, e, 300)))


@pytest.mark.parametrize("n", [3, 5, 10])
def test_epoch_orders_are_close_to_uniform(n):
    # Each value should land in each position with probability 1/n. Chi-square over the n x n
    # position-value table has (n-1)^2 degrees of freedom; the bound is the 99.99th
    # percentile (Wilson-Hilferty), so a correct shuffle fails about once in 10^4 seeds while
    # the 4-round network we first tried (chi2 ~ 20x the dof at n = 10) fails every time.
    epochs = 20_000
    orders = np.asarray(jaxgd.epoch_orders(11, n, epochs))
    table = np.stack([np.bincount(orders[:, i], minlength=n) for i in range(n)])
    expected = epochs / n
    chi2 = float(((table - expected) ** 2 / expected).sum())
    dof = (n - 1) ** 2
    z = 3.72  # 99.99% one-sided
    bound = dof * (1 - 2 / (9 * dof) + z * math.sqrt(2 / (9 * dof))) ** 3
    assert chi2 < bound, (chi2, bound)


def test_epoch_orders_do_not_preserve_position():
    # A large shuffle should leave almost no sample near its place: rank correlation ~ 0.
    order = np.asarray(jaxgd.epoch_orders(0, 10_000, 1))[0].astype(np.float64)
    corr = np.corrcoef(order, np.arange(10_000))[0, 1]
    assert abs(corr) < 0.05  # 5 standard errors (1/sqrt(n) = 0.01)


def test_epoch_orders_rejects_bad_sizes():
    with pytest.raises(ValueError, match="positive"):
        jaxgd.epoch_orders(0, 0, 3)
    with pytest.raises(ValueError, match="positive"):
        jaxgd.epoch_orders(0, 5, 0)


@pytest.mark.slow  # over ~5 s on the 2-core machine (benchmarks/suite-times); .ci/run runs it
@pytest.mark.parametrize("n", [1, 2, 7, 64, 1000, 1001])
def test_the_order_at_some_positions_is_the_whole_orders_there(n):
    # A process holding a shard of the rows computes each batch's indices on their own
    # (permutation_at, O(batch)); they must be the whole epoch's order at those positions,
    # bit for bit: both are the same integer arithmetic, element by element.
    from jaxgd.data._orders import epoch_round_keys, permutation, permutation_at

    keys = epoch_round_keys(run_keys(4)[1], 3, n)
    whole = np.asarray(permutation(keys, n))
    positions = np.random.default_rng(n).integers(0, n, size=(5, 3))
    np.testing.assert_array_equal(np.asarray(permutation_at(keys, n, positions)), whole[positions])
