"""jaxgd.sweep: every run equals jaxgd.train, divergence is contained, one program per batch size."""

import csv

import jax
import numpy as np
import pytest

import jaxgd
from jaxgd import analysis

# Small data keep compilation and the reference train() runs cheap; d = 2 exercises (d, 1) w.
N, EPOCHS = 40, 7
BATCH_SIZES = [N, 7, 1]  # GD, padded mini-batch (40 = 5 * 7 + 5), SGD
LRS = [0.05, 0.4, 1e4]  # 1e4 overflows to inf/NaN within a few epochs for every batch size
SEEDS = [0, 5]
DIVERGING = 2  # index of lr 1e4

# Tolerances: a sweep run performs the same float32 arithmetic as train(), but vmapping
# reassociates the batch sums (and chunking splits the program), so results agree to a few
# float32 roundings (6e-8 relative each), not bit for bit: measured <= 4e-7 relative on losses.
# Hence rtol 1e-6 on losses and atol 1e-6 on parameters, which are O(1).
RTOL, ATOL = 1e-6, 1e-6


@pytest.fixture(scope="module")
def data():
    d = jaxgd.synthetic_data((3.5, -1.5), 4.0, N, seed=3)
    return np.asarray(d.X), np.asarray(d.y)


@pytest.fixture(scope="module")
def swept(data, counting_compiles):
    # chunk_epochs=3 for 7 epochs: chunks of 3, 3 and a masked last chunk with 1 valid epoch.
    with counting_compiles() as counter:
        r = jaxgd.sweep(*data, batch_sizes=BATCH_SIZES, lrs=LRS, seeds=SEEDS, epochs=EPOCHS,
                        step_loss="full", chunk_epochs=3)
    return r, counter.count


@pytest.fixture(scope="module")
def result(swept):
    return swept[0]


@pytest.mark.slow  # over ~5 s on the 2-core machine (benchmarks/suite-times); .ci/run runs it
def test_shapes_and_metadata(result):
    B, L, S = len(BATCH_SIZES), len(LRS), len(SEEDS)
    assert result.shape == (B, L, S) and result.num_runs == B * L * S
    assert result.epoch_loss.shape == (B, L, S, EPOCHS + 1)
    assert result.w.shape == (B, L, S, 2) and result.b.shape == (B, L, S)
    assert result.variants == ["GD", "mini-batch", "SGD"]
    assert result.updates_per_epoch.tolist() == [1, 6, 40]
    assert result.chunk_epochs == 3
    assert [s.shape for s in result.step_loss] == [(L, S, EPOCHS * u) for u in (1, 6, 40)]


@pytest.mark.filterwarnings("ignore:training diverged:RuntimeWarning")  # lr 1e4 diverges on purpose
def test_every_run_equals_train(data, result):
    X, y = data
    for i, bs in enumerate(BATCH_SIZES):
        for j, lr in enumerate(LRS):
            for k, seed in enumerate(SEEDS):
                ref = jaxgd.train(X, y, batch_size=bs, lr=lr, epochs=EPOCHS, seed=seed)
                got = result.epoch_loss[i, j, k]
                if j == DIVERGING:
                    # Both overflow: same non-finite pattern is too strict across programs;
                    # the run must be flagged and train must agree that it blew up.
                    assert result.diverged[i, j, k]
                    assert not np.isfinite(np.asarray(ref.epoch_loss)[-1])
                    continue
                np.testing.assert_allclose(got, ref.epoch_loss, rtol=RTOL, err_msg=f"{bs=} {lr=} {seed=}")
                np.testing.assert_allclose(result.w[i, j, k], np.asarray(ref.w).ravel(), atol=ATOL)
                np.testing.assert_allclose(result.b[i, j, k], np.asarray(ref.b), atol=ATOL)
                np.testing.assert_allclose(result.step_loss[i][j, k], ref.step_loss, rtol=RTOL, atol=ATOL)


