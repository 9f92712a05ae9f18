"""How the command line reports errors: bad input is one line `jaxgd <command>: error: ...` and
exit code 2; anything else is a bug and keeps its traceback."""

import subprocess
import sys

import numpy as np
import pytest

import jaxgd
from jaxgd import cli


def _raise(exc):
    def run(args):
        raise exc

    return run


@pytest.mark.parametrize("exc", [ValueError("internal"), KeyError("internal"),
                                 FileNotFoundError(2, "No such file or directory", "/not/the/users/file")])
def test_an_internal_error_propagates_out_of_main(monkeypatch, capsys, exc):
    # A plain ValueError (or an OSError about a file the user did not name) is a bug, not a
    # usage error: main must not turn it into one line and exit code 2.
    from jaxgd.cli import train

    monkeypatch.setattr(train, "run", _raise(exc))
    with pytest.raises(type(exc)) as info:
        cli.main(["train", "--no-cache"])
    assert info.value is exc
    assert capsys.readouterr().err == ""


def test_an_input_error_is_one_line_naming_the_command(monkeypatch, capsys):
    from jaxgd.cli import train

    monkeypatch.setattr(train, "run", _raise(jaxgd.InputError("the data has no rows")))
    assert cli.main(["train", "--no-cache"]) == 2
    assert capsys.readouterr().err == "jaxgd train: error: the data has no rows\n"


@pytest.mark.slow  # over ~5 s on the 2-core machine (benchmarks/suite-times); .ci/run runs it
def test_an_internal_error_in_a_fresh_process_shows_its_traceback():
    code = ("import sys; from jaxgd import cli; from jaxgd.cli import sweep\n"
            "def run(args): raise ValueError('internal bug')\n"
            "sweep.run = run\n"
            "sys.exit(cli.main(['sweep', '--no-cache']))\n")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert p.returncode == 1, p.stderr
    assert "Traceback (most recent call last)" in p.stderr and "ValueError: internal bug" in p.stderr
    assert "error: internal bug" not in p.stderr


def test_input_error_is_a_value_error_raised_by_the_api(tmp_path):
    # Existing `except ValueError` code keeps working; the CLI tells bad input from bugs by the type.
    assert issubclass(jaxgd.InputError, ValueError) and "InputError" in jaxgd.__all__
    with pytest.raises(jaxgd.InputError, match="lr must be a finite number > 0"):
        jaxgd.train(np.ones((4, 1), np.float32), np.ones(4, np.float32), lr=-1.0)
    with pytest.raises(jaxgd.InputError, match="is a directory, not a data file"):
        jaxgd.load_dataset(tmp_path)
    with pytest.raises(jaxgd.InputError, match="rel must be in"):
        jaxgd.analysis.epochs_to_target(np.ones((1, 3)), 0.0, rel=2.0)


@pytest.mark.parametrize("error", [PermissionError(13, "Permission denied", "{path}"),
                                   FileNotFoundError(2, "No such file or directory", "{path}")])
def test_a_data_file_that_cannot_be_opened_is_one_line(tmp_path, monkeypatch, capsys, error):
    # The OSError names the path the user gave with --data: a usage error, not a traceback.
    from jaxgd.cli import _data as _cli_data

    path = str(tmp_path / "d.csv")
    error = type(error)(error.errno, error.strerror, path)
    monkeypatch.setattr(_cli_data, "load_dataset", lambda *a, **k: _raise(error)(None))
    assert cli.main(["train", "--data", path, "--no-cache"]) == 2
    err = capsys.readouterr().err
    assert err == f"jaxgd train: error: --data {path}: {error.strerror}\n"


def test_an_os_error_about_another_file_while_loading_propagates(tmp_path, monkeypatch):
    from jaxgd.cli import _data as _cli_data

    error = PermissionError(13, "Permission denied", "/somewhere/else")
    monkeypatch.setattr(_cli_data, "load_dataset", lambda *a, **k: _raise(error)(None))
    with pytest.raises(PermissionError):
        cli.main(["train", "--data", str(tmp_path / "d.csv"), "--no-cache"])


@pytest.mark.parametrize("argv", [
    ["train", "--lr", "-1"],                                              # argparse type
    ["train", "--batch-size", "5000"],                                    # checked against the data
    ["train", "--data", "{tmp}/missing.csv"],                              # a missing file
    ["train", "--data", "{tmp}/bad.csv"],                                  # a bad file
    ["train", "--data", "{tmp}"],                                          # a directory
    ["compare", "--target", "y"],                                         # --target without --data
    ["compare", "--momentum", "0.9", "--optimizer", "adam"],             # the optimizer flags
    ["train", "--coordinator", "127.0.0.1:1234", "--num-processes", "2"],  # cluster flags
    ["sweep", "--coordinator", "127.0.0.1:1234", "--num-processes", "2", "--process-id", "2"],
    ["sweep", "--distributed", "--process-id", "0"],
    ["sweep", "--data", "{tmp}/one_row.csv"],
    ["paths", "--d", "2"],
    ["paths", "--frames", "5"],
    ["paths", "--data", "{tmp}/bad.csv"],
    ["claims", "--batch-size", "1000"],
    ["optimizers", "--batch-size", "1000"],
    ["batch-size", "--batch-sizes", "1,5000"],
    ["parity", "--batch-sizes", "n,5000"],
    ["parity", "--dtype", "float16"],
    ["parity", "--workers", "-1"],
])
def test_every_error_line_names_the_command(tmp_path, capsys, argv):
    (tmp_path / "bad.csv").write_text("a,y\n1,2\n3,x\n")
    (tmp_path / "one_row.csv").write_text("a,y\n1,2\n")
    argv = [a.format(tmp=tmp_path) for a in argv] + ["--no-cache"]
    assert cli.main(argv) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.splitlines()) == 1, err
    assert err.startswith(f"jaxgd {argv[0]}: error: "), err


def test_a_bad_command_is_an_error_of_jaxgd_itself(capsys):
    assert cli.main(["frobnicate"]) == 2
    assert capsys.readouterr().err.startswith("jaxgd: error: argument COMMAND: invalid choice: 'frobnicate'")
