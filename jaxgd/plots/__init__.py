"""Figures built from results (never from inside training).

Each function writes a PNG to ``path`` and returns the path; with ``path=None`` it returns the
``matplotlib.figure.Figure`` instead (for inspection; ``fig.savefig`` writes it, Jupyter shows it).
Figures are built on ``matplotlib.figure.Figure``, never through pyplot: drawing one leaves the
caller's backend and pyplot's figures as they were.
"""

from jaxgd.plots._batch_size import batch_size_figure
from jaxgd.plots._claims import claims_figure
from jaxgd.plots._common import COLORS
from jaxgd.plots._compare import compare_figure
from jaxgd.plots._optimizers import optimizers_figure
from jaxgd.plots._paths import PATH_POINTS, _path, paths_animation, paths_figure  # noqa: F401 (_path: the CLI)
from jaxgd.plots._sweep import sweep_cells, sweep_heatmap

__all__ = [
    "COLORS",
    "PATH_POINTS",
    "batch_size_figure",
    "claims_figure",
    "compare_figure",
    "optimizers_figure",
    "paths_animation",
    "paths_figure",
    "sweep_cells",
    "sweep_heatmap",
]
