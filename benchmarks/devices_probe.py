"""Steady-state timings on k forced CPU devices, in a fresh process (run by ``test_devices.py``).

    XLA_FLAGS=--xla_force_host_platform_device_count=K python -m benchmarks.devices_probe K

The device count is fixed when JAX starts, so each k needs its own process. Prints one JSON
object with, for a mesh over all k devices:

- ``gd``: ``jaxgd.train(X, y, batch_size=n, epochs=E, mesh=mesh)`` on the large data (n = 1e6,
  d = 64 float32, E = 5; rows sharded across the k devices). X and y are placed on the mesh once
  beforehand (``jax.device_put`` with the row sharding ``train`` uses), so a timed call measures the training, not
  a host-to-device copy of X. Times are of whole calls (dispatch, the run, the host copy of the
  losses); ``epoch_s`` = median call / E.
- ``sweep`` (only when ``sweep`` is passed): ``jaxgd.sweep`` of the seed workload (n = 1000,
  mini-batch 50, 50 epochs, 8 lrs x 16 seeds), seeds sharded across the k devices, warm (the
  programs are cached after the warm-up call); with k = 1 also ``sweep(mesh=None)`` for reference.

Each case: one warm-up call (compilation), then ``REPEATS`` timed calls; median and all times.
``JAXGD_BENCH_TINY=1`` shrinks every size so the whole probe takes a few seconds.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time

REPEATS = 5


def _times(fn, repeats):
    fn()  # warm-up: compilation
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return {"median_s": statistics.median(out), "min_s": min(out), "times_s": out}


def main(k, cases):
    flags = os.environ.get("XLA_FLAGS", "")
    assert f"--xla_force_host_platform_device_count={k}" in flags or k == 1, "set XLA_FLAGS before starting"
    import jax
    import numpy as np

    import jaxgd
    from jax.sharding import NamedSharding, PartitionSpec

    from benchmarks import workloads

    tiny = workloads.tiny_from_env()
    assert jax.device_count() == k, jax.devices()
    mesh = jax.make_mesh((k,), ("data",))
    repeats = 2 if tiny else REPEATS
    out = {"devices": k, "tiny": tiny, "cpu_count": os.cpu_count()}

    if "gd" in cases:
        large = workloads.Large(n=5000, d=8) if tiny else workloads.Large()
        epochs = 2 if tiny else 5
        X, y, init = workloads.large_data(large)
        # Rows sharded once, before timing, as train(mesh=) places them (n is a multiple of k).
        rows = NamedSharding(mesh, PartitionSpec("data", None))
        Xs, ys = jax.device_put(X, rows), jax.device_put(y.reshape(-1, 1), rows)
        del X, y
        res = {}

        def run():
            r = jaxgd.train(Xs, ys, batch_size=large.n, lr=large.gd_lr, epochs=epochs, init=init, mesh=mesh)
            res["w"] = np.asarray(r.w).reshape(-1)
            res["b"] = float(np.asarray(r.b)[0])
            res["loss"] = float(np.asarray(r.epoch_loss)[-1])
            res["x_devices"] = len(Xs.sharding.device_set)

        t = _times(run, repeats)
        out["gd"] = dict(t, n=large.n, d=large.d, epochs=epochs, epoch_s=t["median_s"] / epochs,
                         final_loss=res["loss"], w=res["w"].tolist(), b=res["b"], x_devices=res["x_devices"])

    if "sweep" in cases:
        seed = workloads.Seed(n=110, epochs=3) if tiny else workloads.Seed()
        L, S = (2, 4) if tiny else (8, 16)
        d = jaxgd.synthetic_data(num_examples=seed.n)
        X, y = np.asarray(d.X), np.asarray(d.y)
        kw = dict(batch_sizes=[seed.minibatch], lrs=list(np.geomspace(0.005, 0.1, L)), seeds=S, epochs=seed.epochs)
        res = {}

        def run(m):
            res[m is None] = jaxgd.sweep(X, y, mesh=m, **kw)

        t = _times(lambda: run(mesh), repeats)
        r = res[False]
        out["sweep"] = dict(t, n=seed.n, batch=seed.minibatch, epochs=seed.epochs, lrs=L, seeds=S,
                            run_s=float(r.run_seconds.sum()), draw_s=r.draw_seconds,
                            final_loss=r.epoch_loss[..., -1].ravel().tolist())
        if k == 1:
            t = _times(lambda: run(None), repeats)
            out["sweep_unsharded"] = dict(t, max_diff_vs_mesh=float(np.max(np.abs(
                res[True].epoch_loss - r.epoch_loss) / np.abs(r.epoch_loss))))
    print(json.dumps(out))


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2:] or ["gd", "sweep"])
