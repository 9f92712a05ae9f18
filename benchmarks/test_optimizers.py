"""The optimizer family (issue 10): SGD with momentum 0.9 and Adam, jaxgd against idiomatic
PyTorch driving the same ``torch.optim`` optimizer, and compile time per optimizer.

Groups ``tutorial-optim-{GD,mini-batch,SGD}`` (the tutorial workload: n=1000, d=1, 50 epochs,
lr 0.02) and ``large-optim-{GD,mini-batch}`` (1e6 x 64 float32: GD 10 epochs lr 0.5,
mini-batch 1024 x 2 epochs lr 0.05, as ``test_large.py``); contenders ``jaxgd`` (default,
on-device drawn orders, which are the reference's orders) and ``torch-idiomatic``
(``contenders.torch_idiomatic_train`` with ``torch.optim.SGD(momentum=0.9)`` /
``torch.optim.Adam()``). Every answer is asserted equal to jaxgd's run with explicit init and
orders: the reference is jaxgd's own run with its default orders, which are the rows of
``jaxgd.epoch_orders`` handed to torch (``test_seed``/``test_large`` assert that jaxgd with and
without ``order=`` agree); so the jaxgd contender reuses the reference's compiled program, which
keeps the CI run (``--benchmark-disable``, tiny sizes) to one compile per case.
``test_compile_optimizer`` adds one row per optimizer (all six, mini-batch 50) to the
``compile`` group and asserts that new hyperparameter values compile nothing.
"""

from __future__ import annotations

import jax
import numpy as np
import pytest

from benchmarks import contenders as C
from benchmarks import workloads
from benchmarks.conftest import assert_same, block, rounds, timed, updates
from benchmarks.test_compile import BACKEND_COMPILE, _cache_size, _clear, _delta, _listen, _snapshot, cold_compile
from benchmarks.test_large import _variant as _large_variant
from benchmarks.test_large import large_setup  # noqa: F401  (session fixture, shared with test_large)
from benchmarks.test_seed import seed_setup  # noqa: F401  (session fixture, shared with test_seed)
from jaxgd import optim

# jaxgd spec and the TORCH_OPTIMIZERS entry it is timed against
OPTIMIZERS = {"sgd-momentum": optim.sgd(momentum=0.9), "adam": optim.adam()}
CONTENDERS = ["jaxgd", "torch-idiomatic"]
TUTORIAL_VARIANTS = ["GD", "mini-batch", "SGD"]
LARGE_VARIANTS = ["GD", "mini-batch"]

# Answers: float32, same data, init and orders; the frameworks differ only in rounding (summation
# order and blocking of the matrix products, torch computing Adam's bias corrections in double).
# Measured (benchmarks/measure_optim_tolerance.py full|tiny): worst |difference| of (w, b) over
# the answer's scale max(|w|, |b|), full sizes (tiny in parentheses):
#   tutorial  momentum GD 6.5e-8 (1.1e-7), mini-batch 6.0e-8 (0), SGD 0 (1.2e-7)
#             Adam     GD 3.7e-7 (2.4e-7), mini-batch 0 (9.1e-7), SGD 1.2e-7 (1.5e-7)
#   large     momentum GD 5.0e-6 (2.0e-7), mini-batch 5.9e-8 (5.4e-8)
#             Adam     GD 1.5e-6 (2.4e-7), mini-batch 1.3e-7 (4.5e-7)
# RTOL_OPTIM = 1e-4 of the scale is 20x the worst (large GD with momentum: 10 steps of a 1e6-row
# sum each, amplified by the momentum). The nearest wrong answer measured, plain SGD in place of
# the named optimizer, is >= 5.5e-4 of the scale away in every case (tutorial mini-batch Adam,
# where both have converged), >= 3e-3 in all others: the tolerance still tells optimizers apart.
RTOL_OPTIM = 1e-4


def _assert_close(w, b, ref_w, ref_b, what):
    scale = max(np.max(np.abs(ref_w)), abs(ref_b))
    assert_same(w, b, ref_w, ref_b, rtol=0, atol=RTOL_OPTIM * scale, what=what)


def _params(variants, prefix):
    return [
        pytest.param(variant, opt, c, id=f"{variant}-{opt}-{c}", marks=pytest.mark.benchmark(group=f"{prefix}-{variant}"))
        for variant in variants
        for opt in OPTIMIZERS
        for c in CONTENDERS
    ]


