"""What an update costs across processes, beside the bare collectives, in one run (BENCHMARKS.md).

    python -m benchmarks.distributed_cost [--processes 1 2 4] [--repeats 7] [--launcher local|mpirun]
                                          [--xla-flags "..."] [--json OUT]

For each process count P, starts P processes on this host as one JAX cluster over gloo (``local``:
``jaxgd.distributed.initialize`` with a coordinator on 127.0.0.1; ``mpirun``: Open MPI's
launcher, whose environment JAX detects). Each process, on the tutorial's data (n = 1000, d = 1,
rows sharded over the P processes):

* times the bare collectives in a compiled loop (``shard_map`` + ``fori_loop``, each iteration
  depending on the last): ``psum`` of 1 float32, of d + 2 = 3 float32 (one update's all-reduce),
  3 separate scalar ``psum``s, and an ``all_gather`` of 3 float32;
* times ``jaxgd.train`` with the rows sharded: mini-batch (batch 50: 20 updates per epoch) and
  GD (one update per epoch), and divides by the updates (and epochs).

Each figure is the median over ``--repeats`` timed calls after a warm-up call; the ratio
``update / bare all-reduce of d + 2`` is what the issue's goal (<= 1.5) is about, and both
halves are measured in the same processes, minutes apart at most. Process 0 prints one JSON
line per P and a table.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import time

import numpy as np

LOOP = 200  # collective iterations per timed call


def _median_call(fn, repeats):
    import jax

    jax.block_until_ready(fn())  # compile and warm up
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        jax.block_until_ready(fn())
        times.append(time.perf_counter() - t)
    return float(np.median(times))


def _collectives(mesh, repeats):
    """Seconds per bare collective, each a ``fori_loop`` of LOOP dependent iterations."""
    import jax
    import jax.numpy as jnp
    from jax.sharding import PartitionSpec as P

    axis = mesh.axis_names

    def looped(body, size):
        def program(x):
            return jax.lax.fori_loop(0, LOOP, lambda i, v: body(v), x)

        f = jax.jit(jax.shard_map(program, mesh=mesh, in_specs=P(), out_specs=P(), check_vma=False))
        x = jnp.ones((size,), jnp.float32)
        return lambda: f(x)

    P_ = mesh.size
    cases = {
        "psum of 1 float32": looped(lambda v: jax.lax.psum(v, axis) / P_, 1),
        "psum of 3 float32 (d + 2)": looped(lambda v: jax.lax.psum(v, axis) / P_, 3),
        "3 scalar psums": looped(lambda v: jnp.stack([jax.lax.psum(v[i], axis) / P_ for i in range(3)]), 3),
        "all_gather of 3 float32": looped(
            lambda v: jax.lax.all_gather(v, axis, tiled=True).reshape(-1, 3).mean(axis=0), 3),
    }
    return {name: _median_call(fn, repeats) / LOOP for name, fn in cases.items()}


def _training(mesh, repeats):
    """Seconds per mini-batch update and per GD epoch inside one ``jaxgd.train`` call, as the
    difference of two calls of 10 and 40 epochs over the difference in updates: a call's fixed
    cost (validating and placing the data, the host copies of the result, the processes'
    agreement on the inputs) is not an update's; it is reported apart, per call."""
    import jax
    import jaxgd

    data = jaxgd.synthetic_data((3.5,), 4.0, 1000, seed=0)
    X, y = np.asarray(data.X), np.asarray(data.y)
    short, long = 10, 40
    out = {}
    for name, bs, per_epoch in (("mini-batch update (batch 50)", 50, 20), ("GD epoch", None, 1)):
        t = {}
        for epochs in (short, long):
            def call(epochs=epochs):
                return jaxgd.train(X, y, batch_size=bs, epochs=epochs, mesh=mesh).w

            t[epochs] = _median_call(call, repeats)
        each = max(t[long] - t[short], 0.0) / ((long - short) * per_epoch)
        out[name] = each
        out[f"{name}: whole call of {short} epochs / its updates"] = t[short] / (short * per_epoch)
        out[f"{name}: fixed cost per call"] = t[short] - short * per_epoch * each
    return out


