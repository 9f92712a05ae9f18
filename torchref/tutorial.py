"""The tutorial's code (linear regression by GD, SGD and mini-batch SGD) in PyTorch."""

from __future__ import annotations

import random

import torch

# The tutorial's defaults.
TRUE_W = [3.5]
TRUE_B = 4
NUM_EXAMPLES = 1000
LR = 0.02
NUM_EPOCHS = 50
BATCH_SIZE = 50


def synthetic_data(w, b, num_examples):
    """Generate y = Xw + b + noise, noise ~ N(0, 0.5^2)."""
    X = torch.normal(0, 1, (num_examples, len(w)))
    y = torch.matmul(X, w) + b
    y += torch.normal(0, 0.5, y.shape)
    return X, y.reshape((-1, 1))


def data_iter(features, labels, batch_size, indices=None):
    """Yield minibatches in a shuffled order; the last, short batch is kept.

    ``indices`` (added): the order to visit the samples in, instead of ``random.shuffle``.
    """
    num_examples = len(features)
    if indices is None:
        indices = list(range(num_examples))
        random.shuffle(indices)
    for i in range(0, num_examples, batch_size):
        batch_indices = torch.tensor(indices[i : min(i + batch_size, num_examples)])
        yield features[batch_indices], labels[batch_indices]


def line_regression(X, w, b):
    return torch.matmul(X, w) + b


def squared_loss(y_hat, y, batch_size):
    """batch_size = num_examples: classic GD; 1: SGD; in between: mini-batch SGD."""
    return (y_hat - y.reshape(y_hat.shape)) ** 2 / (2 * batch_size)


def sgd_optimizer(params, lr):
    with torch.no_grad():
        for param in params:
            param -= lr * param.grad
            param.grad.zero_()


def init_params(num_features=1, dtype=torch.float32):
    """Initialise model parameters as the tutorial does."""
    w = torch.normal(0, 0.01, size=(num_features, 1), dtype=dtype, requires_grad=True)
    b = torch.zeros(1, dtype=dtype, requires_grad=True)
    return w, b


def train(
    train_data,
    train_labels,
    batch_size=BATCH_SIZE,
    lr=LR,
    num_epochs=NUM_EPOCHS,
    w=None,
    b=None,
    orders=None,
    verbose=False,
):
    """The tutorial's training loop; returns the history instead of only printing it.

    Added arguments: ``w``, ``b`` (initial parameters, copied) and ``orders`` (row e is the
    sample order of epoch e). Returns a dict with ``w_history`` (epochs + 1, d, 1),
    ``b_history`` (epochs + 1, 1), ``epoch_loss`` (epochs + 1,) and ``step_loss`` (updates,).
    """
    if w is None or b is None:
        w, b = init_params(train_data.shape[1], train_data.dtype)
    else:
        w = w.detach().clone().requires_grad_(True)
        b = b.detach().clone().requires_grad_(True)
    loss = squared_loss
    sgd = sgd_optimizer
    net = line_regression

    with torch.no_grad():
        train_l = loss(net(train_data, w, b), train_labels, len(train_data))
    w_history, b_history = [w.detach().clone()], [b.detach().clone()]
    epoch_loss, step_loss = [float(train_l.sum())], []
    for epoch in range(num_epochs):
        indices = None if orders is None else [int(i) for i in orders[epoch]]
        for X, y in data_iter(train_data, train_labels, batch_size, indices):
            l = loss(net(X, w, b), y, batch_size)
            l.sum().backward()
            step_loss.append(float(l.detach().sum()))
            sgd([w, b], lr)
        with torch.no_grad():
            train_l = loss(net(train_data, w, b), train_labels, len(train_data))
            if verbose:
                print("epoch", epoch, " loss ", float(train_l.sum()))
        w_history.append(w.detach().clone())
        b_history.append(b.detach().clone())
        epoch_loss.append(float(train_l.sum()))
    return {
        "w_history": torch.stack(w_history),
        "b_history": torch.stack(b_history),
        "epoch_loss": torch.tensor(epoch_loss, dtype=torch.float64),
        "step_loss": torch.tensor(step_loss, dtype=torch.float64),
    }
