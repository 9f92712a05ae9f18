"""Figures, checked on the matplotlib objects (legend labels, notes, layout), not on pixels."""

import os
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


@pytest.mark.slow  # over ~5 s on the 2-core machine (benchmarks/suite-times); .ci/run runs it
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


@pytest.mark.slow  # over ~5 s on the 2-core machine (benchmarks/suite-times); .ci/run runs it
def test_compare_figure_without_divergence_has_no_note(data):
    results = compare_results(data.X, data.y, lr=0.05)
    fig = plots.compare_figure(data.X, data.y, data.true_w, data.true_b, results, None)
    assert not any(ax.texts for ax in fig.axes)
    assert not any("diverged" in lb for lb in legend_labels(fig))
    plt.close(fig)


@pytest.mark.slow  # over ~5 s on the 2-core machine (benchmarks/suite-times); .ci/run runs it
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


@pytest.mark.slow  # over ~5 s on the 2-core machine (benchmarks/suite-times); .ci/run runs it
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


@pytest.mark.slow  # over ~5 s on the 2-core machine (benchmarks/suite-times); .ci/run runs it
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


@pytest.mark.slow  # over ~5 s on the 2-core machine (benchmarks/suite-times); .ci/run runs it
def test_claims_figure_band_is_the_tables_90_percent_interval(data):
    # The band must span the same 5th-95th percentiles over seeds that the claims' tables quote
    # (analysis.QS), not the interquartile range. Compared exactly: both are np.quantile of the
    # same float arrays, drawn without transformation on the epochs panel (linear x).
    from jaxgd.analysis import QS

    assert QS == (0.05, 0.5, 0.95)
    result = sweep(data.X, data.y, batch_sizes=[100, 10, 1], lrs=[0.02], seeds=8, epochs=5)
    fig = plots.claims_figure(result, np.full(3, 1e-4), 0.01, None)
    epochs_panel = fig.axes[0]
    bands = [c for c in epochs_panel.collections if c.get_paths()]
    assert len(bands) == 3
    for i, band in enumerate(bands):
        curves = np.clip(result.excess_loss[i, 0], 1e-8, None)  # (seeds, epochs + 1)
        lo, hi = np.quantile(curves, QS[0], axis=0), np.quantile(curves, QS[2], axis=0)
        assert not np.allclose(lo, np.quantile(curves, 0.25, axis=0))  # 8 seeds tell the two apart
        verts = band.get_paths()[0].vertices
        for e in range(result.epochs + 1):
            ys = verts[np.isclose(verts[:, 0], e), 1]
            np.testing.assert_allclose([ys.min(), ys.max()], [lo[e], hi[e]], rtol=1e-12)
    assert fig.legends[0].get_title().get_text().startswith("median line and 90% band over 8 seeds")
    plt.close(fig)


@pytest.mark.slow  # over ~5 s on the 2-core machine (benchmarks/suite-times); .ci/run runs it
def test_claims_figure_updates_panel_starts_at_update_zero(data):
    # Log x is updates + 1: every variant's curve starts at the initial loss (x = 1), as in the
    # epochs panel; only the wall-time panel starts at epoch 1 (0 s is off a log axis).
    result = sweep(data.X, data.y, batch_sizes=[100, 10, 1], lrs=[0.02], seeds=2, epochs=3)
    fig = plots.claims_figure(result, np.full(3, 1e-4), 0.01, None)
    epochs_panel, updates_panel, _, wall_panel = fig.axes
    for i, (by_epoch, by_update, by_time) in enumerate(zip(epochs_panel.get_lines()[:3], updates_panel.get_lines()[:3],
                                                           wall_panel.get_lines()[:3])):
        u = int(result.updates_per_epoch[i])
        np.testing.assert_array_equal(by_update.get_xdata(), [1, u + 1, 2 * u + 1, 3 * u + 1])
        np.testing.assert_array_equal(by_update.get_ydata(), by_epoch.get_ydata())
        assert len(by_time.get_xdata()) == 3
    plt.close(fig)


@pytest.mark.slow  # over ~5 s on the 2-core machine (benchmarks/suite-times); .ci/run runs it
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


