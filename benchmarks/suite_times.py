"""Where the test suite's time goes, per module, from pytest's JUnit XML.

    python -m pytest tests benchmarks README.md docs --markdown-docs --benchmark-disable --junitxml=run.xml
    python -m benchmarks.suite_times run.xml [--top 20]

Seconds are the sum of each module's test times (setup, call and teardown, as pytest reports
them); under ``-n`` (pytest-xdist) the workers' times add up to more than the wall time, which
pytest prints at the end of its run.
"""

from __future__ import annotations

import argparse
import collections
import xml.etree.ElementTree as ET


def per_module(path):
    """{module: (seconds, tests)} of one JUnit XML file; a Markdown file counts as one module."""
    seconds, tests = collections.Counter(), collections.Counter()
    for case in ET.parse(path).iter("testcase"):
        parts = case.get("classname", "").split(".")
        module = ".".join(parts[:2]) if parts[0] in ("tests", "benchmarks") else parts[0]
        seconds[module] += float(case.get("time", 0.0))
        tests[module] += 1
    return {m: (seconds[m], tests[m]) for m in seconds}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("xml", help="pytest --junitxml output")
    p.add_argument("--top", type=int, default=20, help="modules to print (default: %(default)s)")
    args = p.parse_args(argv)
    rows = sorted(per_module(args.xml).items(), key=lambda kv: -kv[1][0])
    total = sum(s for s, _ in dict(rows).values())
    print(f"{'module':40s} {'seconds':>8s} {'tests':>6s}")
    for module, (s, n) in rows[: args.top]:
        print(f"{module:40s} {s:8.1f} {n:6d}")
    print(f"{'all ' + str(len(rows)) + ' modules':40s} {total:8.1f} {sum(n for _, n in dict(rows).values()):6d}")


if __name__ == "__main__":
    main()
