"""Turn one run's raw JSON files into BENCHMARKS.md.

    python benchmarks/report.py --run-dir benchmarks/runs/DATE > BENCHMARKS.md   # every file of one run
    python benchmarks/report.py bench.json [later.json ...] [--no-hlo]
        [--latency cli_latency.json] [--explore explore_timing.json]
        [--distributed distributed_cost.json] [--distributed-memory distributed_memory.json]

``bench.json``: ``pytest benchmarks --benchmark-only --benchmark-json=bench.json`` (a later file's
groups replace the earlier one's). Per group: every contender's median, jaxgd's speed-up over it,
jaxgd / floor. Then, for each optional file given, its section: ``--distributed``
(``python -m benchmarks.distributed_cost --json``), ``--distributed-memory``
(``python -m benchmarks.distributed_memory --json``), ``--latency`` (``python -m benchmarks.cli_latency
--json``), ``--explore`` (``benchmarks/explore_timing.py --json``); ``--run-dir D`` reads
D/bench.json, D/distributed_cost.json, D/distributed_memory.json, D/cli_latency.json and
D/explore_timing.json where present (a file named explicitly wins). After each section's table
comes the prose of ``benchmarks/notes/<section>.md`` where it exists: explanations only, no
run's figures. Then the targets, each marked met / MISSED, and for every missed target the
compiled HLO's op counts (``benchmarks/hlo.py``) that bear on it and ``benchmarks/NOTES.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

SEED_GROUPS = ["seed-GD", "seed-mini-batch", "seed-SGD"]
LARGE_GROUPS = ["large-GD", "large-mini-batch"]
TORCHREF_TARGET = {"seed-SGD": 1000, "seed-mini-batch": 100, "seed-GD": 30}


def fmt_t(s):
    if s is None:
        return "–"
    return f"{s * 1e6:.0f} µs" if s < 1e-3 else f"{s * 1e3:.2f} ms" if s < 1 else f"{s:.2f} s"


def fmt_x(r):
    return "–" if r is None else f"{r:,.0f}×" if r >= 100 else f"{r:.2f}×"


def fmt_vs(r, limit):
    """``fmt_x``, with a third decimal where two would read as the limit itself (1.502 missed)."""
    return f"{r:.3f}×" if r < 100 and f"{r:.2f}" == f"{limit:.2f}" else fmt_x(r)


def row_key(group, info, name):
    """A row's name in its group: the contender, then the variant (memory, compile), then the optimizer."""
    key = info.get("contender", name)
    if group in ("memory", "compile"):
        key += f" {info['variant']}"
    if "optimizer" in info:
        key += f" {info['optimizer']}"
    return key


def load(path, groups=None):
    """(JSON data, {group: {row: stats}}). With ``groups`` (an earlier file's), every group this
    file has replaces that group whole, so each group's ratios come from one session."""
    data = json.load(open(path))
    mine = {}
    for b in data["benchmarks"]:
        info = b.get("extra_info", {})
        mine.setdefault(b["group"], {})[row_key(b["group"], info, b["name"])] = dict(
            median=b["stats"]["median"], min=b["stats"]["min"], rounds=b["stats"]["rounds"], info=info, name=b["name"])
    if groups is None:
        return data, mine
    groups.update(mine)
    return data, groups


def machine(data):
    lines = []
    try:
        model = [l.split(":", 1)[1].strip() for l in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines()
                 if l.startswith("Model name")][0]
    except Exception:
        model = data.get("machine_info", {}).get("cpu", {}).get("brand_raw", "?")
    try:
        import psutil

        ram = f"{psutil.virtual_memory().total / 2**30:.1f} GiB"
    except Exception:
        ram = "?"
    vers = []
    for mod in ("jax", "jaxlib", "optax", "torch", "numba", "sklearn", "numpy"):
        try:
            vers.append(f"{mod} {__import__(mod).__version__}")
        except Exception:
            pass
    mi = data.get("machine_info", {})
    ci = data.get("commit_info", {})
    lines.append(f"- Machine: {os.cpu_count()} cores, {model}, {ram} RAM, {platform.platform()}")
    lines.append(f"- Python {mi.get('python_version', platform.python_version())}; " + ", ".join(vers))
    if not data:
        return lines
    lines.append(f"- Run: {data.get('datetime', '?')} (UTC); commit {ci.get('id', '?')[:10]} on `{ci.get('branch', '?')}`"
                 f"{' (dirty)' if ci.get('dirty') else ''}")
    return lines