# --- figures drawn from a run's trace (train(..., record_every=R)) -------------------------------


def traced_results(data, epochs=3, lr=0.05, record_every=5):
    # n = 100, batch sizes 100 / 10 / 1: R = 5 catches every update of GD and SGD's every 5th.
    return {f"{v} (batch {b})": train(data.X, data.y, batch_size=b, lr=lr, epochs=epochs, record_every=record_every)
            for v, b in (("GD", 100), ("mini-batch", 10), ("SGD", 1))}


def line_by_label(ax, start):
    (line,) = [ln for ln in ax.get_lines() if ln.get_label().startswith(start)]
    return line


@pytest.mark.slow  # over ~5 s on the 2-core machine (benchmarks/suite-times); .ci/run runs it
def test_compare_figure_draws_loss_curves_from_the_trace(data):
    results = traced_results(data)
    fig = plots.compare_figure(data.X, data.y, data.true_w, data.true_b, results, None)
    samples_ax, updates_ax = fig.axes[2], fig.axes[3]
    assert "every 5 samples" in samples_ax.get_title()
    for label, r in results.items():
        t = r.trace
        # loss against samples processed (in epochs): every trace point, as recorded
        line = line_by_label(samples_ax, label)
        np.testing.assert_array_equal(line.get_xdata(), np.asarray(t.samples) / 100)
        np.testing.assert_array_equal(line.get_ydata(), np.asarray(t.loss, np.float64))
        # loss against updates: one point per update count (a trace repeats the parameters in
        # force between two updates), at the first grid point that holds it
        line = line_by_label(updates_ax, label)
        updates, first = np.unique(np.asarray(t.updates), return_index=True)
        np.testing.assert_array_equal(line.get_xdata(), updates + 1)
        np.testing.assert_array_equal(line.get_ydata(), np.asarray(t.loss, np.float64)[first])
    # GD updates once per epoch: its 3 updates and the start, not one point per trace point
    assert len(line_by_label(updates_ax, "GD (batch 100)").get_xdata()) == 4
    plt.close(fig)


def test_compare_figure_draws_batch_losses_in_their_own_panel(data):
    """Each update's batch loss is a noisy estimate that can sit below the optimum: it is drawn
    in its own panel (every update, as recorded), never under the full-data curves."""
    results = traced_results(data)
    fig = plots.compare_figure(data.X, data.y, data.true_w, data.true_b, results, None)
    updates_ax, batch_ax = fig.axes[3], fig.axes[4]
    assert "batch loss" in batch_ax.get_title() and "below the optimum" in batch_ax.get_title()
    drawn = [np.asarray(ln.get_ydata(), np.float64) for ln in batch_ax.get_lines()[:-1]]
    for r, y in zip(results.values(), drawn):  # under 2000 updates: every update's loss as it is
        np.testing.assert_array_equal(y, np.asarray(r.step_loss, np.float64))
    full_ys = [np.asarray(ln.get_ydata(), np.float64) for ln in updates_ax.get_lines()]
    assert all(len(y) != len(r.step_loss) or not np.array_equal(y, np.asarray(r.step_loss, np.float64))
               for y in full_ys for r in results.values())
    plt.close(fig)


@pytest.mark.slow  # over ~5 s on the 2-core machine (benchmarks/suite-times); .ci/run runs it
def test_compare_figure_draws_held_out_loss_on_the_trace_grid(data):
    """With a trace, the held-out loss is drawn at the trace's points (the training loss's
    x), not at epoch ends joined by straight lines."""
    X, y, Xv, yv = data.X[:80], data.y[:80], data.X[80:], data.y[80:]
    results = {f"b{b}": train(X, y, batch_size=b, lr=0.05, epochs=3, record_every=4, validation=(Xv, yv))
               for b in (80, 1)}
    fig = plots.compare_figure(X, y, data.true_w, data.true_b, results, None)
    samples_ax = fig.axes[2]
    assert "held-out (dashed)" in samples_ax.get_title()
    for label, r in results.items():
        held = line_by_label(samples_ax, f"{label}: held-out")
        assert held.get_linestyle() == "--"
        np.testing.assert_array_equal(held.get_xdata(), np.asarray(r.trace.samples) / 80)
        np.testing.assert_array_equal(held.get_ydata(), np.asarray(r.trace.val_loss, np.float64))
        assert len(held.get_xdata()) > 3 + 1  # more points than the epoch ends
    plt.close(fig)


