"""``jaxgd explore`` at its default grid: the build's wall time (warm compilation cache) and the
page's redraw time in a real browser (Debian's chromium, driven by selenium).

    PYTHONPATH=$PWD python benchmarks/explore_timing.py               # build twice, time the 2nd
    PYTHONPATH=$PWD python benchmarks/explore_timing.py --page p.html --changes 500   # redraws only
    PYTHONPATH=$PWD python benchmarks/explore_timing.py --json explore_timing.json

Build: ``python -m jaxgd explore --out PAGE`` in a fresh process, with its own empty
``JAXGD_CACHE_DIR``: once cold, filling the caches (``build_cold_s``), then ``--builds`` more
times warm (skipped with --page); the command's own lines (the sweeps' seconds, the parity
check's seconds) are printed with the wall time. Redraw: the page is opened, and each of
``--changes`` control changes (batch size, lr, seed, optimizer, samples processed in turn, to
pseudo-random values) redraws once; the page times each redraw with ``performance.now()``
(``window.jaxgdExplore.redrawTimes``) and the script prints the median, the 95th percentile and
the largest, beside the 50 ms target.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from benchmarks.cli_latency import _commit, _cpu_model  # noqa: E402

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"


def build(page: str, cache: str) -> tuple[float, str]:
    env = {**{k: v for k, v in os.environ.items() if k != "JAXGD_NO_CACHE"}, "JAXGD_CACHE_DIR": cache}
    start = time.perf_counter()
    p = subprocess.run([sys.executable, "-m", "jaxgd", "explore", "--out", page], capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - start
    if p.returncode != 0:
        raise SystemExit(f"jaxgd explore failed ({p.returncode}):\n{p.stderr[-4000:]}")
    return seconds, p.stdout


def redraws(page: str, changes: int, seed: int = 0) -> dict:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--window-size=1400,1000"):
        opts.add_argument(arg)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    try:
        t0 = time.perf_counter()
        driver.get("file://" + os.path.abspath(page))
        load_s = time.perf_counter() - t0
        sizes = driver.execute_script(
            "return ['optimizer', 'batch', 'lr', 'seed', 'at'].map(id => { const e = document.getElementById(id);"
            " return e.tagName === 'SELECT' ? e.options.length : +e.max + 1; })")
        rng = np.random.default_rng(seed)
        first = driver.execute_script("return window.jaxgdExplore.redrawTimes.length")
        controls = ["batch", "lr", "seed", "optimizer", "at"]
        index = {"optimizer": 0, "batch": 1, "lr": 2, "seed": 3, "at": 4}
        for i in range(changes):
            control = controls[i % len(controls)]
            driver.execute_script(
                "const e = document.getElementById(arguments[0]); e.value = arguments[1];"
                "e.dispatchEvent(new Event('input', {bubbles: true}));",
                control, str(int(rng.integers(sizes[index[control]]))))
        times = np.asarray(driver.execute_script("return window.jaxgdExplore.redrawTimes")[first:], float)
        browser = driver.capabilities.get("browserVersion", "?")
    finally:
        driver.quit()
    return {"changes": changes, "recorded": int(times.size), "median_ms": float(np.median(times)),
            "p95_ms": float(np.percentile(times, 95)), "max_ms": float(times.max()), "page_load_s": load_s,
            "chromium": browser}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--page", help="time the redraws of this page only (no build)")
    ap.add_argument("--builds", type=int, default=1, help="timed builds after the warming one (default 1)")
    ap.add_argument("--changes", type=int, default=500, help="control changes to time (default 500)")
    ap.add_argument("--json", help="also write the numbers here")
    args = ap.parse_args(argv)
    commit = _commit()
    out = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"), "commit": commit,
           "cpus": os.cpu_count(), "cpu": _cpu_model(),
           "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"}
    print(f"{out['date']}  commit {commit}  {out['machine']}")
    with tempfile.TemporaryDirectory() as tmp:
        page = args.page or os.path.join(tmp, "jaxgd_explore.html")
        if not args.page:
            cache = os.path.join(tmp, "cache")  # empty: the first build is cold
            seconds, text = build(page, cache)
            out["build_cold_s"] = seconds
            print(f"build 1 (cold: fills an empty cache): {seconds:.1f} s")
            warm = []
            for k in range(args.builds):
                seconds, text = build(page, cache)
                warm.append(seconds)
                print(f"build {k + 2} (warm): {seconds:.1f} s")
                print("  " + text.strip().replace("\n", "\n  "))
            out["build_warm_s"] = warm
            out["build_warm_median_s"] = float(np.median(warm)) if warm else None
        out["page_mb"] = os.path.getsize(page) / 1e6
        r = redraws(page, args.changes)
        out.update(r)
    print(f"page: {out['page_mb']:.2f} MB; loaded in {r['page_load_s']:.2f} s (chromium {r['chromium']})")
    print(f"redraw over {r['recorded']} changes: median {r['median_ms']:.1f} ms, 95th percentile {r['p95_ms']:.1f} ms, "
          f"max {r['max_ms']:.1f} ms (target <= 50 ms)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