def table(rows, header):
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return out


RUN_FILES = {"bench": "bench.json", "distributed": "distributed_cost.json", "distributed_memory": "distributed_memory.json",
             "latency": "cli_latency.json", "explore": "explore_timing.json", "emitters": "compile_emitters.json"}
NOTES_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "notes")


def parse_args(argv):
    ap = argparse.ArgumentParser(description="One run's raw JSON files -> BENCHMARKS.md (markdown on stdout).")
    ap.add_argument("bench", nargs="*", help="pytest-benchmark JSON files (pytest benchmarks --benchmark-only "
                                             "--benchmark-json=F); a later file's groups replace an earlier one's")
    ap.add_argument("--no-hlo", action="store_true", help="skip the HLO op counts of the missed targets")
    ap.add_argument("--run-dir", metavar="D", help="read " + ", ".join(f"D/{f}" for f in RUN_FILES.values())
                    + " where present (files named explicitly win; D/bench.json comes before positional files)")
    ap.add_argument("--latency", metavar="F", help="python -m benchmarks.cli_latency --json F")
    ap.add_argument("--explore", metavar="F", help="python benchmarks/explore_timing.py --json F")
    ap.add_argument("--distributed", metavar="F", help="python -m benchmarks.distributed_cost --json F")
    ap.add_argument("--distributed-memory", metavar="F", help="python -m benchmarks.distributed_memory --json F")
    ap.add_argument("--emitters", metavar="F", help="python benchmarks/compile_emitters.py --json F")
    args = ap.parse_args(argv)
    if args.run_dir:
        if not os.path.isdir(args.run_dir):
            ap.error(f"--run-dir {args.run_dir}: not a directory")
        for key, name in RUN_FILES.items():
            path = os.path.join(args.run_dir, name)
            if not os.path.exists(path):
                continue
            if key == "bench":
                args.bench = [path] + [b for b in args.bench if os.path.abspath(b) != os.path.abspath(path)]
            elif getattr(args, key) is None:
                setattr(args, key, path)
    if not args.bench and not any(getattr(args, k) for k in RUN_FILES if k != "bench"):
        ap.error("nothing to report: give bench JSON files, --run-dir or one of --latency/--explore/--distributed/"
                 "--distributed-memory")
    return args


def notes(name):
    """The prose of benchmarks/notes/<name>.md, or nothing."""
    path = os.path.join(NOTES_DIR, name + ".md")
    return [open(path).read().strip(), ""] if os.path.exists(path) else []


