"""Compile time of ``jaxgd.train`` per seed variant, apart from steady state, and proof that a
second learning rate reuses the compiled program (asserted, by counting XLA compilations)."""

from __future__ import annotations

import time

import numpy as np
import pytest

from benchmarks import workloads
from benchmarks.conftest import block, rounds, timed

_EVENTS = {}  # event name -> [count, total seconds]
_LISTENING = False


def _listen():
    global _LISTENING
    if not _LISTENING:
        import jax.monitoring

        def on_event(event, duration, **_):
            slot = _EVENTS.setdefault(event, [0, 0.0])
            slot[0] += 1
            slot[1] += duration

        jax.monitoring.register_event_duration_secs_listener(on_event)
        _LISTENING = True


BACKEND_COMPILE = "/jax/core/compile/backend_compile_duration"


def _snapshot():
    return {k: tuple(v) for k, v in _EVENTS.items()}


def _delta(before, after, name):
    b, a = before.get(name, (0, 0.0)), after.get(name, (0, 0.0))
    return a[0] - b[0], a[1] - b[1]


def _clear():
    import jaxgd.drivers._train as t

    run = getattr(t, "_program", None)
    if run is not None and hasattr(run, "clear_cache"):
        run.clear_cache()
    else:  # internals changed: clear everything (also recompiles the small helper jits)
        import jax

        jax.clear_caches()


def _cache_size():
    import jaxgd.drivers._train as t

    run = getattr(t, "_program", None)
    return run._cache_size() if run is not None and hasattr(run, "_cache_size") else None


def cold_compile(call):
    """``(seconds, {stage: seconds}, backend compiles)`` of one call with the training program cold.

    A first call warms the small helper programs (indexing, epoch_orders) so that only the
    training program is compiled in the measured one.
    """
    call()
    _clear()
    before = _snapshot()
    t0 = time.perf_counter()
    call()
    cold = time.perf_counter() - t0
    after = _snapshot()
    stages = {name.rsplit("/", 1)[-1]: round(_delta(before, after, name)[1], 4)
              for name in after if name.startswith("/jax/core/compile/")}
    n_compiles, _ = _delta(before, after, BACKEND_COMPILE)
    assert n_compiles >= 1, "the compilation counter saw no compile after clearing the cache"
    return cold, stages, n_compiles


@pytest.mark.slow  # over ~5 s on the 2-core machine (benchmarks/suite-times); .ci/run runs it
@pytest.mark.benchmark(group="compile")
@pytest.mark.parametrize("variant", ["GD", "mini-batch", "SGD"])
def test_compile(benchmark, tiny, seed_cfg, variant):
    import jax.numpy as jnp
    import jaxgd

    _listen()
    bs = dict(workloads.seed_variants(seed_cfg))[variant]
    X, y, _, _ = workloads.seed_problem(seed_cfg)
    Xj, yj = jnp.asarray(X), jnp.asarray(y)
    epochs, lr = seed_cfg.epochs, seed_cfg.lr

    def call(lr=lr):
        return block(jaxgd.train(Xj, yj, batch_size=bs, lr=lr, epochs=epochs))

    # One cold call with the stage breakdown (trace -> StableHLO -> XLA backend compile).
    cold, stages, n_compiles = cold_compile(call)

    # Timed: compile + one run, cache cleared before every round.
    benchmark.pedantic(call, setup=_clear, rounds=rounds(tiny, 5), iterations=1, warmup_rounds=0)

    # A second learning rate reuses the compiled program: no backend compile, no cache growth.
    call()  # cached for lr
    size0, before = _cache_size(), _snapshot()
    r2 = call(lr=lr * 1.5)
    after = _snapshot()
    recompiles, _ = _delta(before, after, BACKEND_COMPILE)
    assert recompiles == 0, f"a new learning rate recompiled {recompiles} program(s)"
    if size0 is not None:
        assert _cache_size() == size0
    r1 = call()
    assert not np.allclose(np.asarray(r1.w), np.asarray(r2.w)), "lr had no effect"

    benchmark.extra_info.update(
        contender="jaxgd", variant=variant, workload="seed", n=seed_cfg.n, d=seed_cfg.d, epochs=epochs,
        batch_size=bs, cold_call_s=round(cold, 4), compile_stages_s=stages,
        backend_compiles_cold=n_compiles, recompiles_for_new_lr=recompiles,
    )
