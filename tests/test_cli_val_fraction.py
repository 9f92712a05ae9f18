"""``--val-fraction F``: ceil(F x rows) held-out rows, the first of
``numpy.random.default_rng(--data-seed).permutation(rows)`` (both parts keep the rows' order);
training on the rest; the held-out loss printed and written is the API's ``val_loss``."""

import json
import re

import numpy as np
import pytest

import jaxgd
from jaxgd import cli
from jaxgd.data._synthetic import synthetic_data, tutorial_weights


def _run(argv, capsys):
    assert cli.main(argv) == 0, capsys.readouterr().err
    return capsys.readouterr().out


def _split(X, y, n_val, seed):
    """The documented rule, written out independently of the CLI."""
    X, y = np.asarray(X), np.asarray(y)
    held = np.sort(np.random.default_rng(seed).permutation(X.shape[0])[:n_val])
    train = np.setdiff1d(np.arange(X.shape[0]), held)
    return X[train], y[train], X[held], y[held]


@pytest.mark.slow  # over ~5 s on the 2-core machine (benchmarks/suite-times); .ci/run runs it
@pytest.mark.parametrize("n, fraction, n_val", [(100, 0.25, 25), (10, 0.3, 3), (7, 0.5, 4), (1000, 0.0001, 1)])
def test_split_sizes(n, fraction, n_val, tmp_path, capsys):
    path = tmp_path / "t.json"
    out = _run(["train", "--n", str(n), "--epochs", "1", "--val-fraction", str(fraction), "--json", str(path)], capsys)
    cfg = json.loads(path.read_text())["config"]
    assert (cfg["n_train"], cfg["n_val"], cfg["val_fraction"]) == (n - n_val, n_val, fraction)
    assert f"held-out: {n_val} of {n} rows" in out and f"training on the other {n - n_val}" in out


def test_train_held_out_loss_is_the_apis_val_loss(tmp_path, capsys):
    path = tmp_path / "t.json"
    out = _run(["train", "--n", "100", "--epochs", "4", "--batch-size", "10", "--lr", "0.05",
                "--val-fraction", "0.25", "--data-seed", "4", "--json", str(path)], capsys)
    got = json.loads(path.read_text())
    data = synthetic_data(tutorial_weights(1), 4.0, 100, seed=4)
    X, y, X_val, y_val = _split(data.X, data.y, 25, seed=4)
    r = jaxgd.train(X, y, batch_size=10, lr=0.05, epochs=4, validation=(X_val, y_val))
    # Exactly: the same program on the same rows.
    assert got["epoch_loss"] == [float(v) for v in np.asarray(r.epoch_loss)]
    assert got["val_loss"] == [float(v) for v in np.asarray(r.val_loss)]
    printed = [float(v) for v in re.findall(r"^epoch +\d+ +loss \S+ +held-out loss (\S+)$", out, re.M)]
    assert printed == [round(v, 6) for v in got["val_loss"]]  # printed to 6 decimals
    assert f"held-out loss {got['val_loss'][-1]:.6f}" in out.splitlines()[-1]


@pytest.fixture
def csv_file(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 2))
    path = tmp_path / "d.csv"
    np.savetxt(path, np.column_stack([x, x @ [2.0, -1.0] + 0.5]), delimiter=",", header="a,b,y", comments="")
    return path


def test_split_is_seeded_by_data_seed(csv_file, tmp_path, capsys):
    def held_out(seed, name):
        path = tmp_path / name
        _run(["train", "--data", str(csv_file), "--epochs", "2", "--val-fraction", "0.2", "--data-seed", str(seed),
              "--json", str(path)], capsys)
        return json.loads(path.read_text())

    a, b, c = held_out(1, "a.json"), held_out(1, "b.json"), held_out(2, "c.json")
    for key in ("epoch_loss", "val_loss", "w", "b"):
        assert a[key] == b[key]  # same seed, same split, same run
    assert a["val_loss"] != c["val_loss"] and a["epoch_loss"] != c["epoch_loss"]  # another split
    assert (a["config"]["n_train"], a["config"]["n_val"]) == (32, 8)
    loaded = jaxgd.load_dataset(str(csv_file))
    X, y, X_val, y_val = _split(loaded.X, loaded.y, 8, seed=2)
    r = jaxgd.train(X, y, epochs=2, validation=(X_val, y_val))
    assert c["val_loss"] == [float(v) for v in np.asarray(r.val_loss)]


