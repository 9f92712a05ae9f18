"""Claim 4 (over-fitting): the equal-training-loss point, the measurement and the verdict."""


import numpy as np
import pytest

from jaxgd.studies import _overfit as of
from jaxgd.studies._claims import CANNOT_JUDGE, NOT_SUPPORTED, SUPPORTED, WEAKLY

SMALL = of.Regime("small over-parameterised", n=20, d=40, m=500, batch_size=5, lrs=(0.1, 0.02, 0.005),
                  epochs=300, weights_seed=1)


def test_first_at_interpolates_in_log_training_loss():
    train = np.array([8.0, 4.0, 1.0, 0.5])
    gap = np.array([0.0, 1.0, 3.0, 4.0])
    # level 2 lies between epochs 1 (4.0) and 2 (1.0): log(4/2) / log(4/1) = 0.5 of the way
    epochs, g = of._first_at(train, gap, 2.0)
    assert epochs == pytest.approx(1.5, abs=1e-12) and g == pytest.approx(2.0, abs=1e-12)
    assert of._first_at(train, gap, 0.5) == (3.0, 4.0)  # reached exactly at an epoch
    assert of._first_at(train, gap, 9.0) == (0.0, 0.0)  # reached at the start
    e, g = of._first_at(train, gap, 0.1)
    assert e == np.inf and np.isnan(g)  # never reached


@pytest.fixture(scope="module")
def small():
    return of.measure(SMALL, seeds=3)


@pytest.mark.slow  # over ~5 s on the 2-core machine (benchmarks/suite-times); .ci/run runs it
def test_over_parameterised_variants_all_end_at_the_min_norm_interpolator(small):
    # d = 2n: every update moves (w, b) within the row space of [X, 1] from a start of norm
    # ~0.01 sqrt(d), so all three converge to the minimum-norm solution up to that start
    # (relative distance well under 5%), fit the training data (final loss < 1e-4 against an
    # initial ~8; measured at most 3.2e-6, SGD on the third draw) and share its held-out loss
    # (within 1%).
    assert not small.diverged.any()
    assert np.all(small.distance < 0.05)
    assert np.all(small.final_train < 1e-4)
    np.testing.assert_allclose(small.final_val, np.broadcast_to(small.min_norm_val, (3, 3)), rtol=0.01)
    # interpolating the noise: held-out loss well above the noise's own 0.125
    assert np.all(small.final_val > 0.25)


@pytest.mark.slow  # its module's shared fixture runs a study, a sweep, a command or a cluster (over ~10 s); .ci/run runs it
def test_equal_training_loss_level_is_the_largest_final_loss(small):
    np.testing.assert_array_equal(small.level, small.final_train.max(axis=0))
    assert np.all(np.isfinite(small.epochs_to_level)) and np.all(small.epochs_to_level <= SMALL.epochs)


def _fake(gaps, diverged=None):
    gaps = np.asarray(gaps, float)
    S = gaps.shape[1]
    z = np.zeros((3, S))
    return of.RegimeResult(SMALL, S, z, z, z, np.ones(S), gaps, z, z, np.ones(S),
                           np.zeros((3, S), bool) if diverged is None else diverged)


@pytest.mark.parametrize("gd_gap, expected", [
    (np.full(20, 1.0), SUPPORTED),  # every draw: GD's gap 1.0 above the others' 0
    (np.r_[np.full(12, 1.0), np.full(8, -1.0)], WEAKLY),  # median above, interval not
    (np.full(20, 0.005), NOT_SUPPORTED),  # above, but within the 1% margin (held-out loss 1)
    (np.full(20, -1.0), NOT_SUPPORTED),
])
def test_verdict_on_paired_gap_differences(gd_gap, expected):
    gaps = np.vstack([gd_gap, np.zeros(20), np.zeros(20)])
    claim = of.verdict([_fake(gaps)])
    assert claim.verdict == expected and claim.number == 4


def test_any_diverged_run_cannot_be_judged():
    diverged = np.zeros((3, 4), bool)
    diverged[2, 1] = True
    claim = of.verdict([_fake(np.zeros((3, 4)), diverged)])
    assert claim.verdict == CANNOT_JUDGE and "SGD" in claim.reason


@pytest.mark.slow  # its module's shared fixture runs a study, a sweep, a command or a cluster (over ~10 s); .ci/run runs it
def test_report_names_every_variant_and_the_verdict(small):
    claim = of.verdict([small])
    text = of.format_report([small], claim)
    for name in ("GD", "mini-batch", "SGD", "verdict: " + claim.verdict, "minimum-norm"):
        assert name in text
