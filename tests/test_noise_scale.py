"""jaxgd.analysis.gradient_noise_scale and fit_batch_trade_off (McCandlish et al. 2018)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgd import analysis
from jaxgd.parity import x64_enabled


def _problem(n=300, d=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) * np.linspace(0.3, 2.0, d)
    y = X @ rng.normal(size=d) + 1.5 + 0.5 * rng.normal(size=n)
    return X, y.reshape(-1, 1)


def _per_example_noise_scale(X, y, w, b):
    """B_simple from the per-example gradients themselves: jax.grad of 1/2 (x.w + b - y)^2
    vmapped over the rows (float64), G their mean, Sigma their covariance divided by n."""

    def loss(params, x, t):
        w, b = params
        return 0.5 * (x @ w + b - t) ** 2

    with x64_enabled():
        gw, gb = jax.vmap(jax.grad(loss), in_axes=(None, 0, 0))(
            (jnp.asarray(w, jnp.float64).ravel(), jnp.asarray(b, jnp.float64).ravel()[0]),
            jnp.asarray(X, jnp.float64), jnp.asarray(y, jnp.float64).ravel())
        g = np.column_stack([np.asarray(gw), np.asarray(gb)])
    assert g.dtype == np.float64
    G = g.mean(axis=0)
    sigma = np.cov(g.T, bias=True)  # population covariance: divided by n
    return np.trace(sigma) / (G @ G)


@pytest.mark.parametrize("d", [1, 3, 8])
@pytest.mark.parametrize("where", ["zero", "random", "near optimum"])
def test_gradient_noise_scale_matches_per_example_gradients(d, where):
    # The closed form against the per-example gradients, both float64: they differ only by
    # summation order and the cancellation in mean r^2 (|x|^2 + 1) - |G|^2, so 1e-9 relative
    # (near the optimum |G|^2 is ~1e-6 of the second moment: ~1e-16 / 1e-6 relative error).
    X, y = _problem(d=d, seed=d)
    rng = np.random.default_rng(10 + d)
    if where == "zero":
        w, b = np.zeros((d, 1)), np.zeros(1)
    elif where == "random":
        w, b = rng.normal(size=(d, 1)), rng.normal(size=1)
    else:
        opt = analysis.optimum(X, y)
        w, b = opt.w + 1e-3 * rng.normal(size=(d, 1)), opt.b + 1e-3
    got = analysis.gradient_noise_scale(X, y, w, b)
    assert got == pytest.approx(_per_example_noise_scale(X, y, w, b), rel=1e-9)


def _per_example_hessian_noise_scale(X, y, w, b):
    """B_noise = tr(H Sigma) / G^T H G from the per-example gradients (numpy, float64), with the
    Hessian of the loss from jax.hessian of the full-data loss."""

    def full_loss(theta):
        return 0.5 * jnp.mean((jnp.asarray(X) @ theta[:-1] + theta[-1] - jnp.asarray(y).ravel()) ** 2)

    with x64_enabled():
        theta = jnp.concatenate([jnp.asarray(w, jnp.float64).ravel(), jnp.asarray(b, jnp.float64).ravel()])
        H = np.asarray(jax.hessian(full_loss)(theta))
    A = np.column_stack([X, np.ones(len(X))])
    g = (A @ np.asarray(theta) - np.asarray(y).ravel())[:, None] * A
    G = g.mean(axis=0)
    return np.trace(H @ np.cov(g.T, bias=True)) / (G @ H @ G)


@pytest.mark.slow  # over ~5 s on the 2-core machine (benchmarks/suite-times); .ci/run runs it
@pytest.mark.parametrize("d", [1, 4])
def test_hessian_noise_scale_matches_per_example_gradients(d):
    # Same comparison and tolerance as B_simple above, with H from jax.hessian (float64).
    X, y = _problem(d=d, seed=d)
    rng = np.random.default_rng(d)
    w, b = rng.normal(size=(d, 1)), rng.normal(size=1)
    got = analysis.hessian_noise_scale(X, y, w, b)
    assert got == pytest.approx(_per_example_hessian_noise_scale(X, y, w, b), rel=1e-9)
    with pytest.raises(ValueError, match="w must have shape"):
        analysis.hessian_noise_scale(X, y, np.ones(d + 1), 0.0)


def test_hessian_noise_scale_exceeds_b_simple_off_the_optimum_along_a_flat_direction():
    # Feature scales 1 and 0.05 (condition ~400), displaced from the optimum along the flat
    # eigenvector by 2: G = H delta has |G|^2 ~ (0.0025 * 2)^2 but G^T H G ~ 0.0025^3 * 4, while
    # the noise (~ sigma^2 H) is about the same trace either way: B_noise ~ 400x B_simple.
    rng = np.random.default_rng(3)
    X = rng.normal(size=(500, 2)) * np.array([1.0, 0.05])
    y = X @ np.array([1.0, 20.0]) + 0.5 * rng.normal(size=500)
    opt = analysis.optimum(X, y)
    A = np.column_stack([X, np.ones(500)])
    lam, vec = np.linalg.eigh(A.T @ A / 500)
    step = 2.0 * vec[:, 0]  # off the optimum along the flattest eigenvector (lam[0] ~ 0.0025)
    w, b = opt.w + step[:2, None], opt.b + step[2]
    ratio = analysis.hessian_noise_scale(X, y, w, b) / analysis.gradient_noise_scale(X, y, w, b)
    # ~ (tr(H Sigma) / tr(Sigma)) / lam_min ~ 400; > 100 leaves room for the sample's H.
    assert ratio > 100


def test_gradient_noise_scale_grows_towards_the_optimum():
    # Far away the signal dominates (B_simple small); approaching the optimum |G| -> 0 while
    # the noise stays ~ the noise variance: B_simple grows, and is +inf exactly at G = 0.
    X, y = _problem()
    opt = analysis.optimum(X, y)
    scales = [analysis.gradient_noise_scale(X, y, opt.w + t, opt.b + t) for t in (10.0, 1.0, 0.1, 0.01)]
    assert all(a < b for a, b in zip(scales, scales[1:]))
    # Noise-free data at its exact generating parameters: r = 0, G = 0.
    Xc = np.array([[1.0], [2.0], [3.0]])
    assert analysis.gradient_noise_scale(Xc, 2 * Xc[:, 0] + 1, [2.0], 1.0) == float("inf")


def test_gradient_noise_scale_one_row_has_no_noise():
    # One example: Sigma = 0, whatever the parameters.
    assert analysis.gradient_noise_scale([[2.0]], [1.0], [0.5], 0.3) == pytest.approx(0.0, abs=1e-15)


@pytest.mark.parametrize("args, match", [
    (([1.0, 2.0], [1.0, 2.0], [1.0], 0.0), "X must be a 2-D"),
    ((np.ones((3, 2)), np.ones(4), np.ones(2), 0.0), "y must have shape"),
    ((np.ones((3, 2)), np.ones(3), np.ones(3), 0.0), "w must have shape"),
    ((np.ones((3, 2)), np.ones(3), np.ones(2), [0.0, 1.0]), "b must be one"),
    ((np.full((3, 1), np.nan), np.ones(3), np.ones(1), 0.0), "X has non-finite"),
    ((np.ones((3, 1)), [1.0, np.inf, 0.0], np.ones(1), 0.0), "y has non-finite"),
    ((np.ones((0, 1)), np.ones(0), np.ones(1), 0.0), "X must be a 2-D"),
])
def test_gradient_noise_scale_bad_input(args, match):
    with pytest.raises(ValueError, match=match):
        analysis.gradient_noise_scale(*args)


# --- the trade-off fit ------------------------------------------------------------------------

BATCHES = 2 ** np.arange(0, 11)  # 1 .. 1024


def test_fit_recovers_the_model_exactly_from_noise_free_points():
    # Points on S = S_min + E_min / B: the relative-error least squares is solved exactly
    # (residual 0), so the parameters come back to float64 rounding (1e-9 relative).
    S_min, E_min = 40.0, 3000.0
    fit = analysis.fit_batch_trade_off(BATCHES, S_min + E_min / BATCHES, bootstrap=0)
    assert fit.S_min == pytest.approx(S_min, rel=1e-9)
    assert fit.E_min == pytest.approx(E_min, rel=1e-9)
    assert fit.B_crit == pytest.approx(E_min / S_min, rel=1e-9)
    np.testing.assert_allclose(fit.steps_at(BATCHES), S_min + E_min / BATCHES, rtol=1e-9)
    np.testing.assert_allclose(fit.samples_at(BATCHES), BATCHES * (S_min + E_min / BATCHES), rtol=1e-9)
    # The hyperbola form: (S / S_min - 1)(E / E_min - 1) = 1 on the fitted curve.
    S, E = fit.steps_at(BATCHES), fit.samples_at(BATCHES)
    np.testing.assert_allclose((S / fit.S_min - 1) * (E / fit.E_min - 1), 1.0, rtol=1e-9)
    assert all(np.isnan(v).all() for v in fit.intervals.values())  # no bootstrap asked


def test_fit_recovers_the_model_under_multiplicative_noise_with_intervals():
    # 8 seeds of S * exp(N(0, 0.1^2)) (10% scatter per seed, ~3.5% on the mean of 8): the point
    # estimates land within 15% of the truth (several standard errors of a 2-parameter fit over
    # 11 batch sizes), and the 90% bootstrap intervals contain the truth at this fixed seed.
    rng = np.random.default_rng(0)
    S_min, E_min = 25.0, 800.0
    truth = S_min + E_min / BATCHES
    steps = truth[:, None] * np.exp(0.1 * rng.normal(size=(BATCHES.size, 8)))
    fit = analysis.fit_batch_trade_off(BATCHES, steps, bootstrap=500, seed=0)
    assert fit.S_min == pytest.approx(S_min, rel=0.15)
    assert fit.E_min == pytest.approx(E_min, rel=0.15)
    assert fit.B_crit == pytest.approx(E_min / S_min, rel=0.25)
    for name, value in (("S_min", S_min), ("E_min", E_min), ("B_crit", E_min / S_min)):
        lo, hi = fit.intervals[name]
        assert lo <= value <= hi, (name, lo, hi)
        point = getattr(fit, name)
        assert lo <= point <= hi
    np.testing.assert_allclose(fit.steps, steps.mean(axis=1))
    # Fixed bootstrap seed: the same input gives the same intervals.
    again = analysis.fit_batch_trade_off(BATCHES, steps, bootstrap=500, seed=0)
    assert again.intervals == fit.intervals


def test_fit_drops_batch_sizes_a_seed_did_not_reach():
    # A batch size with any inf / NaN (target not reached) is left out of the fit; the rest,
    # exact points of the model, still give the parameters exactly.
    steps = np.tile((10.0 + 500.0 / BATCHES)[:, None], (1, 3))
    steps[0, 1] = np.inf
    steps[3, 2] = np.nan
    fit = analysis.fit_batch_trade_off(BATCHES, steps)
    assert list(fit.batch_sizes) == [b for i, b in enumerate(BATCHES) if i not in (0, 3)]
    assert fit.S_min == pytest.approx(10.0, rel=1e-9)
    assert fit.E_min == pytest.approx(500.0, rel=1e-9)
    # Identical seeds: every resample gives the same fit, so the intervals are points.
    assert fit.intervals["S_min"] == pytest.approx((10.0, 10.0), rel=1e-9)


def test_fit_without_a_step_floor_has_infinite_critical_batch():
    # S = E_min / B exactly (perfect scaling at every batch size): S_min = 0, B_crit = inf.
    fit = analysis.fit_batch_trade_off(BATCHES, 4096.0 / BATCHES, bootstrap=0)
    assert fit.S_min == pytest.approx(0.0, abs=1e-9)
    assert fit.E_min == pytest.approx(4096.0, rel=1e-9)
    # And constant S (no gain from small batches): E_min = 0 on the boundary, B_crit = 0.
    flat = analysis.fit_batch_trade_off(BATCHES, np.full(BATCHES.size, 7.0), bootstrap=0)
    # (the exact fit; 1e-12: float64 rounding of the 2x2 least squares)
    assert flat.S_min == pytest.approx(7.0, rel=1e-12)
    assert flat.E_min == pytest.approx(0.0, abs=1e-12) and flat.B_crit == pytest.approx(0.0, abs=1e-12)


def test_fit_stays_non_negative_when_the_free_fit_is_not():
    # S rising with B (worse than constant) would give E_min < 0 unconstrained: the fit is
    # on the boundary E_min = 0 with S_min the relative-error mean.
    S = np.array([5.0, 6.0, 8.0, 12.0])
    fit = analysis.fit_batch_trade_off([1, 2, 4, 8], S, bootstrap=0)
    assert fit.E_min == 0.0
    assert fit.S_min == pytest.approx(np.sum(1 / S) / np.sum(1 / S**2), rel=1e-12)


@pytest.mark.parametrize("B, S, kwargs, match", [
    ([1], [3.0], {}, "at least 2 batch sizes"),
    ([1, 1], [3.0, 2.0], {}, "distinct"),
    ([0, 2], [3.0, 2.0], {}, "> 0"),
    ([1, 2], [3.0, 2.0, 1.0], {}, "steps must have shape"),
    ([1, 2], [3.0, -2.0], {}, "steps must be > 0"),
    ([1, 2], [3.0, np.inf], {}, "at least 2 batch sizes need finite"),
    ([1, 2], [3.0, 2.0], {"level": 1.0}, "level"),
    ([1, 2], [3.0, 2.0], {"bootstrap": -1}, "bootstrap"),
])
def test_fit_bad_input(B, S, kwargs, match):
    with pytest.raises(ValueError, match=match):
        analysis.fit_batch_trade_off(B, S, **kwargs)
