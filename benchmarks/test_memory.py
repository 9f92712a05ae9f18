"""Peak resident memory of the large runs, each in a fresh subprocess (``benchmarks.memprobe``),
against the data set's own bytes. The benchmark time is the whole subprocess (imports, data
creation, two runs) and means nothing; the numbers are in ``extra_info``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from benchmarks.conftest import assert_same

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def memory_reference(large_cfg):
    """jaxgd's answer in this process for the same data, init and (default) orders."""
    import jaxgd

    from benchmarks import workloads

    X, y, init = workloads.large_data(large_cfg)
    out = {}
    for variant, bs, epochs, lr in (("GD", large_cfg.n, large_cfg.gd_epochs, large_cfg.gd_lr),
                                    ("mini-batch", large_cfg.mb_batch, large_cfg.mb_epochs, large_cfg.mb_lr)):
        r = jaxgd.train(X, y, batch_size=bs, lr=lr, epochs=epochs, init=init)
        out[variant] = (np.asarray(r.w).reshape(-1), float(r.b[0]))
    return out


@pytest.mark.slow  # over ~5 s on the 2-core machine (benchmarks/suite-times); .ci/run runs it
@pytest.mark.diagonal  # the fast part: a covering diagonal of the product (conftest.py)
@pytest.mark.benchmark(group="memory")
@pytest.mark.parametrize("variant", ["GD", "mini-batch"])
@pytest.mark.parametrize("contender", ["jaxgd", "torch-idiomatic"])
def test_memory(benchmark, memory_reference, tiny, contender, variant):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)

    def probe():
        out = subprocess.run([sys.executable, "-m", "benchmarks.memprobe", contender, variant], cwd=ROOT,
                             env=env, capture_output=True, text=True, timeout=300)
        assert out.returncode == 0, out.stderr[-3000:]
        return json.loads(out.stdout.strip().splitlines()[-1])

    res = benchmark.pedantic(probe, rounds=1, iterations=1, warmup_rounds=0)
    ref_w, ref_b = memory_reference[variant]
    assert_same(res["w"], res["b"], ref_w, ref_b, rtol=1e-4, atol=1e-4, what=f"{contender} in the memory probe")
    # The peak is the high-water mark since a reset taken just before the timed run (or the
    # lifetime maximum where the kernel cannot reset it), so it is at least any RSS sampled after
    # that reset: an invariant of the probe, not a measurement. RSS against the baseline taken
    # before the data existed is noise at tiny sizes (1-6 MB of data; the process can return
    # more than that to the OS in between), so it is asserted at full size only.
    assert res["peak_rss"] >= res["rss_before_run"], res
    if not tiny:
        # 10^6 x 64 float32 (256 MB): the data must be resident at the peak, and jaxgd holds it
        # with little more (measured 1.10x GD, 1.23x mini-batch over several runs; bound 1.5x).
        assert res["peak_rss"] - res["baseline_rss"] >= 0.9 * res["dataset_bytes"], res
        if contender == "jaxgd":
            assert res["extra_peak_ratio"] <= 1.5, res
    benchmark.extra_info.update({k: v for k, v in res.items() if k not in ("w", "b")})
    benchmark.extra_info["workload"] = "large"


@pytest.mark.slow  # over ~5 s on the 2-core machine (benchmarks/suite-times); .ci/run runs it
@pytest.mark.benchmark(group="memory-big")
@pytest.mark.parametrize("source", ["numpy", "aligned", "npy"])
def test_memory_big(benchmark, tiny, source):
    """Peak RSS of ``jaxgd.train`` on 10,000,000 x 32 float32 (1.28 GB; mini-batch 1024, one
    epoch) in a fresh process, against the data's bytes (``benchmarks.memprobe big SOURCE``).

    Sources: ``numpy`` (numpy's own allocation, 16-byte aligned: JAX copies it into its own
    buffer, so the data are held twice during a call), ``aligned`` (64-byte aligned numpy: JAX's
    CPU client aliases it, no copy), ``npy`` (``load_dataset('X.npy,y.npy')``: a read-only
    memory map, aliased too). Target: peak <= 1.3x the data, asserted at full size for the
    aliased sources; the ``numpy`` row reports what the copy costs. At tiny size (n = 200,000)
    the fixed costs dominate the ratio: only its presence and the loss are checked.
    """
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)

    def probe():
        out = subprocess.run([sys.executable, "-m", "benchmarks.memprobe", "big", source], cwd=ROOT,
                             env=env, capture_output=True, text=True, timeout=600)
        assert out.returncode == 0, out.stderr[-3000:]
        return json.loads(out.stdout.strip().splitlines()[-1])

    res = benchmark.pedantic(probe, rounds=1, iterations=1, warmup_rounds=0)
    assert res["peak_ratio"] > 0 and res["run_peak_ratio"] > 0
    assert np.isfinite(res["final_loss"]) and res["final_loss"] == res["final_loss_second"]
    if not tiny:  # ~9,800 updates of mini-batch 1024 reach the noise floor (0.5^2 / 2 = 0.125)
        assert res["final_loss"] < 0.2, res
    if source != "numpy":
        assert res["device_put_aliases_x"]
        if not tiny:
            assert res["peak_ratio"] <= 1.3, res
    benchmark.extra_info.update(res)
    benchmark.extra_info["workload"] = "big (10M x 32)"
