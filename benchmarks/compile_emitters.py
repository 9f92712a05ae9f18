"""``sweep(fast_compile=True)`` against the default: what XLA:CPU's loop emitters save in compile
time and cost in run time, side by side in one process.

    python benchmarks/compile_emitters.py            # about 1 min on the 2-core machine
    python benchmarks/compile_emitters.py --json F   # the figures as JSON too

Two measurements:

- compile: the chunk programs of one ``jaxgd batch-size`` problem (the ill-conditioned one:
  12 batch sizes, 24 learning rates x 4 seeds, a trace), each lowered once and compiled with
  each option in turn, one program at a time; CPU seconds (XLA compiles on several threads)
  and wall seconds, summed over the programs;
- run: the 1000-run tutorial sweep of ``benchmarks/test_sweep_bench.py`` (20 lrs x 50 seeds,
  batch 50, 50 epochs), compiled both ways, then timed in interleaved rounds; median and
  minimum.

The results are compared too: the study's sweep outputs bit for bit (SGD). Seconds vary by
machine and load; compare the two columns of one run.
"""

import argparse
import functools
import json
import os
import resource
import sys
import time
from pathlib import Path

import jax
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import jaxgd  # noqa: E402
from jaxgd.drivers import _sweep_programs as SP  # noqa: E402
from jaxgd.studies import _batch_size as BS  # noqa: E402
from benchmarks.cli_latency import _commit, _cpu_model  # noqa: E402


def _cpu_seconds():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _study_chunks(problem):
    """The lowered chunk programs of the study's sweeps on ``problem`` (their shapes, as the
    study makes them), and the study's sweep kwargs per group."""
    shapes = []
    compiled = SP._compiled

    def capture(shape):
        shapes.append(shape)
        return compiled(shape)

    SP._compiled = capture
    try:  # the study's sweeps only: no timing programs, no bootstrap to speak of
        BS._compile_timing_programs, BS.time_updates = (lambda *a, **k: None), (
            lambda X, y, sizes, rates, **k: np.ones((len(sizes), 1)))
        BS.measure(problem, bootstrap=2)
    finally:
        SP._compiled = compiled
    sds = jax.ShapeDtypeStruct
    lowered = []
    for shape in shapes:
        (states_jit, states_args), (orders_jit, orders_args) = SP._draw_jits(shape.draw_shape())
        states = jax.eval_shape(states_jit, *states_args)
        orders = (jax.eval_shape(orders_jit, *orders_args),) * shape.chunk_epochs if orders_jit else None
        for plan in shape.plans:
            chunk = jax.jit(functools.partial(SP._chunk, plan=plan, record=shape.record))
            lowered.append(chunk.lower(sds(shape.x_shape, shape.x_dtype), sds(shape.y_shape, shape.x_dtype), states,
                                       None if plan.full_batch else orders, sds((), np.int32), None))
    return lowered


def compile_costs(lowered):
    out = {}
    for fast in (False, True, False, True):  # twice each, alternating: the second pair is kept
        cpu0, wall0 = _cpu_seconds(), time.perf_counter()
        for low in lowered:
            jax.clear_caches()  # else a program compiled before (by the study, or a round ago) is reused
            SP._compile(low, fast)
        out["fast_compile" if fast else "default"] = {
            "programs": len(lowered), "cpu_seconds": _cpu_seconds() - cpu0, "wall_seconds": time.perf_counter() - wall0}
    return out


def run_costs(rounds=7):
    d = jaxgd.synthetic_data(num_examples=1000)
    X, y = np.asarray(d.X), np.asarray(d.y)
    kwargs = dict(batch_sizes=[50], lrs=list(np.geomspace(0.005, 0.1, 20)), seeds=50, epochs=50, progress=False)
    results, times = {}, {False: [], True: []}
    for fast in (False, True):
        results[fast] = jaxgd.sweep(X, y, fast_compile=fast, **kwargs)  # compiles
    for _ in range(rounds):
        for fast in (False, True):
            t0 = time.perf_counter()
            jaxgd.sweep(X, y, fast_compile=fast, **kwargs)
            times[fast].append(time.perf_counter() - t0)
    same = all(np.array_equal(getattr(results[False], f), getattr(results[True], f)) for f in ("epoch_loss", "w", "b"))
    return {("fast_compile" if fast else "default"): {
        "compile_seconds": results[fast].compile_seconds, "run_median_seconds": float(np.median(times[fast])),
        "run_min_seconds": float(np.min(times[fast]))} for fast in (False, True)} | {"same_bits": same}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", help="write the figures to this file too")
    args = parser.parse_args(argv)
    jax.config.update("jax_enable_compilation_cache", False)
    lowered = _study_chunks(BS.ill_conditioned_problem())
    out = {"date": time.strftime("%Y-%m-%d"), "cpus": os.cpu_count(), "cpu": _cpu_model(), "commit": _commit(),
           "jax": jax.__version__, "study_chunks": compile_costs(lowered), "sweep_1000_runs": run_costs()}
    c, r = out["study_chunks"], out["sweep_1000_runs"]
    print(f"{'':28}{'default':>10}{'fast_compile':>14}")
    print(f"{'study chunks: compile CPU s':28}{c['default']['cpu_seconds']:10.2f}{c['fast_compile']['cpu_seconds']:14.2f}"
          f"   ({c['default']['programs']} programs)")
    print(f"{'study chunks: compile wall s':28}{c['default']['wall_seconds']:10.2f}"
          f"{c['fast_compile']['wall_seconds']:14.2f}")
    print(f"{'1000 runs: compile s':28}{r['default']['compile_seconds']:10.2f}{r['fast_compile']['compile_seconds']:14.2f}")
    print(f"{'1000 runs: run ms, median':28}{r['default']['run_median_seconds'] * 1e3:10.1f}"
          f"{r['fast_compile']['run_median_seconds'] * 1e3:14.1f}")
    print(f"{'1000 runs: run ms, min':28}{r['default']['run_min_seconds'] * 1e3:10.1f}"
          f"{r['fast_compile']['run_min_seconds'] * 1e3:14.1f}")
    print(f"same bits (SGD): {r['same_bits']}")
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
