"""The batch-size study (claim 5): its pieces on constructed inputs, the study on a tiny problem,
and the ``jaxgd batch-size`` command."""

import dataclasses
import json
import subprocess
import sys
import warnings

import matplotlib.image
import numpy as np
import pytest

from jaxgd.studies import _batch_size as bsz
from jaxgd import analysis, cli
from jaxgd.studies._claims import CANNOT_JUDGE, NOT_SUPPORTED, SUPPORTED, WEAKLY

# --- pieces ---------------------------------------------------------------------------------------


def test_samples_of_counts_the_short_last_batch():
    # n = 10, B = 4: batches of 4, 4, 2 rows. 3 updates = one epoch = 10 examples; 4 = 14.
    np.testing.assert_array_equal(bsz.samples_of([0, 1, 2, 3, 4, 7], 4, 10), [0, 4, 8, 10, 14, 24])
    # B divides n: E = B S exactly; "not reached" (inf) stays inf.
    np.testing.assert_array_equal(bsz.samples_of([5, np.inf], 8, 64), [40, np.inf])


def test_record_step_divides_n_and_is_no_finer_than_a_batch():
    assert bsz.record_step(2000, 1000, 2000) == 1  # 2 epochs, 2000 points: every sample
    assert bsz.record_step(20000, 1000, 2000) == 10
    assert bsz.record_step(30000, 1000, 2000) == 10  # want 15: the largest divisor of 1000 below it
    assert bsz.record_step(20000, 1000, 2000, batch_size=64) == 50  # up to the batch: no resolution lost
    assert bsz.record_step(600000, 1000, 2000, batch_size=1000) == 1000
    assert bsz.record_step(10**7, 1000, 2000) == 5000  # past n: a multiple of n


def _curve(rate, K=41, initial=10.0, floor=0.0):
    return floor + initial * rate ** np.arange(K)


def test_steps_to_targets_reads_the_update_count_at_the_first_point_below():
    # Two rates x one seed, optimum loss 0.5; excess 10 * r^k on a grid where point k is after
    # 2k updates. Rate 0.5 crosses 1% at k = 7 (0.5^7 = 0.0078 <= 0.01 < 0.5^6), i.e. 14 updates.
    loss = 0.5 + np.stack([_curve(0.5), _curve(0.8)])[:, None, :]
    updates = 2 * np.arange(41)
    steps, usable = bsz.steps_to_targets(loss, updates, 0.5, [0.01, 1e-4], np.zeros((2, 1), bool))
    assert steps[0, 0, 0] == 14 and steps[0, 1, 0] == 2 * 21  # 0.8^21 = 0.0092 <= 0.01 < 0.8^20
    assert steps[1, 0, 0] == 2 * 14  # 0.5^14 = 6.1e-5 <= 1e-4 < 0.5^13
    assert steps[1, 1, 0] == np.inf and not usable[1, 1, 0]  # 0.8^40 = 1.3e-4: never
    assert usable[0].all()
    assert bsz.choose_lr(steps[0], usable[0]) == 0


def test_a_rate_that_dips_below_the_target_but_settles_above_is_not_usable():
    # Rate 1 (noisy): hits the target once at point 3, then hovers at 5% of the initial
    # excess; rate 0 converges steadily but later. Only rate 0 counts.
    K = 41
    noisy = np.full(K, 0.5)
    noisy[0], noisy[3] = 10.0, 0.05
    loss = np.stack([_curve(0.7, K), noisy])[:, None, :]
    steps, usable = bsz.steps_to_targets(loss, np.arange(K), 0.0, [0.01], np.zeros((2, 1), bool))
    assert steps[0, 1, 0] == 3 and not usable[0, 1, 0]
    assert usable[0, 0, 0] and bsz.choose_lr(steps[0], usable[0]) == 0


def test_diverged_and_non_finite_runs_are_never_chosen():
    fast = 0.0 + _curve(0.1)
    blown = fast.copy()
    blown[-1] = np.nan
    loss = np.stack([fast, fast, blown])[:, None, :]
    diverged = np.array([[True], [False], [False]])
    steps, usable = bsz.steps_to_targets(loss, np.arange(41), 0.0, [0.01], diverged)
    np.testing.assert_array_equal(usable[0, :, 0], [False, True, False])
    assert bsz.choose_lr(steps[0], usable[0]) == 1
    assert bsz.choose_lr(steps[0], np.zeros_like(usable[0])) is None


