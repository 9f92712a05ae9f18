"""Peak resident memory of one large training run, in a fresh process.

    python -m benchmarks.memprobe {jaxgd,torch-idiomatic} {GD,mini-batch}

Prints one JSON line. Method: the runtime is imported and warmed on a tiny problem, then the
resident set is read (``baseline``); the data set is created (numpy, filled in place), converted
once (jnp.asarray / torch.from_numpy), the numpy copy dropped where the framework copied it, and
one warm-up run made (compilation). Then the kernel's peak-RSS mark is reset
(``/proc/self/clear_refs`` = 5) and the timed run made; its ``VmHWM`` is the run's peak.
``extra_peak_ratio`` = (peak - baseline) / dataset bytes: memory the data set plus the run need,
1.0 meaning the run needs nothing beyond the data. Where the peak mark cannot be reset,
``ru_maxrss`` (the process's lifetime peak, data creation included) is used and flagged.
"""

from __future__ import annotations

import gc
import json
import resource
import sys


def _status_kb(key):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    return None


def _reset_peak():
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def main(contender, variant):
    import numpy as np

    from benchmarks import workloads

    large = workloads.sizes(workloads.tiny_from_env())[1]
    bs, epochs, lr = (large.n, large.gd_epochs, large.gd_lr) if variant == "GD" else (
        large.mb_batch, large.mb_epochs, large.mb_lr)

    import jaxgd  # both contenders use jaxgd's orders (drawn before the baseline is read)

    orders = np.asarray(jaxgd.epoch_orders(0, large.n, epochs))
    small = workloads.Large(n=64, d=large.d)
    Xs, ys, inits = workloads.large_data(small)
    if contender == "jaxgd":
        import jax
        import jax.numpy as jnp

        jax.block_until_ready(jaxgd.train(jnp.asarray(Xs), jnp.asarray(ys), batch_size=8, lr=0.01, epochs=1))
    else:
        import torch

        from benchmarks import contenders as C

        C.torch_idiomatic_train(*C.prepare_torch(Xs, ys, inits, np.stack([np.arange(64)])), 8, 0.01)
    gc.collect()
    baseline = _status_kb("VmRSS")

    X, y, init = workloads.large_data(large)
    dataset_bytes = X.nbytes + y.nbytes
    if contender == "jaxgd":
        Xd, yd = jnp.asarray(X), jnp.asarray(y)
        del X, y
        gc.collect()

        def run():
            r = jax.block_until_ready(jaxgd.train(Xd, yd, batch_size=bs, lr=lr, epochs=epochs, init=init))
            return np.asarray(r.w).reshape(-1).tolist(), float(r.b[0])
    else:
        args = C.prepare_torch(X, y, init, orders)

        def run():
            w, b = C.torch_idiomatic_train(*args, bs, lr)
            return w.tolist(), b

    gc.collect()
    with_data = _status_kb("VmRSS")
    run()  # warm-up (compilation for jaxgd)
    gc.collect()
    reset = _reset_peak()
    before_run = _status_kb("VmRSS")
    w, b = run()
    peak = _status_kb("VmHWM") if reset else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps(dict(
        contender=contender, variant=variant, n=large.n, d=large.d, batch_size=bs, epochs=epochs,
        dataset_bytes=dataset_bytes, baseline_rss=baseline, rss_with_data=with_data,
        rss_before_run=before_run, peak_rss=peak, peak_method="VmHWM-reset" if reset else "ru_maxrss",
        extra_peak_ratio=(peak - baseline) / dataset_bytes, w=w, b=b,
    )))


# --- big data: 10,000,000 x 32 float32, mini-batch 1024, 1 epoch ----------------------------

BIG = dict(n=10_000_000, d=32, batch_size=1024, epochs=1, lr=0.01)
BIG_TINY = dict(n=200_000, d=32, batch_size=1024, epochs=1, lr=0.01)
_BLOCK = 1 << 20  # rows generated per block: float32 temporaries of at most a block


def aligned_empty(shape, dtype, align=64):
    """An uninitialised numpy array whose data start on an ``align``-byte boundary. JAX's CPU
    client aliases such a buffer instead of copying it (measured: ``jax.device_put`` of a
    64-byte-aligned float32 array is zero-copy, of numpy's default 16-byte-aligned one a copy)."""
    import numpy as np

    nbytes = int(np.prod(shape)) * np.dtype(dtype).itemsize
    buf = np.empty(nbytes + align, np.uint8)
    off = (-buf.ctypes.data) % align
    return buf[off : off + nbytes].view(dtype).reshape(shape)


