"""The contenders jaxgd is timed against, each a plain function that returns its answer.

Every contender takes numpy inputs prepared once (``X`` (n, d), ``y`` (n, 1), ``init = (w0
(d, 1), b0 (1,))``, ``orders`` (epochs, n)) and returns ``(w (d,), b scalar)`` as float64
numpy so the tests can compare answers. Data conversion is done by the ``prepare_*`` helpers
outside the timed region.

- ``numba_train``: the compiled floor. A scalar ``@numba.njit`` loop doing jaxgd's arithmetic
  in float32 with the same orders, producing the same outputs (step losses, the full-data loss
  after every epoch, the per-epoch parameter history).
- ``torch_idiomatic_train``: eager PyTorch as a practitioner writes it (``nn.Linear``,
  ``torch.optim.SGD`` or another ``torch.optim`` optimizer from ``TORCH_OPTIMIZERS``, batches
  sliced from a tensor shuffled once per epoch).
- ``sklearn_sgd_train``: scikit-learn's ``SGDRegressor`` with the seed's SGD update.
- ``torchref_train``: the seed tutorial's loop (``torchref.train``).
- ``floor_*``: the memory-bandwidth floors of the large workload (passes over X, nothing else).
"""

from __future__ import annotations

import numpy as np

# --------------------------------------------------------------------------------------------
# numba: the compiled floor
# --------------------------------------------------------------------------------------------
try:
    import numba
except ImportError:  # pragma: no cover - numba is a dev dependency
    numba = None


def _numba_kernel(X, y, w, b, orders, batch_size, lr, w_hist, b_hist, epoch_loss, step_loss):
    # Float32 throughout, as jaxgd computes: every intermediate is rounded to float32.
    n, d = X.shape
    epochs = orders.shape[0]
    f0 = np.float32(0.0)
    inv_2b = np.float32(1.0) / np.float32(2 * batch_size)
    inv_b = np.float32(1.0) / np.float32(batch_size)
    inv_2n = np.float32(1.0) / np.float32(2 * n)
    grad_w = np.zeros(d, np.float32)
    # loss at the initial parameters (written out here and after each epoch: a shared njit
    # helper measured ~6% slower, and this loop is the floor)
    acc = f0
    for i in range(n):
        r = b - y[i]
        for j in range(d):
            r += X[i, j] * w[j]
        acc += r * r
    epoch_loss[0] = acc * inv_2n
    for j in range(d):
        w_hist[0, j] = w[j]
    b_hist[0] = b
    k = 0
    for e in range(epochs):
        for start in range(0, n, batch_size):
            stop = min(start + batch_size, n)
            for j in range(d):
                grad_w[j] = f0
            grad_b = f0
            loss = f0
            for p in range(start, stop):
                i = orders[e, p]
                r = b - y[i]
                for j in range(d):
                    r += X[i, j] * w[j]
                loss += r * r
                grad_b += r
                for j in range(d):
                    grad_w[j] += r * X[i, j]
            # the short last batch keeps the nominal divisor, as the seed does
            step_loss[k] = loss * inv_2b
            k += 1
            for j in range(d):
                w[j] -= lr * (grad_w[j] * inv_b)
            b -= lr * (grad_b * inv_b)
        acc = f0
        for i in range(n):
            r = b - y[i]
            for j in range(d):
                r += X[i, j] * w[j]
            acc += r * r
        epoch_loss[e + 1] = acc * inv_2n
        for j in range(d):
            w_hist[e + 1, j] = w[j]
        b_hist[e + 1] = b
    return b


_numba_compiled = numba.njit(cache=False, fastmath=False)(_numba_kernel) if numba else None


def prepare_numba(X, y, init, orders, dtype=np.float32):
    """Contiguous typed copies for ``numba_train`` (done once, outside the timed region)."""
    return (
        np.ascontiguousarray(X, dtype),
        np.ascontiguousarray(np.asarray(y).reshape(-1), dtype),
        np.asarray(init[0], dtype).reshape(-1),
        dtype(np.asarray(init[1]).reshape(-1)[0]),
        np.ascontiguousarray(orders, np.int64),
    )


