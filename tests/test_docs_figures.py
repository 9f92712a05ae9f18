"""The committed figures in docs/ come from the current code: docs/make_figures.py --check reruns
the command that drew a figure and compares the data it was drawn from (its --json) with the
committed docs/figures-data/NAME.json, every number equal except wall-clock timings.

Here only the figures whose check takes seconds (make_figures.QUICK); .ci/run checks them all.
"""

import importlib.util
import json
import pathlib

import pytest

DOCS = pathlib.Path(__file__).resolve().parents[1] / "docs"
spec = importlib.util.spec_from_file_location("make_figures", DOCS / "make_figures.py")
make_figures = importlib.util.module_from_spec(spec)
spec.loader.exec_module(make_figures)


def test_every_figure_has_its_committed_data():
    for name, (_, files) in make_figures.FIGURES.items():
        assert (make_figures.DATA / f"{name}.json").is_file(), name
        for file in files.values():
            assert (DOCS / file).is_file(), file


@pytest.mark.slow  # over ~5 s on the 2-core machine (benchmarks/suite-times); .ci/run runs it
@pytest.mark.parametrize("name", make_figures.QUICK)
def test_committed_figure_data_equal_a_fresh_run(name):
    # Floats to make_figures.RTOL (1e-4: float32 runs whose sums XLA orders differently on other
    # CPUs), integers and strings exactly; timings exempt.
    assert make_figures.check(name) == []


def test_the_check_sees_a_changed_number_and_ignores_timings():
    committed = json.loads((make_figures.DATA / "compare.json").read_text())
    changed = json.loads(json.dumps(committed))
    changed["rows"][0]["final loss"] *= 1 + 1e-3  # 10x the check's rtol
    assert make_figures.differences(committed, changed) == [
        f"/rows[0]/final loss: {committed['rows'][0]['final loss']!r} != {changed['rows'][0]['final loss']!r}"]
    timed = json.loads(json.dumps(committed))
    timed["rows"][0]["wall ms"] *= 2
    timed["rows"][0]["first call s"] += 1
    assert make_figures.differences(committed, timed) == []