def big_data(n, d, seed=0, aligned=False):
    """float32 X (n, d) ~ N(0, 1), y = X w + 4 + N(0, 0.5^2), built in blocks of rows, so no
    temporary larger than a block (and nothing in float64) ever exists. ``aligned``: X and y
    start on 64-byte boundaries (see ``aligned_empty``)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    empty = aligned_empty if aligned else (lambda shape, dtype: np.empty(shape, dtype))
    X = empty((n, d), np.float32)
    y = empty((n,), np.float32)
    true_w = np.linspace(-2.0, 3.5, d, dtype=np.float32)
    for i in range(0, n, _BLOCK):
        xb = X[i : i + _BLOCK]
        rng.standard_normal(out=xb, dtype=np.float32)
        yb = y[i : i + _BLOCK]
        np.matmul(xb, true_w, out=yb)
        yb += np.float32(4.0)
        yb += np.float32(0.5) * rng.standard_normal(len(yb), dtype=np.float32)
    return X, y


def _rss_parts():
    out = {}
    with open("/proc/self/status") as f:
        for line in f:
            k = line.split(":")[0]
            if k in ("VmRSS", "VmHWM", "RssAnon", "RssFile"):
                out[k] = int(line.split()[1]) * 1024
    return out


def main_big(source, mesh_devices=0):
    """Peak RSS of ``jaxgd.train`` on the big data, from a numpy array built in memory
    (``source="numpy"``: numpy's own allocation; ``"aligned"``: 64-byte aligned) or a memory-mapped ``X.npy,y.npy`` pair read with
    ``jaxgd.data._files.load_dataset`` (``source="npy"``; the files are written first, in a temporary
    directory, before the baseline). ``mesh_devices`` > 0: ``train(mesh=...)`` over that many
    (forced CPU) devices.

    ``peak_ratio`` = (lifetime peak RSS - baseline) / dataset bytes, the peak covering
    everything after the baseline: the data in memory, any copy ``train`` makes, compiling and
    running the first call. ``run_peak_ratio``: the same for a second call alone (peak mark
    reset after the first), i.e. with the compiled program cached. Baseline: after importing
    and warming jax and jaxgd on a tiny problem.
    """
    import os
    import tempfile

    import jax
    import numpy as np

    import jaxgd
    from benchmarks import workloads

    cfg = BIG_TINY if workloads.tiny_from_env() else BIG
    n, d = cfg["n"], cfg["d"]
    mesh = None
    if mesh_devices:
        assert jax.device_count() >= mesh_devices, "set XLA_FLAGS=--xla_force_host_platform_device_count"
        mesh = jax.make_mesh((mesh_devices,), ("data",), devices=jax.devices()[:mesh_devices])
    tmp = None
    if source == "npy":  # write the files first, then drop them from this process
        tmp = tempfile.TemporaryDirectory(dir=os.environ.get("JAXGD_MEMPROBE_TMP"))
        X, y = big_data(n, d)
        np.save(os.path.join(tmp.name, "X.npy"), X)
        np.save(os.path.join(tmp.name, "y.npy"), y)
        del X, y
        # The page cache of the files is not this process's RSS until the memory map touches it.
    Xs, ys = big_data(4096, d)
    jax.block_until_ready(jaxgd.train(Xs, ys, batch_size=64, lr=0.01, epochs=1, mesh=mesh))
    del Xs, ys
    gc.collect()
    _reset_peak()
    baseline = _status_kb("VmRSS")

    if source == "npy":
        from jaxgd import load_dataset

        data = load_dataset(os.path.join(tmp.name, "X.npy") + "," + os.path.join(tmp.name, "y.npy"))
        X, y = data.X, data.y
        x_kind = type(X).__name__
    else:
        X, y = big_data(n, d, aligned=source == "aligned")
        x_kind = "ndarray"
    dataset_bytes = X.nbytes + y.nbytes
    x_align64 = X.ctypes.data % 64 == 0
    with_data = _rss_parts()

    # Would JAX's CPU client alias X rather than copy it? (a slice: same start address)
    head = X[:4096]
    probe = jax.device_put(head)
    aliased = bool(probe.unsafe_buffer_pointer() == head.ctypes.data)
    del probe, head

    def run():
        r = jaxgd.train(X, y, batch_size=cfg["batch_size"], lr=cfg["lr"], epochs=cfg["epochs"], seed=0, mesh=mesh)
        return float(np.asarray(r.epoch_loss)[-1])

    loss1 = run()
    after_first = _rss_parts()
    peak_first = _status_kb("VmHWM")
    gc.collect()
    reset = _reset_peak()
    loss2 = run()
    peak_second = _status_kb("VmHWM") if reset else None
    if tmp is not None:
        del X, y, data
        gc.collect()
        tmp.cleanup()
    print(json.dumps(dict(
        source=source, x_type=x_kind, x_align64=x_align64, device_put_aliases_x=aliased, mesh_devices=mesh_devices, **cfg, dataset_bytes=dataset_bytes,
        baseline_rss=baseline, rss_with_data=with_data["VmRSS"], rss_with_data_anon=with_data["RssAnon"],
        rss_with_data_file=with_data["RssFile"], rss_after_first_run=after_first["VmRSS"],
        rss_after_first_run_anon=after_first["RssAnon"], peak_rss=peak_first,
        peak_method="VmHWM-reset-at-baseline" if reset else "ru_maxrss",
        peak_ratio=(peak_first - baseline) / dataset_bytes,
        run_peak_ratio=None if peak_second is None else (peak_second - baseline) / dataset_bytes,
        final_loss=loss1, final_loss_second=loss2,
    )))


if __name__ == "__main__":
    if sys.argv[1] == "big":
        main_big(sys.argv[2] if len(sys.argv) > 2 else "numpy", int(sys.argv[3]) if len(sys.argv) > 3 else 0)
    else:
        main(sys.argv[1], sys.argv[2])
