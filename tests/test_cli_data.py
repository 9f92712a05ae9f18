"""The command line's data-file pieces: --data and friends, the one-line summary, the parameter report."""

import argparse
import re

import numpy as np
import pytest

from jaxgd.cli._data import add_data_arguments, data_from_args, describe, report_parameters


def write_csv(path, header, rows, sep=","):
    lines = [sep.join(header)] + [sep.join(str(v) for v in r) for r in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def parse(argv):
    parser = argparse.ArgumentParser()
    add_data_arguments(parser)
    return parser.parse_args(argv)


def test_cli_arguments_and_summaries(tmp_path):
    path = write_csv(tmp_path / "d.csv", ["x1", "x2", "y"], [[1, 2, 3], [2, "nan", 1], [4, 6, 5], [0, 1, 1]])
    assert data_from_args(parse([])) is None
    with pytest.raises(ValueError, match="--standardize needs --data PATH"):
        data_from_args(parse(["--standardize"]))
    args = parse(["--data", str(path), "--target", "x1", "--standardize", "--drop-nonfinite"])
    data = data_from_args(args)
    assert data.target_name == "x1" and data.dropped_rows == 1 and data.standardized
    line = describe(data)
    assert "\n" not in line
    assert re.search(r"3 rows; 2 features \(x2, y\); target 'x1'; 1 row dropped", line), line
    report = report_parameters(data, np.array([[1.0], [2.0]]), np.array([0.5]))
    assert "w (original units)" in report and "x2" in report and "b (intercept)" in report
    w_orig, b_orig = data.to_original_units([1.0, 2.0], 0.5)
    for v in [*w_orig, float(b_orig)]:
        assert f"{v:.6g}" in report
    plain = report_parameters(data_from_args(parse(["--data", str(path), "--drop-nonfinite"])), [1.0, 2.0], 0.5)
    assert "original units" not in plain and "x1" in plain


