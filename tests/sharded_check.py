"""Run under 4 forced CPU devices (see test_sharding.py): sharded vs single-device training.

Prints one JSON object: for each case, the largest difference between the sharded and the
single-device run over every epoch's parameters and losses.
"""

import json
import re
import os
import sys
from types import SimpleNamespace

assert "--xla_force_host_platform_device_count=4" in os.environ.get("XLA_FLAGS", ""), "set XLA_FLAGS first"

import jax  # noqa: E402
import numpy as np  # noqa: E402

import jaxgd  # noqa: E402


def compiled_sweep_programs(X, y, seeds, batch_sizes, mesh, kw):
    """The sweep's compiled programs for these arguments, ``([draw programs], [chunk programs])``:
    run a sweep with a recording ``programs`` (the sweep's own program cache answers, so nothing
    compiles again)."""
    from jaxgd.drivers import _sweep

    seen = []
    original = _sweep.programs

    def recording(shape):
        out = original(shape)
        seen.append(out)
        return out

    _sweep.programs = recording
    try:
        jaxgd.sweep(X, y, seeds=seeds, batch_sizes=batch_sizes, mesh=mesh, **kw)
    finally:
        _sweep.programs = original
    (states, orders), chunks = seen[-1]
    return [states, *([orders] if orders is not None else [])], chunks


def sweep_cases():
    """Sharded sweeps vs the unsharded sweep, with test_sweep.py's tolerances (rtol 1e-6 on
    losses, atol 1e-6 on parameters): GD, padded mini-batch and SGD (batch 1); 3 seeds on 4
    devices (one padding seed), chunked (chunk_epochs=2 of 5); then SGD alone on a 2 x 2 mesh
    (the seed axis split over both mesh axes), against the same unsharded sweep's SGD runs."""
    out = {}
    d = jaxgd.synthetic_data((3.5, -1.5), 4.0, 40, seed=3)
    X, y = np.asarray(d.X), np.asarray(d.y)
    seeds = [0, 5, 9]
    kw = dict(lrs=[0.05, 0.4], epochs=5, step_loss="full", chunk_epochs=2)
    full_ref = jaxgd.sweep(X, y, seeds=seeds, batch_sizes=[40, 7, 1], **kw)
    for shape, batch_sizes in (((4,), [40, 7, 1]), ((2, 2), [1])):
        mesh = jax.make_mesh(shape, ("a", "b")[: len(shape)])
        got = jaxgd.sweep(X, y, seeds=seeds, batch_sizes=batch_sizes, mesh=mesh, **kw)
        keep = [[40, 7, 1].index(bs) for bs in batch_sizes]
        ref = SimpleNamespace(shape=(len(keep),) + full_ref.shape[1:], epoch_loss=full_ref.epoch_loss[keep],
                              w=full_ref.w[keep], b=full_ref.b[keep], step_loss=[full_ref.step_loss[i] for i in keep])
        assert got.shape == ref.shape, (got.shape, ref.shape)
        worst = {
            "epoch_loss": np.max(np.abs(got.epoch_loss - ref.epoch_loss) / (1e-6 * np.abs(ref.epoch_loss))),
            "w": np.max(np.abs(got.w - ref.w)) / 1e-6,
            "b": np.max(np.abs(got.b - ref.b)) / 1e-6,
            "step_loss": max(np.max(np.abs(g - r) / (1e-6 + 1e-6 * np.abs(r)))
                             for g, r in zip(got.step_loss, ref.step_loss)),
        }
        # The compiled programs (cached: no new compile) are partitioned over every device,
        # and no program needs communication, the draws included (seeds never interact).
        draws, chunks = compiled_sweep_programs(X, y, seeds, batch_sizes, mesh, kw)
        texts = [p.as_text() for p in draws + chunks]
        out[f"sweep batch={','.join(map(str, batch_sizes))},seeds=3,mesh={'x'.join(map(str, shape))}"] = {
            "worst_over_tolerance": float(max(worst.values())),
            "shape": list(got.shape),
            "partitions": [int(re.search(r"num_partitions=(\d+)", t).group(1)) for t in texts],
            "run_collectives": sum(len(re.findall(r"all-reduce|all-gather|all-to-all|collective-permute", t))
                                   for t in texts),
        }
    return out


