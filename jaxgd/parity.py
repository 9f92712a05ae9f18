"""Cross-framework parity: replay one configuration in torchref and jaxgd and compare.

Both runs get the same data, initial parameters and per-epoch orders, so they perform the
same arithmetic; what differs is summation order and fused multiply-adds, bounded by:

- float32: rtol 1e-5, atol 1e-6. One float32 rounding is 6e-8 relative; a run of up to
  ~10^5 updates accumulates a few hundred of them in the worst case, and the losses are
  contractive for the stable learning rates tested, so differences stay well below 1e-5.
- float64: rtol = atol = 1e-12, for the same reason at 1.1e-16 per rounding.

Needs torch (``pip install 'jaxgd[dev]'``).
"""

from __future__ import annotations

import warnings
from typing import NamedTuple, Optional

import jax
import numpy as np

TOLERANCES = {"float32": (1e-5, 1e-6), "float64": (1e-12, 1e-12)}  # dtype: (rtol, atol)


def x64_enabled(enabled=True):
    """Context manager that switches JAX's 64-bit mode."""
    if hasattr(jax, "enable_x64"):
        return jax.enable_x64(enabled)
    from jax.experimental import enable_x64, disable_x64  # older JAX

    return enable_x64() if enabled else disable_x64()


class ParityReport(NamedTuple):
    """The largest differences between a jaxgd run and the torchref run it replays.

    A run that diverges (its loss non-finite or above 1000x the initial loss, the project's one
    definition) is a result, not a breach: the differences are taken over the epochs before the
    first divergence of either run (``compared_epochs`` epoch records: epochs
    0 .. compared_epochs - 1, and every update that led up to them), and parity holds when that
    part agrees and both runs diverge at the same epoch (or neither does).
    """

    variant: str
    batch_size: int
    dtype: str
    max_param_diff: float  # max |jax - torch| over the compared epochs' w and b
    max_epoch_loss_diff: float
    max_step_loss_diff: float
    max_violation: float  # max |diff| / (atol + rtol |torch|); <= 1 passes
    ok: bool
    jax_diverged_at: Optional[int] = None  # first diverged epoch, None if the run never diverged
    torch_diverged_at: Optional[int] = None
    compared_epochs: int = 0

    @property
    def diverged(self) -> bool:
        """Either run diverged."""
        return self.jax_diverged_at is not None or self.torch_diverged_at is not None

    @property
    def same_divergence(self) -> bool:
        """Both runs diverged at the same epoch, or neither diverged."""
        return self.jax_diverged_at == self.torch_diverged_at


def _violation(a, b, rtol, atol):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.size == 0:
        return 0.0, 0.0
    return float(np.max(np.abs(a - b) / (atol + rtol * np.abs(b)))), float(np.max(np.abs(a - b)))


def diverged_at(epoch_loss) -> Optional[int]:
    """The first diverged epoch of a loss curve (non-finite, or above 1000x the initial loss), or None."""
    from .analysis import divergence  # the project's one definition

    hit, epoch = divergence(np.asarray(epoch_loss, np.float64))
    return int(epoch) if bool(hit) else None


def compare(X, y, *, batch_size, lr, epochs, init, order, dtype="float32"):
    """Run torchref and jaxgd on identical inputs; return a ``ParityReport``.

    ``X`` (n, d), ``y`` (n, 1), ``init = (w0 (d, 1), b0 (1,))`` and ``order`` (epochs, n) are
    numpy arrays; they are cast to ``dtype`` for both frameworks. A learning rate that makes
    the runs diverge is allowed: see ``ParityReport``.
    """
    import torch

    import torchref

    from . import _train

    rtol, atol = TOLERANCES[dtype]
    X, y = np.asarray(X, dtype), np.asarray(y, dtype).reshape(-1, 1)
    w0, b0 = (np.asarray(p, dtype) for p in init)
    order = np.asarray(order)
    with x64_enabled(dtype == "float64"), warnings.catch_warnings():
        # Divergence is reported in the ParityReport; train's warning about it would repeat it.
        warnings.filterwarnings("ignore", message="training diverged", category=RuntimeWarning)
        res = _train.train(X, y, batch_size=batch_size, lr=lr, epochs=epochs, init=(w0, b0), order=order)
        jax_out = [np.asarray(a) for a in (res.w_history, res.b_history, res.epoch_loss, res.step_loss)]
    ref = torchref.train(
        torch.tensor(X), torch.tensor(y), batch_size, lr, epochs,
        w=torch.tensor(w0), b=torch.tensor(b0), orders=order,
    )
    ref_out = [ref[k].numpy() for k in ("w_history", "b_history", "epoch_loss", "step_loss")]
    jax_div, torch_div = diverged_at(jax_out[2]), diverged_at(ref_out[2])
    # Compare epochs 0 .. k-1, before either run diverged, and the updates that led to them.
    k = min([epochs + 1] + [e for e in (jax_div, torch_div) if e is not None])
    updates = (k - 1) * (res.updates // epochs)
    cut = (slice(0, k), slice(0, k), slice(0, k), slice(0, updates))
    diffs = [_violation(j[c], r[c], rtol, atol) for j, r, c in zip(jax_out, ref_out, cut)]
    (viol_w, diff_w), (viol_b, diff_b), (viol_e, diff_e), (viol_s, diff_s) = diffs
    violation = max(viol_w, viol_b, viol_e, viol_s)
    finite = all(np.isfinite(j[c]).all() for j, c in zip(jax_out, cut))
    return ParityReport(
        res.config.variant, batch_size, dtype, max(diff_w, diff_b), diff_e, diff_s, violation,
        bool(violation <= 1.0 and finite and jax_div == torch_div), jax_div, torch_div, k,
    )


def tutorial_problem(n=1000, d=1, epochs=50, seed=0, dtype="float32"):
    """The tutorial's workload as numpy arrays: (X, y, init, order), replayable in both frameworks."""
    from ._data import epoch_orders, synthetic_data, tutorial_weights

    with x64_enabled(dtype == "float64"):
        true_w = tutorial_weights(d)
        data = synthetic_data(true_w, 4.0, n, seed=seed, dtype=dtype)
        X, y = np.asarray(data.X), np.asarray(data.y)
    rng = np.random.default_rng(seed)
    init = (rng.normal(0.0, 0.01, (d, 1)).astype(dtype), np.zeros(1, dtype))
    order = np.asarray(epoch_orders(seed, n, epochs))
    return X, y, init, order