def main(argv):
    args = parse_args(argv)
    with_hlo = not args.no_hlo
    data, groups = load(args.bench[0]) if args.bench else ({}, {})
    extra = []
    for p in args.bench[1:]:  # e.g. a later run of some files only: its groups replace the first's
        d, _ = load(p, groups)
        ci = d.get("commit_info", {})
        extra.append(f"- Also from `{os.path.basename(p)}`: run {d.get('datetime', '?')} (UTC), commit "
                     f"{ci.get('id', '?')[:10]}{' (dirty)' if ci.get('dirty') else ''}: groups "
                     + ", ".join(sorted({b['group'] for b in d['benchmarks']})))
    out = ["# jaxgd benchmarks", "", *machine(data), *extra,
           f"- Report: `python benchmarks/report.py {' '.join(argv)}` (every command: benchmarks/README.md)", ""]
    if args.bench:
        out += ["Medians of steady-state calls (after a warm-up call; `block_until_ready` on JAX results). "
                "Speed-up = contender median / jaxgd median (jaxgd with its default, on-device drawn orders). "
                "Every contender's answer is asserted equal to jaxgd's in the same run (see benchmarks/README.md).", ""]
    targets = []  # (name, value, limit, met, why-key)

    for g in SEED_GROUPS:
        rows_g = groups.get(g)
        if not rows_g:
            continue
        j = rows_g.get("jaxgd")
        floor = rows_g.get("numba")
        info = j["info"]
        out += [f"## {g} (n={info['n']}, d={info['d']}, batch {info['batch_size']}, {info['epochs']} epochs, "
                f"{info['updates']:,} updates)", ""]
        rows = []
        for name, r in sorted(rows_g.items(), key=lambda kv: kv[1]["median"]):
            rows.append([name, fmt_t(r["median"]), r["rounds"], f"{r['median'] * 1e9 / info['updates']:,.0f}",
                         fmt_x(r["median"] / j["median"]),
                         fmt_x(r["median"] / floor["median"]) if floor else "–"])
        out += table(rows, ["contender", "median", "rounds", "ns/update", "jaxgd speed-up", "÷ numba floor"]) + [""]
        if floor:
            for jn in ("jaxgd", "jaxgd(order=)"):
                if jn in rows_g:
                    ratio = rows_g[jn]["median"] / floor["median"]
                    targets.append((f"{g}: {jn} ≤ 1.5× numba floor", fmt_vs(ratio, 1.5), ratio <= 1.5, ("seed-floor", g, jn)))
        if "torchref" in rows_g:
            s = rows_g["torchref"]["median"] / j["median"]
            targets.append((f"{g}: ≥ {TORCHREF_TARGET[g]}× faster than torchref", fmt_x(s), s >= TORCHREF_TARGET[g], None))
        if "sklearn" in rows_g:
            s = rows_g["sklearn"]["median"] / j["median"]
            targets.append((f"{g}: faster than SGDRegressor", fmt_x(s), s > 1, None))

    for g in LARGE_GROUPS:
        rows_g = groups.get(g)
        if not rows_g:
            continue
        j = rows_g.get("jaxgd")
        info = j["info"]
        floors = {k: v for k, v in rows_g.items() if v["info"].get("floor")}
        best = min(floors.values(), key=lambda v: v["median"]) if floors else None
        passes = best["info"]["passes_per_epoch"] if best else None
        out += [f"## {g} (n={info['n']:,}, d={info['d']}, float32, batch {info['batch_size']}, {info['epochs']} epochs; "
                f"X+y = {info['dataset_bytes'] / 1e6:.0f} MB)", "",
                f"Floors: {passes} pass(es) over X per epoch (`X @ w`{' and `X.T @ r`' if passes == 2 else ''}), "
                f"repeated once per epoch; ÷ floor uses the fastest floor ({best['info']['contender'] if best else '–'}).", ""]
        rows = []
        for name, r in sorted(rows_g.items(), key=lambda kv: kv[1]["median"]):
            ep = r["median"] / info["epochs"]
            rows.append([name, fmt_t(r["median"]), r["rounds"], fmt_t(ep),
                         f"{info['dataset_bytes'] * (passes or 1) / ep / 1e9:.1f}" if r["info"].get("floor") else "–",
                         fmt_x(r["median"] / j["median"]), fmt_x(r["median"] / best["median"]) if best else "–"])
        out += table(rows, ["contender", "median", "rounds", "per epoch", "GB/s", "jaxgd speed-up", "÷ floor"]) + [""]
        lim = 1.5 if g == "large-GD" else 2.0
        for jn in ("jaxgd", "jaxgd(order=)"):
            if jn in rows_g and best:
                ratio = rows_g[jn]["median"] / best["median"]
                what = "two-pass" if g == "large-GD" else "one-pass"
                targets.append((f"{g}: {jn} epoch ≤ {lim}× the {what} floor", fmt_vs(ratio, lim), ratio <= lim, ("large", g, jn)))
        gather = rows_g.get("floor-gather-numpy")
        if gather and j:
            out += [f"Shuffled mini-batches read rows at random addresses: numpy's own `X[batch]` over one epoch "
                    f"(floor-gather-numpy) takes {fmt_t(gather['median'] / info['epochs'])}, "
                    f"{fmt_x(gather['median'] / best['median'])} the sequential one-pass floor; "
                    f"jaxgd's epoch is {fmt_x(j['median'] / gather['median'])} that gather floor.", ""]

    out += optimizer_section(groups, targets)

    if "memory-big" in groups:
        out += ["## memory-big (10,000,000 × 32 float32, mini-batch 1024, 1 epoch; fresh subprocess per row)", "",
                "Peak resident set of the run over the data's own bytes, by how X reaches `jaxgd.train`: a plain numpy "
                "array (numpy aligns to 16 bytes, so JAX's CPU client copies it), a 64-byte-aligned numpy array (used "
                "in place), and a memory-mapped `.npy` pair loaded with `jaxgd`'s data loader.", ""]
        rows = []
        for name, r in sorted(groups["memory-big"].items(), key=lambda kv: kv[1]["info"]["peak_ratio"]):
            i = r["info"]
            rows.append([i["source"], f"{i['dataset_bytes'] / 1e9:.2f} GB", "yes" if i["device_put_aliases_x"] else "no (copied)",
                         f"{i['peak_rss'] / 1e9:.2f} GB", f"{i['peak_ratio']:.2f}"])
            targets.append((f"memory 10M×32 ({i['source']}): peak ≤ 1.3× the data", f"{i['peak_ratio']:.2f}×",
                            i["peak_ratio"] <= 1.3, None))
        out += table(rows, ["X given as", "data", "used in place by JAX", "peak RSS", "peak / data"]) + [""]

    if "devices-GD" in groups:
        out += ["## devices (forced CPU devices: all share this machine's 2 cores, so this shows that the sharded "
                "paths run and what they cost, not scaling)", ""]
        rows = []
        for name, r in sorted(groups["devices-GD"].items(), key=lambda kv: (kv[1]["info"]["case"], kv[1]["info"]["devices"])):
            i = r["info"]
            what = (f"GD n={i['n']:,} d={i['d']}, per epoch" if i["case"] == "GD"
                    else f"sweep {i['lrs']} lrs × {i['seeds']} seeds, batch {i['batch']}, {i['epochs']} epochs")
            t = i["epoch_s"] if i["case"] == "GD" else i["median_s"]
            rows.append([what, i["devices"], fmt_t(t)])
        out += table(rows, ["case", "devices", "median (inside the subprocess)"]) + [""]

    if "sweep" in groups:
        out += ["## sweep (seed workload, mini-batch 50, 50 epochs: one `jaxgd.sweep` against that many `jaxgd.train` runs)", ""]
        rows = []
        for name, r in groups["sweep"].items():
            i = r["info"]
            rows.append([i["grid"], i["runs"], fmt_t(i["sweep_median_seconds"]), fmt_t(i["one_train_median_seconds"]),
                         fmt_t(i["sweep_median_seconds"] / i["runs"]), f"{i['ratio']:.3f}"])
            targets.append((f"sweep of {i['runs']} runs ≤ {i['target_ratio']}× {i['runs']} train runs",
                            f"{i['ratio']:.3f}×", i["ratio"] <= i["target_ratio"], None))
        out += table(rows, ["grid", "runs", "sweep (median)", "one train run (median)", "sweep per run",
                            "ratio (min over interleaved repeats)"]) + [""]

    if "compile" in groups:
        out += ["## compile (seed workload, `jaxgd.train` with the compiled-program cache cleared before each round)", ""]
        rows = []
        for name, r in groups["compile"].items():
            i = r["info"]
            st = i.get("compile_stages_s", {})
            opt = i.get("optimizer")
            rows.append([i["variant"], opt or "sgd (default)", fmt_t(r["median"]), r["rounds"],
                         st.get("jaxpr_trace_duration", "–"), st.get("jaxpr_to_mlir_module_duration", "–"),
                         st.get("backend_compile_duration", "–"), i.get("recompiles_for_new_lr")])
            what = i["variant"] + (f" {opt}" if opt else "")
            targets.append((f"compile {what}: ≤ 0.5 s", fmt_t(r["median"]), r["median"] <= 0.5,
                            None if opt else ("compile", i["variant"])))
        out += table(rows, ["variant", "optimizer", "median (compile + 1 run)", "rounds", "trace s", "lower s",
                            "XLA compile s", "recompiles for 2nd hyperparameter values (asserted 0)"]) + [""]

    if "memory" in groups:
        out += ["## memory (large workload, fresh subprocess per row; `benchmarks/memprobe.py`)", "",
                "peak ÷ data = (peak RSS of the timed run − RSS of the warmed-up runtime before the data existed) "
                "÷ bytes of X and y.", ""]
        rows = []
        for name, r in sorted(groups["memory"].items()):
            i = r["info"]
            rows.append([i["contender"], i["variant"], f"{i['dataset_bytes'] / 1e6:.0f} MB", f"{i['baseline_rss'] / 1e6:.0f} MB",
                         f"{i['rss_before_run'] / 1e6:.0f} MB", f"{i['peak_rss'] / 1e6:.0f} MB", f"{i['extra_peak_ratio']:.2f}",
                         i["peak_method"]])
            if i["contender"] == "jaxgd":
                targets.append((f"memory {i['variant']}: peak ≤ 1.3× the dataset", f"{i['extra_peak_ratio']:.2f}×",
                                i["extra_peak_ratio"] <= 1.3, ("memory", i["variant"])))
        out += table(rows, ["contender", "variant", "X+y", "runtime baseline", "RSS before run", "peak RSS", "peak ÷ data",
                            "method"]) + [""]

    if args.distributed:
        out += distributed_section(args.distributed, targets)
    if args.distributed_memory:
        out += distributed_memory_section(args.distributed_memory, targets)
    if args.latency:
        out += latency_section(args.latency, targets)
    if args.emitters:
        out += emitters_section(args.emitters)
    if args.explore:
        out += explore_section(args.explore, targets)

    out += ["## Targets", ""]
    out += table([[t[0], t[1], "met" if t[2] else "**MISSED**"] for t in targets], ["target", "measured", "status"]) + [""]

    missed = [t for t in targets if not t[2]]
    if missed:
        out += ["## Why the missed targets are missed", ""]
        if with_hlo and any(t[3] and t[3][0] != "notes" for t in missed):
            out += hlo_section(groups, missed)
        if groups:
            notes_md = os.path.join(os.path.dirname(os.path.abspath(__file__)), "NOTES.md")
            if os.path.exists(notes_md):
                out += ["", open(notes_md).read().strip(), ""]
        below = sorted({t[3][1] for t in missed if t[3] and t[3][0] == "notes"})
        if below:
            out += ["Missed targets of the sections " + ", ".join(f'"{b}"' for b in below)
                    + ": see the notes below those sections' tables.", ""]
    print("\n".join(out))


