"""The tutorial's comparison of GD, mini-batch and SGD (``jaxgd compare``): the data with the
fitted lines, each fit minus the reference, and the loss against samples processed and against
parameter updates; one function per panel."""

from __future__ import annotations

import numpy as np

from jaxgd.plots._common import COLORS, _figure, _finish, _finite, _note, _per_update

SHOWN = 5000  # data points drawn at most: many points make a blot


def compare_figure(X, y, true_w, true_b, results, path):
    """The tutorial's comparison: data with true and fitted lines, and below it each fitted
    line minus the true line; full-data loss against samples processed (in epochs); loss
    against parameter updates, and below it each update's batch loss (a noisy estimate of the
    full-data loss, in its own panel: a batch's loss can sit below the optimum).

    ``results`` maps a label to a ``TrainResult``. Runs trained with ``record_every``
    (``TrainResult.trace``) draw their loss curves from the trace's points; otherwise from the
    epoch ends. Only the first feature is drawn in the data panel (the tutorial's data are
    one-dimensional; with several features the panel shows predictions against targets, and
    the panel below each run's prediction minus the reference's); ``true_w`` None (a data
    file) omits the true line and measures the fits against the least-squares line instead. A
    run that diverged (``TrainResult.diverged_at``) is named in the legends with its epoch;
    its loss curves are drawn until they leave the panel.
    """
    from jaxgd.analysis import optimum

    X, y = np.asarray(X, np.float64), np.asarray(y, np.float64).reshape(-1)
    opt = optimum(X, y)
    # A fixed layout (margins in figure fractions, room below the residual panel for its legend):
    # constrained layout's extra pass over every text cost ~0.6 s of a ~1.2 s savefig.
    fig = _figure(figsize=(16, 7.0))
    gs = fig.add_gridspec(2, 3, height_ratios=[2.1, 1], left=0.055, right=0.99, top=0.93, bottom=0.17,
                          wspace=0.2, hspace=0.3)
    data_ax = fig.add_subplot(gs[0, 0])
    residual_ax = fig.add_subplot(gs[1, 0], sharex=data_ax)
    samples_ax, updates_ax = fig.add_subplot(gs[:, 1]), fig.add_subplot(gs[0, 2])
    batch_ax = fig.add_subplot(gs[1, 2], sharex=updates_ax)
    note = _all_diverged_note(results)
    _data_panel(data_ax, X, y, true_w, true_b, results, note)
    _residual_panel(residual_ax, X, y, true_w, true_b, opt, results, note)
    points = {label: _loss_points(r, X.shape[0]) for label, r in results.items()}
    top = _loss_top(results, points, opt.loss)
    _loss_per_sample_panel(samples_ax, results, points, X.shape[0], opt.loss, top, note)
    _loss_per_update_panel(updates_ax, results, points, opt.loss, top, note)
    _batch_loss_panel(batch_ax, results, opt.loss, note)
    # The log-axis panels' titles at a fixed height (what matplotlib's placement gives them: no
    # ticks, labels or offset text above them), so drawing skips the placement, which measures
    # every tick label (~0.15 s a panel). The linear panels keep it: an offset text may sit there.
    for ax in (samples_ax, updates_ax, batch_ax):
        ax.set_title(ax.get_title(), y=1.0)
    return _finish(fig, path, dpi=110)


# --- what the panels share ---------------------------------------------------------------------


def _all_diverged_note(results):
    """The note every panel carries when every run diverged; None otherwise."""
    if any(r.diverged_at is None for r in results.values()):
        return None
    lrs = sorted({float(r.config.lr) for r in results.values()})
    return f"all runs diverged at lr={', '.join(f'{lr:g}' for lr in lrs)}"


def _diverged_label(label, r):
    return f"{label}: diverged at epoch {r.diverged_at}"


def _params(r):
    """A run's final parameters in float64: w as a column, b as a number."""
    return np.asarray(r.w, np.float64).reshape(-1, 1), float(np.asarray(r.b, np.float64).ravel()[0])


