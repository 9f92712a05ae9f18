"""The command line as a user runs it: real output, real exit codes.

Most tests call ``jaxgd.cli.main`` in this process (``run``): what they check is the command's
output, and a fresh ``python -m jaxgd`` would add ~1.5 s of CPU (importing JAX, reading the
compiled programs back) per call and nothing else. What only a fresh process shows (the entry
point, the exit status ``sys.exit`` turns main's return into, stderr holding the one error line
and nothing else a cold start may print) is checked through ``spawn`` on each error path.
"""

import contextlib
import io
import subprocess
import sys

import matplotlib.image
import pytest

from jaxgd import cli


def spawn(*args):
    """``python -m jaxgd ARGS`` in a fresh process."""
    return subprocess.run([sys.executable, "-m", "jaxgd", *args], capture_output=True, text=True, timeout=300)


def run(*args):
    """``jaxgd ARGS`` in this process, as ``spawn`` reports it: exit code, stdout, stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = cli.main(list(args))
        except SystemExit as e:  # argparse's --help
            code = e.code
    return subprocess.CompletedProcess(list(args), code, out.getvalue(), err.getvalue())


@pytest.mark.slow
def test_compare_reproduces_the_tutorial_experiment(tmp_path):
    out = tmp_path / "fig.png"
    p = run("compare", "--out", str(out))
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    rows = {l.split()[0]: l.split() for l in lines if l.split() and l.split()[0] in ("GD", "mini-batch", "SGD")}
    assert rows["GD"][1:3] == ["1000", "50"]
    assert rows["mini-batch"][1:3] == ["50", "1000"]
    assert rows["SGD"][1:3] == ["1", "50000"]
    # The tutorial's conclusion in numbers: mini-batch and SGD fit w ~ 3.5, GD after 50 epochs does not.
    assert abs(float(rows["mini-batch"][4]) - 3.5) < 0.1 and abs(float(rows["SGD"][4]) - 3.5) < 0.2
    assert float(rows["GD"][4]) < 3.0
    assert f"figure: {out}" in p.stdout
    img = matplotlib.image.imread(out)
    assert img.shape[0] > 300 and img.shape[1] > 1000 and img.std() > 0.05  # a real, non-blank figure


def test_train_prints_the_loss_curve():
    p = run("train", "--batch-size", "10", "--epochs", "4", "--lr", "0.05")
    assert p.returncode == 0, p.stderr
    assert "epoch    4" in p.stdout and "mini-batch: batch 10, 400 updates" in p.stdout


@pytest.mark.slow  # over ~5 s on the 2-core machine (benchmarks/suite-times); .ci/run runs it
def test_parity_command_passes_and_reports_every_variant():
    p = run("parity", "--epochs", "3", "--n", "200", "--batch-sizes", "n,7,1")
    assert p.returncode == 0, p.stdout + p.stderr
    assert "parity holds" in p.stdout
    for name in ("GD", "mini-batch", "SGD"):
        assert f"\n{name:>10}" in p.stdout or f"{name} " in p.stdout


@pytest.mark.parametrize(
    "args,needle",
    [
        (["train", "--lr", "-1"], "--lr"),
        (["train", "--lr", "abc"], "--lr"),
        (["train", "--epochs", "0"], "--epochs"),
        (["train", "--batch-size", "5000"], "--batch-size 5000 is larger than --n 1000"),
        (["compare", "--batch-size", "2000"], "--batch-size 2000 is larger than --n 1000"),
        (["parity", "--batch-sizes", "x,1"], "--batch-sizes"),
        (["parity", "--batch-sizes", "0"], "argument --batch-sizes: expected comma-separated batch sizes"),
        (["parity", "--batch-sizes", "n,5000"], "--batch-sizes 5000 is larger than --n 1000"),
        (["compare", "--out", "/nonexistent-dir/fig.png"], "the directory /nonexistent-dir does not exist"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(args, needle):
    assert_one_line_exit_2(run(*args), needle)


def assert_one_line_exit_2(p, needle):
    assert p.returncode == 2
    err = p.stderr.strip().splitlines()
    assert len(err) == 1 and needle in err[0], p.stderr
    assert "Traceback" not in p.stderr


@pytest.mark.parametrize(
    "args,needle",
    [
        (["train", "--lr", "abc"], "--lr"),  # argparse's own error
        (["train", "--batch-size", "5000"], "--batch-size 5000 is larger than --n 1000"),  # a command's check
        (["frobnicate"], "invalid choice"),
    ],
)
def test_bad_input_in_a_fresh_process_is_one_line_and_exit_code_2(args, needle):
    # The process boundary: exit status 2 and nothing on stderr but the one line (no start-up
    # chatter from JAX or a warning), on the parser's path and on a command's.
    p = spawn(*args)
    assert_one_line_exit_2(p, needle)
    assert p.stdout == ""


def test_help_is_useful():
    p = spawn("compare", "--help")
    assert p.returncode == 0 and "--batch-size" in p.stdout and "--out" in p.stdout


def _subparsers():
    import argparse

    from jaxgd import cli

    parser = cli.build_parser()
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return sub.choices


def test_every_flag_shows_its_default():
    # Every flag --help lists; the optimizers' keyword flags are listed for the optimizer named
    # beside --help (jaxgd train --optimizer adam --help), each with that optimizer's default.
    import argparse

    from jaxgd import optim
    from jaxgd.cli import _optimizer_flags

    for shown in (None, *optim.NAMES):
        _optimizer_flags.HELP_FOR = shown
        try:
            parsers = _subparsers()
        finally:
            _optimizer_flags.HELP_FOR = None
        listed = set()
        for name, p in parsers.items():
            for action in p._actions:
                if action.option_strings and action.dest != "help" and action.help != argparse.SUPPRESS:
                    assert "default" in (action.help or ""), (name, action.option_strings, action.help)
                    listed.add(action.dest)
        if shown is not None:  # all of its keywords, and only those
            keywords = set(optim.REGISTRY[shown].keywords)
            assert keywords <= listed, (shown, keywords - listed)
            assert not (set(_optimizer_flags.optimizer_flags().values()) - keywords) & listed, shown
    text = " ".join(_subparsers()["sweep"].format_help().split())  # argparse wraps lines
    assert "(default: 0.005,0.01,0.02,0.05,0.1)" in text and "(default: 1,10,50,n)" in text


def test_every_figure_path_is_out():
    # One name for one thing: each command that draws a figure takes its path as --out, and
    # only as --out (batch-size had --plot, paths took both).
    from jaxgd.cli import _common

    figures = {}
    for name, p in _subparsers().items():
        for action in p._actions:
            if action.type is _common.figure_path:
                figures[name] = action.option_strings
            assert "--plot" not in action.option_strings, name
    assert figures == {name: ["--out"] for name in
                       ("compare", "claims", "sweep", "optimizers", "paths", "batch-size")}


def _help_sections(parser):
    """{section title: its flags}, in the order --help prints them."""
    import re

    sections = {}
    for line in parser.format_help().splitlines()[1:]:
        if re.fullmatch(r"\S.*:", line) and not line.startswith("usage:"):
            title = sections.setdefault(line[:-1], [])
        elif line.startswith("  -") and sections:
            title.append(line.split()[0].rstrip(","))
    return sections


def test_help_shows_the_commands_own_flags_first_and_the_shared_groups_last():
    order = ["options", "data file", "optimizer and learning-rate schedule", "several processes", "compilation cache"]
    for name, p in _subparsers().items():
        sections = {title: flags for title, flags in _help_sections(p).items() if flags}
        assert list(sections) == [t for t in order if t in sections], (name, list(sections))
        assert list(sections)[-1] == "compilation cache" and sections["compilation cache"] == ["--no-cache"], name
        own = sections["options"]
        assert own[0] == "-h" and not {"--no-cache", "--optimizer", "--data", "--coordinator"} & set(own), (name, own)


def test_claims_help_prints_percent_signs_once():
    # argparse %-formats a description only when it holds "%(prog)"; "%%" would print as is.
    text = " ".join(_subparsers()["claims"].format_help().split())
    assert "90% interval" in text and "%%" not in text


def test_no_command_prints_usage_and_the_commands(capsys):
    from jaxgd import cli

    assert cli.main([]) == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: jaxgd")
    for command in ("compare", "train", "parity", "claims", "sweep"):
        assert f"    {command}" in err, err


@pytest.fixture
def house_csv(tmp_path):
    import numpy as np

    rng = np.random.default_rng(0)
    x1, x2 = rng.normal(5, 2, 2000), rng.normal(-3, 0.5, 2000)
    y = 2 * x1 - 3 * x2 + 1 + rng.normal(0, 0.3, 2000)
    path = tmp_path / "house.csv"
    path.write_text("size,age,price\n" + "".join(f"{a:.5f},{b:.5f},{c:.5f}\n" for a, b, c in zip(x1, x2, y)))
    return path


def test_train_on_a_csv_file_reports_original_units(house_csv):
    p = run("train", "--data", str(house_csv), "--standardize", "--batch-size", "50", "--lr", "0.05", "--epochs", "30")
    assert p.returncode == 0, p.stderr
    rows = {l.split()[0]: l.split() for l in p.stdout.splitlines() if l.split()}
    # y = 2 size - 3 age + 1 + N(0, 0.3^2): 2000 rows pin the coefficients to ~0.01.
    assert abs(float(rows["size"][2]) - 2) < 0.05 and abs(float(rows["age"][2]) + 3) < 0.05
    assert abs(float(rows["b"][-1]) - 1) < 0.2
    assert "2000 rows; 2 features (size, age); target 'price'" in p.stdout


@pytest.mark.slow  # over ~5 s on the 2-core machine (benchmarks/suite-times); .ci/run runs it
def test_compare_on_a_csv_file(house_csv, tmp_path):
    out = tmp_path / "house.png"
    p = run("compare", "--data", str(house_csv), "--standardize", "--out", str(out))
    assert p.returncode == 0, p.stderr
    assert "SGD" in p.stdout and out.exists()


@pytest.mark.parametrize(
    "content,args,needle",
    [
        ("a,b,y\n1,2,3\n4,abc,6\n", [], "line 3, column 'b': 'abc' is not a number"),
        ("a,b,y\n1,2,3\n4,nan,6\n", [], "contain NaN, infinite or missing values"),
        ("a,b,y\n1,2,3\n", ["--target", "z"], "has no column 'z'"),
        ("a,b,y\n1,2,3\n4,5,6\n", ["--batch-size", "5"], "d.csv has 2 rows, fewer than --batch-size 5"),
    ],
)
def test_bad_data_files_are_one_line_errors(tmp_path, content, args, needle):
    path = tmp_path / "d.csv"
    path.write_text(content)
    p = run("train", "--data", str(path), *args)
    assert p.returncode == 2 and "Traceback" not in p.stderr
    assert len(p.stderr.strip().splitlines()) == 1 and needle in p.stderr, p.stderr


def test_a_directory_as_data_file(tmp_path, capsys):
    from jaxgd import cli

    assert cli.main(["train", "--data", str(tmp_path)]) == 2
    assert capsys.readouterr().err.strip() == f"jaxgd train: error: {tmp_path} is a directory, not a data file"


def test_missing_data_file(tmp_path):
    p = run("train", "--data", str(tmp_path / "nope.csv"))
    assert p.returncode == 2 and len(p.stderr.strip().splitlines()) == 1, p.stderr
    assert p.stderr.startswith(f"jaxgd train: error: data file not found: {tmp_path / 'nope.csv'}"), p.stderr


def test_drop_nonfinite_trains_on_the_rest(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("x,y\n" + "".join(f"{i / 10},{2 * i / 10 + 1}\n" for i in range(40)) + "nan,1\n3,inf\n")
    p = run("train", "--data", str(path), "--drop-nonfinite", "--epochs", "3")
    assert p.returncode == 0, p.stderr
    assert "2 rows dropped" in p.stdout


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["compare", "--out", "{tmp}/missing/fig.png"], "the directory {tmp}/missing does not exist"),
        (["compare", "--out", "{tmp}"], "{tmp} is a directory; give a file name"),
        (["compare", "--out", "{tmp}/fig.xyz"], "has the extension .xyz; matplotlib writes"),
        (["claims", "--out", "{tmp}/fig"], "{tmp}/fig has no extension; matplotlib writes"),
        (["sweep", "--out", "{tmp}/missing/s.png"], "the directory {tmp}/missing does not exist"),
        (["sweep", "--csv", "{tmp}"], "is a directory"),
        (["sweep", "--csv", "{tmp}/afile/runs.csv"], "the directory {tmp}/afile is not a directory"),
    ],
)
def test_output_paths_are_checked_before_any_training(tmp_path, monkeypatch, capsys, argv, needle):
    from jaxgd import cli
    from jaxgd.drivers import _sweep
    from jaxgd.drivers import _train

    def forbidden(*a, **k):
        raise AssertionError("trained before checking the output paths")

    monkeypatch.setattr(_train, "train", forbidden)
    monkeypatch.setattr(_sweep, "sweep", forbidden)
    (tmp_path / "afile").write_text("")
    argv = [a.format(tmp=tmp_path) for a in argv]
    assert cli.main(argv) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert len(err.splitlines()) == 1 and needle.format(tmp=tmp_path) in err, err
    assert "Traceback" not in err


def test_main_leaves_the_warning_machinery_as_it_found_it(capsys):
    # main shows warnings as one plain line, but only while it runs: the caller's
    # showwarning and filters are back afterwards.
    import warnings

    from jaxgd import cli

    shown, filters = warnings.showwarning, list(warnings.filters)
    assert cli.main(["train", "--n", "20", "--epochs", "2"]) == 0
    assert warnings.showwarning is shown and warnings.filters == filters
    assert cli.main(["train", "--lr", "-1"]) == 2  # the error path too
    assert warnings.showwarning is shown and warnings.filters == filters
    capsys.readouterr()


@pytest.mark.slow  # over ~5 s on the 2-core machine (benchmarks/suite-times); .ci/run runs it
@pytest.mark.parametrize("batch_size, labels", [("1", ["GD (batch 100)", "SGD (batch 1)"]),
                                                ("100", ["GD (batch 100)", "SGD (batch 1)"]),
                                                ("10", ["GD (batch 100)", "mini-batch (batch 10)", "SGD (batch 1)"])])
def test_compare_runs_each_batch_size_once(tmp_path, monkeypatch, capsys, batch_size, labels):
    # --batch-size 1 (or n) used to train SGD (GD) twice under one label, and the figure lost a run.
    from jaxgd import cli, plots

    seen = {}

    def record(X, y, true_w, true_b, results, path):
        seen.update(results)
        return path

    monkeypatch.setattr(plots, "compare_figure", record)  # the name compare calls
    assert cli.main(["compare", "--n", "100", "--epochs", "2", "--batch-size", batch_size,
                     "--out", str(tmp_path / "f.png")]) == 0
    assert list(seen) == labels
    out = capsys.readouterr().out
    variants = [line.split()[0] for line in out.splitlines() if line.split()[:1] in (["GD"], ["mini-batch"], ["SGD"])]
    assert variants == [label.split()[0] for label in labels]


@pytest.mark.slow  # over ~5 s on the 2-core machine (benchmarks/suite-times); .ci/run runs it
def test_compare_says_which_runs_diverged(tmp_path, capsys):
    from jaxgd import cli

    assert cli.main(["compare", "--n", "100", "--epochs", "3", "--lr", "1e9", "--out", str(tmp_path / "f.png")]) == 0
    out, err = capsys.readouterr()
    rows = [line for line in out.splitlines() if line.split()[:1] in (["GD"], ["mini-batch"], ["SGD"])]
    assert len(rows) == 3 and all("diverged at epoch" in row for row in rows), out
    assert "nan" not in out and err == ""
