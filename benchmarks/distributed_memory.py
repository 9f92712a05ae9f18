"""Peak memory of each process when 2 processes train on one large data set (BENCHMARKS.md).

    python -m benchmarks.distributed_memory [--n 10000000] [--d 32] [--json OUT]

Writes X.npy (n x d float32) and y.npy to a temporary directory (block by block), then starts
2 processes on localhost as one JAX cluster (``jaxgd.distributed``). Each loads the files with
``load_dataset(..., mesh=)`` (reading only its own rows), trains GD (2 epochs) and mini-batch
SGD (batch 4096, 1 epoch) on the row-sharded global arrays, and reports its peak resident set
(``VmHWM``: the whole process's lifetime peak, JAX runtime included) against the bytes of its
shard of X and y. Prints one JSON line per process and a summary line; ``--json OUT`` also
writes them, with the date, commit and machine, for ``benchmarks/report.py --distributed-memory``.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time

import numpy as np


def _status_bytes(key):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    raise KeyError(key)


def write_data(path, n, d, block=1 << 18):
    X = np.lib.format.open_memmap(os.path.join(path, "X.npy"), mode="w+", dtype=np.float32, shape=(n, d))
    y = np.lib.format.open_memmap(os.path.join(path, "y.npy"), mode="w+", dtype=np.float32, shape=(n,))
    rng = np.random.default_rng(0)
    w = rng.normal(size=d).astype(np.float32)
    for i in range(0, n, block):
        j = min(n, i + block)
        Xb = rng.standard_normal((j - i, d), dtype=np.float32)
        X[i:j] = Xb
        y[i:j] = Xb @ w + 4 + 0.5 * rng.standard_normal(j - i, dtype=np.float32)
    X.flush()
    y.flush()
    del X, y


def worker(port, pid, path):
    import jaxgd

    mesh = jaxgd.distributed.initialize(f"127.0.0.1:{port}", 2, pid, timeout=300)
    import jax

    small = np.ones((8, 2), np.float32)
    jax.block_until_ready(jaxgd.train(small, np.ones(8, np.float32), batch_size=4, epochs=1))
    baseline = _status_bytes("VmRSS")
    data = jaxgd.load_dataset(f"{path}/X.npy,{path}/y.npy", mesh=mesh)
    shard_bytes = sum(s.data.nbytes for a in (data.X, data.y) for s in a.addressable_shards)
    after_load = _status_bytes("VmRSS")
    times = {}
    for name, kw in (("GD", dict(batch_size=None, lr=0.1, epochs=2)),
                     ("mini-batch", dict(batch_size=4096, lr=0.01, epochs=1))):
        t0 = time.perf_counter()
        r = jax.block_until_ready(jaxgd.train(data.X, data.y, n=data.n_rows, mesh=mesh, **kw))
        times[name] = round(time.perf_counter() - t0, 2)
        final = float(np.asarray(r.epoch_loss)[-1])
        times[name + "_hwm_MB"] = round(_status_bytes("VmHWM") / 2**20, 1)
    peak = _status_bytes("VmHWM")
    print(json.dumps({
        "process": pid, "rows": int(data.X.shape[0]), "d": int(data.X.shape[1]),
        "shard_MB": round(shard_bytes / 2**20, 1), "baseline_MB": round(baseline / 2**20, 1),
        "after_load_MB": round(after_load / 2**20, 1), "peak_MB": round(peak / 2**20, 1),
        "peak_over_shard": round(peak / shard_bytes, 3),
        "peak_above_baseline_over_shard": round((peak - baseline) / shard_bytes, 3),
        "seconds_with_compile": times, "final_loss_minibatch": final,
    }), flush=True)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--n", type=int, default=10_000_000)
    p.add_argument("--d", type=int, default=32)
    p.add_argument("--json", default=None, help="also write the results here")
    p.add_argument("--worker", nargs=3, metavar=("PORT", "ID", "DIR"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        port, pid, path = args.worker
        return worker(int(port), int(pid), path)
    with tempfile.TemporaryDirectory() as path:
        write_data(path, args.n, args.d)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        env = {**os.environ, "JAX_PLATFORMS": "cpu", "JAXGD_NO_CACHE": "1"}
        env.pop("XLA_FLAGS", None)
        procs = [subprocess.Popen([sys.executable, "-m", "benchmarks.distributed_memory", "--worker", str(port),
                                   str(i), path], stdout=subprocess.PIPE, text=True, env=env) for i in range(2)]
        lines = [json.loads(pr.communicate(timeout=1800)[0].strip().splitlines()[-1]) for pr in procs]
    for line in lines:
        print(json.dumps(line))
    worst = max(r["peak_over_shard"] for r in lines)
    print(f"n={args.n} d={args.d}, 2 processes: peak RSS / shard bytes = "
          f"{', '.join(str(r['peak_over_shard']) for r in lines)} (worst {worst}); above the runtime's "
          f"baseline: {', '.join(str(r['peak_above_baseline_over_shard']) for r in lines)}")
    if args.json:
        from benchmarks.cli_latency import _commit, _cpu_model

        with open(args.json, "w") as f:
            json.dump({"date": time.strftime("%Y-%m-%d"), "cpus": os.cpu_count(), "cpu": _cpu_model(),
                       "commit": _commit(), "n": args.n, "d": args.d, "processes": lines}, f, indent=1)


if __name__ == "__main__":
    main()
