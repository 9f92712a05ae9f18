"""Figures, checked on the matplotlib objects (legend labels, notes, layout), not on pixels."""

import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from jaxgd import plots  # noqa: E402
from jaxgd import synthetic_data, sweep, train  # noqa: E402


def legend_labels(fig):
    legends = [*fig.legends, *(ax.get_legend() for ax in fig.axes if ax.get_legend())]
    return [t.get_text() for lg in legends for t in lg.get_texts()]


def panel_texts(ax):
    return [t.get_text() for t in ax.texts]


@pytest.fixture
def data():
    return synthetic_data(num_examples=100)


def compare_results(X, y, lr, batch_sizes=(100, 10, 1), epochs=3):
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="training diverged")
        return {f"{b}": train(X, y, batch_size=b, lr=lr, epochs=epochs) for b in batch_sizes}


def test_compare_figure_names_diverged_runs_instead_of_nan(data):
    # lr 1e9: every variant's loss overflows within two epochs.
    results = compare_results(data.X, data.y, lr=1e9)
    assert all(r.diverged_at is not None for r in results.values())
    fig = plots.compare_figure(data.X, data.y, data.true_w, data.true_b, results, None)
    labels = legend_labels(fig)
    for label, r in results.items():
        assert f"{label}: diverged at epoch {r.diverged_at}" in labels
    assert not any("nan" in lb for lb in labels), labels
    for ax in fig.axes:
        assert "all runs diverged at lr=1e+09" in panel_texts(ax)
    plt.close(fig)


def test_compare_figure_without_divergence_has_no_note(data):
    results = compare_results(data.X, data.y, lr=0.05)
    fig = plots.compare_figure(data.X, data.y, data.true_w, data.true_b, results, None)
    assert not any(ax.texts for ax in fig.axes)
    assert not any("diverged" in lb for lb in legend_labels(fig))
    plt.close(fig)


def test_claims_figure_when_everything_diverged(data):
    result = sweep(data.X, data.y, batch_sizes=[100, 10, 1], lrs=[5.0], seeds=2, epochs=5)
    assert result.diverged.all()
    fig = plots.claims_figure(result, np.full(3, 1e-4), 0.01, None)
    for ax in fig.axes:
        assert panel_texts(ax) == ["all runs diverged at lr=5"]
    labels = legend_labels(fig)
    assert "GD (batch 100): all 2 runs diverged, not drawn" in labels
    assert "SGD (batch 1): all 2 runs diverged, not drawn" in labels
    plt.close(fig)


def test_sweep_heatmap_when_everything_diverged(data):
    result = sweep(data.X, data.y, batch_sizes=[1, 100], lrs=[5.0, 10.0], seeds=2, epochs=5, step_loss="none")
    fig = plots.sweep_heatmap(result, "excess", None)
    ax = fig.axes[0]
    assert len(fig.axes) == 1  # no colour bar: there is no value to read off it
    assert ax.get_title().endswith("all runs diverged at lr=5, 10")
    assert panel_texts(ax) == ["diverged"] * 4
    plt.close(fig)


def inside(fig, artist):
    """The artist's drawn extent lies within the figure (nothing clipped at the edges)."""
    box = artist.get_window_extent(fig.canvas.get_renderer())
    return box.x0 >= 0 and box.y0 >= 0 and box.x1 <= fig.bbox.width and box.y1 <= fig.bbox.height


@pytest.mark.parametrize("lrs, batch_sizes", [([0.05], [1, 10, 100]), ([0.05], [10]), ([0.01, 0.05, 0.1, 5.0], [1, 100])])
def test_sweep_heatmap_fits_its_figure(data, lrs, batch_sizes):
    # One learning rate (one column) used to clip the title and the legend, with a
    # constrained-layout warning: any warning is an error here.
    result = sweep(data.X, data.y, batch_sizes=batch_sizes, lrs=lrs, seeds=2, epochs=5, step_loss="none")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = plots.sweep_heatmap(result, "epochs", None)
        fig.canvas.draw()
    ax = fig.axes[0]
    assert inside(fig, ax.title)
    for legend in fig.legends:
        assert inside(fig, legend)
    plt.close(fig)


def test_sweep_heatmap_legend_names_only_what_is_shown(data):
    # lr 0.5 at n=100: every run converges within 5 epochs; lr 5 diverges in every run.
    calm = sweep(data.X, data.y, batch_sizes=[10, 100], lrs=[0.5], seeds=2, epochs=5, step_loss="none")
    assert not calm.diverged.any()
    fig = plots.sweep_heatmap(calm, "excess", None)
    assert legend_labels(fig) == []  # nothing diverged, nothing to explain
    plt.close(fig)
    wild = sweep(data.X, data.y, batch_sizes=[10, 100], lrs=[0.5, 5.0], seeds=2, epochs=5, step_loss="none")
    fig = plots.sweep_heatmap(wild, "excess", None)
    labels = legend_labels(fig)
    assert len(labels) == 1 and labels[0].startswith("every seed diverged")
    plt.close(fig)


def test_claims_figure_legend_is_below_the_panels(data):
    result = sweep(data.X, data.y, batch_sizes=[100, 10, 1], lrs=[0.02], seeds=2, epochs=5)
    fig = plots.claims_figure(result, np.full(3, 1e-4), 0.01, None)
    fig.canvas.draw()
    assert all(ax.get_legend() is None for ax in fig.axes)  # no legend over the curves
    (legend,) = fig.legends
    assert inside(fig, legend)
    renderer = fig.canvas.get_renderer()
    top = legend.get_window_extent(renderer).y1
    assert all(top <= ax.get_tightbbox(renderer).y0 + 1 for ax in fig.axes)  # below every panel
    assert [t.get_text() for t in legend.get_texts()] == [
        "GD (batch 100)", "mini-batch (batch 10)", "SGD (batch 1)", "target: 1% of the initial excess"]
    plt.close(fig)
