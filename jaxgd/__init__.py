"""jaxgd: full-batch GD, SGD and mini-batch SGD for linear regression as one compiled JAX program.

    import jaxgd
    data = jaxgd.synthetic_data()              # the seed's data: w = [3.5], b = 4, n = 1000
    result = jaxgd.train(data.X, data.y, batch_size=50, lr=0.02, epochs=50)
    result.w, result.b, result.epoch_loss
"""

from ._data import Dataset, epoch_orders, synthetic_data
from ._model import Batch, Params, batch_loss, init_params, loss_and_grad, predict, squared_loss
from ._step import optimizer, update_step
from ._train import Config, TrainResult, train
from ._sweep import SweepResult, sweep
from . import analysis

__all__ = [
    "Batch",
    "Config",
    "Dataset",
    "Params",
    "SweepResult",
    "TrainResult",
    "batch_loss",
    "epoch_orders",
    "init_params",
    "loss_and_grad",
    "optimizer",
    "predict",
    "squared_loss",
    "sweep",
    "synthetic_data",
    "train",
    "update_step",
]

__version__ = "0.1.0"