@pytest.mark.slow  # over ~5 s on the 2-core machine (benchmarks/suite-times); .ci/run runs it
def test_compare_prints_and_writes_the_held_out_loss(tmp_path, capsys):
    path = tmp_path / "c.json"
    out = _run(["compare", "--n", "80", "--epochs", "3", "--batch-size", "10", "--val-fraction", "0.25",
                "--out", str(tmp_path / "c.png"), "--json", str(path)], capsys)
    rows = json.loads(path.read_text())["rows"]
    data = synthetic_data(tutorial_weights(1), 4.0, 80, seed=0)
    X, y, X_val, y_val = _split(data.X, data.y, 20, seed=0)
    printed = {line.split()[0]: line.split() for line in out.splitlines() if line.split()[:1] in
               (["GD"], ["mini-batch"], ["SGD"])}
    assert [r["batch"] for r in rows] == [60, 10, 1]
    for row in rows:
        r = jaxgd.train(X, y, batch_size=row["batch"], epochs=3, validation=(X_val, y_val))
        assert row["held-out loss"] == float(np.asarray(r.val_loss)[-1])
        assert row["final loss"] == float(np.asarray(r.epoch_loss)[-1])
        assert printed[row["variant"]][3:5] == [f"{row['final loss']:.5f}", f"{row['held-out loss']:.5f}"]


def test_sweep_prints_the_median_held_out_loss(tmp_path, capsys):
    path = tmp_path / "s.json"
    out = _run(["sweep", "--n", "50", "--epochs", "2", "--seeds", "3", "--lrs", "0.05", "--batch-sizes", "5",
                "--val-fraction", "0.2", "--out", str(tmp_path / "s.png"), "--csv", str(tmp_path / "s.csv"),
                "--json", str(path)], capsys)
    (row,) = json.loads(path.read_text())["rows"]
    X, y, X_val, y_val = _split(*synthetic_data(num_examples=50)[:2], 10, seed=0)
    result = jaxgd.sweep(X, y, batch_sizes=[5], lrs=[0.05], seeds=3, epochs=2, step_loss="none",
                         validation=(X_val, y_val))
    final = np.asarray(result.val_loss)[0, 0, :, -1]
    assert row["final held-out loss"] == float(np.sort(final)[1])  # the median of 3 seeds
    table = out[out.index("final held-out loss"):]
    assert f"5 (mini-batch)  {row['final held-out loss']:.3g}" in table


