"""Turn ``pytest benchmarks --benchmark-only --benchmark-json=bench.json`` output into markdown.

    python benchmarks/report.py bench.json > BENCHMARKS.md          # add --no-hlo to skip HLO stats
    python benchmarks/report.py bench.json later.json > BENCHMARKS.md   # later.json's groups replace bench.json's

Per group: every contender's median, jaxgd's speed-up over it, jaxgd / floor; then the targets,
each marked met / MISSED, and for every missed target the compiled HLO's op counts
(``benchmarks/hlo.py``) that bear on it.
"""

from __future__ import annotations

import datetime
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
    lines.append(f"- Run: {data.get('datetime', '?')} (UTC); commit {ci.get('id', '?')[:10]} on `{ci.get('branch', '?')}`"
                 f"{' (dirty)' if ci.get('dirty') else ''}")
    lines.append("- Command: `pytest benchmarks --benchmark-only --benchmark-json=bench.json && "
                 "python benchmarks/report.py bench.json > BENCHMARKS.md`")
    return lines


def table(rows, header):
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return out


def main(argv):
    paths = [a for a in argv if not a.startswith("--")]
    with_hlo = "--no-hlo" not in argv
    data, groups = load(paths[0])
    extra = []
    for p in paths[1:]:  # e.g. a later run of some files only: its groups replace the first's
        d, _ = load(p, groups)
        ci = d.get("commit_info", {})
        extra.append(f"- Also from `{os.path.basename(p)}`: run {d.get('datetime', '?')} (UTC), commit "
                     f"{ci.get('id', '?')[:10]}{' (dirty)' if ci.get('dirty') else ''}: groups "
                     + ", ".join(sorted({b['group'] for b in d['benchmarks']})))
    out = ["# jaxgd benchmarks", "", *machine(data), *extra, "",
           "Medians of steady-state calls (after a warm-up call; `block_until_ready` on JAX results). "
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
                    targets.append((f"{g}: {jn} ≤ 1.5× numba floor", fmt_x(ratio), ratio <= 1.5, ("seed-floor", g, jn)))
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
                targets.append((f"{g}: {jn} epoch ≤ {lim}× the {what} floor", fmt_x(ratio), ratio <= lim, ("large", g, jn)))
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

    out += ["## Targets", ""]
    out += table([[t[0], t[1], "met" if t[2] else "**MISSED**"] for t in targets], ["target", "measured", "status"]) + [""]

    missed = [t for t in targets if not t[2]]
    if missed:
        out += ["## Why the missed targets are missed", ""]
        if with_hlo:
            out += hlo_section(groups, missed)
        notes = os.path.join(os.path.dirname(os.path.abspath(__file__)), "NOTES.md")
        if os.path.exists(notes):
            out += ["", open(notes).read().strip(), ""]
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