def test_choose_lr_needs_every_seed_and_prefers_the_smaller_rate_on_ties():
    steps = np.array([[10.0, 12.0], [10.0, 12.0], [5.0, np.inf]])
    usable = np.array([[True, True], [True, True], [True, False]])
    assert bsz.choose_lr(steps, usable) == 0  # rate 2 is faster but one seed never got there


def _result(name="p", n=100, fits=(None,), steps=((4.0, 2.0, 1.0),), seconds=(1.0, 1.0, 1.0), targets=(0.01,),
            batch_sizes=None):
    """A ProblemResult with what evaluate_claim5 and the wall-time report read: fits, median
    updates ``steps`` (T, B) for 2 seeds alike, and one update's ``seconds`` (B,) in 3 rounds alike."""
    steps = np.asarray(steps, np.float64)
    T, B = steps.shape
    sizes = np.array([1, 10, n][:B] if batch_sizes is None else batch_sizes)
    seconds = np.asarray(seconds, np.float64)
    return bsz.ProblemResult(
        name, n, 1, 1.0, 0.0, sizes, np.array([0.1]), np.array([0, 1]), np.asarray(targets),
        np.ones(B, int), np.ones(B, int), np.ones((T, B)), np.repeat(steps[..., None], 2, axis=-1),
        np.ones((T, B, 2)), seconds, tuple(fits), 1.0, np.ones(T), 1.0, np.ones(T),
        np.repeat(seconds[:, None], 3, axis=1))


def _fit(b_crit_interval, b_crit=None):
    lo, hi = b_crit_interval
    b_crit = (lo + hi) / 2 if b_crit is None else b_crit
    return analysis.TradeOffFit(10.0, 10.0 * b_crit, b_crit, {"S_min": (9, 11), "E_min": (1, 2), "B_crit": (lo, hi)},
                                0.9, np.array([1, 10, 100]), np.ones(3))


def test_claim5_verdicts_rest_on_b_crit_alone():
    inside, outside = _fit((5.0, 20.0)), _fit((50.0, 150.0))
    # Wall time to the target (median steps x seconds per update): the middle batch fastest (2 x 1
    # against 4 and 1 x 3), and GD fastest (1 x 0.1). Neither moves the verdict.
    middle_fastest, gd_fastest = (1.0, 1.0, 3.0), (1.0, 1.0, 0.1)
    ok = _result("a", fits=(inside,), seconds=middle_fastest)
    assert ok.fastest.tolist() == [10] and _result(seconds=gd_fastest).fastest.tolist() == [100]
    for seconds in (middle_fastest, gd_fastest):
        verdict, reason = bsz.evaluate_claim5([ok, _result("b", fits=(inside,), seconds=seconds)])
        assert verdict == SUPPORTED, reason
        assert reason.startswith("2 of 2 (problem, target) pairs") and "b 0.01 (B_crit 12.5 [5, 20])" in reason
    verdict, reason = bsz.evaluate_claim5([ok, _result("c", fits=(outside,))])
    assert verdict == WEAKLY and "Not: c 0.01 (B_crit 100 [50, 150] not inside (1, 100))" in reason
    # The interval must lie wholly inside: touching 1 (or n) is not enough, the point estimate is not asked.
    verdict, reason = bsz.evaluate_claim5([_result("c", fits=(outside,)), _result("e", fits=(_fit((1.0, 9.0)),))])
    assert verdict == NOT_SUPPORTED and "0 of 2" in reason
    # Without an interval (one seed) the point estimate decides.
    no_interval = _fit((np.nan, np.nan), b_crit=30.0)
    verdict, reason = bsz.evaluate_claim5([_result("f", fits=(no_interval,))])
    assert verdict == SUPPORTED and "f 0.01 (B_crit 30, no interval)" in reason
    assert bsz.evaluate_claim5([_result("d", fits=(None,))])[0] == CANNOT_JUDGE
    claim = bsz.claim5([ok])  # the form jaxgd claims prints
    assert (claim.number, claim.verdict, claim.text) == (5, SUPPORTED, bsz.CLAIM5)