def numba_train(Xc, yc, w0, b0, orders, batch_size, lr, *, full=None):
    """One training run of the compiled scalar loop; returns ``(w, b, epoch_loss)``.

    ``full``: batch size used when ``batch_size`` is None (full-batch GD). All history
    arrays are allocated per call, as jaxgd allocates its outputs per call.
    """
    if _numba_compiled is None:
        raise RuntimeError("numba is not installed")
    n, d = Xc.shape
    bs = n if batch_size is None else int(batch_size)
    epochs = orders.shape[0]
    w = w0.copy()
    w_hist = np.empty((epochs + 1, d), Xc.dtype)
    b_hist = np.empty(epochs + 1, Xc.dtype)
    epoch_loss = np.empty(epochs + 1, Xc.dtype)
    step_loss = np.empty(epochs * (-(-n // bs)), Xc.dtype)
    b = _numba_compiled(Xc, yc, w, b0, orders, bs, Xc.dtype.type(lr), w_hist, b_hist, epoch_loss, step_loss)
    return w.astype(np.float64), float(b), epoch_loss


# --------------------------------------------------------------------------------------------
# PyTorch
# --------------------------------------------------------------------------------------------
def prepare_torch(X, y, init, orders):
    import torch

    return (
        # zero-copy for writable C-contiguous numpy (the large X); a copy otherwise
        torch.from_numpy(np.require(X, requirements=["C", "W"])),
        torch.from_numpy(np.require(np.asarray(y).reshape(-1, 1), requirements=["C", "W"])),
        torch.from_numpy(np.asarray(init[0]).reshape(1, -1).copy()),  # nn.Linear weight is (1, d)
        torch.from_numpy(np.asarray(init[1]).reshape(1).copy()),
        torch.from_numpy(np.asarray(orders, np.int64)),
    )


def torch_idiomatic_train(X_t, y_t, w0_t, b0_t, orders_t, batch_size, lr, make_optimizer=None):
    """Eager PyTorch as a practitioner writes it; returns ``(w, b)``.

    ``nn.Linear`` + ``torch.optim.SGD`` (or ``make_optimizer(params, lr)``, e.g. an entry of
    ``TORCH_OPTIMIZERS``); each epoch shuffles the data once (``X[perm]``) and
    slices contiguous batches from it; loss = sum of squares / (2 * batch_size), the seed's.
    ``orders_t[e]`` is the shuffle of epoch e (the same permutation jaxgd uses). For full-batch
    GD (``batch_size`` None or n) a practitioner does not shuffle, so neither does this.
    """
    import torch

    n, d = X_t.shape
    bs = n if batch_size is None else int(batch_size)
    model = torch.nn.Linear(d, 1, dtype=X_t.dtype)
    with torch.no_grad():
        model.weight.copy_(w0_t)
        model.bias.copy_(b0_t)
    opt = (make_optimizer or _torch_sgd)(model.parameters(), lr)
    for e in range(orders_t.shape[0]):
        if bs == n:
            Xs, ys = X_t, y_t
        else:
            perm = orders_t[e]
            Xs, ys = X_t[perm], y_t[perm]
        for start in range(0, n, bs):
            xb, yb = Xs[start : start + bs], ys[start : start + bs]
            loss = (model(xb) - yb).pow(2).sum() / (2 * bs)
            opt.zero_grad()
            loss.backward()
            opt.step()
    with torch.no_grad():
        return model.weight.detach().double().numpy().reshape(-1).copy(), float(model.bias)


def _torch_sgd(params, lr):
    import torch

    return torch.optim.SGD(params, lr=lr)


def _torch_sgd_momentum(params, lr):
    import torch

    return torch.optim.SGD(params, lr=lr, momentum=0.9)


def _torch_adam(params, lr):
    import torch

    return torch.optim.Adam(params, lr=lr)


# The optimizer benchmarks' torch side, by the name of the jaxgd spec it is compared with
# (``optim.sgd(momentum=0.9)``, ``optim.adam()``): torch's defaults otherwise, default
# ``foreach`` (the single-tensor path for CPU tensors), as a practitioner constructs them.
TORCH_OPTIMIZERS = {"sgd": _torch_sgd, "sgd-momentum": _torch_sgd_momentum, "adam": _torch_adam}


def torchref_train(X_t, y_t, w0_t, b0_t, orders_np, batch_size, lr):
    """The seed tutorial's loop (``torchref.train``); returns ``(w, b)``."""
    import torchref

    n = X_t.shape[0]
    bs = n if batch_size is None else int(batch_size)
    out = torchref.train(
        X_t, y_t, bs, lr, orders_np.shape[0], w=w0_t.reshape(-1, 1), b=b0_t.reshape(1), orders=orders_np
    )
    return out["w_history"][-1].double().numpy().reshape(-1), float(out["b_history"][-1, 0])


# --------------------------------------------------------------------------------------------
# scikit-learn
# --------------------------------------------------------------------------------------------
def sklearn_sgd_train(X, y, init, lr, epochs, seed=0):
    """``SGDRegressor`` doing the seed's SGD update; returns ``(w, b)``.

    sklearn's squared_error loss is (p - y)^2 / 2 per sample, its gradient (p - y) x, and the
    constant schedule steps by ``eta0``: with batch size 1 the seed's loss (p - y)^2 / 2 has the
    same gradient, so ``eta0 = lr`` makes every update identical. The sample order is sklearn's
    own shuffle (it cannot take jaxgd's), and it computes in float64.
    """
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import SGDRegressor

    reg = SGDRegressor(
        loss="squared_error", penalty=None, alpha=0.0, learning_rate="constant", eta0=lr,
        max_iter=epochs, tol=None, shuffle=True, random_state=seed, average=False,
        fit_intercept=True,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg.fit(X, np.asarray(y).reshape(-1), coef_init=np.asarray(init[0], np.float64).reshape(-1),
                intercept_init=np.asarray(init[1], np.float64).reshape(-1))
    return reg.coef_.astype(np.float64), float(reg.intercept_[0])


# --------------------------------------------------------------------------------------------
# Memory-bandwidth floors of the large workload
# --------------------------------------------------------------------------------------------
def floor_numpy(X, w, r, passes, repeats):
    """``repeats`` times: ``X @ w`` (and ``X.T @ r`` when passes == 2) with numpy/BLAS."""
    out = None
    for _ in range(repeats):
        out = X @ w
        if passes == 2:
            out = X.T @ r
    return out


def floor_gather_numpy(X, orders, batch_size):
    """The random-access read a mini-batch epoch cannot avoid: numpy's ``X[batch indices]`` for
    every batch of every epoch in ``orders``. Rows live at random addresses, so on a CPU this
    is bound by memory latency, not bandwidth: the honest floor for a shuffled mini-batch epoch.
    """
    out = None
    for order in orders:
        for start in range(0, len(order), batch_size):
            out = X[order[start : start + batch_size]]
    return out


_jax_floor_fns = {}


def floor_jax(X, w, r, passes, repeats):
    """The same passes as ``floor_numpy`` as jitted JAX calls over a device-resident X."""
    import jax

    if passes not in _jax_floor_fns:
        if passes == 1:
            fn = jax.jit(lambda X, w, r: X @ w)
        else:
            # Two calls' worth of work in one program; r is an input so X.T @ r cannot fuse with X @ w.
            fn = jax.jit(lambda X, w, r: (X @ w, X.T @ r))
        _jax_floor_fns[passes] = fn
    out = None
    for _ in range(repeats):
        out = _jax_floor_fns[passes](X, w, r)
    return jax.block_until_ready(out)


def least_squares(X, y):
    """The least-squares (w, b) of y ~ X w + b, float64."""
    X = np.asarray(X, np.float64)
    A = np.hstack([X, np.ones((X.shape[0], 1))])
    sol, *_ = np.linalg.lstsq(A, np.asarray(y, np.float64).reshape(-1), rcond=None)
    return sol[:-1], float(sol[-1])
