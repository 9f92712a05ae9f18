"""Run under 4 forced CPU devices (see test_sharding.py): sharded vs single-device training.

Prints one JSON object: for each case, the largest difference between the sharded and the
single-device run over every epoch's parameters and losses.
"""

import json
import os
import sys

assert "--xla_force_host_platform_device_count=4" in os.environ.get("XLA_FLAGS", ""), "set XLA_FLAGS first"

import jax  # noqa: E402
import numpy as np  # noqa: E402

import jaxgd  # noqa: E402


def main():
    assert jax.device_count() == 4, jax.devices()
    out = {"devices": jax.device_count()}
    rng = np.random.default_rng(0)
    for n, d, bs, n_dev in [(1000, 3, 1000, 4), (1001, 3, 1001, 4), (1001, 2, 50, 4), (998, 1, 1, 4), (1003, 2, 7, 2), (1000, 1, 64, 1)]:
        X = rng.normal(size=(n, d)).astype(np.float32)
        y = (X @ rng.normal(size=(d,)) + 4 + 0.5 * rng.normal(size=n)).astype(np.float32)
        mesh = jax.make_mesh((n_dev,), ("data",), devices=jax.devices()[:n_dev])
        single = jaxgd.train(X, y, batch_size=bs, lr=0.02, epochs=4, seed=3)
        sharded = jaxgd.train(X, y, batch_size=bs, lr=0.02, epochs=4, seed=3, mesh=mesh)
        diffs = {}
        for f in ("w_history", "b_history", "epoch_loss", "step_loss"):
            a, b = np.asarray(getattr(single, f), np.float64), np.asarray(getattr(sharded, f), np.float64)
            assert a.shape == b.shape, (f, a.shape, b.shape)
            diffs[f] = float(np.max(np.abs(a - b) / (1e-6 + 1e-5 * np.abs(a))))
        out[f"n={n},d={d},batch={bs},devices={n_dev}"] = {
            "worst_over_tolerance": max(diffs.values()),
            "w_sharding_devices": len(sharded.w.sharding.device_set),
            "updates": sharded.updates,
        }
    try:
        jaxgd.train(np.ones((4, 1)), np.ones(4), batch_size=2, lr=0.1, epochs=1, mesh="not a mesh")
        out["bad_mesh_error"] = None
    except ValueError as e:
        out["bad_mesh_error"] = str(e)
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
