"""The sweep command: every (learning rate, batch size, seed), a CSV and a heatmap."""

import csv

import pytest

from jaxgd import cli


def test_sweep_command_writes_csv_and_heatmap(tmp_path, capsys):
    # 2 batch sizes x 3 lrs x 2 seeds; lr 5 diverges for both batch sizes at n=100.
    png, table = tmp_path / "sweep.png", tmp_path / "runs.csv"
    rc = cli.main(["sweep", "--lrs", "0.05,0.5,5", "--batch-sizes", "10,n", "--seeds", "2", "--epochs", "6",
                   "--n", "100", "--out", str(png), "--csv", str(table), "--metric", "epochs"])
    assert rc == 0
    text = capsys.readouterr().out
    assert "2 batch sizes x 3 learning rates x 2 seeds = 12 runs" in text
    assert text.count("div") >= 2 and f"figure: {png}" in text
    rows = list(csv.DictReader(open(table)))
    assert len(rows) == 12
    assert {r["diverged"] for r in rows if r["lr"] == "5.0"} == {"True"}
    assert {r["diverged"] for r in rows if r["lr"] != "5.0"} == {"False"}
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--lrs", "0.1,,0.2"], "argument --lrs: expected comma-separated numbers > 0, got '0.1,,0.2'"),
        (["--lrs", "fast"], "argument --lrs: expected comma-separated numbers > 0"),
        (["--lrs", "0,0.1"], "argument --lrs: expected comma-separated numbers > 0"),
        (["--batch-sizes", "0,10"], "argument --batch-sizes: expected comma-separated batch sizes"),
        (["--batch-sizes", "10,5000"], "--batch-sizes 5000 is larger than --n 1000"),
        (["--batch-sizes", "ten"], "argument --batch-sizes: expected comma-separated batch sizes"),
        (["--metric", "loss"], "argument --metric: invalid choice: 'loss'"),
        (["--seeds", "0"], "argument --seeds: expected a positive integer, got '0'"),
        (["--n", "1"], "argument --n: expected an integer >= 2, got '1'"),
    ],
)
def test_sweep_command_bad_input(argv, message, capsys):
    assert cli.main(["sweep", *argv]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and message in err[0], err




@pytest.mark.slow  # over ~5 s on the 2-core machine (benchmarks/suite-times); .ci/run runs it
def test_sweep_on_a_data_file(tmp_path, capsys):
    # n is the file's row count: 'n' in --batch-sizes is full batch over 40 rows.
    path = tmp_path / "d.csv"
    path.write_text("x,y\n" + "".join(f"{i / 10},{2 * i / 10 + 1}\n" for i in range(40)))
    assert cli.main(["sweep", "--data", str(path), "--lrs", "0.1", "--batch-sizes", "4,n", "--seeds", "2",
                     "--epochs", "3", "--out", str(tmp_path / "s.png"), "--csv", str(tmp_path / "s.csv")]) == 0
    out = capsys.readouterr().out
    assert "d.csv: 40 rows" in out and "40 (GD)" in out and "4 (mini-batch)" in out
    assert cli.main(["sweep", "--data", str(path), "--batch-sizes", "50"]) == 2
    assert f"{path} has 40 rows, fewer than --batch-sizes 50" in capsys.readouterr().err
