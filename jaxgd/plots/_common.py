"""What every figure shares: an Agg ``Figure`` made without pyplot, saving it, a note in a panel
with nothing to draw, the variants' colours, and the small array helpers of results."""

from __future__ import annotations

import numpy as np

COLORS = {"GD": "tab:blue", "mini-batch": "tab:green", "SGD": "tab:red"}


def _figure(**kwargs):
    """A ``matplotlib.figure.Figure`` with its own Agg canvas (so ``fig.canvas.draw()`` and
    ``get_renderer()`` work), made without pyplot: no backend chosen, no figure registered."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(**kwargs)
    FigureCanvasAgg(fig)
    return fig


def _finish(fig, path, dpi):
    """Save the figure and return ``path``; with ``path`` None return the figure."""
    if path is None:
        return fig
    fig.savefig(path, dpi=dpi)
    return path


def _note(ax, text, y=0.5):
    """A note across a panel that has nothing (or not everything) to draw."""
    ax.text(0.5, y, text, transform=ax.transAxes, ha="center", va="center", fontsize=11, color="tab:red",
            bbox=dict(facecolor="white", edgecolor="tab:red", boxstyle="round,pad=0.5"))


def _finite(a):
    a = np.asarray(a, np.float64)
    return np.where(np.isfinite(a), a, np.nan)


def _per_update(samples, updates, *values):
    """Keep the first point of each update count: a trace holds the parameters in force, so
    points between two updates repeat the same values (GD's trace is a step function)."""
    _, first = np.unique(updates, return_index=True)
    return (samples[first], updates[first], *(v[first] for v in values))
