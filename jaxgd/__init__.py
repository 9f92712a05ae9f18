"""jaxgd: full-batch GD, SGD and mini-batch SGD for linear regression as one compiled JAX program.

    import jaxgd
    data = jaxgd.synthetic_data()              # the tutorial's data: w = [3.5], b = 4, n = 1000
    result = jaxgd.train(data.X, data.y, batch_size=50, lr=0.02, epochs=50)
    result.w, result.b, result.epoch_loss

``jaxgd.core`` holds the pure functions ``train`` and ``sweep`` are built from (draw, update
step, run), for use under your own ``jax.jit`` / ``jax.vmap``; ``jaxgd.optim`` the optimizers;
``jaxgd.analysis`` the convergence metrics; ``jaxgd.distributed`` several processes as one run.
"""

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the same names, seen by type checkers and by the API reference (griffe)
    from jaxgd import analysis, claims, core, distributed, optim
    from jaxgd._errors import InputError
    from jaxgd.core import Trace
    from jaxgd.data._files import LoadedData, load_dataset
    from jaxgd.data._orders import epoch_orders
    from jaxgd.data._synthetic import Dataset, synthetic_data
    from jaxgd.drivers._cache import enable_compilation_cache
    from jaxgd.drivers._sweep import sweep
    from jaxgd.drivers._sweep_result import SweepResult
    from jaxgd.drivers._train import Config, TrainResult, train

# Each public name and the module it lives in, imported on first use (PEP 562): ``import
# jaxgd.cli`` (the command line) stays free of JAX until a command runs; ``jaxgd.train`` and
# the rest import what they need the first time they are looked up.
_LAZY = {
    "enable_compilation_cache": "jaxgd.drivers._cache",
    "Dataset": "jaxgd.data._synthetic",
    "synthetic_data": "jaxgd.data._synthetic",
    "epoch_orders": "jaxgd.data._orders",
    "InputError": "jaxgd._errors",
    "LoadedData": "jaxgd.data._files",
    "load_dataset": "jaxgd.data._files",
    "Config": "jaxgd.drivers._train",
    "TrainResult": "jaxgd.drivers._train",
    "train": "jaxgd.drivers._train",
    "sweep": "jaxgd.drivers._sweep",
    "SweepResult": "jaxgd.drivers._sweep_result",
    "Trace": "jaxgd.core",
}
_SUBMODULES = ("analysis", "claims", "core", "distributed", "optim")


def __getattr__(name):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f"jaxgd.{name}")
    else:
        raise AttributeError(f"module 'jaxgd' has no attribute {name!r}")
    globals()[name] = value  # looked up once
    return value


def __dir__():
    return sorted({*globals(), *__all__})


__all__ = [
    "Config",
    "Dataset",
    "InputError",
    "LoadedData",
    "SweepResult",
    "Trace",
    "TrainResult",
    "analysis",
    "claims",
    "core",
    "distributed",
    "enable_compilation_cache",
    "epoch_orders",
    "load_dataset",
    "optim",
    "sweep",
    "synthetic_data",
    "train",
]

__version__ = "0.1.0"