def record_cases():
    """validation= and record_every= under a mesh (rows sharded in train, the held-out set
    replicated; seeds sharded in sweep) against the same runs without one, with the float32
    parity tolerance of the train cases (|diff| <= 1e-6 + 1e-5 |single|)."""
    out = {}
    d = jaxgd.synthetic_data((3.5, -1.5), 4.0, 41, seed=3, num_validation=13)
    X, y, val = np.asarray(d.X), np.asarray(d.y), (np.asarray(d.X_val), np.asarray(d.y_val))
    mesh = jax.make_mesh((4,), ("data",))
    kw = dict(lr=0.05, epochs=3, seed=2, validation=val, record_every=10)
    worst = 0.0
    for bs in (41, 7):
        single, sharded = jaxgd.train(X, y, batch_size=bs, **kw), jaxgd.train(X, y, batch_size=bs, mesh=mesh, **kw)
        pairs = [(single.val_loss, sharded.val_loss)] + [
            (getattr(single.trace, f), getattr(sharded.trace, f)) for f in ("w", "b", "loss", "val_loss")]
        worst = max([worst] + [float(np.max(np.abs(np.asarray(a, np.float64) - np.asarray(b))
                                            / (1e-6 + 1e-5 * np.abs(np.asarray(a, np.float64))))) for a, b in pairs])
        assert np.array_equal(single.trace.samples, sharded.trace.samples)
    sw_kw = dict(batch_sizes=[41, 7, 1], lrs=[0.05], seeds=[0, 5, 9], epochs=3, validation=val, record_every=10)
    ref, got = jaxgd.sweep(X, y, **sw_kw), jaxgd.sweep(X, y, mesh=mesh, **sw_kw)
    for f in ("val_loss", "trace_loss", "trace_val_loss"):
        a, b = getattr(ref, f).astype(np.float64), getattr(got, f)
        worst = max(worst, float(np.max(np.abs(a - b) / (1e-6 + 1e-5 * np.abs(a)))))
    # fast_compile under a mesh (jaxgd explore's sweeps): the same bits as the mesh's default.
    fast = jaxgd.sweep(X, y, mesh=mesh, fast_compile=True, **sw_kw)
    fields = ("epoch_loss", "w", "b", "val_loss", "trace_loss", "trace_val_loss", "trace_w", "trace_b")
    out["record validation+trace mesh=4"] = {
        "worst_over_tolerance": worst,
        "fast_compile_same_bits": all(np.array_equal(getattr(fast, f), getattr(got, f)) for f in fields)}
    return out


def collective_cases():
    """What the sharded train program communicates, read off its compiled HLO: every
    all-reduce's shape (in the text's order: the loop bodies' appear once however often they
    run), any other collective, and the largest integer array (the batch indices: O(batch)
    when computed a batch at a time, O(n) for a whole epoch's order). n = 1001 rows over 4
    devices, d = 3."""
    from jaxgd import core, optim
    from jaxgd.data._mesh import auto_mesh, shard_rows
    from jaxgd.drivers import _train

    rng = np.random.default_rng(1)
    n, d = 1001, 3
    X = rng.normal(size=(n, d)).astype(np.float32)
    y = (X @ np.ones(d) + 0.5 * rng.normal(size=n)).astype(np.float32)
    mesh = auto_mesh(jax.make_mesh((4,), ("data",)))
    Xs, ys, rows = shard_rows(X, y, mesh)
    out = {}
    for bs, unroll, opt in ((50, 1, optim.sgd()), (50, 4, optim.sgd()), (1, 1, optim.adam()), (n, 1, optim.sgd())):
        plan = core.Plan(n, bs, 3, "float32", unroll, rows, 0)
        text = _train._sharded_program.lower(Xs, ys, 0, 0.02, opt, optim.constant(), None, None, None, plan,
                                             mesh).compile().as_text()
        ints = [int(np.prod([int(k) for k in dims.split(",") if k] or [1]))
                for dims in re.findall(r"[su]32\[([\d,]*)\]", text)]
        out[f"hlo batch={bs},unroll={unroll},{opt.name}"] = {
            "all_reduce": re.findall(r"= (f32\[\d*\])\{?[\d,]*\}? all-reduce\(", text),
            "other_collectives": len(re.findall(r" (?:all-gather|all-to-all|collective-permute|reduce-scatter)\(", text)),
            "largest_int_array": max(ints),
        }
    return out


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
    out.update(sweep_cases())
    out.update(record_cases())
    out.update(collective_cases())
    try:
        jaxgd.train(np.ones((4, 1)), np.ones(4), batch_size=2, lr=0.1, epochs=1, mesh="not a mesh")
        out["bad_mesh_error"] = None
    except ValueError as e:
        out["bad_mesh_error"] = str(e)
    try:
        jaxgd.sweep(np.ones((4, 1)), np.ones(4), batch_sizes=[2], lrs=[0.1], seeds=1, epochs=1, mesh=4)
        out["sweep_bad_mesh_error"] = None
    except ValueError as e:
        out["sweep_bad_mesh_error"] = str(e)
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
