"""``train`` as the studies and commands call it: without its divergence warning, and timed.

A diverging run is a result they count and report themselves, so ``train``'s
``RuntimeWarning("training diverged ...")`` would only repeat it.
"""

from __future__ import annotations

import contextlib
import time
import warnings

import jax
import numpy as np

from jaxgd.drivers._train import train

# The start of train's warning (jaxgd/drivers/_train.py): the filter matches it from the start.
DIVERGED_WARNING = "training diverged"


@contextlib.contextmanager
def quiet_divergence():
    """Within the block, ``train``'s divergence warning is not shown; every other warning is,
    and the warning filters are restored on exit."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=DIVERGED_WARNING, category=RuntimeWarning)
        yield


def quiet_train(X, y, **kwargs):
    """``train`` without its divergence warning."""
    with quiet_divergence():
        return train(X, y, **kwargs)


def timed_train(X, y, repeats=5, **kwargs):
    """Returns (result, median wall time of ``repeats`` warm calls, the first call's time
    including compilation), in seconds, of ``train(X, y, **kwargs)``. A diverging run is timed
    like any other, without the warning."""
    with quiet_divergence():
        t0 = time.perf_counter()
        result = jax.block_until_ready(train(X, y, **kwargs))
        first = time.perf_counter() - t0
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            jax.block_until_ready(train(X, y, **kwargs))
            times.append(time.perf_counter() - t0)
    return result, float(np.median(times)), first