def _subset(y):
    """An evenly spaced subset of at most ``SHOWN`` points, and the legend's note saying so."""
    shown = slice(None, None, -(-len(y) // SHOWN))
    return shown, "" if len(y) <= SHOWN else f" ({len(y[shown]):,} of {len(y):,} shown)"


# --- the data panel ----------------------------------------------------------------------------


def _data_panel(ax, X, y, true_w, true_b, results, note):
    """The data with the true and fitted lines (one feature), or predictions against targets."""
    if X.shape[1] == 1:
        _fitted_lines(ax, X, y, true_w, true_b, results)
    else:  # several features: a line per feature would mislead; compare predictions instead
        _predictions(ax, X, y, results)
    ax.tick_params(labelbottom=False)
    ax.legend(fontsize=8, loc="upper left", markerscale=3 if X.shape[1] > 1 else 1)
    if note:
        _note(ax, note, y=0.1)


def _fitted_lines(ax, X, y, true_w, true_b, results):
    shown, subset = _subset(y)
    ax.plot(X[shown, 0], y[shown], ".", color="0.6", ms=3, label="train data" + subset)
    grid = np.linspace(X[:, 0].min(), X[:, 0].max(), 2)
    if true_w is not None:  # synthetic data: the generating line is known
        ax.plot(grid, float(np.ravel(true_w)[0]) * grid + float(np.ravel(true_b)[0]), "k-", lw=2.5,
                label="true line")
    for label, r in results.items():
        color = COLORS.get(r.config.variant)
        if r.diverged_at is not None:
            ax.plot([], [], "--", lw=1.8, color=color, label=_diverged_label(label, r))
            continue
        w, b = _params(r)
        w = float(w[0, 0])
        ax.plot(grid, w * grid + b, "--", lw=1.8, color=color, label=f"{label}: w={w:.3f}, b={b:.3f}")
    ax.set(ylabel="y", title="Data, true line and fitted lines")


def _predictions(ax, X, y, results):
    shown, subset = _subset(y)
    lo, hi = float(y.min()), float(y.max())
    ax.plot([lo, hi], [lo, hi], "k-", lw=1.5, label="perfect prediction")
    for label, r in results.items():
        color = COLORS.get(r.config.variant)
        if r.diverged_at is not None:
            ax.plot([], [], ".", ms=2, color=color, label=_diverged_label(label, r))
            continue
        w, b = _params(r)
        pred = X[shown] @ w + b
        ax.plot(y[shown], pred[:, 0], ".", ms=2, alpha=0.5, color=color, label=label + subset)
    ax.set(ylabel="prediction ŷ", title=f"Predictions against targets ({X.shape[1]} features)")


# --- the residual panel ------------------------------------------------------------------------


def _residual_panel(ax, X, y, true_w, true_b, opt, results, note):
    """Each fit minus the reference (the true line when known, else the least-squares line),
    zoomed on the fits near it."""
    one = X.shape[1] == 1
    ref_name = "true" if true_w is not None else "least-squares"
    xs, xlabel, curves = (_line_residuals if one else _prediction_residuals)(X, y, true_w, true_b, opt, results)
    reference = f"{ref_name} {'line' if one else 'fit'}"
    half = _residual_scale([np.max(np.abs(c)) for c in curves.values()])
    ax.axhline(0, color="k", lw=2.5 if true_w is not None else 1.5, label=reference)
    for label, c in curves.items():
        r = results.get(label)
        color = COLORS.get(r.config.variant) if r is not None else "k"
        far = np.max(np.abs(c))
        shown_label = label if far <= half else f"{label}: off scale (|Δ| up to {far:.3g})"
        if one:
            ax.plot(xs, c, color=color, ls="--" if r is not None else ":", lw=1.8 if r is not None else 1.2,
                    label=shown_label)
        else:
            ax.plot(xs, c, ".", ms=2, alpha=0.5, color=color, label=shown_label)
    ax.set(xlabel=xlabel, ylabel=f"{'fitted line' if one else 'prediction'} − {ref_name}", ylim=(-half, half),
           title=f"Each fitted line minus the {reference} (zoomed)" if one else
           f"Each prediction minus the {reference}'s")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.3), ncol=2, frameon=False,
              markerscale=3 if not one else 1)
    if note:
        _note(ax, note)


def _reference(true_w, true_b, opt):
    """(w as a column, b) of the line the residuals are measured against: the generating line
    when known, else the least-squares line."""
    if true_w is not None:
        return np.asarray(true_w, np.float64).reshape(-1, 1), float(np.ravel(true_b)[0])
    return np.asarray(opt.w, np.float64).reshape(-1, 1), float(np.ravel(opt.b)[0])


