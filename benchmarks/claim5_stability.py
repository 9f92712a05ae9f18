"""Claim 5's verdict, run several times in a row in fresh processes: is it the same every time?

    PYTHONPATH=$PWD python benchmarks/claim5_stability.py            # 5 runs of `jaxgd batch-size`
    PYTHONPATH=$PWD python benchmarks/claim5_stability.py --runs 2 --json claim5_runs.json

Each run is ``python -m jaxgd batch-size --json ...`` at its defaults (both problems, 4 seeds, 24
learning rates, targets 1e-2, 1e-3, 1e-4) in a new process, one after the other. The script
prints, per run, the verdict, its reason's count, each (problem, target)'s B_crit interval, and
the batch size fastest in wall time on this machine with its edge/mid ratio (information the
report prints beside the verdict, which does not read it), then whether every run gave the same
verdict and reason. Exit status 0 when they all agree, 1 when they do not.

It takes 5 x the time of one `jaxgd batch-size` (1-4 minutes each on 2 CPU cores shared with
other jobs at a load average of 6-12, compilation included). A recorded run:
``claim5_stability-2026-12-01.txt`` (and ``.json``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time


def one_run(workdir: str, k: int) -> dict:
    out_json = os.path.join(workdir, f"run{k}.json")
    cmd = [sys.executable, "-m", "jaxgd", "batch-size", "--json", out_json, "--out",
           os.path.join(workdir, f"run{k}.png")]
    start = time.perf_counter()
    p = subprocess.run(cmd, check=False, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if p.returncode != 0:
        raise SystemExit(f"run {k} failed ({p.returncode}):\n{p.stderr[-4000:]}")
    with open(out_json) as f:
        data = json.load(f)
    rounds = [r["seconds_per_update_rounds"] for r in data["rows"] if r["seconds_per_update_rounds"]]
    per_update = [r["seconds_per_update"] for r in data["rows"]]
    return {
        "run": k, "seconds": round(seconds, 1), "verdict": data["verdict"], "reason": data["reason"],
        "timing_spread": max((max(t) / min(t) for t in rounds), default=None),
        "seconds_per_update_range": [min(per_update), max(per_update)],
        "pairs": [{"problem": r["problem"], "target": r["target"], "B_crit": r.get("B_crit"),
                   "B_crit_interval": (r.get("intervals") or {}).get("B_crit"), "b_crit_inside": r["b_crit_inside"],
                   "fastest_batch_size": r["fastest_batch_size"], "mid_speedup": r["mid_speedup"]}
                  for r in data["fits"]],
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs in a row (default: %(default)s)")
    parser.add_argument("--json", default=None, help="write every run's verdict and pairs here")
    args = parser.parse_args(argv)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], check=False, capture_output=True,
                            text=True).stdout.strip()
    print(f"claim 5, {args.runs} runs of `jaxgd batch-size` in fresh processes; commit {commit or '?'}; "
          f"{platform.node()}, "
          f"{os.cpu_count()} CPUs, load average at start {os.getloadavg()[0]:.1f}; "
          f"{time.strftime('%Y-%m-%d %H:%M:%S')}", flush=True)
    runs = []
    with tempfile.TemporaryDirectory() as workdir:
        for k in range(1, args.runs + 1):
            r = one_run(workdir, k)
            runs.append(r)
            count = r["reason"].split(" (problem, target)")[0]
            wall = ", ".join(f"{p['problem']} {p['target']:g}: {p['fastest_batch_size']} "
                             f"({p['mid_speedup']:.2g})" if p["mid_speedup"] is not None else
                             f"{p['problem']} {p['target']:g}: {p['fastest_batch_size']}" for p in r["pairs"])
            crit = ", ".join(f"{p['problem']} {p['target']:g}: {p['B_crit']:.3g} "
                             f"[{p['B_crit_interval'][0]:.3g}, {p['B_crit_interval'][1]:.3g}]"
                             for p in r["pairs"] if p["B_crit"] is not None)
            print(f"run {k}: {r['verdict']} ({count}) in {r['seconds']:.0f} s; load average {os.getloadavg()[0]:.1f}",
                  flush=True)
            print(f"  B_crit [90%]: {crit}", flush=True)
            print(f"  information, fastest in wall time (edge/mid): {wall}", flush=True)
            lo, hi = r["seconds_per_update_range"]
            spread = f"{r['timing_spread']:.2g}x" if r["timing_spread"] else "-"
            print(f"  information, one update: {lo * 1e6:.2g} to {hi * 1e6:.2g} us over the batch sizes; "
                  f"the rounds of one batch size differed by up to {spread}", flush=True)
    same = all((r["verdict"], r["reason"]) == (runs[0]["verdict"], runs[0]["reason"]) for r in runs)
    moved = len({tuple(p["fastest_batch_size"] for p in r["pairs"]) for r in runs}) > 1
    print(f"verdict and reason identical in all {len(runs)} runs: {'yes' if same else 'NO'}")
    print(f"fastest batch sizes in wall time (not part of the verdict) the same in all runs: {'no' if moved else 'yes'}")
    print(f"verdict: {runs[0]['verdict']}: {runs[0]['reason']}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"same": same, "runs": runs}, f, indent=1)
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
