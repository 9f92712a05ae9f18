"""What a user waits for: each command's wall time, warm and cold, beside ``python -c "import jax"``.

    python -m benchmarks.cli_latency [--repeats 3] [--heavy-repeats 1] [--commands compare help ...] [--json OUT]

Every command runs as a user runs it (a fresh process, the ``jaxgd`` entry point of this
Python), in a scratch directory, with its own compilation cache directory
(``JAXGD_CACHE_DIR``): *cold* is the first run into an empty cache, *warm* a later run with
the cache the earlier runs filled. The floor, ``python -c "import jax"``, is measured in the
same run, interleaved with the commands, so the ratios hold on any machine; each figure is the
median of ``--repeats`` runs (cold: each into a new empty cache), ``--heavy-repeats`` for the
commands that take tens of seconds or minutes (``HEAVY``). ``parity --optimizer all``'s goal
is in seconds (``GOAL_SECONDS``), not a multiple: warm, it reads torch's runs from the cache
(``jaxgd.parity.reference_cache``) and runs only the JAX side.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

JAXGD = [sys.executable, "-m", "jaxgd"]
COMMANDS = {
    "help": ["--help"],
    "compare": ["compare"],
    "claims": ["claims"],
    "batch-size": ["batch-size"],
    "paths --gif": ["paths", "--gif", "jaxgd_paths.gif"],
    "parity --optimizer all": ["parity", "--optimizer", "all"],
}
HEAVY = {"claims", "batch-size", "paths --gif", "parity --optimizer all"}
# The issue's goals, as multiples of importing JAX: (warm, cold); None: no goal.
GOALS = {"help": (1.2, None), "compare": (2.5, 8.0), "claims": (15.0, None), "batch-size": (15.0, 40.0),
         "paths --gif": (10.0, None), "parity --optimizer all": (None, None)}
GOAL_SECONDS = {"parity --optimizer all": 120.0}  # warm, in seconds


def _timed(cmd, cwd, env):
    t = time.perf_counter()
    p = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - t
    if p.returncode != 0:
        sys.exit(f"benchmarks.cli_latency: {' '.join(cmd)} failed ({p.returncode}):\n{p.stderr[-2000:]}")
    return elapsed


def _cpu_model():
    """The CPU's model name (Linux), or None: hosts differ between runs, and so do the seconds."""
    try:
        with open("/proc/cpuinfo") as f:
            return next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), None)
    except OSError:
        return None


def _commit():
    """The checkout's commit (with "+changes" when the tree differs from it), or None."""
    here = os.path.dirname(os.path.abspath(__file__))
    try:
        sha = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=here, capture_output=True, text=True,
                             check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=here,
                               capture_output=True, text=True).stdout.strip()
        return sha + ("+changes" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return None


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--heavy-repeats", type=int, default=1, help="repeats of the HEAVY commands")
    p.add_argument("--commands", nargs="+", choices=list(COMMANDS), default=list(COMMANDS))
    p.add_argument("--no-cold", action="store_true", help="warm runs only (after one run to fill the cache)")
    p.add_argument("--json", default=None)
    args = p.parse_args(argv)
    env = {k: v for k, v in os.environ.items() if k != "JAXGD_NO_CACHE"}
    floor = []
    rows = {}
    with tempfile.TemporaryDirectory() as scratch:
        def import_jax():
            floor.append(_timed([sys.executable, "-c", "import jax"], scratch, env))

        for name in args.commands:
            cmd = JAXGD + COMMANDS[name]
            cold, warm = [], []
            cache = os.path.join(scratch, f"cache-{len(rows)}")
            repeats = args.heavy_repeats if name in HEAVY else args.repeats
            no_cold = args.no_cold
            for r in range(1 if no_cold else repeats):
                shutil.rmtree(cache, ignore_errors=True)
                import_jax()
                elapsed = _timed(cmd, scratch, {**env, "JAXGD_CACHE_DIR": cache})
                if not no_cold:  # with --no-cold this run only fills the cache
                    cold.append(elapsed)
            for r in range(repeats):
                import_jax()
                warm.append(_timed(cmd, scratch, {**env, "JAXGD_CACHE_DIR": cache}))
            rows[name] = {"warm_s": statistics.median(warm) if warm else None, "warm_runs": warm,
                          "cold_s": None if no_cold else statistics.median(cold), "cold_runs": cold}
            print(f"{name}: {rows[name]}", file=sys.stderr, flush=True)
    base = statistics.median(floor)
    print(f"import jax: {base:.2f} s (median of {len(floor)}, interleaved)\n")
    print(f"{'command':26}{'warm s':>8}{'x jax':>7}{'goal':>6}{'cold s':>8}{'x jax':>7}{'goal':>6}")
    for name, r in rows.items():
        gw, gc = GOALS[name]
        cold = r["cold_s"]
        fmt = lambda v, f: "-" if v is None else format(v, f)  # noqa: E731
        warm = r["warm_s"]
        print(f"{name:26}{fmt(warm, '8.2f'):>8}{fmt(None if warm is None else warm / base, '7.1f'):>7}"
              f"{fmt(gw, '6.1f') if name not in GOAL_SECONDS else f'{GOAL_SECONDS[name]:.0f} s':>6}"
              f"{fmt(cold, '8.2f'):>8}{fmt(None if cold is None else cold / base, '7.1f'):>7}{fmt(gc, '6.1f'):>6}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"date": time.strftime("%Y-%m-%d"), "cpus": os.cpu_count(), "cpu": _cpu_model(),
                       "commit": _commit(), "import_jax_s": base,
                       "import_jax_runs": floor, "commands": rows, "goals": GOALS,
                       "goal_seconds": GOAL_SECONDS}, f, indent=1)


if __name__ == "__main__":
    main()