def _jaxgd_wb(jax_data, bs, lr, epochs, spec):
    """jaxgd's final (w, b) as numpy, for the same data and init the torch contender gets."""
    import jaxgd

    Xj, yj, initj, _ = jax_data
    r = block(jaxgd.train(Xj, yj, batch_size=bs, lr=lr, epochs=epochs, optimizer=spec, init=initj))
    return np.asarray(r.w).reshape(-1), float(r.b[0])


# --------------------------------------------------------------------------------------------
# tutorial workload
# --------------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def tutorial_optim_reference(seed_cfg, seed_setup):  # noqa: F811
    return {(variant, name): _jaxgd_wb(seed_setup["jax"], bs, seed_cfg.lr, seed_cfg.epochs, spec)
            for variant, bs in workloads.seed_variants(seed_cfg) for name, spec in OPTIMIZERS.items()}


# Full-size rounds (timed region per round, this machine): jaxgd ~0.3-3 ms; torch GD ~10 ms,
# mini-batch ~0.2 s, SGD ~10 s (50,000 eager steps).
TUTORIAL_ROUNDS = {"jaxgd": {"GD": 50, "mini-batch": 30, "SGD": 30},
                   "torch-idiomatic": {"GD": 10, "mini-batch": 5, "SGD": 1}}


@pytest.mark.slow  # over ~5 s on the 2-core machine (benchmarks/suite-times); .ci/run runs it
@pytest.mark.parametrize("variant,opt,contender", _params(TUTORIAL_VARIANTS, "tutorial-optim"))
def test_tutorial_optim(benchmark, tiny, seed_cfg, seed_setup, tutorial_optim_reference, variant, opt, contender):  # noqa: F811
    bs = dict(workloads.seed_variants(seed_cfg))[variant]
    n, epochs, lr = seed_cfg.n, seed_cfg.epochs, seed_cfg.lr
    spec = OPTIMIZERS[opt]
    warmup = None
    if contender == "jaxgd":
        def fn():
            return _jaxgd_wb(seed_setup["jax"], bs, lr, epochs, spec)
    else:
        args, make = seed_setup["torch"], C.TORCH_OPTIMIZERS[opt]

        def fn():
            return C.torch_idiomatic_train(*args, bs, lr, make)

        # one epoch warms everything (the full SGD run takes seconds)
        warmup = lambda: C.torch_idiomatic_train(*args[:4], args[4][:1], bs, lr, make)  # noqa: E731

    warm, (w, b) = timed(
        benchmark, fn, rounds=rounds(tiny, TUTORIAL_ROUNDS[contender][variant]), warmup=warmup,
        info=dict(contender=contender, optimizer=opt, variant=variant, workload="tutorial", n=n, d=seed_cfg.d,
                  epochs=epochs, batch_size=bs, updates=updates(n, bs, epochs), lr=lr),
    )
    ref_w, ref_b = tutorial_optim_reference[variant, opt]
    _assert_close(w, b, ref_w, ref_b, f"{contender} {opt} {variant}")
    if warmup is None:
        _assert_close(*warm, ref_w, ref_b, f"{contender} {opt} {variant} (warm-up)")


# --------------------------------------------------------------------------------------------
# large workload
# --------------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def large_optim_reference(large_cfg, large_setup):  # noqa: F811
    out = {}
    for variant in LARGE_VARIANTS:
        bs, epochs, lr, _ = _large_variant(large_cfg, variant)
        for name, spec in OPTIMIZERS.items():
            out[variant, name] = _jaxgd_wb(large_setup["jax"], bs, lr, epochs, spec)
    return out


LARGE_ROUNDS = {"jaxgd": 5, "torch-idiomatic": 3}