OPTIM_GROUPS = ["tutorial-optim-GD", "tutorial-optim-mini-batch", "tutorial-optim-SGD", "large-optim-GD",
                "large-optim-mini-batch"]
PLAIN_GROUP = {"tutorial-optim-GD": "seed-GD", "tutorial-optim-mini-batch": "seed-mini-batch",
               "tutorial-optim-SGD": "seed-SGD", "large-optim-GD": "large-GD", "large-optim-mini-batch": "large-mini-batch"}


def optimizer_section(groups, targets):
    """jaxgd against idiomatic PyTorch with the same torch.optim optimizer (``test_optimizers.py``)."""
    present = [g for g in OPTIM_GROUPS if groups.get(g)]
    if not present:
        return []
    out = ["## optimizers (`benchmarks/test_optimizers.py`: jaxgd vs idiomatic PyTorch with the same torch.optim optimizer)", "",
           "Same data, init and orders as the seed/large groups; `sgd-momentum` is `optim.sgd(momentum=0.9)` vs "
           "`torch.optim.SGD(momentum=0.9)`, `adam` is `optim.adam()` vs `torch.optim.Adam()`. Speed-up = torch median / "
           "jaxgd median, both measured in the same run; \"÷ plain SGD\" = this jaxgd median / jaxgd's plain-SGD median "
           "of the matching seed/large group (from the same JSON file as this group, when present).", ""]
    rows = []
    for g in present:
        rows_g = groups[g]
        plain = groups.get(PLAIN_GROUP[g], {}).get("jaxgd")
        opts = sorted({r["info"]["optimizer"] for r in rows_g.values()})
        for opt in opts:
            j, t = rows_g.get(f"jaxgd {opt}"), rows_g.get(f"torch-idiomatic {opt}")
            if not j:
                continue
            info = j["info"]
            per = (f"{j['median'] * 1e9 / info['updates']:,.0f} ns/update" if g.startswith("tutorial")
                   else f"{fmt_t(j['median'] / info['epochs'])}/epoch")
            speed = t["median"] / j["median"] if t else None
            rows.append([g, opt, f"n={info['n']:,} d={info['d']} batch {info['batch_size']} × {info['epochs']} ep",
                         fmt_t(j["median"]), j["rounds"], per, fmt_t(t["median"]) if t else "–", t["rounds"] if t else "–",
                         fmt_x(speed), fmt_x(j["median"] / plain["median"]) if plain else "–"])
            if speed is not None:
                targets.append((f"{g} {opt}: jaxgd faster than idiomatic torch", fmt_x(speed), speed > 1, None))
    out += table(rows, ["group", "optimizer", "workload", "jaxgd median", "rounds", "jaxgd", "torch median", "rounds",
                        "jaxgd speed-up", "÷ plain SGD"]) + [""]
    return out


