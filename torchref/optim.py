"""The tutorial's training loop driven by a real ``torch.optim`` optimizer and LR scheduler.

The loop is ``torchref.tutorial.train``'s, with the tutorial's ``sgd_optimizer(params, lr)`` replaced
by the usual PyTorch pattern: ``optimizer.step(); optimizer.zero_grad()`` after each batch and
``scheduler.step()`` once after each epoch's updates. ``data_iter``, ``line_regression``,
``squared_loss`` and ``init_params`` are the tutorial's, imported.
"""

from __future__ import annotations

import torch

from .tutorial import data_iter, init_params, line_regression, squared_loss


def train(
    features,
    labels,
    batch_size,
    lr,
    num_epochs,
    *,
    make_optimizer,
    make_scheduler=None,
    w=None,
    b=None,
    orders=None,
):
    """The tutorial's loop with ``make_optimizer(params, lr)`` and optional ``make_scheduler(optimizer)``.

    E.g. ``make_optimizer=lambda params, lr: torch.optim.Adam(params, lr=lr)`` and
    ``make_scheduler=lambda opt: torch.optim.lr_scheduler.StepLR(opt, 10)``. ``w``, ``b``
    (initial parameters, copied) and ``orders`` (row e: the sample order of epoch e) as in
    ``torchref.train``. Returns its dict (``w_history``, ``b_history``, ``epoch_loss``,
    ``step_loss``) plus ``lr`` (num_epochs,): the learning rate in force during each epoch.
    """
    if w is None or b is None:
        w, b = init_params(features.shape[1], features.dtype)
    else:
        w = w.detach().clone().requires_grad_(True)
        b = b.detach().clone().requires_grad_(True)
    optimizer = make_optimizer([w, b], lr)
    scheduler = None if make_scheduler is None else make_scheduler(optimizer)
    loss, net = squared_loss, line_regression

    with torch.no_grad():
        train_l = loss(net(features, w, b), labels, len(features))
    w_history, b_history = [w.detach().clone()], [b.detach().clone()]
    epoch_loss, step_loss, lrs = [float(train_l.sum())], [], []
    for epoch in range(num_epochs):
        lrs.append(float(optimizer.param_groups[0]["lr"]))
        indices = None if orders is None else [int(i) for i in orders[epoch]]
        for X, y in data_iter(features, labels, batch_size, indices):
            l = loss(net(X, w, b), y, batch_size)
            l.sum().backward()
            step_loss.append(float(l.detach().sum()))
            optimizer.step()
            optimizer.zero_grad()
        if scheduler is not None:
            scheduler.step()
        with torch.no_grad():
            train_l = loss(net(features, w, b), labels, len(features))
        w_history.append(w.detach().clone())
        b_history.append(b.detach().clone())
        epoch_loss.append(float(train_l.sum()))
    return {
        "w_history": torch.stack(w_history),
        "b_history": torch.stack(b_history),
        "epoch_loss": torch.tensor(epoch_loss, dtype=torch.float64),
        "step_loss": torch.tensor(step_loss, dtype=torch.float64),
        "lr": torch.tensor(lrs, dtype=torch.float64),
    }
