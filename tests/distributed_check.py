"""One process of a 2-process cluster on localhost (tests/test_distributed.py starts both).

Usage: distributed_check.py PORT PROCESS_ID DATA_DIR OUT_PREFIX. Joins the cluster over gloo,
loads X.npy,y.npy with each process reading only its rows, trains GD, mini-batch and SGD on the
row-sharded global arrays and runs a sweep spread over both processes; writes what it got (and
how many rows of X it held) to OUT_PREFIX.<process id>.json.
"""

import json
import sys

port, pid, data_dir, out = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]

import jaxgd  # noqa: E402  (importing jaxgd starts no backend)

mesh = jaxgd.distributed.initialize(f"127.0.0.1:{port}", 2, pid, timeout=120)

import jax  # noqa: E402
import numpy as np  # noqa: E402

from distributed_cases import SWEEP, TRAIN_CASES  # noqa: E402

files = f"{data_dir}/X.npy,{data_dir}/y.npy"
data = jaxgd.load_dataset(files, mesh=mesh)
report = {
    "process_count": jax.process_count(),
    "devices": mesh.size,
    "global_rows": int(data.X.shape[0]),
    "n_rows": data.n_rows,
    # the rows of X this process holds: its own devices' shards, nothing else
    "local_rows": int(sum(s.data.shape[0] for s in data.X.addressable_shards)),
    "train": {},
}
for name, kw in TRAIN_CASES.items():
    r = jaxgd.train(data.X, data.y, n=data.n_rows, mesh=mesh, **kw)
    report["train"][name] = {f: np.asarray(getattr(r, f), np.float64).tolist()
                             for f in ("w_history", "b_history", "epoch_loss", "step_loss")}
std = jaxgd.load_dataset(files, mesh=mesh, standardize=True)
report["standardize"] = {"mean": std.mean.tolist(), "scale": std.scale.tolist()}

# A sweep spreads runs (seeds), not rows: every process passes the whole data set.
X, y = np.load(f"{data_dir}/X.npy"), np.load(f"{data_dir}/y.npy")
s = jaxgd.sweep(X, y, mesh=mesh, **SWEEP)
report["sweep"] = {"epoch_loss": s.epoch_loss.tolist(), "w": s.w.tolist(), "b": s.b.tolist(),
                   "step_loss": [a.tolist() for a in s.step_loss]}
try:
    jaxgd.sweep(data.X, data.y, mesh=mesh, **SWEEP)
    report["sweep_global_error"] = None
except ValueError as e:
    report["sweep_global_error"] = str(e)
with open(f"{out}.{pid}.json", "w") as f:
    json.dump(report, f)
