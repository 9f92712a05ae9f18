"""Data-parallel jaxgd training across several hosts (processes) with ``jax.distributed``.

UNTESTED HERE: this repository's machine is one host with no cluster, so this file has never
been run with more than one process. The single-process path (``--num-processes 1``, the
default) runs anywhere and is what "works" means here; the multi-process path follows JAX's
documented multi-controller model (https://docs.jax.dev/en/latest/multi_process.html).

Run one copy of this script per process, e.g. two hosts:

    # host A (also the coordinator)
    python examples/multihost.py --coordinator 10.0.0.1:1234 --num-processes 2 --process-id 0
    # host B
    python examples/multihost.py --coordinator 10.0.0.1:1234 --num-processes 2 --process-id 1

or through environment variables (JAXGD_COORDINATOR, JAXGD_NUM_PROCESSES, JAXGD_PROCESS_ID).
On a cluster manager JAX can detect these itself (SLURM, Open MPI, Kubernetes/GKE, ...):
``jax.distributed.initialize()`` with no arguments.

What each process must provide:

- The same program: the same jaxgd and JAX versions, and the same arguments (batch size,
  lr, epochs, seed), since every process traces and runs the same SPMD program.
- The same data: every process holds the full X and y, bit-identical (same file, or same
  seed for synthetic data, as below). ``jaxgd.train(mesh=...)`` pads X and places it with
  ``jax.device_put(X, NamedSharding(mesh, ...))``; with a mesh spanning several processes each
  process uploads only the rows of its own (addressable) devices, but it needs the whole array
  to cut them from. (Feeding only each process's rows would need
  ``jax.make_array_from_process_local_data`` before ``train``; ``train`` does not do that.)
- Reachability: every process can reach the coordinator's address and port; it starts
  ``jax.distributed.initialize`` before any other JAX call (before ``jax.devices()``).
- Its own devices: ``jax.devices()`` then lists the devices of *all* processes (the global
  mesh below), ``jax.local_devices()`` this process's.

Results: ``TrainResult`` arrays (w, b, losses) are replicated across processes after
training (sums over the sharded rows are all-reduced; checked here on 4 local devices: every
result array has sharding P(), fully replicated), so every process can read them with
``np.asarray``; print/save from process 0 only.
"""

from __future__ import annotations

import argparse
import os

import jax
import numpy as np


def parse_args():
    env = os.environ.get
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--coordinator", default=env("JAXGD_COORDINATOR"),
                   help="host:port of process 0 (env JAXGD_COORDINATOR)")
    p.add_argument("--num-processes", type=int, default=int(env("JAXGD_NUM_PROCESSES", "1")),
                   help="total number of processes (env JAXGD_NUM_PROCESSES, default 1)")
    p.add_argument("--process-id", type=int, default=int(env("JAXGD_PROCESS_ID", "0")),
                   help="this process's index in [0, num_processes) (env JAXGD_PROCESS_ID)")
    p.add_argument("--n", type=int, default=100_000, help="samples (synthetic data)")
    p.add_argument("--d", type=int, default=16, help="features (synthetic data)")
    p.add_argument("--batch-size", type=int, default=1024)
    p.add_argument("--lr", type=float, default=0.05)
    p.add_argument("--epochs", type=int, default=3)
    return p.parse_args()


def main():
    args = parse_args()
    if args.num_processes > 1:
        if not args.coordinator:
            raise SystemExit("--coordinator host:port (or JAXGD_COORDINATOR) is required for several processes")
        # Must come before any other JAX call in this process.
        jax.distributed.initialize(coordinator_address=args.coordinator, num_processes=args.num_processes,
                                   process_id=args.process_id)

    import jaxgd  # after initialize: importing jaxgd does not touch devices, but keep the order obvious

    # A global mesh over every device of every process; train shards X's rows over all of them.
    devices = jax.devices()
    mesh = jax.make_mesh((len(devices),), ("data",), devices=devices)

    # The same data on every process: here synthetic with a fixed seed; in practice the same
    # file, e.g. jaxgd._io.load_dataset("X.npy,y.npy") on a shared file system.
    rng = np.random.default_rng(0)
    X = rng.standard_normal((args.n, args.d), dtype=np.float32)
    w_true = np.linspace(-1.0, 1.0, args.d, dtype=np.float32)
    y = X @ w_true + np.float32(4.0) + np.float32(0.5) * rng.standard_normal(args.n, dtype=np.float32)

    result = jaxgd.train(X, y, batch_size=args.batch_size, lr=args.lr, epochs=args.epochs, seed=0, mesh=mesh)
    losses = np.asarray(result.epoch_loss)  # replicated: readable on every process
    if jax.process_index() == 0:
        print(f"processes={jax.process_count()} devices={len(devices)} "
              f"(local {len(jax.local_devices())}); epoch losses: {np.round(losses, 4).tolist()}")
        print(f"b = {float(np.asarray(result.b)[0]):.4f} (true 4.0)")


if __name__ == "__main__":
    main()
