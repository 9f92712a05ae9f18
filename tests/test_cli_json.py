"""``--json PATH`` on every training command: the file parses, its numbers are the API's for the
same settings (exactly: JSON keeps a float's full precision) and what is printed (to the printed
precision); a bad path is one line and exit code 2 before any work."""

import argparse
import json
import math
import re

import numpy as np
import pytest

import jaxgd
from jaxgd import cli, optim
from jaxgd.data._synthetic import synthetic_data, tutorial_weights

TRAINING_COMMANDS = ("compare", "train", "parity", "claims", "sweep", "optimizers", "paths")


def _run(argv, capsys):
    assert cli.main(argv) == 0, capsys.readouterr().err
    return capsys.readouterr().out


def _load(path):
    # json's default would read a bare NaN; the file must be strict JSON.
    def refuse(token):
        raise AssertionError(f"non-standard JSON constant {token}")

    return json.loads(path.read_text(), parse_constant=refuse)


def _table(out, first_cells):
    """{first cell: cells} of the printed table rows starting with one of ``first_cells``."""
    rows = {}
    for line in out.splitlines():
        cells = re.split(r"\s{2,}", line.strip())
        if cells[0] in first_cells:
            rows[cells[0]] = cells
    return rows


def _data(n, d=1, seed=0):
    data = synthetic_data(tutorial_weights(d), 4.0, n, seed=seed)  # what the CLI draws
    return data.X, data.y


def test_every_command_registered_takes_json():
    (sub,) = [a for a in cli.build_parser()._actions if isinstance(a, argparse._SubParsersAction)]
    for name in TRAINING_COMMANDS:
        assert name in sub.choices
    for name, parser in sub.choices.items():
        assert "--json" in parser.format_help(), f"jaxgd {name} has no --json"


def test_train_json_is_the_api_result_at_full_precision(tmp_path, capsys):
    path = tmp_path / "train.json"
    out = _run(["train", "--n", "100", "--epochs", "3", "--batch-size", "10", "--lr", "0.05", "--seed", "3",
                "--optimizer", "adam", "--betas", "0.8,0.99", "--schedule", "step_lr:step_size=1,gamma=0.5",
                "--json", str(path)], capsys)
    got = _load(path)
    X, y = _data(100)
    r = jaxgd.train(X, y, batch_size=10, lr=0.05, epochs=3, seed=3, optimizer=optim.adam(betas=(0.8, 0.99)),
                    schedule=optim.step_lr(1, 0.5))
    # Exactly equal: the same program on the same inputs, and JSON keeps every bit of a float.
    assert got["w"] == [float(v) for v in np.asarray(r.w).ravel()]
    assert got["b"] == float(np.asarray(r.b)[0])
    assert got["epoch_loss"] == [float(v) for v in np.asarray(r.epoch_loss)]
    assert got["updates"] == r.updates == 30 and got["diverged_at"] is None and got["val_loss"] is None
    cfg = got["config"]
    assert (cfg["batch_size"], cfg["lr"], cfg["epochs"], cfg["seed"], cfg["variant"]) == (10, 0.05, 3, 3, "mini-batch")
    assert cfg["optimizer"] == {"name": "adam", "betas": [0.8, 0.99], "eps": 1e-8, "weight_decay": 0.0,
                                "amsgrad": False, "maximize": False}
    assert cfg["schedule"] == {"name": "step_lr", "step_size": 1, "gamma": 0.5}
    # What is printed, to its 6 decimals (and 2 for the wall time).
    printed = [float(v) for v in re.findall(r"^epoch +\d+ +loss (\S+)$", out, re.M)]
    assert printed == [round(v, 6) for v in got["epoch_loss"]]
    assert f"{got['wall_ms']:.2f} ms" in out and f"w={got['w'][0]:.4f}, b={got['b']:.4f}" in out


def test_train_json_writes_a_diverged_run_as_strings(tmp_path, capsys):
    path = tmp_path / "train.json"
    _run(["train", "--n", "50", "--epochs", "40", "--lr", "5", "--json", str(path)], capsys)
    got = _load(path)
    X, y = _data(50)
    with pytest.warns(RuntimeWarning, match="diverged"):
        r = jaxgd.train(X, y, lr=5.0, epochs=40)
    assert got["diverged_at"] == r.diverged_at is not None
    loss = np.asarray(r.epoch_loss, np.float64)
    assert not np.isfinite(loss).all()  # the case this test is about
    assert all(isinstance(v, str) for v, f in zip(got["epoch_loss"], loss) if not np.isfinite(f))
    # The strings read back with float(): "NaN", "Infinity", "-Infinity".
    np.testing.assert_array_equal([float(v) for v in got["epoch_loss"]], loss)


