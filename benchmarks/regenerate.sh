#!/usr/bin/env bash
# One run of every benchmark, each raw JSON into benchmarks/runs/<date>/, then BENCHMARKS.md from
# that directory alone (benchmarks/report.py --run-dir). Run on a quiet machine, from the repo root,
# in an environment with jaxgd[dev] (and Debian's chromium + chromium-driver for explore_timing):
#     bash benchmarks/regenerate.sh [DIR]
set -euo pipefail
R=${1:-benchmarks/runs/$(date +%F)}
mkdir -p "$R"
export PYTHONPATH=$PWD
step() { echo "== $(date +%T) $*" >&2; }
step "pytest benchmarks (full sizes, timed)"
pytest benchmarks --benchmark-only --benchmark-json="$R/bench.json" -q -p no:cacheprovider
step "several processes: cost"
python -m benchmarks.distributed_cost --processes 1 2 4 --repeats 5 --json "$R/distributed_cost.json"
step "several processes: memory"
python -m benchmarks.distributed_memory --json "$R/distributed_memory.json"
step "command latency"
python -m benchmarks.cli_latency --repeats 3 --heavy-repeats 1 --json "$R/cli_latency.json"
step "a sweep compiled to run once"
python benchmarks/compile_emitters.py --json "$R/compile_emitters.json"
step "jaxgd explore"
python benchmarks/explore_timing.py --builds 2 --changes 500 --json "$R/explore_timing.json"
step "report"
python benchmarks/report.py --run-dir "$R" > BENCHMARKS.md
step "done: $R"