def _line_residuals(X, y, true_w, true_b, opt, results):
    """One feature: each fitted line minus the reference line over x (a straight line each)."""
    del y
    ref_w, ref_b = _reference(true_w, true_b, opt)
    xs = np.linspace(X[:, 0].min(), X[:, 0].max(), 2)
    curves = {}
    if true_w is not None:
        curves["least-squares line"] = ((float(opt.w[0, 0]) - ref_w[0, 0]) * xs + float(np.ravel(opt.b)[0]) - ref_b)
    for label, r in results.items():
        if r.diverged_at is None:
            w, b = _params(r)
            curves[label] = (w[0, 0] - ref_w[0, 0]) * xs + b - ref_b
    return xs, "x", curves


def _prediction_residuals(X, y, true_w, true_b, opt, results):
    """Several features: each prediction minus the reference's, over the drawn points sorted by y."""
    ref_w, ref_b = _reference(true_w, true_b, opt)
    shown, _ = _subset(y)
    order = np.argsort(y[shown])
    ref = X[shown][order] @ ref_w + ref_b
    curves = {}
    if true_w is not None:
        curves["least-squares fit"] = (X[shown][order] @ np.asarray(opt.w, np.float64).reshape(-1, 1)
                                       + float(np.ravel(opt.b)[0]) - ref)[:, 0]
    for label, r in results.items():
        if r.diverged_at is None:
            w, b = _params(r)
            curves[label] = (X[shown][order] @ w + b - ref)[:, 0]
    return y[shown][order], "y", curves


def _residual_scale(spreads):
    """The half-height of the residual panel: the fits near the reference set it; a fit more
    than 10x the median spread (GD stopped far away) would flatten the others to one line, so
    it leaves the panel (its legend entry says by how much)."""
    spreads = np.asarray([s for s in spreads if np.isfinite(s)], np.float64)
    if not spreads.size:
        return 1.0
    kept = spreads[spreads <= 10 * np.median(spreads)]
    top = float(kept.max()) if kept.size else float(spreads.min())
    return 1.15 * top if top > 0 else 1.0


# --- the loss panels ---------------------------------------------------------------------------


def _loss_points(result, n):
    """(samples processed, updates done, full-data loss) of a run: its trace's points when it
    was trained with ``record_every`` (``TrainResult.trace``), else its epoch ends."""
    trace = getattr(result, "trace", None)
    if trace is not None:
        return (np.asarray(trace.samples, np.int64), np.asarray(trace.updates, np.int64),
                _finite(trace.loss))
    loss = _finite(result.epoch_loss)
    e = np.arange(len(loss))
    return e * n, e * (result.updates // result.config.epochs), loss


def _loss_top(results, points, best):
    """The loss panels' upper limit: a diverged curve is drawn until it leaves the view; the
    view ends a little above the largest loss of the runs that did not diverge (or 1000x the
    initial loss)."""
    initial = max(float(np.asarray(r.epoch_loss)[0]) for r in results.values())
    top = max([best, initial] + [float(np.nanmax(points[lb][2])) for lb, r in results.items()
                                 if r.diverged_at is None])
    return min(top, 1e3 * initial) * 3


def _measured_when(results, points):
    """When the losses were measured: at epoch ends, or every k samples (one trace grid for all)."""
    grids = {int(p[0][1] - p[0][0]) if getattr(r, "trace", None) is not None and len(p[0]) > 1 else None
             for r, p in zip(results.values(), points.values())}
    every = grids.pop() if len(grids) == 1 else None
    return ("measured at epoch ends" if not every else "measured after every sample" if every == 1
            else f"measured every {every:,} samples processed")


def _loss_per_sample_panel(ax, results, points, n, best, top, note):
    """Full-data loss against samples processed (in epochs), with any held-out loss dashed."""
    epochs = max(r.config.epochs for r in results.values())
    held_out = any(getattr(r, "val_loss", None) is not None for r in results.values())
    for label, r in results.items():
        samples, _, loss = points[label]
        ax.plot(samples / n, loss, "-", color=COLORS.get(r.config.variant),
                label=(f"{label}: training loss" if held_out else label) if r.diverged_at is None
                else _diverged_label(label, r))
    _held_out_curves(ax, results, n)
    ax.axhline(best, color="k", ls=":", lw=1, label=f"least-squares optimum {best:.4f}")
    what = "Training (solid) and held-out (dashed) loss" if held_out else "Full-data loss"
    ax.set(yscale="log", xlabel="epochs (samples processed / n)", ylabel="loss  1/(2n) Σ(ŷ−y)²",
           title=f"{what} against samples processed\n({_measured_when(results, points)})",
           xlim=(0, epochs), ylim=(best / 3, top))
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="upper right")
    if note:
        _note(ax, note)