def test_claim5_verdict_survives_timing_noise_that_moves_the_fastest_batch_size():
    # Two problems x three targets, B_crit inside for 4 of the 6 (WEAKLY SUPPORTED), updates to
    # the target fixed, the wall time to each target made a near-tie between SGD, a mid batch and GD
    # (S x seconds per update = 10 x 1, 2 x 5, 1 x 10). Every one of 200 draws multiplies each
    # batch size's seconds per update by its own factor, uniform in [0.5, 1.5] (+-50% noise,
    # seeded): the fastest batch size moves among all three, the verdict and its reason never.
    sizes = [1, 8, 100]
    fits = [(_fit((2.0, 6.0)), _fit((5.0, 20.0)), _fit((50.0, 150.0))),
            (_fit((0.5, 3.0)), _fit((3.0, 9.0)), _fit((10.0, 40.0)))]
    steps = [[10.0, 2.0, 1.0]] * 3
    seconds = np.array([1.0, 5.0, 10.0])

    def study(noise):
        return [_result(name, fits=f, steps=steps, seconds=seconds * noise, targets=(1e-2, 1e-3, 1e-4),
                        batch_sizes=sizes) for name, f in zip(("tutorial", "ill-conditioned"), fits)]

    expected = bsz.evaluate_claim5(study(np.ones(3)))
    assert expected[0] == WEAKLY and expected[1].startswith("4 of 6"), expected
    rng = np.random.default_rng(0)
    fastest = set()
    for _ in range(200):
        problems = study(rng.uniform(0.5, 1.5, 3))
        assert bsz.evaluate_claim5(problems) == expected
        fastest |= {int(b) for p in problems for b in p.fastest}
    assert fastest == {1, 8, 100}  # the noise did move what wall time alone would have judged


def test_wall_time_information():
    # Times to the target 4 x 1, 2 x 1, 1 x 3 (SGD, batch 10, GD): batch 10 fastest, the faster of
    # SGD and GD (3) 1.5x slower. Rounds 1, 2 and 4 x the median for batch 10: spread 4.
    r = _result(fits=(_fit((5.0, 20.0)),), seconds=(1.0, 1.0, 3.0))
    r = dataclasses.replace(r, update_seconds=np.array([[1.0, 1, 1], [1, 2, 4], [3, 3, 3]]))
    assert r.fastest.tolist() == [10]
    np.testing.assert_allclose(r.mid_speedup, [1.5])
    assert r.timing_spread == 4.0
    text = bsz.format_report([r], *bsz.evaluate_claim5([r]))
    assert "rounds differed by up to 4x" in text
    assert "information, not part of the verdict): the fastest batch size lies strictly between SGD and GD for " \
           "1 of 1: p 0.01: 10 (edge/mid 1.5)" in text
    row = bsz.fit_rows(r)[0]
    assert (row["fastest_batch_size"], row["mid_speedup"], row["b_crit_inside"]) == (10, 1.5, True)
    # Only SGD and GD, or no batch size reaching the target: no ratio; a single round: no spread.
    edges = _result(steps=((2.0, 1.0),), seconds=(1.0, 1.0), batch_sizes=[1, 100])
    assert np.isnan(edges.mid_speedup).all()
    assert np.isnan(dataclasses.replace(edges, update_seconds=np.ones((2, 1))).timing_spread)
    never = _result(steps=((np.inf, np.inf, np.inf),))
    assert never.fastest.tolist() == [0] and np.isnan(never.mid_speedup).all()


def test_time_updates_times_every_batch_size_in_every_round():
    # The programs of the all-diverging study below (n = 16, batch sizes 1 and 16, 10 and 20 epochs).
    data = bsz.tutorial_problem(16)
    t = bsz.time_updates(data.X, data.y, [1, 16], [0.1, 0.1], timing_examples=160, timing_updates=20, rounds=3)
    assert t.shape == (2, 3) and np.isfinite(t).all() and (t > 0).all()


# --- the study on a tiny problem --------------------------------------------------------------------

TINY_SIZES = [1, 4, 16, 64]  # n = 64: every batch size divides n


@pytest.fixture(scope="module")
def tiny():
    # d = 3, condition 10, 64 rows: small enough for a test, ill-conditioned enough that full-batch
    # GD needs more than a handful of updates. 2 seeds, a coarse grid.
    problem = bsz.ill_conditioned_problem(64, 3, 10.0, epochs_min=8, updates_min=80, trace_points=300)
    lrs = [2.0 ** (k / 2) for k in range(-8, 3)]
    return problem, bsz.measure(problem, batch_sizes=TINY_SIZES, seeds=2, lrs=lrs, targets=(1e-2, 1e-3),
                                timing_examples=6400, timing_updates=200, repeats=2, bootstrap=50)