def test_divergence_flags_and_epochs(result):
    # Reference rule written out: first epoch with a non-finite loss or > 1e3 x initial.
    assert result.diverged[:, DIVERGING].all()
    assert not result.diverged[:, :DIVERGING].any()
    for idx in np.ndindex(result.shape):
        loss = result.epoch_loss[idx]
        bad = [e for e, v in enumerate(loss) if not np.isfinite(v) or v > 1e3 * loss[0]]
        assert result.diverged_epoch[idx] == (bad[0] if bad else -1)
    assert (result.diverged_epoch[:, DIVERGING] >= 1).all()
    # The diverged lanes hold NaN (mini-batch, SGD) or inf (GD) by the end, while their
    # neighbours in the same vmap stay finite and equal train() (test_every_run_equals_train):
    # a NaN lane does not poison the others.
    assert np.isnan(result.epoch_loss[1:, DIVERGING, :, -1]).all()
    assert np.isinf(result.epoch_loss[0, DIVERGING, :, -1]).all()
    assert np.isfinite(result.epoch_loss[:, :DIVERGING]).all()
    assert (result.epochs_to_target()[:, DIVERGING] == analysis.NOT_REACHED).all()


def test_chunked_equals_unchunked(data, result):
    whole = jaxgd.sweep(*data, batch_sizes=BATCH_SIZES, lrs=LRS[:DIVERGING], seeds=SEEDS,
                        epochs=EPOCHS, step_loss="summary")
    assert whole.chunk_epochs == EPOCHS
    np.testing.assert_allclose(whole.epoch_loss, result.epoch_loss[:, :DIVERGING], rtol=RTOL)
    np.testing.assert_allclose(whole.w, result.w[:, :DIVERGING], atol=ATOL)
    # summary mode keeps the per-epoch mean/std of the update losses that "full" keeps whole.
    np.testing.assert_allclose(whole.step_loss_mean, result.step_loss_mean[:, :DIVERGING], rtol=1e-5)
    np.testing.assert_allclose(whole.step_loss_std, result.step_loss_std[:, :DIVERGING], rtol=1e-4, atol=1e-6)
    assert whole.step_loss is None
    for i, upe in enumerate(whole.updates_per_epoch):
        full = result.step_loss[i][:DIVERGING].reshape(len(LRS) - 1, len(SEEDS), EPOCHS, upe)
        np.testing.assert_allclose(whole.step_loss_mean[i], full.mean(-1), rtol=1e-5)


@pytest.mark.slow  # over ~5 s on the 2-core machine (benchmarks/suite-times); .ci/run runs it
def test_compiles_once_per_batch_size(data, swept, counting_compiles):
    # One program per batch size plus the two draw programs (initial states, one epoch's
    # orders), whatever the numbers of lrs and seeds: 3 x 3 x 2 runs in chunks (the fixture)
    # and 3 x 9 x 12 unchunked runs alike. Unseen epoch counts, so nothing comes from the
    # compilation cache.
    assert swept[1] == len(BATCH_SIZES) + 2
    lrs = list(np.linspace(0.01, 0.3, 9))
    with counting_compiles() as counter:
        jaxgd.sweep(*data, batch_sizes=BATCH_SIZES, lrs=lrs, seeds=12, epochs=5)
    assert counter.count == len(BATCH_SIZES) + 2
    # The draw depends on neither the batch sizes nor the epochs: another sweep of the same
    # lrs and seeds compiles its chunk programs only (jaxgd batch-size runs 7 such a problem).
    with counting_compiles() as counter:
        jaxgd.sweep(*data, batch_sizes=[3, 5], lrs=lrs, seeds=12, epochs=7)
    assert counter.count == 2


def test_rows_and_csv(result, tmp_path):
    rows = list(result.rows())
    assert len(rows) == result.num_runs
    first = rows[0]
    assert (first["variant"], first["batch_size"], first["lr"], first["seed"]) == ("GD", N, 0.05, 0)
    assert first["final_loss"] == pytest.approx(float(result.epoch_loss[0, 0, 0, -1]))
    diverged = [r for r in rows if r["diverged"]]
    assert len(diverged) == len(BATCH_SIZES) * len(SEEDS)
    assert all(r["lr"] == 1e4 and r["diverged_epoch"] >= 1 and r["epochs_to_target"] is None for r in diverged)
    path = result.to_csv(tmp_path / "runs.csv")
    with open(path) as f:
        back = list(csv.DictReader(f))
    assert len(back) == len(rows)
    assert {"w0", "w1", "b", "diverged_epoch", "final_excess_loss"} <= set(back[0])
    assert back[0]["diverged_epoch"] == "" and back[4]["diverged"] == "True"  # rows: batch size, lr, seed order


