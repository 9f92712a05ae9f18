"""Where a training program's XLA compile time goes: the whole ``jaxgd.train`` program against the
same program with the draw (initial parameters and order keys, threefry) passed in instead, and
the draw alone, for a few optimizers and variants on the tutorial's workload.

    python benchmarks/compile_parts.py        # seconds of XLA compile (lowered.compile()) each

Uses the persistent cache's absence: run with ``JAXGD_NO_CACHE=1`` or in a fresh process with no
cache enabled (this script enables none). Seconds vary by machine; compare within one run.
"""
import functools
import sys
import time
from pathlib import Path

import jax
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import jaxgd  # noqa: E402
from jaxgd import core, optim  # noqa: E402
from jaxgd.drivers import _train as T  # noqa: E402


@functools.partial(jax.jit, static_argnames=("plan",))
def _without_draw(X, y, params, keys, lr, optimizer, schedule, plan):
    state = core.init_state(params, optimizer, lr, schedule=schedule, dtype=plan.dtype)
    state, history = core.run(state, X, y, plan, order_keys=keys)
    return state.params, history


@functools.partial(jax.jit, static_argnames=("plan",))
def _draw(seed, plan):
    return core.draw(seed, plan, d=1)


def _compile_seconds(jitted, *args, **static):
    jax.clear_caches()  # an earlier row may have compiled the same program (the draw of one plan)
    lowered = jitted.lower(*args, **static)
    t = time.perf_counter()
    lowered.compile()
    return time.perf_counter() - t


def main():
    d = jaxgd.synthetic_data()
    X, y = np.asarray(d.X), np.asarray(d.y).reshape(-1, 1)
    print(f"{'optimizer':10}{'batch':>6}{'whole s':>9}{'no draw s':>10}{'draw s':>8}")
    for batch_size, opt in ((50, optim.sgd()), (50, optim.adam()), (1, optim.sgd()), (1000, optim.sgd())):
        plan = T._plan(1000, batch_size, 50, "float32", 0, 1000, 0)
        params, keys = core.draw(0, plan, d=1)
        whole = _compile_seconds(T._program, X, y, 0, 0.01, opt, optim.constant(), None, None, None, plan=plan)
        rest = _compile_seconds(_without_draw, X, y, params, keys, 0.01, opt, optim.constant(), plan=plan)
        draw = _compile_seconds(_draw, 0, plan=plan)
        print(f"{opt.name:10}{batch_size:>6}{whole:9.2f}{rest:10.2f}{draw:8.2f}")


if __name__ == "__main__":
    main()
