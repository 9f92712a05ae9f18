"""Measure how far idiomatic torch (same torch.optim optimizer) lands from jaxgd in test_optimizers.py.

    python -m benchmarks.measure_optim_tolerance full|tiny

Prints, per case, the worst |difference| of (w, b) over max(|w|, |b|), and the same distance
to plain SGD's torch answer (the nearest wrong answer); the numbers quoted above RTOL_OPTIM.
"""
import sys, numpy as np, jax.numpy as jnp, jaxgd
from benchmarks import workloads, contenders as C
from benchmarks.test_optimizers import OPTIMIZERS
from benchmarks.test_large import _variant
tiny = sys.argv[1] == "tiny"
seed, large = workloads.sizes(tiny)
X, y, init, orders = workloads.seed_problem(seed)
tj = (jnp.asarray(X), jnp.asarray(y), (jnp.asarray(init[0]), jnp.asarray(init[1])), jnp.asarray(orders))
tt = C.prepare_torch(X, y, init, orders)
def rel(a, b):
    rw, rb = a; scale = max(np.max(np.abs(rw)), abs(rb))
    return max(np.max(np.abs(np.asarray(b[0]) - rw)), abs(b[1] - rb)) / scale
for variant, bs in workloads.seed_variants(seed):
    for name, spec in OPTIMIZERS.items():
        r = jaxgd.train(tj[0], tj[1], batch_size=bs, lr=seed.lr, epochs=seed.epochs, optimizer=spec, init=tj[2], order=tj[3])
        ref = (np.asarray(r.w).reshape(-1), float(r.b[0]))
        t = C.torch_idiomatic_train(*tt, bs, seed.lr, C.TORCH_OPTIMIZERS[name])
        other = C.torch_idiomatic_train(*tt, bs, seed.lr, C.TORCH_OPTIMIZERS["sgd"])
        print("tutorial", variant, name, "err %.1e" % rel(ref, t), "vs plain sgd %.1e" % rel(ref, other), ref, flush=True)
Xl, yl, il = workloads.large_data(large); ol = workloads.large_orders(large)
lj = (jnp.asarray(Xl), jnp.asarray(yl), (jnp.asarray(il[0]), jnp.asarray(il[1])), jnp.asarray(ol))
lt = C.prepare_torch(Xl, yl, il, ol)
for variant in ("GD", "mini-batch"):
    bs, ep, lr, _ = _variant(large, variant)
    for name, spec in OPTIMIZERS.items():
        r = jaxgd.train(lj[0], lj[1], batch_size=bs, lr=lr, epochs=ep, optimizer=spec, init=lj[2], order=lj[3][:ep])
        ref = (np.asarray(r.w).reshape(-1), float(r.b[0]))
        t = C.torch_idiomatic_train(*lt[:4], lt[4][:ep], bs, lr, C.TORCH_OPTIMIZERS[name])
        other = C.torch_idiomatic_train(*lt[:4], lt[4][:ep], bs, lr, C.TORCH_OPTIMIZERS["sgd"])
        print("large", variant, name, "err %.1e" % rel(ref, t), "vs plain sgd %.1e" % rel(ref, other), ref[1], flush=True)
