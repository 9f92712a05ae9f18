"""jaxgd: full-batch GD, SGD and mini-batch SGD for linear regression as one compiled JAX program.

    import jaxgd
    data = jaxgd.synthetic_data()              # the tutorial's data: w = [3.5], b = 4, n = 1000
    result = jaxgd.train(data.X, data.y, batch_size=50, lr=0.02, epochs=50)
    result.w, result.b, result.epoch_loss

``jaxgd.core`` holds the pure functions ``train`` and ``sweep`` are built from (draw, update
step, run), for use under your own ``jax.jit`` / ``jax.vmap``; ``jaxgd.optim`` the optimizers;
``jaxgd.analysis`` the convergence metrics; ``jaxgd.distributed`` several processes as one run.
"""

from jaxgd.drivers._cache import enable_compilation_cache
from jaxgd.data._synthetic import Dataset, synthetic_data
from jaxgd.data._orders import epoch_orders
from jaxgd._errors import InputError
from jaxgd.data._files import LoadedData, load_dataset
from jaxgd.drivers._train import Config, TrainResult, train
from jaxgd.drivers._sweep import sweep
from jaxgd.drivers._sweep_result import SweepResult
from jaxgd.core import Trace
from jaxgd import analysis, claims, core, distributed, optim

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