def test_progress_bar_chunks_and_reports(data, capsys):
    r = jaxgd.sweep(*data, batch_sizes=[N], lrs=[0.05, 1e4], seeds=[0], epochs=20, progress=True, step_loss="none")
    assert r.chunk_epochs == 2  # progress on: about ten chunks
    err = capsys.readouterr().err
    assert "20/20" in err and "diverged" in err


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(batch_sizes=[]), "batch_sizes is empty"),
        (dict(batch_sizes=[0]), "batch_sizes must be between 1 and n=40"),
        (dict(batch_sizes=[41]), "batch_sizes must be between 1 and n=40"),
        (dict(batch_sizes=[7, 7]), "batch_sizes .* twice"),
        (dict(batch_sizes=[None, 40]), "twice"),
        (dict(lrs=[]), "lrs is empty"),
        (dict(lrs=[0.0]), "lr must be a finite number > 0"),
        (dict(lrs=[-0.1]), "lr must be a finite number > 0"),
        (dict(lrs=[float("nan")]), "lr must be a finite number > 0"),
        (dict(seeds=[]), "seeds is empty"),
        (dict(seeds=0), "seeds must be a positive count"),
        (dict(seeds=[1.5]), "seed must be an integer"),
        (dict(seeds=[2**40]), r"seed must be an integer in \[0, 2\*\*31\)"),
        (dict(epochs=0), "epochs must be >= 1"),
        (dict(step_loss="all"), "step_loss must be one of"),
        (dict(divergence_factor=0.5), "divergence_factor"),
        (dict(chunk_epochs=0), "chunk_epochs must be >= 1"),
        (dict(fast_compile="yes"), "fast_compile must be True or False"),
        (dict(fast_compile=1), "fast_compile must be True or False"),
    ],
)
def test_bad_arguments_raise_value_error(data, kwargs, message):
    args = dict(batch_sizes=[7], lrs=[0.1], seeds=[0], epochs=2) | kwargs
    with pytest.raises(ValueError, match=message):
        jaxgd.sweep(*data, **args)


def test_bad_data_raises_value_error(data):
    X, y = data
    with pytest.raises(ValueError, match="y must have shape"):
        jaxgd.sweep(X, y[:-1], batch_sizes=[1], lrs=[0.1], seeds=1, epochs=1)
    Xbad = X.copy()
    Xbad[3, 0] = np.nan
    with pytest.raises(ValueError, match="X contains NaN"):
        jaxgd.sweep(Xbad, y, batch_sizes=[N], lrs=[0.1], seeds=1, epochs=1)


@pytest.mark.slow  # over ~5 s on the 2-core machine (benchmarks/suite-times); .ci/run runs it
def test_chunks_are_sized_by_the_int32_orders_whatever_the_data_dtype(monkeypatch):
    # Orders are int32 (4 bytes) even for float64 data: 2 seeds x n=40 x 4 bytes = 320 bytes an
    # epoch, so a 640-byte budget holds 2 epochs (sizing by float64's 8 bytes would give 1).
    from jaxgd.drivers import _sweep
    from jaxgd.parity import x64_enabled

    monkeypatch.setattr(_sweep, "_CHUNK_BYTES", 640)
    with x64_enabled():
        d = jaxgd.synthetic_data(num_examples=40, seed=1, dtype="float64")
        r = jaxgd.sweep(d.X, d.y, batch_sizes=[8], lrs=[0.1], seeds=2, epochs=4, step_loss="none")
    assert r.epoch_loss.dtype == np.float64 and r.chunk_epochs == 2


def test_a_real_compile_error_is_raised_not_retried(monkeypatch):
    # Only XLA's "No such compile option" falls back to a default compile; any other compile
    # error surfaces as it is.
    from jaxgd.drivers import _sweep_programs

    class Lowered:
        calls = 0

        def compile(self, compiler_options=None):
            Lowered.calls += 1
            raise jax.errors.JaxRuntimeError("RESOURCE_EXHAUSTED: out of memory while compiling")

    monkeypatch.setattr(jax, "default_backend", lambda: "cpu")
    with pytest.raises(jax.errors.JaxRuntimeError, match="RESOURCE_EXHAUSTED"):
        _sweep_programs._compile(Lowered())
    assert Lowered.calls == 1


