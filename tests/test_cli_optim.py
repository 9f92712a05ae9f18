"""The optimizer and schedule flags, ``jaxgd parity --optimizer`` and ``jaxgd optimizers``."""

import re

import matplotlib.image
import numpy as np
import pytest

import jaxgd
from jaxgd import cli, optim
from jaxgd.cli import _common


def spec_of(*argv):
    args = cli.build_parser().parse_args(["train", *argv])
    return _common.optimizer_from_args(args, "jaxgd train"), args.schedule


@pytest.mark.parametrize(
    "argv, want",
    [
        ([], optim.sgd()),
        (["--momentum", "0.9", "--dampening", "0.1", "--weight-decay", "0.01"],
         optim.sgd(momentum=0.9, dampening=0.1, weight_decay=0.01)),
        (["--momentum", "0.9", "--nesterov"], optim.sgd(momentum=0.9, nesterov=True)),
        (["--optimizer", "adam"], optim.adam()),
        (["--optimizer", "adam", "--betas", "0.8,0.99", "--eps", "1e-6", "--amsgrad"],
         optim.adam(betas=(0.8, 0.99), eps=1e-6, amsgrad=True)),
        (["--optimizer", "adamw", "--weight-decay", "0"], optim.adamw(weight_decay=0.0)),
        (["--optimizer", "adagrad", "--lr-decay", "0.01", "--initial-accumulator-value", "0.1"],
         optim.adagrad(lr_decay=0.01, initial_accumulator_value=0.1)),
        (["--optimizer", "rmsprop", "--alpha", "0.9", "--momentum", "0.5", "--centered"],
         optim.rmsprop(alpha=0.9, momentum=0.5, centered=True)),
        (["--optimizer", "adadelta", "--rho", "0.95", "--eps", "1e-5"], optim.adadelta(rho=0.95, eps=1e-5)),
    ],
)
def test_optimizer_flags_build_the_spec(argv, want):
    got, schedule = spec_of(*argv)
    assert got == want and schedule == optim.constant()


@pytest.mark.parametrize(
    "text, want",
    [
        ("constant", optim.constant()),
        ("step_lr:step_size=10,gamma=0.5", optim.step_lr(10, 0.5)),
        ("step_lr:step_size=3", optim.step_lr(3)),
        ("multistep_lr:milestones=10+20,gamma=0.1", optim.multistep_lr([10, 20], 0.1)),
        ("exponential_lr:gamma=0.9", optim.exponential_lr(0.9)),
        ("cosine_annealing_lr:T_max=50", optim.cosine_annealing_lr(50)),
        ("cosine_annealing_lr:T_max=50,eta_min=1e-4", optim.cosine_annealing_lr(50, 1e-4)),
        ("linear_lr:start_factor=0.5,total_iters=3", optim.linear_lr(start_factor=0.5, total_iters=3)),
    ],
)
def test_schedule_spec_builds_the_schedule(text, want):
    assert spec_of("--schedule", text)[1] == want


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["train", "--optimizer", "adam", "--betas", "1.5,0.9"], "--optimizer adam: Invalid betas[0] (beta1) value: 1.5"),
        (["train", "--optimizer", "adam", "--betas", "0.9"], "argument --betas: expected two comma-separated numbers"),
        (["train", "--optimizer", "adam", "--eps", "-1"], "--optimizer adam: Invalid eps value: -1.0 (must be >= 0)"),
        (["train", "--optimizer", "adam", "--eps", "abc"], "argument --eps: expected a number, got 'abc'"),
        (["train", "--schedule", "step_lr:gamma=x"], "argument --schedule: step_lr: gamma='x' is not a number"),
        (["train", "--schedule", "step_lr"], "argument --schedule: step_lr needs step_size=VALUE"),
        (["train", "--schedule", "step_lr:step_size=0"], "Invalid step_size value: 0"),
        (["train", "--schedule", "step_lr:size=3"], "step_lr takes step_size, gamma as KEY=VALUE"),
        (["train", "--schedule", "warmup"], "unknown schedule 'warmup'"),
        (["train", "--schedule", "multistep_lr:milestones=10+x"], "milestones='10+x' is not integers"),
        (["train", "--nesterov"], "nesterov=True requires momentum > 0"),
        (["train", "--betas", "0.9,0.99"], "--betas does not apply to --optimizer sgd (it takes --momentum"),
        (["compare", "--optimizer", "adagrad", "--rho", "0.9"], "--rho does not apply to --optimizer adagrad"),
        (["sweep", "--optimizer", "rmsprop", "--momentum", "-0.1"], "Invalid momentum value: -0.1"),
        (["parity", "--optimizer", "all", "--eps", "1e-6"], "--eps needs one --optimizer, not all"),
        (["train", "--optimizer", "lion"], "argument --optimizer: invalid choice: 'lion'"),
        (["optimizers", "--out", "/nonexistent-dir/o.png"], "the directory /nonexistent-dir does not exist"),
        (["optimizers", "--batch-size", "1"], "--batch-size: expected an integer >= 2"),
        (["optimizers", "--n", "40", "--batch-size", "40"], "--batch-size 40 must be between 2 and n - 1"),
    ],
)
def test_bad_values_are_one_line_exit_2_before_any_work(argv, needle, monkeypatch, capsys):
    from jaxgd.drivers import _sweep
    from jaxgd.drivers import _train

    def forbidden(*a, **k):
        raise AssertionError("trained before checking the flags")

    monkeypatch.setattr(_train, "train", forbidden)
    monkeypatch.setattr(_sweep, "sweep", forbidden)
    assert cli.main(argv) == 2
    out, err = capsys.readouterr()
    assert len(err.splitlines()) == 1 and needle in err, err
    assert "Traceback" not in err