def _held_out_curves(ax, results, n):
    """Each run trained with ``validation=``: its held-out loss dashed in its colour (x: epochs),
    on the trace's grid when the run has one (the same points as its training loss), else at
    epoch ends, drawn as markers joined by lines so the gaps between measurements show."""
    for label, r in results.items():
        trace = getattr(r, "trace", None)
        if trace is not None and getattr(trace, "val_loss", None) is not None:
            x, loss, marker = np.asarray(trace.samples, np.float64) / n, _finite(trace.val_loss), None
        elif getattr(r, "val_loss", None) is not None:
            loss = _finite(r.val_loss)
            x, marker = np.arange(len(loss)), "o"
        else:
            continue
        ax.plot(x, loss, "--", marker=marker, ms=3, color=COLORS.get(r.config.variant), label=f"{label}: held-out")


def _loss_per_update_panel(ax, results, points, best, top, note):
    """Full-data loss against parameter updates (log-log)."""
    most = 1
    for label, r in results.items():
        color = COLORS.get(r.config.variant)
        _, updates, loss = _per_update(*points[label])
        # GD dashed and on top: per update it coincides with mini-batch at first.
        style = dict(ls="--", lw=2, zorder=3) if r.config.variant == "GD" else dict(ls="-", lw=1.5)
        ax.plot(updates + 1, loss, marker="o" if len(updates) <= 60 else None, ms=2.5, color=color,
                label=label if r.diverged_at is None else _diverged_label(label, r), **style)
        most = max(most, r.updates + 1)
    ax.axhline(best, color="k", ls=":", lw=1, label="least-squares optimum")
    ax.set(xscale="log", yscale="log", xlim=(1, most), ylim=(best / 3, top), ylabel="full-data loss",
           title="Full-data loss against parameter updates")
    ax.tick_params(labelbottom=False)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="upper right")
    if note:
        _note(ax, note)


def _batch_loss_panel(ax, results, best, note):
    """Each update's batch loss, the quantity the update descends: a noisy estimate of the
    full-data loss (one sample's loss is often near 0), so it gets its own panel rather than
    a haze under the full-data curves that reads as "below the optimum"."""
    for label, r in results.items():
        step = _finite(r.step_loss)  # sum r^2 / (2b): already a per-sample mean, as the epoch loss
        _faint_series(ax, step, COLORS.get(r.config.variant))  # colours as in the panel above
    ax.axhline(best, color="k", ls=":", lw=1, label="least-squares optimum (full data)")
    finite = np.concatenate([_finite(r.step_loss) for r in results.values()])
    finite = finite[np.isfinite(finite) & (finite > 0)]
    low = max(float(np.percentile(finite, 1)), best / 1e3) if finite.size else best / 10
    high = float(np.max(finite)) * 2 if finite.size else best * 10
    ax.set(xscale="log", yscale="log", xlabel="parameter updates + 1", ylabel="batch loss",
           ylim=(min(low, best / 3), max(high, best * 3)),
           title="Each update's batch loss (colours as above):\nnoisy, it can sit below the optimum")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, loc="lower left")
    if note:
        _note(ax, note)


def _faint_series(ax, values, color, label=None, max_points=2000):
    """Each update's loss as a light line; past ``max_points`` updates, the min-max envelope of
    log-spaced bins instead (the same picture on the log axis; SGD's 50,000 points took most of
    the figure's rendering time)."""
    x = np.arange(1, len(values) + 1)
    if len(values) <= max_points:
        ax.plot(x, values, "-", color=color, alpha=0.35, lw=0.6, label=label)
        return
    head = max_points // 2  # the first updates as they are (bins there would hold one point)
    ax.plot(x[:head], values[:head], "-", color=color, alpha=0.35, lw=0.6, label=label)
    edges = np.unique(np.geomspace(head, len(values) + 1, max_points // 2).astype(int))
    with np.errstate(invalid="ignore"):
        lo = np.fmin.reduceat(values, edges[:-1] - 1)
        hi = np.fmax.reduceat(values, edges[:-1] - 1)
    ax.fill_between(edges[:-1], lo, hi, color=color, alpha=0.25, lw=0, step="post")
