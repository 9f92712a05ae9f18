"""Workload sizes and data, shared by the tests, the memory probe and the HLO dump.

Full sizes are the issue's; tiny sizes (``JAXGD_BENCH_TINY=1``, or automatically under
``--benchmark-disable``) run the same code paths in seconds for CI. Tiny sizes keep a short
last batch so the padding path is exercised.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Seed:
    n: int = 1000
    d: int = 1
    epochs: int = 50
    lr: float = 0.02
    minibatch: int = 50


@dataclass(frozen=True)
class Large:
    n: int = 1_000_000
    d: int = 64
    gd_epochs: int = 10
    gd_lr: float = 0.5
    mb_batch: int = 1024
    mb_epochs: int = 2
    mb_lr: float = 0.05


FULL = (Seed(), Large())
TINY = (Seed(n=110, epochs=3), Large(n=5000, d=8, gd_epochs=3, mb_batch=256, mb_epochs=2))


def tiny_from_env(default=False):
    v = os.environ.get("JAXGD_BENCH_TINY")
    if v is None or v == "":
        return default
    return v not in ("0", "false", "False", "no")


def sizes(tiny):
    return TINY if tiny else FULL


def seed_variants(seed: Seed):
    """(variant, batch_size) of the seed workload."""
    return [("GD", seed.n), ("mini-batch", seed.minibatch), ("SGD", 1)]


def seed_problem(seed: Seed):
    """The seed workload as float32 numpy: X, y, init, orders (jaxgd's default orders)."""
    from jaxgd.parity import tutorial_problem as _sp

    return _sp(n=seed.n, d=seed.d, epochs=seed.epochs)


def large_data(large: Large, seed=0):
    """float32 X (n, d) ~ N(0, 1), y = X w + 4 + N(0, 0.5^2), init: small normal w, b = 0.

    Filled in place so no float64 temporary of X's size ever exists.
    """
    rng = np.random.default_rng(seed)
    X = np.empty((large.n, large.d), np.float32)
    rng.standard_normal(out=X, dtype=np.float32)
    true_w = np.linspace(-2.0, 3.5, large.d, dtype=np.float32).reshape(-1, 1)
    y = X @ true_w
    y += np.float32(4.0)
    y += np.float32(0.5) * rng.standard_normal((large.n, 1), dtype=np.float32)
    init = (rng.normal(0.0, 0.01, (large.d, 1)).astype(np.float32), np.zeros(1, np.float32))
    return X, y, init


def large_orders(large: Large, seed=0):
    import jaxgd

    # enough rows for either variant; each variant uses the first `epochs` rows
    return np.asarray(jaxgd.epoch_orders(seed, large.n, max(large.gd_epochs, large.mb_epochs)))
