"""jaxgd.analysis on constructed curves whose answers are known analytically."""

import math

import numpy as np
import pytest

from jaxgd import analysis


def test_optimum_recovers_exact_line_and_its_loss():
    # Noise-free data: the optimum is the generating line and its loss is 0 (float64 lstsq:
    # exact to ~1e-12 for a well-conditioned 200 x 3 design).
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 2))
    y = X @ np.array([3.5, -2.0]) + 4.0
    opt = analysis.optimum(X, y)
    np.testing.assert_allclose(opt.w.ravel(), [3.5, -2.0], atol=1e-12)
    np.testing.assert_allclose(opt.b, [4.0], atol=1e-12)
    assert opt.loss == pytest.approx(0.0, abs=1e-20)


def test_optimum_loss_is_the_minimum_of_the_data_loss():
    # With noise, the optimum's loss equals 1/(2n) * residual sum of squares, and any other
    # parameters do worse (strict convexity): perturb each coordinate by +-1e-3.
    rng = np.random.default_rng(1)
    X = rng.normal(size=(300, 1))
    y = (3.5 * X[:, 0] + 4 + 0.5 * rng.normal(size=300)).reshape(-1, 1)
    opt = analysis.optimum(X, y)
    r = X @ opt.w + opt.b - y
    assert opt.loss == pytest.approx(float((r**2).sum() / 600), rel=1e-12)
    for dw, db in [(1e-3, 0), (-1e-3, 0), (0, 1e-3), (0, -1e-3)]:
        assert analysis.data_loss(X, y, opt.w + dw, opt.b + db) > opt.loss


def test_epochs_to_target_geometric_curve():
    # excess_e = E0 * r^e crosses 1% of E0 at e* = ceil(log(0.01) / log(r)); r = 0.7 gives
    # 0.7^12 = 0.0138 > 0.01 >= 0.7^13 = 0.0097, i.e. e* = 13, with no near-tie to round.
    opt, E0, r = 0.125, 14.0, 0.7
    e = np.arange(51)
    curve = opt + E0 * r**e
    expected = math.ceil(math.log(0.01) / math.log(r))
    assert expected == 13
    assert analysis.epochs_to_target(curve, opt) == expected
    assert analysis.epochs_to_target(curve, opt, rel=0.1) == math.ceil(math.log(0.1) / math.log(r))
    # Leading axes: two curves at once, one of them twice as fast (r^2).
    both = np.stack([curve, opt + E0 * (r**2) ** e])
    np.testing.assert_array_equal(analysis.epochs_to_target(both, opt), [13, 7])


def test_epochs_to_target_absolute_target_and_start_below():
    curve = np.array([1.0, 0.5, 0.25, 0.125])
    assert analysis.epochs_to_target(curve, 0.0, target=0.3) == 2
    assert analysis.epochs_to_target(curve, 0.0, target=2.0) == 0  # already there


def test_never_reaching_target_returns_sentinel():
    # A curve that stalls at 10% of its initial excess never reaches 1%: NOT_REACHED (-1),
    # and the derived counts keep the sentinel (NaN for wall time).
    curve = 0.1 + 10.0 * np.maximum(0.9 ** np.arange(30), 0.1)
    e = analysis.epochs_to_target(curve, 0.1)
    assert e == analysis.NOT_REACHED and not analysis.reached(e)
    assert analysis.updates_to_target(e, 20) == analysis.NOT_REACHED
    assert analysis.samples_to_target(e, 1000) == analysis.NOT_REACHED
    assert np.isnan(analysis.time_to_target(e, 0.01))
    assert analysis.as_float_counts(e) == np.inf


def test_diverging_curve_never_counts_as_reached():
    curve = np.array([10.0, 5.0, np.inf, np.nan, np.nan])
    assert analysis.epochs_to_target(curve, 0.0) == analysis.NOT_REACHED


def test_derived_counts():
    e = np.array([3, analysis.NOT_REACHED, 0])
    np.testing.assert_array_equal(analysis.updates_to_target(e, 20), [60, -1, 0])
    np.testing.assert_array_equal(analysis.samples_to_target(e, 1000), [3000, -1, 0])
    np.testing.assert_allclose(analysis.time_to_target(e, 0.5), [1.5, np.nan, 0.0])


def test_tail_spread_and_excess():
    # Last 4 values alternate 1 +- 0.5 around the optimum 0.5 + 0.5: std 0.5, mean excess 0.5.
    curve = np.array([9.0, 5.0, 0.5, 1.5, 0.5, 1.5])
    assert analysis.tail_spread(curve, k=4) == pytest.approx(0.5)
    assert analysis.tail_excess(curve, 0.5, k=4) == pytest.approx(0.5)
    assert analysis.tail_spread(np.full((3, 10), 2.0), k=5).tolist() == [0.0, 0.0, 0.0]
    with pytest.raises(ValueError, match="k must be between"):
        analysis.tail_spread(curve, k=7)


def test_within_epoch_spread():
    # Two epochs of 4 updates: [0, 2, 0, 2] has std 1; a constant epoch has std 0.
    step = np.array([0.0, 2.0, 0.0, 2.0, 3.0, 3.0, 3.0, 3.0])
    np.testing.assert_allclose(analysis.within_epoch_spread(step, 4), [1.0, 0.0])
    with pytest.raises(ValueError, match="not a multiple"):
        analysis.within_epoch_spread(step, 3)


def test_quantiles_keep_infinity():
    # "Not reached" as +inf must survive the median/interval instead of becoming NaN.
    lo, mid, hi = analysis.describe([1.0, 2.0, np.inf, np.inf, np.inf])
    assert (lo, mid, hi) == (1.0, np.inf, np.inf)
    assert analysis.describe(np.arange(1, 102, dtype=float)) == (6.0, 51.0, 96.0)


def test_median_over_kept_leaves_out_diverged_runs():
    # The cells of the sweep heatmap and of `jaxgd sweep`'s tables: order-statistic median over
    # the last axis (seeds) of the runs that did not diverge, NaN where every run diverged.
    values = np.array([[[1.0, 5.0, 3.0, np.inf], [2.0, 4.0, np.nan, 8.0]]])  # (1, 2, 4)
    diverged = np.array([[[False, False, False, True], [True, True, True, True]]])
    cells = analysis.median_over_kept(values, diverged)
    assert cells.shape == (1, 2)
    assert cells[0, 0] == 3.0 and np.isnan(cells[0, 1])
    assert analysis.median_over_kept(np.array([[1.0, 2.0]]), np.zeros((1, 2), bool))[0] == 1.0  # an actual value


def test_one_set_of_quantiles_for_every_table():
    from jaxgd.studies import _batch_size_report, _claims, _optimizers, _overfit

    assert analysis.QS == (0.05, 0.5, 0.95)
    assert all(m.QS is analysis.QS for m in (_batch_size_report, _claims, _optimizers, _overfit))