def run_line(d, path, more=""):
    """One italic line: the run's date, commit and machine, as far as its JSON has them, and the file."""
    where = ", ".join(str(x) for x in (f"{d['cpus']} CPUs" if d.get("cpus") else None, d.get("cpu")) if x)
    if not where and d.get("machine"):
        where = d["machine"]
    parts = [f"Run {d.get('date', '(date not recorded)')}"]
    if d.get("commit"):
        parts.append(f"at {d['commit']}")
    if where:
        parts.append(f"on {where}")
    return f"_{' '.join(parts)}{more}; raw figures: `{path}`._"


def fmt_g(x):
    return f"{x:g}"


def latency_section(path, targets):
    """``python -m benchmarks.cli_latency --json``: every command's warm and cold seconds against importing JAX."""
    d = json.load(open(path))
    base = d["import_jax_s"]
    goals, goal_s = d.get("goals", {}), d.get("goal_seconds", {})
    out = ["## command latency (`python -m benchmarks.cli_latency`, against `python -c \"import jax\"` in the same run)", "",
           run_line(d, path), ""]
    rows, runs = [], {}
    for name, r in d["commands"].items():
        cmd = f"`jaxgd {'--help' if name == 'help' else name}`"
        gw, gc = goals.get(name, (None, None))
        cells = [cmd]
        for kind, goal in (("warm", gw), ("cold", gc)):
            s = r.get(f"{kind}_s")
            ratio = None if s is None else s / base
            cells += ["–" if s is None else f"{s:.2f}", "–" if ratio is None else f"{ratio:.1f}"]
            if kind == "warm" and name in goal_s:  # a goal in seconds, not a multiple of import jax
                lim = goal_s[name]
                met = s is not None and s <= lim
                cells.append(f"{fmt_g(lim)} s ({'met' if met else 'missed'})" if s is not None else f"{fmt_g(lim)} s")
                if s is not None:
                    targets.append((f"{cmd} {kind} ≤ {fmt_g(lim)} s", f"{s:.2f} s", met, ("notes", "command latency")))
            elif goal is not None:
                met = ratio is not None and ratio <= goal
                cells.append(f"{fmt_g(goal)} ({'met' if met else 'missed'})" if ratio is not None else fmt_g(goal))
                if ratio is not None:
                    targets.append((f"{cmd} {kind} ≤ {fmt_g(goal)}× import jax", f"{ratio:.2f}×", met,
                                    ("notes", "command latency")))
            else:
                cells.append("–")
        rows.append(cells)
        runs.setdefault(len(r.get("warm_runs", [])), []).append(cmd)
    out += table(rows, ["command", "warm s", "× import jax", "goal", "cold s", "× import jax", "goal"]) + [""]
    per = "; ".join(f"{k} for {', '.join(v)}" for k, v in sorted(runs.items(), reverse=True))
    out += [f"`import jax`: {base:.2f} s, the median of {len(d.get('import_jax_runs', []))} runs interleaved with the "
            f"commands. Each figure is the median of a command's runs ({per}).", ""]
    return out + notes("latency") + notes("compile_cache")