def worker(args):
    import jaxgd

    if args.launcher == "mpirun" and args.processes_now > 1:
        mesh = jaxgd.distributed.initialize(timeout=300)
    elif args.processes_now > 1:
        mesh = jaxgd.distributed.initialize(f"127.0.0.1:{args.port}", args.processes_now, args.pid, timeout=300)
    else:
        mesh = jaxgd.distributed.mesh()
    import jax

    result = {"processes": jax.process_count(), "devices": mesh.size}
    result.update(_collectives(mesh, args.repeats))
    result.update(_training(mesh, args.repeats))
    if jax.process_index() == 0:
        print(json.dumps(result), flush=True)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _launch(P, args):
    env = {**os.environ, "JAX_PLATFORMS": "cpu", "JAXGD_NO_CACHE": "1"}
    if args.xla_flags:
        env["XLA_FLAGS"] = args.xla_flags
    base = [sys.executable, "-m", "benchmarks.distributed_cost", "--worker", "--repeats", str(args.repeats),
            "--launcher", args.launcher, "--processes-now", str(P)]
    if args.launcher == "mpirun" and P > 1:
        mpirun = shutil.which("mpirun")
        if mpirun is None:
            sys.exit("benchmarks.distributed_cost: mpirun not found (Debian: apt-get install openmpi-bin)")
        extra = ["--allow-run-as-root"] if os.geteuid() == 0 else []
        cmd = [mpirun, *extra, "--oversubscribe", "-np", str(P)]
        for key in ("PYTHONPATH", "JAX_PLATFORMS", "JAXGD_NO_CACHE", "XLA_FLAGS"):
            if key in env:
                cmd += ["-x", key]
        procs = [subprocess.Popen(cmd + base, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)]
    else:
        port = _free_port()
        procs = [subprocess.Popen(base + ["--port", str(port), "--pid", str(i)], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True, env=env) for i in range(P)]
    outs = [p.communicate(timeout=1800) for p in procs]
    for p, (_, err) in zip(procs, outs):
        if p.returncode != 0:
            sys.exit(f"benchmarks.distributed_cost: a process failed:\n{err[-3000:]}")
    lines = [line for out, _ in outs for line in out.splitlines() if line.startswith("{")]
    return json.loads(lines[0])


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--processes", type=int, nargs="+", default=[1, 2, 4])
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--launcher", choices=["local", "mpirun"], default="local")
    p.add_argument("--xla-flags", default=None, help="XLA_FLAGS for the processes (default: as set)")
    p.add_argument("--json", default=None, help="also write the results here")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--processes-now", type=int, default=1, help=argparse.SUPPRESS)
    p.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument("--pid", type=int, default=0, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        return worker(args)
    from benchmarks.cli_latency import _commit, _cpu_model

    rows = []
    for P in args.processes:
        r = _launch(P, args)
        r["update / all-reduce of d + 2"] = r["mini-batch update (batch 50)"] / r["psum of 3 float32 (d + 2)"]
        print(json.dumps(r), flush=True)
        rows.append(r)
    keys = [k for k in rows[0] if k not in ("processes", "devices")]
    print(f"\n{'':64}" + "".join(f"{'P=' + str(r['processes']):>12}" for r in rows))
    for k in keys:
        unit = 1 if k.startswith("update /") else 1e6
        print(f"{k + ('' if unit == 1 else ' (us)'):64}" + "".join(f"{r[k] * unit:12.2f}" for r in rows))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"launcher": args.launcher, "xla_flags": args.xla_flags, "cpus": os.cpu_count(),
                       "cpu": _cpu_model(), "commit": _commit(), "repeats": args.repeats,
                       "date": time.strftime("%Y-%m-%d"), "results": rows}, f, indent=1)


if __name__ == "__main__":
    main()