def test_compare_figure_without_a_trace_draws_epoch_ends(data):
    results = compare_results(data.X, data.y, lr=0.05)
    fig = plots.compare_figure(data.X, data.y, data.true_w, data.true_b, results, None)
    assert "measured at epoch ends" in fig.axes[2].get_title()
    for label, r in results.items():
        (line,) = [ln for ln in fig.axes[2].get_lines() if ln.get_label() == label]
        np.testing.assert_array_equal(line.get_xdata(), np.arange(4))
    plt.close(fig)


def test_compare_residual_panel_separates_the_fits(data):
    # 3 epochs at lr 0.05: GD (3 updates) is far from the line, mini-batch and SGD near it.
    results = traced_results(data)
    fig = plots.compare_figure(data.X, data.y, data.true_w, data.true_b, results, None)
    ax = fig.axes[1]
    x = np.asarray(data.X)[:, 0]
    w_true, b_true = float(data.true_w[0]), float(data.true_b)
    half = ax.get_ylim()[1]
    for label in ("mini-batch (batch 10)", "SGD (batch 1)"):
        r = results[label]
        line = line_by_label(ax, label)
        np.testing.assert_array_equal(line.get_xdata(), [x.min(), x.max()])
        expected = (float(r.w[0, 0]) - w_true) * line.get_xdata() + float(r.b[0]) - b_true
        np.testing.assert_allclose(line.get_ydata(), expected, rtol=1e-12)  # float64 arithmetic on the same numbers
        assert np.abs(expected).max() <= half  # on the panel
    gd = line_by_label(ax, "GD (batch 100)")
    assert "off scale" in gd.get_label() and np.abs(gd.get_ydata()).max() > half
    assert ax.get_ylim()[0] == -half
    plt.close(fig)


def test_compare_residual_panel_uses_the_least_squares_line_without_a_true_line(data):
    results = traced_results(data)
    fig = plots.compare_figure(data.X, data.y, None, None, results, None)
    ax = fig.axes[1]
    assert "least-squares" in ax.get_ylabel()
    labels = [ln.get_label() for ln in ax.get_lines()]
    assert "least-squares line" in labels and "least-squares line" not in labels[1:]
    plt.close(fig)


def path_line(ax, label):
    return line_by_label(ax, label + ":")


@pytest.mark.slow  # over ~5 s on the 2-core machine (benchmarks/suite-times); .ci/run runs it
def test_paths_figure_draws_each_trace(data):
    # R = 1: the trace holds every update; GD's and mini-batch's paths are every update, SGD's
    # (300 updates) is thinned to max_points with both ends exact.
    results = {f"{v} (batch {b})": train(data.X, data.y, batch_size=b, lr=0.05, epochs=3, record_every=1)
               for v, b in (("GD", 100), ("mini-batch", 10), ("SGD", 1))}
    fig = plots.paths_figure(data.X, data.y, results, None, true_w=data.true_w, true_b=data.true_b, max_points=100)
    full = fig.axes[0]
    assert len(full.collections) >= 1  # the contours of the loss surface
    for label, r in results.items():
        line = path_line(full, label)
        w, b = line.get_xdata(), line.get_ydata()
        tw, tb = np.asarray(r.trace.w, np.float64)[:, 0, 0], np.asarray(r.trace.b, np.float64)[:, 0]
        assert (w[0], b[0]) == (tw[0], tb[0]) and (w[-1], b[-1]) == (tw[-1], tb[-1])  # ends exact
        assert (w[-1], b[-1]) == (float(r.w[0, 0]), float(r.b[0]))  # the run's final parameters
        if r.updates + 1 <= 100:  # every update, in order: the parameters after each one
            assert len(w) == r.updates + 1 and line.get_label().endswith(f"every update ({r.updates:,})")
            _, first = np.unique(np.asarray(r.trace.updates), return_index=True)
            np.testing.assert_array_equal(w, tw[first])
            np.testing.assert_array_equal(b, tb[first])
        else:  # SGD: 301 points thinned to every 4th and the last
            assert len(w) <= 100 and "evenly thinned, ends exact" in line.get_label()
            np.testing.assert_array_equal(w[:-1], tw[::4][:len(w) - 1])
    # GD's path = its per-epoch parameters (one update per epoch)
    gd = path_line(full, "GD (batch 100)")
    np.testing.assert_array_equal(gd.get_xdata(), np.asarray(results["GD (batch 100)"].w_history, np.float64)[:, 0, 0])
    labels = legend_labels(fig)
    assert any(lb.startswith("least-squares optimum") for lb in labels)
    assert any(lb.startswith("initial") for lb in labels) and "true (w, b) = (3.5, 4)" in labels
    plt.close(fig)