def test_compare_json_rows_are_the_printed_table(tmp_path, capsys):
    path = tmp_path / "compare.json"
    out = _run(["compare", "--n", "100", "--epochs", "3", "--batch-size", "10", "--seed", "1",
                "--out", str(tmp_path / "c.png"), "--json", str(path)], capsys)
    got = _load(path)
    X, y = _data(100)
    printed = _table(out, ("GD", "mini-batch", "SGD"))
    header = re.split(r"\s{2,}", [line for line in out.splitlines() if line.startswith("variant")][0].strip())
    assert [row["variant"] for row in got["rows"]] == ["GD", "mini-batch", "SGD"]
    for row in got["rows"]:
        assert set(header) <= set(row)  # every printed column, by its printed name
        r = jaxgd.train(X, y, batch_size=row["batch"], lr=0.02, epochs=3, seed=1)
        assert row["final loss"] == float(np.asarray(r.epoch_loss)[-1])
        assert row["w"] == [float(np.asarray(r.w)[0, 0])] and row["b"] == float(np.asarray(r.b)[0])
        assert row["updates"] == r.updates
        cells = printed[row["variant"]]
        assert cells[1:4] == [str(row["batch"]), str(row["updates"]), f"{row['final loss']:.5f}"]
        assert cells[4:8] == [f"{row['w'][0]:.4f}", f"{row['b']:.4f}", f"{row['wall ms']:.2f}",
                              f"{row['first call s']:.2f}"]
    assert got["config"]["n_train"] == 100 and got["config"]["n_val"] == 0


def test_parity_json_rows_are_the_reports(tmp_path, capsys):
    from jaxgd import parity

    path = tmp_path / "parity.json"
    out = _run(["parity", "--n", "30", "--epochs", "2", "--batch-sizes", "7", "--dtype", "float32",
                "--json", str(path)], capsys)
    got = _load(path)
    (row,) = got["rows"]
    X, y, init, order = parity.tutorial_problem(30, 1, 2, 0, "float32")
    rep = parity.compare(X, y, batch_size=7, lr=0.02, epochs=2, init=init, order=order, dtype="float32")
    assert row["float32 max |Δ|"] == max(rep.max_param_diff, rep.max_epoch_loss_diff, rep.max_step_loss_diff)
    assert row["float32 worst / tol"] == rep.max_violation
    assert (row["optimizer"], row["variant"], row["batch"], row["parity"]) == ("sgd", "mini-batch", 7, "ok")
    assert got["ok"] is True
    cells = _table(out, ("sgd",))["sgd"]
    assert cells[3:5] == [f"{row['float32 max |Δ|']:.2e}", f"{row['float32 worst / tol']:.3g}"]


@pytest.mark.slow  # over ~5 s on the 2-core machine (benchmarks/suite-times); .ci/run runs it
def test_sweep_json_cells_are_the_printed_medians(tmp_path, capsys):
    from jaxgd import plots

    path = tmp_path / "sweep.json"
    out = _run(["sweep", "--n", "60", "--epochs", "3", "--seeds", "3", "--lrs", "0.01,0.1",
                "--batch-sizes", "1,n", "--out", str(tmp_path / "s.png"), "--csv", str(tmp_path / "s.csv"),
                "--json", str(path)], capsys)
    got = _load(path)
    X, y = synthetic_data(num_examples=60)[:2]  # the sweep's data
    result = jaxgd.sweep(X, y, batch_sizes=[1, 60], lrs=[0.01, 0.1], seeds=3, epochs=3, step_loss="none")
    values, label = plots.sweep_cells(result, "excess")
    assert got["metric"] == label
    assert [(r["batch"], r["lr"]) for r in got["rows"]] == [(1, 0.01), (1, 0.1), (60, 0.01), (60, 0.1)]
    assert [r[label] for r in got["rows"]] == [float(v) for v in values.ravel()]
    printed = _table(out, ("1 (SGD)", "60 (GD)"))
    for r in got["rows"]:
        col = 1 + [0.01, 0.1].index(r["lr"])
        assert printed[f"{r['batch']} ({r['variant']})"][col] == f"{r[label]:.3g}"