@pytest.mark.slow  # 33 sweep programs: about 40 s on the 2-core machine
def test_optimizers_report_the_held_out_loss(tmp_path, capsys):
    from jaxgd.studies._optimizers import compare_optimizers

    path = tmp_path / "o.json"
    out = _run(["optimizers", "--n", "30", "--epochs", "2", "--seeds", "2", "--batch-size", "5", "--lrs", "0.1",
                "--val-fraction", "0.2", "--out", str(tmp_path / "o.png"), "--json", str(path)], capsys)
    rows = json.loads(path.read_text())["rows"]
    X, y, X_val, y_val = _split(*synthetic_data(num_examples=30)[:2], 6, seed=0)
    report = compare_optimizers(X, y, batch_size=5, lrs=[0.1], seeds=2, epochs=2, validation=(X_val, y_val))
    assert "final held-out loss" in out
    for row, e in zip(rows, report.entries):
        lo, mid, hi = jaxgd.analysis.describe(e.metrics["val_loss"])
        assert row["final held-out loss"] == {"median": mid, "5%": lo, "95%": hi, "diverged": 0}


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["train", "--val-fraction", "0"], "--val-fraction: expected a number between 0 and 1 (exclusive), got '0'"),
        (["train", "--val-fraction", "1"], "expected a number between 0 and 1"),
        (["compare", "--val-fraction", "-0.1"], "expected a number between 0 and 1"),
        (["sweep", "--val-fraction", "nan"], "expected a number between 0 and 1"),
        (["optimizers", "--val-fraction", "half"], "expected a number between 0 and 1"),
        (["train", "--n", "3", "--val-fraction", "0.9"], "--val-fraction 0.9 of the synthetic data's 3 rows leaves "
                                                         "0 training and 3 held-out rows"),
        (["train", "--n", "100", "--val-fraction", "0.5", "--batch-size", "60"],
         "--batch-size 60 is larger than the 50 training rows --val-fraction leaves (of 100)"),
        (["compare", "--n", "100", "--val-fraction", "0.6", "--batch-size", "50"],
         "--batch-size 50 is larger than the 40 training rows --val-fraction leaves (of 100)"),
        (["sweep", "--n", "20", "--val-fraction", "0.5", "--batch-sizes", "1,11"],
         "--batch-sizes 11 is larger than the 10 training rows"),
        (["sweep", "--n", "2", "--val-fraction", "0.5"], "leaves 1 training row; a sweep needs at least 2"),
        (["optimizers", "--n", "10", "--val-fraction", "0.5", "--batch-size", "5"],
         "must be between 2 and n - 1 for a mini-batch variant (--val-fraction leaves 5 training rows)"),
    ],
)
def test_bad_fraction_is_one_line_exit_2_before_any_training(argv, needle, monkeypatch, capsys):
    from jaxgd.drivers import _sweep
    from jaxgd.drivers import _train

    def forbidden(*a, **k):
        raise AssertionError("trained before checking --val-fraction")

    monkeypatch.setattr(_train, "train", forbidden)
    monkeypatch.setattr(_sweep, "sweep", forbidden)
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and needle in err, err
    assert "Traceback" not in err


@pytest.mark.slow  # over ~5 s on the 2-core machine (benchmarks/suite-times); .ci/run runs it
def test_compare_figure_draws_the_held_out_loss_dashed():
    import matplotlib.pyplot as plt

    from jaxgd import plots

    data = synthetic_data(num_examples=60)
    X, y, X_val, y_val = _split(data.X, data.y, 15, seed=0)
    results = {f"b{b}": jaxgd.train(X, y, batch_size=b, epochs=3, validation=(X_val, y_val)) for b in (45, 1)}
    fig = plots.compare_figure(X, y, data.true_w, data.true_b, results, None)
    try:
        dashed = {line.get_label(): line.get_ydata() for ax in fig.axes for line in ax.get_lines()
                  if line.get_label().endswith(": held-out") and line.get_linestyle() == "--"}
        assert sorted(dashed) == ["b1: held-out", "b45: held-out"]
        for label, r in results.items():
            np.testing.assert_array_equal(dashed[f"{label}: held-out"], np.asarray(r.val_loss, np.float64))
    finally:
        plt.close(fig)


@pytest.mark.slow  # over ~5 s on the 2-core machine (benchmarks/suite-times); .ci/run runs it
def test_compare_draws_the_runs_with_their_held_out_loss(tmp_path, monkeypatch, capsys):
    # Every run compare hands to its figure (timed runs or re-runs for the figure) carries the held-out loss.
    from jaxgd import plots

    seen = {}

    def record(X, y, true_w, true_b, results, path):
        seen.update(results)
        return path

    monkeypatch.setattr(plots, "compare_figure", record)
    path = tmp_path / "c.json"
    _run(["compare", "--n", "50", "--epochs", "2", "--batch-size", "5", "--val-fraction", "0.2",
          "--out", str(tmp_path / "c.png"), "--json", str(path)], capsys)
    rows = json.loads(path.read_text())["rows"]
    assert len(seen) == len(rows) == 3
    for r, row in zip(seen.values(), rows):
        assert float(np.asarray(r.val_loss)[-1]) == row["held-out loss"]
