"""Fixtures and helpers of the jaxgd benchmark suite.

Two modes, same files:
- ``pytest benchmarks --benchmark-only``: full sizes, timed (the numbers in BENCHMARKS.md).
- ``pytest benchmarks --benchmark-disable``: tiny sizes (``workloads.TINY``), every contender
  runs once and its answer is asserted; no timing. ``JAXGD_BENCH_TINY=0/1`` overrides the size
  choice in either mode.
"""

from __future__ import annotations

import math
import os

import numpy as np
import pytest

from benchmarks import workloads

# Answers are compared against jaxgd run with the same init and orders.
# float32, same arithmetic, same orders: only summation order and fused multiply-adds differ.
# One float32 rounding is 6e-8 relative; the seed runs (<= 5e4 contractive updates) stay within
# ~1e-6 of each other (see jaxgd.parity), so rtol 1e-4 leaves two orders of margin without
# admitting a wrong update (a single skipped update moves w by ~lr * |grad|, >= 1e-3 here).
RTOL_SAME = 1e-4
ATOL_SAME = 1e-5


def pytest_configure(config):
    disabled = bool(config.getoption("benchmark_disable", default=False))
    tiny = workloads.tiny_from_env(default=disabled)
    config._jaxgd_bench_tiny = tiny
    os.environ["JAXGD_BENCH_TINY"] = "1" if tiny else "0"  # the memory probe subprocess reads it


def pytest_report_header(config):
    return f"jaxgd benchmarks: {'TINY (CI) sizes' if config._jaxgd_bench_tiny else 'FULL sizes'}"


@pytest.fixture(scope="session")
def tiny(pytestconfig):
    return pytestconfig._jaxgd_bench_tiny


@pytest.fixture(scope="session")
def sizes(tiny):
    return workloads.sizes(tiny)


@pytest.fixture(scope="session")
def seed_cfg(sizes):
    return sizes[0]


@pytest.fixture(scope="session")
def large_cfg(sizes):
    return sizes[1]


def rounds(tiny, full):
    """Rounds for a timed case: ``full`` at full size, 1 at tiny size."""
    return 1 if tiny else full


def updates(n, batch_size, epochs):
    return epochs * math.ceil(n / batch_size)


def block(x):
    import jax

    return jax.block_until_ready(x)


def timed(benchmark, fn, *, rounds, iterations=1, warmup=None, info=None):
    """Warm up (``warmup()`` or ``fn()``), then time ``fn`` for ``rounds`` x ``iterations``.

    Returns (warm-up result, timed result) so both can be asserted. ``info`` goes to
    ``benchmark.extra_info``; ``ns_per_update`` is added from the median when timing is on.
    """
    warm = (warmup or fn)()
    result = benchmark.pedantic(fn, rounds=rounds, iterations=iterations, warmup_rounds=0)
    info = dict(info or {})
    benchmark.extra_info.update(info)
    stats = getattr(benchmark, "stats", None)
    if stats is not None and info.get("updates"):
        benchmark.extra_info["ns_per_update"] = stats.stats.median * 1e9 / info["updates"]
    return warm, result


def assert_same(w, b, ref_w, ref_b, rtol=RTOL_SAME, atol=ATOL_SAME, what=""):
    w = np.asarray(w, np.float64).reshape(-1)
    ref_w = np.asarray(ref_w, np.float64).reshape(-1)
    np.testing.assert_allclose(w, ref_w, rtol=rtol, atol=atol, err_msg=f"{what}: w differs")
    np.testing.assert_allclose(
        np.asarray(b, np.float64).reshape(-1), np.asarray(ref_b, np.float64).reshape(-1),
        rtol=rtol, atol=atol, err_msg=f"{what}: b differs",
    )
