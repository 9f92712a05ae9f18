"""The tutorial you can play with: one self-contained HTML page of real, verified runs.

``jaxgd explore`` (the command) is these three steps::

    from jaxgd import explore
    runs = explore.run_grid(X, y)                 # one vmapped jaxgd.sweep per optimizer, traced
    parity = explore.check(X, y, runs)            # a sample of those runs replayed in PyTorch
    html = explore.render(X, y, runs, parity, source="my data", command="...")

The page draws the precomputed runs with plain canvas and a small inline script (``page.js``):
no server, no network, no library.
"""

from jaxgd.explore._grid import DEFAULT_BATCH_SIZES, DEFAULT_LRS, DEFAULT_POINTS, DEFAULT_SEEDS, Runs, record_every, run_grid
from jaxgd.explore._page import render
from jaxgd.explore._parity import CHECK_COMMAND, Parity, Point, check, sample

__all__ = ["CHECK_COMMAND", "DEFAULT_BATCH_SIZES", "DEFAULT_LRS", "DEFAULT_POINTS", "DEFAULT_SEEDS", "Parity", "Point",
           "Runs", "check", "record_every", "render", "run_grid", "sample"]
