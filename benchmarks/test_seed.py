"""Seed workload (n=1000, d=1, 50 epochs, lr 0.02): GD, mini-batch (50) and SGD (1).

One group per variant; every contender computes the same run (same data, init and orders) and
its final (w, b) is asserted against jaxgd's.
"""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks import contenders as C
from benchmarks import workloads
from benchmarks.conftest import assert_same, block, rounds, timed, updates

CONTENDERS = ["jaxgd", "jaxgd(order=)", "numba", "torch-idiomatic", "torchref", "sklearn"]
VARIANTS = ["GD", "mini-batch", "SGD"]


def _params():
    out = []
    for variant in VARIANTS:
        for c in CONTENDERS:
            if c == "sklearn" and variant != "SGD":
                continue  # SGDRegressor only does batch size 1
            out.append(pytest.param(variant, c, id=f"{variant}-{c}",
                                    marks=pytest.mark.benchmark(group=f"seed-{variant}")))
    return out


@pytest.fixture(scope="session")
def seed_setup(seed_cfg):
    import jax.numpy as jnp

    X, y, init, orders = workloads.seed_problem(seed_cfg)
    return {
        "np": (X, y, init, orders),
        "jax": (jnp.asarray(X), jnp.asarray(y), (jnp.asarray(init[0]), jnp.asarray(init[1])), jnp.asarray(orders)),
        "numba": C.prepare_numba(X, y, init, orders),
        "torch": C.prepare_torch(X, y, init, orders),
    }


@pytest.fixture(scope="session")
def seed_reference(seed_cfg, seed_setup):
    """jaxgd's answer per variant, with explicit orders; the one every contender must match."""
    import jaxgd

    Xj, yj, initj, ordj = seed_setup["jax"]
    out = {}
    for variant, bs in workloads.seed_variants(seed_cfg):
        r = jaxgd.train(Xj, yj, batch_size=bs, lr=seed_cfg.lr, epochs=seed_cfg.epochs, init=initj, order=ordj)
        out[variant] = (np.asarray(r.w).reshape(-1), float(r.b[0]), np.asarray(r.epoch_loss))
    return out


# Full-size rounds per contender (timed region per round in parentheses, this machine):
# jaxgd/numba ~0.3-3 ms, torch-idiomatic GD/MB ~5-150 ms, SGD ~6 s, torchref SGD ~12 s.
ROUNDS = {
    "jaxgd": {"GD": 50, "mini-batch": 30, "SGD": 30},
    "jaxgd(order=)": {"GD": 50, "mini-batch": 30, "SGD": 30},
    "numba": {"GD": 50, "mini-batch": 30, "SGD": 30},
    "torch-idiomatic": {"GD": 10, "mini-batch": 5, "SGD": 1},
    "torchref": {"GD": 5, "mini-batch": 3, "SGD": 1},
    "sklearn": {"SGD": 10},
}


@pytest.mark.slow  # over ~5 s on the 2-core machine (benchmarks/suite-times); .ci/run runs it
@pytest.mark.parametrize("variant,contender", _params())
def test_seed(benchmark, tiny, seed_cfg, seed_setup, seed_reference, variant, contender):
    import jaxgd

    bs = dict(workloads.seed_variants(seed_cfg))[variant]
    n, epochs, lr = seed_cfg.n, seed_cfg.epochs, seed_cfg.lr
    X, y, init, orders = seed_setup["np"]
    warmup = None

    if contender in ("jaxgd", "jaxgd(order=)"):
        Xj, yj, initj, ordj = seed_setup["jax"]
        order = ordj if contender == "jaxgd(order=)" else None

        def fn():
            r = block(jaxgd.train(Xj, yj, batch_size=bs, lr=lr, epochs=epochs, init=initj, order=order))
            return np.asarray(r.w).reshape(-1), float(r.b[0])
    elif contender == "numba":
        args = seed_setup["numba"]

        def fn():
            w, b, _ = C.numba_train(*args, bs, lr)
            return w, b
    elif contender == "torch-idiomatic":
        args = seed_setup["torch"]

        def fn():
            return C.torch_idiomatic_train(*args, bs, lr)

        # warm up on one epoch: the 50-epoch SGD run takes seconds and warms nothing more
        warmup = lambda: C.torch_idiomatic_train(*args[:4], args[4][:1], bs, lr)  # noqa: E731
    elif contender == "torchref":
        Xt, yt, wt, bt, _ = seed_setup["torch"]

        def fn():
            return C.torchref_train(Xt, yt, wt, bt, orders, bs, lr)

        warmup = lambda: C.torchref_train(Xt, yt, wt, bt, orders[:1], bs, lr)  # noqa: E731
    elif contender == "sklearn":
        def fn():
            return C.sklearn_sgd_train(X, y, init, lr, epochs, seed=0)
    else:  # pragma: no cover
        raise AssertionError(contender)

    u = updates(n, bs, epochs)
    warm, (w, b) = timed(
        benchmark, fn, rounds=rounds(tiny, ROUNDS[contender][variant]), warmup=warmup,
        info=dict(contender=contender, variant=variant, workload="seed", n=n, d=seed_cfg.d,
                  epochs=epochs, batch_size=bs, updates=u, lr=lr),
    )

    ref_w, ref_b, _ = seed_reference[variant]
    if contender == "sklearn":
        # Own shuffle (sklearn's RNG) and float64: not the same run, so compare both runs with
        # the least-squares solution. Constant-step SGD on (p - y)^2 / 2 with E[x x^T] ~ 1 and
        # noise sigma = 0.5 fluctuates around it with variance ~ lr * sigma^2 / 2 per parameter
        # (std ~0.05 at lr 0.02); 0.25 is five such standard deviations. At tiny sizes (few
        # epochs from w ~ 0) neither run has converged, so only finiteness is checked there.
        ls_w, ls_b = C.least_squares(X, y)
        assert np.all(np.isfinite(w)) and np.isfinite(b)
        if not tiny:
            tol = 5 * np.sqrt(lr * 0.5**2 / 2)
            for name, (ww, bb) in (("sklearn", (w, b)), ("jaxgd", (ref_w, ref_b))):
                assert np.max(np.abs(ww - ls_w)) < tol, (name, ww, ls_w)
                assert abs(bb - ls_b) < tol, (name, bb, ls_b)
    else:
        assert_same(w, b, ref_w, ref_b, what=contender)
        if warmup is None:
            assert_same(*warm, ref_w, ref_b, what=f"{contender} (warm-up)")