@pytest.mark.slow  # over ~5 s on the 2-core machine (benchmarks/suite-times); .ci/run runs it
@pytest.mark.parametrize("variant,opt,contender", _params(LARGE_VARIANTS, "large-optim"))
def test_large_optim(benchmark, tiny, large_cfg, large_setup, large_optim_reference, variant, opt, contender):  # noqa: F811
    cfg = large_cfg
    bs, epochs, lr, _ = _large_variant(cfg, variant)
    spec = OPTIMIZERS[opt]
    X = large_setup["np"][0]
    if contender == "jaxgd":
        def fn():
            return _jaxgd_wb(large_setup["jax"], bs, lr, epochs, spec)
    else:
        Xt, yt, wt, bt, ot = large_setup["torch"]
        make = C.TORCH_OPTIMIZERS[opt]

        def fn():
            return C.torch_idiomatic_train(Xt, yt, wt, bt, ot[:epochs], bs, lr, make)

    warm, (w, b) = timed(
        benchmark, fn, rounds=rounds(tiny, LARGE_ROUNDS[contender]),
        info=dict(contender=contender, optimizer=opt, variant=variant, workload="large", n=cfg.n, d=cfg.d,
                  epochs=epochs, batch_size=bs, lr=lr, updates=updates(cfg.n, bs, epochs),
                  dataset_bytes=int(X.nbytes + large_setup["np"][1].nbytes)),
    )
    ref_w, ref_b = large_optim_reference[variant, opt]
    _assert_close(w, b, ref_w, ref_b, f"{contender} {opt} {variant}")
    _assert_close(*warm, ref_w, ref_b, f"{contender} {opt} {variant} (warm-up)")


# --------------------------------------------------------------------------------------------
# compile time per optimizer
# --------------------------------------------------------------------------------------------
# (first spec, second spec with its float hyperparameters changed but the same static options;
# SGD's momentum_enabled and decay_enabled are options: 0 -> nonzero builds another program)
COMPILE_CASES = {
    "sgd": (optim.sgd(), optim.sgd(dampening=0.1)),
    "sgd-momentum": (optim.sgd(momentum=0.9), optim.sgd(momentum=0.5, dampening=0.1)),
    "adam": (optim.adam(), optim.adam(betas=(0.8, 0.99), eps=1e-6, weight_decay=0.01)),
    "adamw": (optim.adamw(), optim.adamw(betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1)),
    "adagrad": (optim.adagrad(), optim.adagrad(lr_decay=0.01, weight_decay=0.01, initial_accumulator_value=0.1, eps=1e-8)),
    "rmsprop": (optim.rmsprop(), optim.rmsprop(alpha=0.9, eps=1e-6, weight_decay=0.01)),
    "adadelta": (optim.adadelta(), optim.adadelta(rho=0.8, eps=1e-5, weight_decay=0.01)),
}


@pytest.mark.slow  # over ~5 s on the 2-core machine (benchmarks/suite-times); .ci/run runs it
@pytest.mark.benchmark(group="compile")
@pytest.mark.parametrize("opt", list(COMPILE_CASES))
def test_compile_optimizer(benchmark, tiny, seed_cfg, opt):
    import jax.numpy as jnp
    import jaxgd

    _listen()
    first, second = COMPILE_CASES[opt]
    assert jax.tree.structure(first) == jax.tree.structure(second), "the second spec must have the same static structure"
    variant, bs = "mini-batch", seed_cfg.minibatch
    X, y, _, _ = workloads.seed_problem(seed_cfg)
    Xj, yj = jnp.asarray(X), jnp.asarray(y)
    epochs, lr = seed_cfg.epochs, seed_cfg.lr

    def call(spec=first, lr=lr):
        return block(jaxgd.train(Xj, yj, batch_size=bs, lr=lr, epochs=epochs, optimizer=spec))

    cold, stages, n_compiles = None, {}, None
    if tiny:
        # CI: no timing, so no cold compiles beyond the first; what is checked is the reuse below.
        benchmark.pedantic(call, rounds=1, iterations=1, warmup_rounds=0)
    else:
        cold, stages, n_compiles = cold_compile(call)
        benchmark.pedantic(call, setup=_clear, rounds=5, iterations=1, warmup_rounds=0)

    # A second set of hyperparameter values (and a second lr) reuses the compiled program.
    r1 = call()
    size0, before = _cache_size(), _snapshot()
    r2 = call(second, lr * 1.5)
    after = _snapshot()
    recompiles, _ = _delta(before, after, BACKEND_COMPILE)
    assert recompiles == 0, f"new {opt} hyperparameters recompiled {recompiles} program(s)"
    if size0 is not None:
        assert _cache_size() == size0
    assert not np.allclose(np.asarray(r1.w), np.asarray(r2.w)), "the new hyperparameters had no effect"

    benchmark.extra_info.update(
        contender="jaxgd", optimizer=opt, variant=variant, workload="seed", n=seed_cfg.n, d=seed_cfg.d,
        epochs=epochs, batch_size=bs, cold_call_s=cold and round(cold, 4), compile_stages_s=stages,
        backend_compiles_cold=n_compiles, recompiles_for_new_lr=recompiles,
        recompiles_for_new_hyperparams=recompiles,
    )