def emitters_section(path):
    """``benchmarks/compile_emitters.py --json``: ``sweep(fast_compile=True)`` against the default."""
    d = json.load(open(path))
    c, r = d["study_chunks"], d["sweep_1000_runs"]
    out = ["## a sweep compiled to run once (`sweep(fast_compile=True)`; `python benchmarks/compile_emitters.py`)", "",
           run_line(d, path), ""]
    rows = [[f"compile, CPU s: the {c['default']['programs']} chunk programs of one `jaxgd batch-size` problem",
             f"{c['default']['cpu_seconds']:.2f}", f"{c['fast_compile']['cpu_seconds']:.2f}",
             f"{c['fast_compile']['cpu_seconds'] / c['default']['cpu_seconds']:.2f}"],
            ["compile, wall s: the same", f"{c['default']['wall_seconds']:.2f}", f"{c['fast_compile']['wall_seconds']:.2f}",
             f"{c['fast_compile']['wall_seconds'] / c['default']['wall_seconds']:.2f}"],
            ["run, ms: the 1000-run tutorial sweep, median", f"{r['default']['run_median_seconds'] * 1e3:.1f}",
             f"{r['fast_compile']['run_median_seconds'] * 1e3:.1f}",
             f"{r['fast_compile']['run_median_seconds'] / r['default']['run_median_seconds']:.2f}"]]
    out += table(rows, ["what", "default", "fast_compile", "ratio"]) + [""]
    out += [f"The same bits with SGD: {'yes' if r['same_bits'] else '**no**'} (the 1000 runs' losses and parameters). "
            "The commands that run each sweep once (`batch-size`, `claims`, `optimizers`, `explore`) compile this "
            "way; `jaxgd.sweep`'s default is the faster run.", ""]
    return out