@pytest.mark.slow  # over ~5 s on the 2-core machine (benchmarks/suite-times); .ci/run runs it
def test_paths_figure_zooms_on_the_optimum_when_the_noise_is_small(data):
    results = traced_results(data, epochs=10, record_every=1)
    fig = plots.paths_figure(data.X, data.y, results, None)
    assert len(fig.axes) == 2
    full, zoom = fig.axes
    (zw0, zw1), (zb0, zb1) = zoom.get_xlim(), zoom.get_ylim()
    assert zw1 - zw0 < (full.get_xlim()[1] - full.get_xlim()[0]) / 3
    opt = __import__("jaxgd").analysis.optimum(data.X, data.y)
    assert zw0 < opt.w[0, 0] < zw1 and zb0 < opt.b[0] < zb1
    plt.close(fig)


def test_paths_figure_names_a_diverged_run(data):
    # lr 1.5 at batch 1: SGD overflows; GD (batch 100) converges.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="training diverged")
        results = {f"{b}": train(data.X, data.y, batch_size=b, lr=1.5, epochs=3, record_every=1) for b in (100, 1)}
    fig = plots.paths_figure(data.X, data.y, results, None)
    assert f"1: diverged at epoch {results['1'].diverged_at}" in legend_labels(fig)
    assert all(np.isfinite(ax.get_xlim()).all() for ax in fig.axes)
    plt.close(fig)


def test_paths_figure_needs_a_trace_and_one_feature(data):
    with pytest.raises(ValueError, match="no trace; train it with record_every="):
        plots.paths_figure(data.X, data.y, {"GD": train(data.X, data.y, epochs=2)}, None)
    two = synthetic_data(w=(1.0, 2.0), num_examples=50)
    r = train(two.X, two.y, epochs=2, record_every=50)
    with pytest.raises(ValueError, match=r"one feature \(d = 1\)"):
        plots.paths_figure(two.X, two.y, {"GD": r}, None)


@pytest.mark.slow  # over ~5 s on the 2-core machine (benchmarks/suite-times); .ci/run runs it
def test_paths_animation_has_the_frames_asked_for(data, tmp_path):
    from PIL import Image

    results = traced_results(data, record_every=1)
    path = plots.paths_animation(data.X, data.y, results, tmp_path / "p.gif", frames=6)
    with Image.open(path) as im:
        assert im.format == "GIF" and im.n_frames == 6
        im.seek(5)  # the last frame: every path complete
        last = np.asarray(im.convert("RGB"))
    assert last.std() > 10  # not blank
    assert (tmp_path / "p.gif").stat().st_size < 500_000
    with pytest.raises(ValueError, match="frames must be an integer >= 2"):
        plots.paths_animation(data.X, data.y, results, tmp_path / "q.gif", frames=1)


# --- a user's matplotlib state is left alone ---------------------------------------------------


@pytest.fixture
def svg_backend():
    """A user who works with the svg backend and has a pyplot figure of their own open."""
    old = matplotlib.get_backend()
    matplotlib.use("svg")
    user = plt.figure()
    yield user
    plt.close("all")
    matplotlib.use(old)


