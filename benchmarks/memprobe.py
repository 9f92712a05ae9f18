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


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
