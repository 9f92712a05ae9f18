"""XLA:CPU's formulations of full-batch GD's two products on the large workload (10^6 x 64
float32): ``X @ w``, ``X^T r`` as the fused ``sum(X * r, axis=0)`` (jaxgd's) and as a dot
(``X.T @ r``, ``r.T @ X``), alone and together, medians of 15 calls.

    python benchmarks/gd_forms.py

Why jaxgd writes ``X^T r`` as a fused reduction, and why its GD epoch stays above a BLAS's two
passes (benchmarks/NOTES.md, "Large GD"). Seconds vary by machine; compare within one run.
"""
import time

import jax
import jax.numpy as jnp
import numpy as np


def main(n=10**6, d=64, repeats=15):
    rng = np.random.default_rng(0)
    X = jax.device_put(rng.standard_normal((n, d), dtype=np.float32))
    r = jax.device_put(rng.standard_normal((n, 1), dtype=np.float32))
    w = jnp.ones((d, 1), jnp.float32)
    forms = {
        "X @ w": lambda X, r: X @ w,
        "sum(X * r, axis=0)": lambda X, r: jnp.sum(X * r, axis=0),
        "X.T @ r": lambda X, r: X.T @ r,
        "r.T @ X": lambda X, r: r.T @ X,
        "both, fused reduction": lambda X, r: jnp.sum(X * (X @ w - r), axis=0),
        "both, dot": lambda X, r: (X @ w - r).T @ X,
    }
    for name, f in forms.items():
        f = jax.jit(f)
        jax.block_until_ready(f(X, r))
        times = []
        for _ in range(repeats):
            t = time.perf_counter()
            jax.block_until_ready(f(X, r))
            times.append(time.perf_counter() - t)
        print(f"{name:24s}{np.median(times) * 1e3:8.2f} ms")


if __name__ == "__main__":
    main()
