"""Multi-device training on forced CPU devices: GD with X sharded by rows, and a seed-sharded sweep.

    pytest benchmarks/test_devices.py --benchmark-only        # full sizes
    pytest benchmarks --benchmark-disable                     # CI: tiny sizes, answers asserted

Group ``devices-GD``, one row per case, each a fresh subprocess (``benchmarks/devices_probe.py``)
started with ``XLA_FLAGS=--xla_force_host_platform_device_count=K``: JAX fixes its device count
when it starts, so every device count needs its own process.

- ``GD k=1,2,4``: ``jaxgd.train(mesh=...)`` full-batch GD on n = 1,000,000, d = 64 float32,
  5 epochs, X's rows sharded across a mesh of all k devices (X placed on the mesh once, before
  timing). ``epoch_s`` = median call / 5.
- ``sweep k=1,4``: ``jaxgd.sweep(mesh=...)`` of the seed workload (n = 1000, mini-batch 50,
  50 epochs, 8 lrs x 16 seeds = 128 runs), the seed axis sharded across the k devices. With
  k = 1 the probe also times ``sweep(mesh=None)`` (``unsharded_median_s``).

What is timed, honestly: inside the subprocess, one warm-up call (compilation), then 5 timed
calls; their median (``median_s``), minimum and all times are in ``benchmark.extra_info``. Those
are the numbers to read. pytest-benchmark's own time for a row is the whole subprocess
(interpreter start, JAX import, data creation, compilation, warm-up, repeats) measured once,
like ``test_memory.py``: it is shown for completeness and means little.

Forced CPU devices are not extra hardware: all k of them share this machine's 2 cores (and
memory bandwidth), so no speed-up is expected and k = 4 may well be slower than k = 1 (more,
smaller XLA computations, plus the all-reduce of the gradient for GD). The point of this file
is that the sharded paths compile and run at full size, give the same answers as one device,
and what the partitioning costs on a single host. On real multi-device hardware the same code
splits the work.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
CASES = [("GD", 1), ("GD", 2), ("GD", 4), ("sweep", 1), ("sweep", 4)]
_FIRST = {}  # answers of the k = 1 run of each case, to compare the sharded runs against


def _probe(k, case):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    env["XLA_FLAGS"] = f"--xla_force_host_platform_device_count={k}"
    env["JAX_PLATFORMS"] = "cpu"
    out = subprocess.run([sys.executable, "-m", "benchmarks.devices_probe", str(k), case], cwd=ROOT,
                         env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.slow  # over ~5 s on the 2-core machine (benchmarks/suite-times); .ci/run runs it
@pytest.mark.benchmark(group="devices-GD")
@pytest.mark.parametrize("case,k", CASES, ids=[f"{c}-k{k}" for c, k in CASES])
def test_devices(benchmark, case, k):
    key = case.lower()
    res = benchmark.pedantic(lambda: _probe(k, key), rounds=1, iterations=1, warmup_rounds=0)
    assert res["devices"] == k
    r = res[key]
    info = {kk: v for kk, v in r.items() if kk not in ("w", "b", "final_loss")}
    info.update(case=case, devices=k, what="median_s: steady-state call inside the subprocess",
                cpu_count=res["cpu_count"], tiny=res["tiny"])
    if key == "gd":
        assert r["x_devices"] == k  # X's rows really live on k devices
        answer = np.asarray(r["w"] + [r["b"]])
    else:
        answer = np.asarray(r["final_loss"])
        if k == 1:
            u = res["sweep_unsharded"]
            info.update(unsharded_median_s=u["median_s"], unsharded_min_s=u["min_s"])
            assert u["max_diff_vs_mesh"] <= 1e-6
    assert np.isfinite(answer).all()
    if k == 1:
        _FIRST[key] = answer
    elif key in _FIRST:  # same answer on k devices as on one (float32 summation order only)
        np.testing.assert_allclose(answer, _FIRST[key], rtol=1e-5, atol=1e-5)
    benchmark.extra_info.update(info)
