"""The tutorial's from-scratch PyTorch code, function by function, as the reference for jaxgd.

Names and arithmetic are the tutorial's. The only additions: optional arguments that inject the
per-epoch sample order (``indices`` / ``orders``) and the initial parameters, so a run can be
replayed exactly, and ``train`` returning its history instead of only printing it.
"""

from .tutorial import (
    data_iter,
    init_params,
    line_regression,
    sgd_optimizer,
    squared_loss,
    synthetic_data,
    train,
)

__all__ = [
    "data_iter",
    "init_params",
    "line_regression",
    "sgd_optimizer",
    "squared_loss",
    "synthetic_data",
    "train",
]