@pytest.mark.slow  # over ~5 s on the 2-core machine (benchmarks/suite-times); .ci/run runs it
def test_study_examples_are_batch_size_times_updates(tiny):
    _, r = tiny
    reached = np.isfinite(r.steps)
    assert reached[0].all()  # the loose target: every batch size, every seed
    B = r.batch_sizes[None, :, None]
    np.testing.assert_array_equal(r.samples[reached], (r.steps * B)[reached])
    assert np.isinf(r.samples[~reached]).all()
    # A batch size with a chosen rate has every seed reached, and the rate is one of the grid's.
    has_lr = np.isfinite(r.lr)
    np.testing.assert_array_equal(has_lr, reached.all(axis=-1))
    assert set(r.lr[has_lr]) <= set(r.lrs)


@pytest.mark.slow  # its module's shared fixture runs a study, a sweep, a command or a cluster (over ~10 s); .ci/run runs it
def test_study_updates_fall_as_the_batch_grows_on_the_ill_conditioned_problem(tiny):
    # Fixed seeds, so deterministic: the median updates to 1% fall strictly from SGD to GD
    # (measured 79.5, 24.5, 16, 14), and SGD needs the fewest examples.
    _, r = tiny
    S = r.median_steps[0]
    assert all(a > b for a, b in zip(S, S[1:])), S
    assert np.argmin(r.median_samples[0]) == 0


@pytest.mark.slow  # its module's shared fixture runs a study, a sweep, a command or a cluster (over ~10 s); .ci/run runs it
def test_study_fit_is_the_fit_of_its_reached_batch_sizes(tiny):
    problem, r = tiny
    for t, fit in enumerate(r.fits):
        assert fit is not None
        reached = np.isfinite(r.steps[t]).all(axis=1)
        np.testing.assert_array_equal(fit.batch_sizes, r.batch_sizes[reached])
        np.testing.assert_allclose(fit.steps, r.steps[t][reached].mean(axis=1))
        assert fit.B_crit == pytest.approx(fit.E_min / fit.S_min, rel=1e-12)
        again = analysis.fit_batch_trade_off(r.batch_sizes, r.steps[t], bootstrap=50)
        assert (again.S_min, again.E_min, again.intervals) == (fit.S_min, fit.E_min, fit.intervals)
    assert r.n == problem.n and r.condition == pytest.approx(problem.condition)
    assert 8 < problem.condition < 13  # "about 10" for 64 rows (sampling spreads the scales a little)


@pytest.mark.slow  # its module's shared fixture runs a study, a sweep, a command or a cluster (over ~10 s); .ci/run runs it
def test_study_noise_scale_and_wall_time(tiny):
    _, r = tiny
    # B_simple and B_noise grow as the parameters approach the optimum: initial < at 1% < at 0.1%.
    assert r.b_simple_initial < r.b_simple_target[0] < r.b_simple_target[1]
    assert r.b_noise_initial < r.b_noise_target[0] < r.b_noise_target[1]
    np.testing.assert_allclose(r.wall_seconds, r.median_steps * r.seconds_per_update)
    assert r.update_seconds.shape == (len(TINY_SIZES), 2) and (r.update_seconds > 0).all()
    np.testing.assert_array_equal(r.seconds_per_update, np.median(r.update_seconds, axis=1))
    for t in range(len(r.targets)):
        assert r.fastest[t] == r.batch_sizes[np.argmin(r.wall_seconds[t])]
    verdict, reason = bsz.evaluate_claim5([r])
    assert verdict in (SUPPORTED, WEAKLY, NOT_SUPPORTED) and "pairs" in reason
    # The measured timings reversed (the slowest batch size now the fastest): the same verdict.
    flipped = dataclasses.replace(r, seconds_per_update=r.seconds_per_update[::-1].copy())
    assert bsz.evaluate_claim5([flipped]) == (verdict, reason)
    text = bsz.format_report([r], verdict, reason)
    assert "Claim 5" in text and verdict in text and "Claim 1" in text and "not part of the verdict" in text
    rows = bsz.rows(r)
    assert len(rows) == len(r.targets) * len(r.batch_sizes)
    json.dumps({"rows": rows, "fits": bsz.fit_rows(r)})  # plain JSON types only


@pytest.mark.slow  # its module's shared fixture runs a study, a sweep, a command or a cluster (over ~10 s); .ci/run runs it
def test_study_figure(tiny, tmp_path):
    from jaxgd import plots

    _, r = tiny
    out = plots.batch_size_figure([r], tmp_path / "bs.png")
    img = matplotlib.image.imread(out)
    assert img.shape[1] > 1000 and img.std() > 0.05  # a real, non-blank figure


