"""``jaxgd paths``: the figure and the GIF are written from real traces; bad flags are one line
and exit code 2."""

import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from jaxgd import cli, plots


@pytest.mark.slow  # over ~10 s on the 2-core machine (benchmarks/suite-times); .ci/run runs it
def test_paths_writes_the_figure_and_the_gif(tmp_path, capsys, monkeypatch):
    seen = {}
    real = plots.paths_figure

    def keep(X, y, results, path, **kw):
        seen.update(results)
        return real(X, y, results, path, **kw)

    monkeypatch.setattr(plots, "paths_figure", keep)
    png, gif = tmp_path / "p.png", tmp_path / "p.gif"
    assert cli.main(["paths", "--n", "100", "--epochs", "3", "--batch-size", "10", "--lr", "0.05",
                     "--out", str(png), "--gif", str(gif), "--frames", "7", "--no-cache"]) == 0
    out = capsys.readouterr().out
    assert f"figure: {png}" in out and f"animation: {gif} (7 frames" in out
    rows = {line.split()[0]: line for line in out.splitlines() if line.split()[:1] in (["GD"], ["mini-batch"], ["SGD"])}
    # GD (3 updates) and mini-batch (30) every update; SGD's 300 updates too (under 5,000 points)
    assert "every update" in rows["GD"] and "every update" in rows["mini-batch"] and "every update" in rows["SGD"]
    assert list(seen) == ["GD (batch 100)", "mini-batch (batch 10)", "SGD (batch 1)"]
    for r in seen.values():  # traced at gcd(batch size, n) samples: every update caught
        assert len(np.unique(np.asarray(r.trace.updates))) == r.updates + 1
    with Image.open(gif) as im:
        assert im.n_frames == 7
    assert png.stat().st_size > 10_000


def test_record_step_catches_every_update_or_thins():
    from jaxgd.cli.paths import record_step

    assert record_step(1000, 1000, 50) == 1000  # GD: once per epoch
    assert record_step(50, 1000, 50) == 50  # mini-batch: every update
    # batch 30: 34 updates an epoch, the short last one ending on a multiple of gcd(30, 1000);
    # 1,700 updates in all, caught on a grid of 5,001 points
    assert record_step(30, 1000, 50) == 10
    assert record_step(7, 1000, 50) == 11  # 7,150 updates: thinned
    assert record_step(1, 1000, 50) == 11  # SGD: 50,000 updates thinned to 4,546 + the end
    assert 50_000 // record_step(1, 1000, 50) + 1 <= 5000


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["paths", "--d", "2"], "--d 2: the paths are drawn over (w, b), for one feature"),
        (["paths", "--gif", "{tmp}/a.png"], "a.png does not end in .gif"),
        (["paths", "--gif", "{tmp}/missing/a.gif"], "the directory {tmp}/missing does not exist"),
        (["paths", "--frames", "10"], "--frames needs --gif PATH"),
        (["paths", "--frames", "1", "--gif", "{tmp}/a.gif"], "expected an integer from 2 to 300"),
        (["paths", "--out", "{tmp}/fig.xyz"], "has the extension .xyz"),
        (["paths", "--out", "{tmp}"], "is a directory"),
        (["paths", "--batch-size", "2000"], "--batch-size 2000 is larger than --n 1000"),
        (["paths", "--data", "{tmp}/two.csv"], "has 2 features; jaxgd paths draws (w, b) for one feature"),
    ],
)
def test_bad_flags_are_one_line_and_exit_2(tmp_path, capsys, argv, needle):
    (tmp_path / "two.csv").write_text("a,b,y\n" + "".join(f"{i},{i % 3},{2 * i}\n" for i in range(20)))
    argv = [a.format(tmp=tmp_path) for a in argv]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and needle.format(tmp=tmp_path) in err, err
    assert "Traceback" not in err


@pytest.mark.slow  # over ~5 s on the 2-core machine (benchmarks/suite-times); .ci/run runs it
def test_paths_from_a_fresh_process_on_a_data_file(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(0, 1, 60)
    (tmp_path / "one.csv").write_text("x,y\n" + "".join(f"{a:.5f},{2 * a + 1 + 0.1 * e:.5f}\n"
                                                        for a, e in zip(x, rng.normal(size=60))))
    p = subprocess.run([sys.executable, "-m", "jaxgd", "paths", "--data", str(tmp_path / "one.csv"), "--epochs", "2",
                        "--batch-size", "6", "--out", str(tmp_path / "p.png"), "--no-cache"],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    assert "60 rows; 1 feature (x)" in p.stdout and (tmp_path / "p.png").exists()


@pytest.mark.slow  # over ~5 s on the 2-core machine (benchmarks/suite-times); .ci/run runs it
def test_compare_draws_its_loss_curves_from_a_trace_on_small_data_only(tmp_path, monkeypatch, capsys):
    # The trace keeps every update's parameters: compare asks for one only while that is small.
    from jaxgd.cli import compare

    titles = {}
    real = plots.compare_figure

    def keep(X, y, true_w, true_b, results, path):
        fig = real(X, y, true_w, true_b, results, None)
        titles[compare.TRACE_MAX_VALUES] = fig.axes[2].get_title()
        import matplotlib.pyplot as plt

        plt.close(fig)
        return path

    monkeypatch.setattr(plots, "compare_figure", keep)
    argv = ["compare", "--n", "100", "--epochs", "2", "--batch-size", "10", "--out", str(tmp_path / "c.png"), "--no-cache"]
    assert cli.main(argv) == 0
    monkeypatch.setattr(compare, "TRACE_MAX_VALUES", 100)  # 2 epochs x 100 samples x 2 values is over it
    assert cli.main(argv) == 0
    capsys.readouterr()
    assert "measured after every sample" in titles[20_000_000]  # 200 samples: every one
    assert "measured at epoch ends" in titles[100]
