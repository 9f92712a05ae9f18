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


@pytest.mark.benchmark(group="memory")
@pytest.mark.parametrize("variant", ["GD", "mini-batch"])
@pytest.mark.parametrize("contender", ["jaxgd", "torch-idiomatic"])
def test_memory(benchmark, memory_reference, contender, variant):
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
    assert res["peak_rss"] >= res["baseline_rss"]
    benchmark.extra_info.update({k: v for k, v in res.items() if k not in ("w", "b")})
    benchmark.extra_info["workload"] = "large"
