"""One reference run described by plain data, so that a worker process can run it.

``jaxgd.parity`` replays its torch runs here: the arguments are numpy arrays, numbers, and
torch's own class names and keyword arguments, with no closure, so a run pickles into another
process (torch's eager loop is the slow half of a parity check, and runs side by side in worker
processes while the JAX runs proceed). Plain SGD at a constant rate (``optimizer=None``) runs the
tutorial's loop (``torchref.train``); anything else the loop driven by ``torch.optim``
(``torchref.optim.train``). Imports torch and numpy only.
"""

from __future__ import annotations

import numpy as np
import torch

from . import optim as _optim
from .tutorial import train as _tutorial_train

FIELDS = ("w_history", "b_history", "epoch_loss", "step_loss")


def run(X, y, w0, b0, order, *, batch_size, lr, epochs, optimizer=None, schedule=None) -> dict:
    """The run's ``FIELDS`` as numpy arrays.

    ``X`` (n, d), ``y`` (n, 1), ``w0`` (d, 1), ``b0`` (1,) in the run's dtype; ``order``
    (epochs, n): each epoch's sample order. ``optimizer``: None for the tutorial's
    ``sgd_optimizer``, or ``(name, kwargs)`` of a ``torch.optim`` class (``"Adam", {"betas":
    (0.9, 0.999)}``); ``schedule``: None, or ``(name, kwargs)`` of a
    ``torch.optim.lr_scheduler`` class, stepped once per epoch.
    """
    X, y, w, b = (torch.tensor(np.asarray(a)) for a in (X, y, w0, b0))  # copies
    if optimizer is None:
        if schedule is not None:
            raise ValueError("a schedule needs a torch.optim optimizer: pass optimizer=('SGD', {})")
        ref = _tutorial_train(X, y, batch_size, lr, epochs, w=w, b=b, orders=order)
    else:
        ref = _optim.train(X, y, batch_size, lr, epochs, w=w, b=b, orders=order,
                           make_optimizer=optimizer_factory(*optimizer),
                           make_scheduler=None if schedule is None else scheduler_factory(*schedule))
    return {k: ref[k].numpy() for k in FIELDS}


def optimizer_factory(name, kwargs):
    """``(params, lr) -> torch.optim.<name>(params, lr=lr, **kwargs)``, with torch's default ``foreach``."""
    cls, kwargs = getattr(torch.optim, name), dict(kwargs)
    return lambda params, lr: cls(params, lr=lr, **kwargs)


def scheduler_factory(name, kwargs):
    """``optimizer -> torch.optim.lr_scheduler.<name>(optimizer, **kwargs)``."""
    cls, kwargs = getattr(torch.optim.lr_scheduler, name), dict(kwargs)
    return lambda opt: cls(opt, **kwargs)


def run_job(job: dict) -> dict:
    """``run(**job)``: the form a process pool submits."""
    return run(**job)


def single_thread() -> None:
    """A worker's initializer: one intra-op thread, so that several workers share the cores
    without oversubscribing them (the runs' tensors are far below torch's parallel grain)."""
    torch.set_num_threads(1)