@pytest.mark.slow  # over ~5 s on the 2-core machine (benchmarks/suite-times); .ci/run runs it
def test_study_where_every_rate_diverges_cannot_judge_and_still_draws(tmp_path):
    # lr 50 and 100 diverge at every batch size: no rate is chosen, nothing is fitted, the verdict
    # says so, and the figure is written with a note instead of empty log axes. Diverging runs
    # are the study's findings, not the user's mistake: measure warns of none (its timing
    # programs compile in a thread, where a warning turned error here would fail the test too).
    from jaxgd import plots

    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        r = bsz.measure(bsz.tutorial_problem(16, epochs_min=1, updates_min=4, trace_points=50), batch_sizes=[1, 16],
                        lrs=[50.0, 100.0], seeds=2, targets=(0.01,), timing_examples=160, timing_updates=20,
                        repeats=1, bootstrap=0)
    assert np.isnan(r.lr).all() and np.isinf(r.steps).all() and r.fits == (None,)
    assert r.fastest.tolist() == [0] and np.isnan(r.mid_speedup).all() and np.isnan(r.timing_spread)
    assert bsz.evaluate_claim5([r])[0] == CANNOT_JUDGE
    assert "never" in bsz.format_report([r], CANNOT_JUDGE, "-")
    img = matplotlib.image.imread(plots.batch_size_figure([r], tmp_path / "none.png"))
    assert img.std() > 0.01


def test_measure_bad_input():
    problem = bsz.tutorial_problem(16)
    with pytest.raises(ValueError, match="between 1 and n=16"):
        bsz.measure(problem, batch_sizes=[1, 32])
    with pytest.raises(ValueError, match="at least 2 batch sizes"):
        bsz.measure(problem, batch_sizes=[4])
    with pytest.raises(ValueError, match="targets must be fractions"):
        bsz.measure(problem, batch_sizes=[1, 16], targets=(0.5, 2.0))
    with pytest.raises(ValueError, match="d must be at least 2"):
        bsz.ill_conditioned_problem(16, 1)
    with pytest.raises(ValueError, match="condition must be > 1"):
        bsz.ill_conditioned_problem(16, 4, 0.5)


def test_default_batch_sizes():
    assert bsz.default_batch_sizes(1000) == [1, 2, 4, 8, 16, 32, 50, 64, 128, 256, 512, 1000]
    assert bsz.default_batch_sizes(16) == [1, 2, 4, 8, 16]


# --- the command ------------------------------------------------------------------------------------


@pytest.mark.slow  # over ~5 s on the 2-core machine (benchmarks/suite-times); .ci/run runs it
def test_cli_runs_and_writes_the_figure_and_json(tmp_path):
    fig, js = tmp_path / "bs.png", tmp_path / "bs.json"
    p = subprocess.run(
        [sys.executable, "-m", "jaxgd", "batch-size", "--problems", "tutorial", "--n", "32", "--seeds", "2",
         "--targets", "0.01,0.001", "--lrs", "0.25,0.5,1", "--batch-sizes", "1,8,n", "--bootstrap", "20",
         "--out", str(fig), "--json", str(js)],
        capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    assert "== tutorial: n=32, d=1" in p.stdout and "Claim 5:" in p.stdout and f"figure: {fig}" in p.stdout
    img = matplotlib.image.imread(fig)
    assert img.shape[1] > 1000 and img.std() > 0.05
    data = json.loads(js.read_text())
    assert {r["batch_size"] for r in data["rows"]} == {1, 8, 32} and len(data["rows"]) == 6
    assert data["verdict"] in (SUPPORTED, WEAKLY, NOT_SUPPORTED, CANNOT_JUDGE)


@pytest.mark.parametrize("args, needle", [
    (["--targets", "0.01,2"], "argument --targets: expected comma-separated fractions"),
    (["--seeds", "1"], "argument --seeds: expected an integer >= 2"),
    (["--problems", "tutorial,foo"], "argument --problems"),
    (["--condition", "1"], "argument --condition: expected a condition number > 1"),
    (["--lrs", "0.1,-1"], "argument --lrs"),
    (["--batch-sizes", "0,1"], "argument --batch-sizes"),
    (["--batch-sizes", "1,5000"], "--batch-sizes 5000 is larger than --n 1000"),
    (["--batch-sizes", "n,1000"], "at least 2 different batch sizes"),
    (["--out", "/nonexistent-dir/f.png"], "the directory /nonexistent-dir does not exist"),
    (["--budget", "0"], "argument --budget"),
])
def test_cli_bad_flags_are_one_line_and_exit_code_2(args, needle, capsys):
    assert cli.main(["batch-size", *args]) == 2
    err = capsys.readouterr().err
    assert needle in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
