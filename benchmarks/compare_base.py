"""Plain SGD before vs after a change: the same timings from two checkouts, alternating subprocesses.

    python benchmarks/compare_base.py BASE NEW [NEW2 ...] --rounds 3 [--json out.json]

Each round runs one subprocess per checkout (order alternates between rounds), each with its
checkout first on ``sys.path`` and the same interpreter. A subprocess times ``jaxgd.train``
(default optimizer, default orders, warm) on the tutorial workload (n=1000, d=1, 50 epochs,
lr 0.02: GD, mini-batch 50, SGD; median of ``--calls`` calls each) and on the large workload
(1e6 x 64 float32: GD 10 epochs lr 0.5, mini-batch 1024 2 epochs lr 0.05; median of
``--large-calls`` calls, reported per epoch), plus Adam and momentum with a step schedule on the
tutorial workload and one train call's cost (GD, 1 epoch: mostly dispatch). Only the ratios of medians measured in the same
session mean anything on a shared machine. The data are generated here with numpy, so neither
checkout's helpers are used.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time

CHILD = r"""
import sys, json, time, statistics
sys.path.insert(0, REPO)
import numpy as np, jax, jax.numpy as jnp
import jaxgd
assert jaxgd.__file__.startswith(REPO), jaxgd.__file__
out = {}
rng = np.random.default_rng(0)
X = rng.normal(size=(1000, 1)).astype(np.float32)
y = (2.0 * X[:, 0] - 3.4 + 0.01 * rng.normal(size=1000)).astype(np.float32)[:, None]
Xj, yj = jnp.asarray(X), jnp.asarray(y)
def med(fn, k):
    fn(); fn()
    ts = []
    for _ in range(k):
        t0 = time.perf_counter(); fn(); ts.append(time.perf_counter() - t0)
    return statistics.median(ts)
for name, bs in (("tutorial-GD", 1000), ("tutorial-mini-batch", 50), ("tutorial-SGD", 1)):
    fn = lambda: jax.block_until_ready(jaxgd.train(Xj, yj, batch_size=bs, lr=0.02, epochs=50, seed=0).w)
    out[name] = med(fn, CALLS)
# The optimizer and schedule paths (public API, the same in both checkouts): stateful updates,
# a schedule stepped per epoch, and one train call's dispatch (GD, 1 epoch).
from jaxgd import optim
for name, bs, opt, sched in (("tutorial-mini-batch adam", 50, optim.adam(), None),
                             ("tutorial-SGD adam", 1, optim.adam(), None),
                             ("tutorial-SGD momentum+step_lr", 1, optim.sgd(momentum=0.9), optim.step_lr(10, 0.5))):
    fn = lambda: jax.block_until_ready(jaxgd.train(Xj, yj, batch_size=bs, lr=0.01, epochs=50, seed=0,
                                                   optimizer=opt, schedule=sched).w)
    out[name] = med(fn, CALLS)
fn = lambda: jax.block_until_ready(jaxgd.train(Xj, yj, batch_size=1000, lr=0.02, epochs=1, seed=0).w)
out["train call (GD, 1 epoch)"] = med(fn, 10 * CALLS)
if LARGE_CALLS:
    X = np.empty((1_000_000, 64), np.float32)
    rng.standard_normal(out=X, dtype=np.float32)
    y = X @ np.linspace(-2.0, 3.5, 64, dtype=np.float32).reshape(-1, 1) + np.float32(4.0)
    Xj, yj = jnp.asarray(X), jnp.asarray(y)
    del X
    for name, bs, ep, lr in (("large-GD", 1_000_000, 10, 0.5), ("large-mini-batch", 1024, 2, 0.05)):
        fn = lambda: jax.block_until_ready(jaxgd.train(Xj, yj, batch_size=bs, lr=lr, epochs=ep, seed=0).w)
        out[name + " (per epoch)"] = med(fn, LARGE_CALLS) / ep
print("RESULT" + json.dumps(out))
"""


def child(repo, calls, large_calls):
    code = f"REPO = {repo!r}; CALLS = {calls}; LARGE_CALLS = {large_calls}\n" + CHILD
    env = dict(os.environ, PYTHONPATH="", JAX_PLATFORMS="cpu")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd="/")
    line = [l for l in p.stdout.splitlines() if l.startswith("RESULT")]
    if p.returncode or not line:
        raise RuntimeError(p.stderr[-3000:])
    return json.loads(line[0][6:])


def main(argv):
    import argparse

    ap = argparse.ArgumentParser()
    ap.add_argument("base")
    ap.add_argument("new", nargs="+", help="one or more checkouts compared with base")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--calls", type=int, default=40)
    ap.add_argument("--large-calls", type=int, default=7)
    ap.add_argument("--json")
    a = ap.parse_args(argv)
    names = ["base"] + [f"new{i}" if len(a.new) > 1 else "new" for i in range(len(a.new))]
    repos = dict(zip(names, map(os.path.abspath, [a.base] + a.new)))
    runs = {k: [] for k in names}
    for r in range(a.rounds):
        for who in (names if r % 2 == 0 else names[::-1]):  # alternate the order between rounds
            t0 = time.time()
            runs[who].append(child(repos[who], a.calls, a.large_calls))
            print(f"round {r} {who}: {time.time() - t0:.0f}s {runs[who][-1]}", file=sys.stderr, flush=True)
    for k, v in repos.items():
        print(f"- {k}: `{v}`")
    print()
    keys = list(runs["base"][0])
    for who in names[1:]:
        print(f"| workload | base (median of {a.rounds} session medians) | {who} | {who} / base | per-round ratios |")
        print("|---|---|---|---|---|")
        for k in keys:
            b = statistics.median(x[k] for x in runs["base"])
            n = statistics.median(x[k] for x in runs[who])
            per = ", ".join(f"{y[k] / x[k]:.2f}" for x, y in zip(runs["base"], runs[who]))
            print(f"| {k} | {b * 1e3:.3f} ms | {n * 1e3:.3f} ms | {n / b:.2f} | {per} |")
        print()
    if a.json:
        json.dump(dict(repos=repos, runs=runs), open(a.json, "w"), indent=1)


if __name__ == "__main__":
    main(sys.argv[1:])