@pytest.mark.slow  # over ~5 s on the 2-core machine (benchmarks/suite-times); .ci/run runs it
def test_figures_leave_the_backend_and_pyplot_alone(data, svg_backend, tmp_path):
    from jaxgd.studies import _batch_size as bsz
    from jaxgd.studies._optimizers import compare_optimizers

    # The same shapes as the tests above (compiled programs are shared within the module).
    traced = traced_results(data)
    claims = sweep(data.X, data.y, batch_sizes=[100, 10, 1], lrs=[0.02], seeds=2, epochs=5)
    report = compare_optimizers(data.X, data.y, optimizers=("sgd",), batch_size=10, lrs=[0.05], seeds=2, epochs=2)
    study = bsz.measure(bsz.tutorial_problem(16, epochs_min=1, updates_min=4, trace_points=50), batch_sizes=[1, 16],
                        lrs=[0.1, 0.3], seeds=2, targets=(0.1,), timing_updates=20, repeats=1, bootstrap=0)
    figures = {
        "compare": lambda p: plots.compare_figure(data.X, data.y, data.true_w, data.true_b, traced, p),
        "claims": lambda p: plots.claims_figure(claims, np.full(3, 1e-4), 0.01, p),
        "sweep": lambda p: plots.sweep_heatmap(claims, "excess", p),
        "optimizers": lambda p: plots.optimizers_figure(report, p),
        "paths": lambda p: plots.paths_figure(data.X, data.y, traced, p),
        "batch_size": lambda p: plots.batch_size_figure([study], p),
    }
    for name, draw in figures.items():
        assert draw(None).axes, name  # a drawn figure, returned...
        assert matplotlib.get_backend() == "svg", name
        assert plt.get_fignums() == [svg_backend.number], name  # ...not registered with pyplot
    # Writing a file is the same _finish for every figure: once here, and the GIF.
    assert os.path.getsize(figures["compare"](tmp_path / "compare.png")) > 10_000
    gif = plots.paths_animation(data.X, data.y, traced, tmp_path / "paths.gif", frames=3)
    assert os.path.getsize(gif) > 1_000
    assert matplotlib.get_backend() == "svg"
    assert plt.get_fignums() == [svg_backend.number]


@pytest.mark.slow  # over ~5 s on the 2-core machine (benchmarks/suite-times); .ci/run runs it
def test_optimizers_figure_where_every_rate_diverged_says_so(data):
    # Every lr diverges for every optimizer: the panels carry the note (log axes with nothing
    # positive to show raised "Data cannot be log-scaled" before).
    from jaxgd.studies._optimizers import compare_optimizers

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="training diverged")
        report = compare_optimizers(data.X, data.y, optimizers=("sgd", "adam"), batch_size=10, lrs=[1e4], seeds=2,
                                    epochs=2)
    assert all(x.best_lr is None for x in report.entries)
    fig = plots.optimizers_figure(report, None)
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert texts.count("every learning rate diverged for every optimizer") == len(fig.axes)
    legends = [t.get_text() for ax in fig.axes if ax.get_legend() for t in ax.get_legend().get_texts()]
    assert "sgd: every lr diverged" in legends and "adam: every lr diverged" in legends


@pytest.mark.slow  # over ~5 s on the 2-core machine (benchmarks/suite-times); .ci/run runs it
def test_optimizers_figure_bottom_row_starts_at_update_zero(data):
    """The bottom row (log x: updates + 1) draws the start, update 0, at x = 1, as the top row
    draws epoch 0: every curve has epochs + 1 points in both rows."""
    from jaxgd.studies._optimizers import compare_optimizers

    report = compare_optimizers(data.X, data.y, optimizers=("sgd",), batch_size=10, lrs=[0.05], seeds=2, epochs=2)
    fig = plots.optimizers_figure(report, None)
    (top,), (bottom,) = fig.axes[0].get_lines(), fig.axes[len(fig.axes) // 2].get_lines()
    np.testing.assert_array_equal(top.get_xdata(), [0, 1, 2])
    per_epoch = report.entries[0].updates_per_epoch
    np.testing.assert_array_equal(bottom.get_xdata(), [1, per_epoch + 1, 2 * per_epoch + 1])
    np.testing.assert_array_equal(bottom.get_ydata(), top.get_ydata())
    plt.close(fig)