def test_an_xla_without_an_option_drops_it_and_keeps_the_others(monkeypatch):
    # An XLA that lost the loop emitters' option still gets the sweep's own options; one that
    # knows neither compiles its defaults.
    from jaxgd.drivers import _sweep_programs

    class Lowered:
        def __init__(self, known):
            self.known, self.seen = known, []

        def compile(self, compiler_options=None):
            self.seen.append(dict(compiler_options or {}))
            unknown = set(compiler_options or {}) - self.known
            if unknown:
                raise jax.errors.JaxRuntimeError(f"INVALID_ARGUMENT: No such compile option: '{min(unknown)}'")
            return "compiled"

    monkeypatch.setattr(jax, "default_backend", lambda: "cpu")
    own, fast = _sweep_programs._CPU_COMPILER_OPTIONS, _sweep_programs._FAST_COMPILE_OPTIONS
    low = Lowered(known=set(own))
    assert _sweep_programs._compile(low, True) == "compiled" and low.seen == [own | fast, own]
    low = Lowered(known=set())
    assert _sweep_programs._compile(low, True) == "compiled" and low.seen == [own | fast, own, {}]


def _fields(r):
    return [r.epoch_loss, r.w, r.b, r.diverged_epoch, r.trace_loss, r.trace_w, r.trace_b, *r.step_loss]


def test_fast_compile_gives_the_same_bits_with_sgd(data, counting_compiles, monkeypatch):
    # fast_compile compiles programs of its own (XLA:CPU's loop emitters: a sweep and its
    # fast-compiled twin never share one), and with plain SGD they compute the default's bits:
    # GD, a padded mini-batch and SGD, with the trace and every update's loss.
    from jaxgd.drivers import _sweep_programs

    flags = []
    compile_ = _sweep_programs._compile
    monkeypatch.setattr(_sweep_programs, "_compile", lambda low, fast=False: flags.append(fast) or compile_(low, fast))
    kwargs = dict(batch_sizes=BATCH_SIZES, lrs=LRS[:2], seeds=SEEDS[:1], epochs=3, step_loss="full", record_every=10)
    default = jaxgd.sweep(*data, **kwargs)
    with counting_compiles() as counter:
        fast = jaxgd.sweep(*data, fast_compile=True, **kwargs)
    assert counter.count == len(BATCH_SIZES) + 2
    assert flags == [False] * (len(BATCH_SIZES) + 2) + [True] * (len(BATCH_SIZES) + 2)
    for got, want in zip(_fields(fast), _fields(default)):
        np.testing.assert_array_equal(got, want)


def test_fast_compile_reaches_xla():
    # The option changes what XLA:CPU emits (the loop emitters' fusions): were it ignored or
    # gone from XLA (the fallback compiles the default), the texts would be equal.
    import jax.numpy as jnp

    from jaxgd.drivers import _sweep_programs

    if jax.default_backend() != "cpu":
        pytest.skip("fast_compile is XLA:CPU's option; other backends compile the default")
    x = np.ones((40, 3), np.float32)
    lowered = jax.jit(lambda a, b: (jnp.sqrt(a * a + 1.0) - b).sum(axis=0)).lower(x, x)
    assert _sweep_programs._compile(lowered, True).as_text() != _sweep_programs._compile(lowered, False).as_text()


@pytest.mark.slow  # compiles 2 x 5 programs of adaptive optimizers
@pytest.mark.parametrize("optimizer", ["rmsprop", "nadam"])
def test_fast_compile_with_adaptive_optimizers_agrees_to_float32_rounding(data, optimizer):
    # The two emitters round some of these updates' operations differently: measured at most
    # 8e-8 relative (a float32 ulp) on 6-epoch runs; rtol 1e-6 allows a few ulps of drift over
    # these 7 epochs and would catch any real difference.
    kwargs = dict(batch_sizes=BATCH_SIZES, lrs=LRS[:2], seeds=SEEDS, epochs=EPOCHS, optimizer=optimizer,
                  step_loss="full")
    default, fast = jaxgd.sweep(*data, **kwargs), jaxgd.sweep(*data, fast_compile=True, **kwargs)
    for got, want in zip(_fields(fast)[:3] + list(fast.step_loss), _fields(default)[:3] + list(default.step_loss)):
        np.testing.assert_allclose(got, want, rtol=RTOL, atol=ATOL)
