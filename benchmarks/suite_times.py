"""Where the test suite's time goes, per module, from pytest's JUnit XML.

    python -m pytest tests benchmarks README.md docs --markdown-docs --benchmark-disable --junitxml=run.xml
    python -m benchmarks.suite_times run.xml [--top 20] [--before earlier.xml]

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
    p.add_argument("--before", default=None, help="an earlier run's XML: its figures beside each module's")
    args = p.parse_args(argv)
    runs = {}
    for path in filter(None, (args.before, args.xml)):
        try:
            runs[path] = per_module(path)
        except (OSError, ET.ParseError) as e:
            p.error(f"cannot read {path} as pytest's JUnit XML: {e}")
    if args.before:
        return _side_by_side(runs[args.before], runs[args.xml], args.top)
    rows = sorted(runs[args.xml].items(), key=lambda kv: -kv[1][0])
    total = sum(s for s, _ in dict(rows).values())
    print(f"{'module':40s} {'seconds':>8s} {'tests':>6s}")
    for module, (s, n) in rows[: args.top]:
        print(f"{module:40s} {s:8.1f} {n:6d}")
    print(f"{'all ' + str(len(rows)) + ' modules':40s} {total:8.1f} {sum(n for _, n in dict(rows).values()):6d}")


def _side_by_side(before, after, top):
    """A Markdown table: each module's seconds and tests before and after, largest before first."""
    rows = sorted(set(before) | set(after), key=lambda m: -before.get(m, (0.0, 0))[0])
    print("| module | before: seconds | tests | after: seconds | tests |")
    print("|---|---|---|---|---|")
    for m in rows[:top]:
        (s0, n0), (s1, n1) = before.get(m, (0.0, 0)), after.get(m, (0.0, 0))
        print(f"| {m} | {s0:.1f} | {n0} | {s1:.1f} | {n1} |")
    total = [sum(v[i] for v in d.values()) for d in (before, after) for i in (0, 1)]
    print(f"| all | {total[0]:.1f} | {total[1]} | {total[2]:.1f} | {total[3]} |")


if __name__ == "__main__":
    main()