def explore_section(path, targets):
    """``benchmarks/explore_timing.py --json``: the build's wall time, the page's size, its redraw times."""
    d = json.load(open(path))
    warm = d.get("build_warm_s") or []
    head = (f"## jaxgd explore (the default grid; `python benchmarks/explore_timing.py"
            f"{f' --builds {len(warm)}' if warm else ' --page PAGE'} --changes {d.get('changes', '?')}`)")
    out = [head, "", run_line(d, path), ""]
    rows = []
    if warm:
        slowest = max(warm)
        rows.append([f"`jaxgd explore` warm (compilation cache filled), whole command, {len(warm)} build(s)",
                     ", ".join(f"{s:.1f} s" for s in warm), "≤ 60 s"])
        targets.append((f"`jaxgd explore` warm build ≤ 60 s (slowest of {len(warm)})", f"{slowest:.1f} s",
                        slowest <= 60, ("notes", "jaxgd explore")))
    if d.get("build_cold_s") is not None:
        rows.append(["`jaxgd explore` cold (the first build, into an empty cache)", f"{d['build_cold_s']:.1f} s", ""])
    rows.append(["the page", f"{d['page_mb']:.2f} MB", "≤ 5 MB"])
    targets.append(("`jaxgd explore` page ≤ 5 MB", f"{d['page_mb']:.2f} MB", d["page_mb"] <= 5, ("notes", "jaxgd explore")))
    if "page_load_s" in d:
        rows.append([f"the page's load in headless chromium {d.get('chromium', '')}".rstrip(), f"{d['page_load_s']:.2f} s", ""])
    rows.append([f"redraw after a control change, {d.get('recorded', d.get('changes'))} changes (`performance.now()`)",
                 f"median {d['median_ms']:.1f} ms, 95th percentile {d['p95_ms']:.1f} ms, max {d['max_ms']:.1f} ms",
                 "≤ 50 ms (max)"])
    targets.append((f"`jaxgd explore` redraw ≤ 50 ms (slowest of {d.get('recorded', d.get('changes'))})",
                    f"{d['max_ms']:.1f} ms", d["max_ms"] <= 50, ("notes", "jaxgd explore")))
    out += table(rows, ["what", "measured", "target"]) + [""]
    return out + notes("explore")


DIST_LABELS = {"psum of 3 float32 (d + 2)": "psum of 3 float32 (d + 2)",
               "update / all-reduce of d + 2": "update ÷ psum of d + 2"}


def fmt_us(v):
    v *= 1e6
    return f"{v:,.0f}" if abs(v) >= 10 else f"{v:.1f}" if abs(v) >= 1 else f"{v:.2f}"


def distributed_section(path, targets):
    """``python -m benchmarks.distributed_cost --json``: per-call µs of the bare collectives and of an update."""
    d = json.load(open(path))
    res = d["results"]
    procs = " ".join(str(r["processes"]) for r in res)
    cmd = f"python -m benchmarks.distributed_cost --processes {procs}" + (f" --repeats {d['repeats']}" if d.get("repeats") else "")
    if d.get("launcher") and d["launcher"] != "local":
        cmd += f" --launcher {d['launcher']}"
    more = f"; XLA_FLAGS `{d['xla_flags']}`" if d.get("xla_flags") else ""
    out = [f"## several processes: an update against the bare all-reduce (`{cmd}`)", "", run_line(d, path, more), ""]
    keys = [k for k in res[0] if k not in ("processes", "devices")]
    rows = []
    for k in keys:
        if k.startswith("update /"):
            rows.append([DIST_LABELS.get(k, k)] + [f"{r[k]:.2f}" if k in r else "–" for r in res])
        else:
            rows.append([DIST_LABELS.get(k, k)] + [fmt_us(r[k]) if k in r else "–" for r in res])
    out += table(rows, ["per call (µs)"] + [f"P={r['processes']}" for r in res]) + [""]
    two = [r for r in res if r["processes"] == 2]
    if two:
        ratio = two[0]["update / all-reduce of d + 2"]
        targets.append(("P=2: mini-batch update ≤ 1.5× psum of d + 2", f"{ratio:.2f}×", ratio <= 1.5,
                        ("notes", "several processes: an update")))
    return out + notes("distributed")