def _help(argv, capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(argv)
    assert e.value.code == 0
    return " ".join(capsys.readouterr().out.split())  # argparse wraps lines


def test_help_lists_the_named_optimizers_flags_with_torchs_defaults(capsys):
    text = _help(["train", "--optimizer", "adagrad", "--help"], capsys)
    assert "the flags of --optimizer adagrad (torch.optim.Adagrad)" in text
    assert "--eps X term added to the denominator for numerical stability (default: 1e-10)" in text
    assert "--lr-decay X" in text and "--betas" not in text and "--momentum" not in text
    text = _help(["train", "--optimizer=adamw", "--help"], capsys)
    assert "(default: 0.9,0.999)" in text and "--weight-decay X" in text and "(default: 0.01)" in text
    # Without --optimizer, --help names the mechanism instead of every optimizer's flags.
    text = _help(["train", "--help"], capsys)
    assert "'--optimizer NAME --help' lists NAME's flags" in text and "--betas" not in text
    assert cli.main(["train", "--optimizer", "adam", "--betas", "0.8,0.9", "--epochs", "1", "--n", "20"]) == 0


def _losses(out):
    return [float(m) for m in re.findall(r"^epoch +\d+ +loss (\S+)$", out, re.M)]


@pytest.mark.parametrize("extra, schedule", [
    pytest.param([], optim.constant(), marks=pytest.mark.slow),  # ~7 s each: the flags' specs are
    pytest.param(["--schedule", "step_lr:step_size=1,gamma=0.5"], optim.step_lr(1, 0.5),  # checked
                 marks=pytest.mark.slow),  # fast by test_optimizer_flags_build_the_spec
])
def test_train_with_adam_prints_what_jaxgd_train_computes(extra, schedule, capsys):
    argv = ["train", "--optimizer", "adam", "--betas", "0.8,0.99", "--n", "100", "--epochs", "4",
            "--batch-size", "10", "--lr", "0.05", *extra]
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    assert "optimizer adam(betas=0.8,0.99, eps=1e-08, weight_decay=0, amsgrad=False, maximize=False)" in out
    assert f"schedule {schedule.name}" in out
    from jaxgd.data._synthetic import synthetic_data, tutorial_weights

    data = synthetic_data(tutorial_weights(1), 4.0, 100, seed=0)  # what the CLI trains on
    r = jaxgd.train(data.X, data.y, batch_size=10, lr=0.05, epochs=4, seed=0,
                    optimizer=optim.adam(betas=(0.8, 0.99)), schedule=schedule)
    # The same program on the same inputs: equal to the printed 6 decimals.
    assert _losses(out) == [float(f"{v:.6f}") for v in np.asarray(r.epoch_loss)]
    default = jaxgd.train(data.X, data.y, batch_size=10, lr=0.05, epochs=4, seed=0)  # plain SGD differs
    assert _losses(out)[-1] != float(f"{float(default.epoch_loss[-1]):.6f}")


@pytest.mark.slow  # over ~5 s on the 2-core machine (benchmarks/suite-times); .ci/run runs it
def test_sweep_with_an_optimizer_names_it(tmp_path, capsys):
    argv = ["sweep", "--optimizer", "rmsprop", "--centered", "--n", "60", "--epochs", "2", "--seeds", "2",
            "--lrs", "0.01", "--batch-sizes", "10", "--schedule", "exponential_lr:gamma=0.9",
            "--out", str(tmp_path / "s.png"), "--csv", str(tmp_path / "s.csv")]
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    assert "optimizer rmsprop(alpha=0.99, eps=1e-08, weight_decay=0, momentum=0, centered=True, maximize=False); " \
           "schedule exponential_lr(gamma=0.9)" in out


@pytest.mark.slow  # over ~5 s on the 2-core machine (benchmarks/suite-times); .ci/run runs it
def test_parity_breach_with_an_optimizer_exits_1(monkeypatch, capsys):
    # A 1% different learning rate on jaxgd's side must break the optimizer tolerance in both dtypes.
    from jaxgd.drivers import _train

    assert cli.main(["parity", "--optimizer", "adam", "--n", "50", "--epochs", "2", "--batch-sizes", "10"]) == 0
    assert "parity holds" in capsys.readouterr().out
    orig = _train.train

    def skewed(*a, **k):
        k["lr"] *= 1.01
        return orig(*a, **k)

    monkeypatch.setattr(_train, "train", skewed)  # the name parity.compare calls
    assert cli.main(["parity", "--optimizer", "adam", "--n", "50", "--epochs", "2", "--batch-sizes", "10"]) == 1
    out = capsys.readouterr().out
    (row,) = [line for line in out.splitlines() if line.split()[:1] == ["adam"]]
    f32, f64 = float(row.split()[4]), float(row.split()[6])
    assert f32 > 1 and f64 > 1 and row.split()[-1] == "FAIL"
    assert "parity BROKEN" in out


@pytest.mark.slow
def test_parity_all_optimizers_passes_and_reports_every_one(capsys):
    # The shapes of tests/test_optim_train.py (n=23, d=3, 5 epochs, batches of 23, 5 and 1):
    # the 66 programs (11 optimizers x 3 variants x 2 dtypes) compiled here are the ones that
    # module runs (the suite's compilation cache), so the suite compiles them once, not twice.
    # The rate stays the default (a runtime value of the program, not part of its shape).
    assert cli.main(["parity", "--optimizer", "all", "--epochs", "5", "--n", "23", "--d", "3",
                     "--batch-sizes", "n,5,1"]) == 0
    out = capsys.readouterr().out
    rows = [line.split() for line in out.splitlines() if line.split()[:1] and line.split()[0] in optim.NAMES]
    assert [(r[0], r[1]) for r in rows] == [(o, v) for o in optim.NAMES for v in ("GD", "mini-batch", "SGD")]
    for r in rows:  # float32 and float64 worst / tol, each <= 1
        assert float(r[4]) <= 1 and float(r[6]) <= 1 and r[-1] == "ok", r
    assert "parity holds" in out


def test_choose_lr_criterion():
    from jaxgd.studies._optimizers import choose_lr

    opt = 1.0
    # (L=4 rates, S=3 seeds, 3 epoch records): rate 0 best final loss but one seed diverged;
    # rates 1 and 2 tie within the resolution, rate 2 reaches the target sooner; rate 3 worse.
    loss = np.array([
        [[11, 1.0, 1.0], [11, 1.0, 1.0], [11, 1e9, np.inf]],
        [[11, 5.0, 1.01], [11, 5.0, 1.01], [11, 5.0, 1.01]],
        [[11, 1.05, 1.0100001], [11, 1.05, 1.0100001], [11, 1.05, 1.0100001]],
        [[11, 1.5, 1.5], [11, 1.5, 1.5], [11, 1.5, 1.5]],
    ])
    diverged = np.array([[False, False, True], [False] * 3, [False] * 3, [False] * 3])
    j, med = choose_lr(loss, diverged, opt, resolution=1e-6, rel=0.01)
    assert j == 2 and np.isnan(med[0]) and med[3] == pytest.approx(0.5)
    j, _ = choose_lr(loss, diverged, opt, resolution=0.0, rel=0.01)
    assert j == 1  # without the tie, the strictly lowest median wins
    assert choose_lr(loss, np.ones_like(diverged), opt, resolution=0.0)[0] is None


@pytest.mark.slow  # over ~5 s on the 2-core machine (benchmarks/suite-times); .ci/run runs it
def test_optimizers_command_prints_every_row_and_writes_a_figure(tmp_path, capsys):
    out_png = tmp_path / "opt.png"
    # The sizes of test_cli_json's optimizers test, so the two share their 33 compiled sweep
    # programs (the suite's compilation cache); what is checked here (every row, rates from the
    # default grid, a real figure) holds at any size.
    assert cli.main(["optimizers", "--seeds", "2", "--epochs", "2", "--n", "30", "--batch-size", "5",
                     "--out", str(out_png)]) == 0
    out = capsys.readouterr().out
    rows = [line.split() for line in out.splitlines() if line.split()[:1] and line.split()[0] in optim.NAMES]
    assert [(r[0], r[1]) for r in rows] == [(o, v) for o in optim.NAMES for v in ("GD", "mini-batch", "SGD")]
    from jaxgd.studies._optimizers import DEFAULT_LRS

    assert all(float(r[3]) in DEFAULT_LRS for r in rows)  # every best rate comes from the grid
    assert f"figure: {out_png}" in out
    img = matplotlib.image.imread(out_png)
    assert img.shape[0] > 500 and img.shape[1] > 1000 and img.std() > 0.05  # a real, non-blank figure