@pytest.mark.slow  # over ~5 s on the 2-core machine (benchmarks/suite-times); .ci/run runs it
def test_claims_json_rows_and_verdicts(tmp_path, capsys):
    from jaxgd.studies._claims import check_claims

    path = tmp_path / "claims.json"
    argv = ["claims", "--claims", "1,2,3", "--n", "40", "--epochs", "3", "--seeds", "3", "--batch-size", "5",
            "--lr", "0.05"]
    out = _run([*argv, "--out", str(tmp_path / "c.png"), "--json", str(path)], capsys)
    got = _load(path)
    ev = check_claims(seeds=3, epochs=3, lr=0.05, n=40, batch_size=5, out=None).evaluation
    assert [c["verdict"] for c in got["claims"]] == [c.verdict for c in ev.claims]
    assert [c["claim"] for c in got["claims"]] == [c.text for c in ev.claims]
    assert [c["verdict"] in out for c in got["claims"]] == [True] * len(ev.claims)
    def cell(values):  # a 'median [5%, 95%]' cell as the JSON writes it (not reached: "Infinity")
        lo, mid, hi = (v if math.isfinite(v) else "Infinity" for v in jaxgd.analysis.describe(values))
        return {"median": mid, "5%": lo, "95%": hi, "diverged": 0}

    for i, row in enumerate(got["rows"]):
        # Not timing-dependent, so equal to a second run of the same check, bit for bit.
        assert row["final excess loss"] == cell(ev.metrics["final_excess"][i])
        assert row["epochs to target"] == cell(ev.metrics["epochs"][i])
        assert row["updates/epoch"] == int(ev.updates_per_epoch[i])
        f = row["final excess loss"]
        printed = _table(out, (row["variant"],))[row["variant"]]
        assert f"{f['median']:.3g} [{f['5%']:.3g}, {f['95%']:.3g}]" in printed


@pytest.mark.slow  # 33 sweep programs: about 45 s on the 2-core machine
def test_optimizers_json_rows_are_the_printed_table(tmp_path, capsys):
    from jaxgd.studies._optimizers import compare_optimizers

    path = tmp_path / "opt.json"
    # The default grid of rates and the sizes of test_cli_optim's optimizers test: the two share
    # the 33 compiled sweep programs (the suite's compilation cache), the costly part of either.
    out = _run(["optimizers", "--n", "30", "--epochs", "2", "--seeds", "2", "--batch-size", "5",
                "--out", str(tmp_path / "o.png"), "--json", str(path)], capsys)
    got = _load(path)
    X, y = _data(30)
    report = compare_optimizers(X, y, batch_size=5, seeds=2, epochs=2)
    assert len(got["rows"]) == len(report.entries) == 3 * len(optim.NAMES)  # every optimizer x GD, mini-batch, SGD
    for row, e in zip(got["rows"], report.entries):
        assert (row["optimizer"], row["variant"], row["batch"], row["best lr"]) == (
            e.optimizer, e.variant, e.batch_size, e.best_lr)
        lo, mid, hi = jaxgd.analysis.describe(e.metrics["final_excess"])
        assert row["final excess loss"] == {"median": mid, "5%": lo, "95%": hi, "diverged": 0}
    printed = [re.split(r"\s{2,}", line.strip()) for line in out.splitlines()
               if line.split()[:1] and line.split()[0] in optim.NAMES]
    for cells, row in zip(printed, got["rows"]):
        f = row["final excess loss"]
        assert cells[6] == f"{f['median']:.3g} [{f['5%']:.3g}, {f['95%']:.3g}]"


@pytest.mark.slow  # over ~5 s on the 2-core machine (benchmarks/suite-times); .ci/run runs it
def test_paths_json_rows_are_the_printed_table(tmp_path, capsys):
    path = tmp_path / "paths.json"
    out = _run(["paths", "--n", "40", "--epochs", "2", "--batch-size", "8", "--out", str(tmp_path / "p.png"),
                "--json", str(path)], capsys)
    got = _load(path)
    X, y = _data(40)
    printed = _table(out, ("GD", "mini-batch", "SGD"))
    assert [row["batch"] for row in got["rows"]] == [40, 8, 1]
    for row in got["rows"]:
        r = jaxgd.train(X, y, batch_size=row["batch"], epochs=2)
        assert row["final loss"] == float(np.asarray(r.epoch_loss)[-1])
        assert (row["w"], row["b"]) == (float(np.asarray(r.w)[0, 0]), float(np.asarray(r.b)[0]))
        assert printed[row["variant"]][4:] == [f"{row['final loss']:.5f}", f"{row['w']:.4f}", f"{row['b']:.4f}"]


@pytest.mark.parametrize("command", TRAINING_COMMANDS)
@pytest.mark.parametrize("path, needle", [("{tmp}/missing/r.json", "the directory {tmp}/missing does not exist"),
                                          ("{tmp}", "is a directory")])
def test_bad_json_path_is_one_line_exit_2_before_any_work(command, path, needle, tmp_path, monkeypatch, capsys):
    from jaxgd.drivers import _sweep
    from jaxgd.drivers import _train

    def forbidden(*a, **k):
        raise AssertionError("trained before checking the --json path")

    monkeypatch.setattr(_train, "train", forbidden)
    monkeypatch.setattr(_sweep, "sweep", forbidden)
    assert cli.main([command, "--json", path.format(tmp=tmp_path)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.splitlines()) == 1 and needle.format(tmp=tmp_path) in err, err
    assert "--json" in err and "Traceback" not in err