def distributed_memory_section(path, targets):
    """``python -m benchmarks.distributed_memory --json``: each process's peak against its shard."""
    d = json.load(open(path))
    procs = d["processes"]
    out = [f"## several processes: memory ({d['n']:,} × {d['d']} float32 over {len(procs)} processes on localhost; "
           f"`python -m benchmarks.distributed_memory --n {d['n']} --d {d['d']}`)", "", run_line(d, path), ""]
    rows = []
    worst = None
    for r in procs:
        sw = r.get("seconds_with_compile", {})
        mib = lambda v: "–" if v is None else f"{v:.1f} MiB"  # noqa: E731
        rows.append([r["process"], f"{r['rows']:,}", mib(r["shard_MB"]), mib(r["baseline_MB"]), mib(r["after_load_MB"]),
                     mib(sw.get("GD_hwm_MB")), mib(sw.get("mini-batch_hwm_MB")), f"{r['peak_over_shard']:.2f}",
                     f"{r['peak_above_baseline_over_shard']:.2f}"])
        above = ((sw["mini-batch_hwm_MB"] - r["baseline_MB"]) / r["shard_MB"] if "mini-batch_hwm_MB" in sw
                 else r["peak_above_baseline_over_shard"])
        worst = above if worst is None else max(worst, above)
    out += table(rows, ["process", "rows", "shard (X, y)", "runtime baseline", "after loading its rows", "peak after GD",
                        "peak after mini-batch", "peak ÷ shard", "(peak − baseline) ÷ shard"]) + [""]
    targets.append((f"several processes: mini-batch peak above the runtime baseline ≤ 1.3× the shard "
                    f"(worst of {len(procs)} processes)", f"{worst:.2f}×", worst <= 1.3,
                    ("notes", "several processes: memory")))
    return out + notes("distributed_memory")


def hlo_section(groups, missed):
    from benchmarks import hlo

    out = ["Op counts of the optimised HLO of the training program (`jaxgd.core`: draw + run) for each missed case "
           "(`python -m benchmarks.hlo --dump DIR` writes the full text). One row per `while` loop: "
           "top-level ops of its body (fusions count once), all ops including fused computations, and the "
           "data-movement ops (gather, dynamic-slice, copy).", ""]
    cases = {}
    for _, _, _, key in missed:
        if not key:
            continue
        g = key[1] if key[0] != "compile" and key[0] != "memory" else None
        if key[0] == "seed-floor" or key[0] == "large":
            info = groups[g][key[2]]["info"]
            cases[(g, key[2])] = (info["n"], info["d"], info["batch_size"], info["epochs"], key[2] == "jaxgd(order=)")
        elif key[0] == "compile":
            info = groups["compile"][f"jaxgd {key[1]}"]["info"]
            cases[("compile", key[1])] = (info["n"], info["d"], info["batch_size"], info["epochs"], False)
        elif key[0] == "memory":
            info = groups["memory"][f"jaxgd {key[1]}"]["info"]
            cases[("memory", key[1])] = (info["n"], info["d"], info["batch_size"], info["epochs"], False)
    rows = []
    for (g, who), args in cases.items():
        s = hlo.stats(*args)
        if "error" in s:
            rows.append([f"{g} {who}", s["error"], "", "", "", "", "", "", ""])
            continue
        for i, L in enumerate(s["loops"]):
            rows.append([f"{g} {who}" if i == 0 else "", f"{s['whiles']} whiles, {s['total_ops']} ops, {s['copies']} copies" if i == 0 else "",
                         L["body"][:28], L["top_level_ops"], L["all_ops_incl_fused"], L["gathers"], L["dynamic_slices"],
                         L["copies"], L["dots"]])
    return table(rows, ["case", "whole program", "while body", "body ops", "ops incl. fused", "gathers", "dyn-slices",
                        "copies", "dots"]) + [""]


if __name__ == "__main__":
    main(sys.argv[1:])
