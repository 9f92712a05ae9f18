"""Probe: the latency of one all-reduce over gloo by shape, 2 processes on this host.

    P=$(python -c 'import socket;s=socket.socket();s.bind(("",0));print(s.getsockname()[1])')
    for i in 0 1; do python benchmarks/allreduce_shapes.py $P $i & done; wait

Process 0 prints, per case, microseconds per all-reduce (median of 3 calls of a 100-iteration
compiled loop) and the all-reduce as it appears in the compiled HLO (XLA combines separate
scalar psums into one tuple all-reduce).
"""
import sys, time, json, re
import numpy as np
port, pid = sys.argv[1], int(sys.argv[2])
import jaxgd
mesh = jaxgd.distributed.initialize(f"127.0.0.1:{port}", 2, pid, timeout=120)
import jax, jax.numpy as jnp
jax.config.update("jax_enable_x64", True)  # for the complex128 case
from jax.sharding import PartitionSpec as P
ax = mesh.axis_names
def looped(body, x, L=100):
    f = jax.jit(jax.shard_map(lambda x: jax.lax.fori_loop(0, L, lambda i, v: body(v), x), mesh=mesh, in_specs=P(), out_specs=P(), check_vma=False))
    jax.block_until_ready(f(x))
    ts=[]
    for _ in range(3):
        t=time.perf_counter(); jax.block_until_ready(f(x)); ts.append(time.perf_counter()-t)
    txt = f.lower(x).compile().as_text()
    ars = [l.strip()[:110] for l in txt.splitlines() if "all-reduce" in l and "=" in l]
    return np.median(ts)/L*1e6, ars
cases = {
 "scalar": (lambda v: jax.lax.psum(v, ax)/2, jnp.ones((), jnp.float32)),
 "f32[1]": (lambda v: jax.lax.psum(v, ax)/2, jnp.ones((1,), jnp.float32)),
 "f32[2]": (lambda v: jax.lax.psum(v, ax)/2, jnp.ones((2,), jnp.float32)),
 "f32[3]": (lambda v: jax.lax.psum(v, ax)/2, jnp.ones((3,), jnp.float32)),
 "f32[64]": (lambda v: jax.lax.psum(v, ax)/2, jnp.ones((64,), jnp.float32)),
 "3 scalars": (lambda v: jnp.stack([jax.lax.psum(v[i], ax) for i in range(3)])/2, jnp.ones((3,), jnp.float32)),
 # 3 float32 as 2 complex128 elements (float32 -> float64 is exact; the sums are rounded once)
 "c128[2]": (lambda v: (lambda z: jnp.stack([z.real, z.imag], -1).reshape(-1)[:3].astype(jnp.float32) / 2)(
     jax.lax.psum(jax.lax.complex(*jnp.concatenate([v, jnp.zeros(1, v.dtype)]).astype(jnp.float64).reshape(2, 2).T), ax)),
     jnp.ones((3,), jnp.float32)),
}
for k,(b,x) in cases.items():
    us, ars = looped(b, x)
    if pid == 0: print(f"{k:10} {us:9.1f} us  {ars[:3]}", flush=True)
