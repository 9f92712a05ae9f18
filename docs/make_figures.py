"""Regenerates every figure in docs/ with one command, and checks that the committed ones are current.

    python docs/make_figures.py                 # all figures (a few minutes on 2 cores)
    python docs/make_figures.py compare paths   # some of them
    python docs/make_figures.py --check [NAME ...]

Each figure is drawn by the ``jaxgd`` command a user runs (``FIGURES`` below: the command line
and the files it writes), with ``--json`` writing the data the figure was drawn from to
``docs/figures-data/NAME.json`` beside the PNG. ``--check`` runs the same commands into a
scratch directory and compares the fresh JSON with the committed one: every number must be
equal (floats to ``RTOL``) except wall-clock timings (keys naming a time, which vary by
machine), so a figure whose data no longer come from the current code fails the check. tests/test_docs_figures.py runs the
check for the figures that take seconds (``QUICK``); the others take minutes, so run
``--check`` for them before committing a change to what they draw.
"""

from __future__ import annotations

import argparse
import json
import math
import pathlib
import re
import subprocess
import sys
import tempfile

DOCS = pathlib.Path(__file__).resolve().parent
DATA = DOCS / "figures-data"

# name -> (jaxgd arguments, {placeholder: file name in docs/}); {json} is always the data file.
FIGURES = {
    "compare": (["compare", "--out", "{png}", "--json", "{json}"], {"png": "compare.png"}),
    "paths": (["paths", "--out", "{png}", "--gif", "{gif}", "--json", "{json}"],
              {"png": "paths.png", "gif": "paths.gif"}),
    "sweep": (["sweep", "--out", "{png}", "--json", "{json}"], {"png": "sweep.png"}),
    "claims": (["claims", "--out", "{png}", "--json", "{json}"], {"png": "claims.png"}),
    "optimizers": (["optimizers", "--out", "{png}", "--json", "{json}"], {"png": "optimizers.png"}),
    "batch-size": (["batch-size", "--out", "{png}", "--json", "{json}"], {"png": "batch_size.png"}),
}
# Figures whose check takes seconds: tests/test_docs_figures.py runs these in the test suite.
QUICK = ("compare",)

# Words that make a key name a wall-clock measurement (or a figure derived from one, such as the
# fastest batch size or a speed-up): its values vary by machine and run, never by the code.
TIMING_WORDS = {"wall", "ms", "seconds", "time", "timing", "timings", "call", "fastest", "speedup", "throughput"}


# Floats agree to this, not bit for bit: the runs are float32, and XLA's CPU code (vector width,
# so the order of a sum) differs between hosts; across hosts the tutorial's runs agree to ~1e-6
# relative. A change in the code that draws a figure (a rate, a seed, an order) moves its numbers
# by far more than this. Integers (updates, counts) and strings must be equal.
RTOL, ATOL = 1e-4, 1e-7


def is_timing(key):
    return bool(TIMING_WORDS & set(re.split(r"[ _()]+", key.lower())))


def command(name, directory):
    """The jaxgd command line that draws ``name`` into ``directory``."""
    args, files = FIGURES[name]
    paths = {key: str(directory / file) for key, file in files.items()}
    paths["json"] = str(directory / f"{name}.json")
    return [sys.executable, "-m", "jaxgd", *(a.format(**paths) for a in args)]


def draw(name, directory):
    """Runs the command for ``name``, writing its files into ``directory``; raises on failure."""
    done = subprocess.run(command(name, directory), capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{name}: jaxgd exited {done.returncode}:\n{done.stderr}")
    return done.stdout


def differences(committed, fresh, where="", timing=False):
    """Where two JSON values differ, ignoring values under timing keys; a list of 'path: a != b'."""
    if isinstance(committed, dict) and isinstance(fresh, dict):
        out = [f"{where}: keys {sorted(set(committed) ^ set(fresh))}"] if set(committed) != set(fresh) else []
        for key in sorted(set(committed) & set(fresh)):
            out += differences(committed[key], fresh[key], f"{where}/{key}", timing or is_timing(key))
        return out
    if isinstance(committed, list) and isinstance(fresh, list):
        if len(committed) != len(fresh):
            return [f"{where}: length {len(committed)} != {len(fresh)}"]
        return [d for i, (a, b) in enumerate(zip(committed, fresh)) for d in differences(a, b, f"{where}[{i}]", timing)]
    if timing:
        return []
    if isinstance(committed, float) and isinstance(fresh, float):
        if math.isnan(committed) and math.isnan(fresh) or math.isclose(committed, fresh, rel_tol=RTOL, abs_tol=ATOL):
            return []
    return [] if committed == fresh else [f"{where}: {committed!r} != {fresh!r}"]


def check(name):
    """The differences between the committed data of ``name`` and a fresh run's."""
    committed = json.loads((DATA / f"{name}.json").read_text())
    with tempfile.TemporaryDirectory() as tmp:
        draw(name, pathlib.Path(tmp))
        fresh = json.loads((pathlib.Path(tmp) / f"{name}.json").read_text())
    return differences(committed, fresh)


def regenerate(name):
    """Draws ``name`` into docs/ (its PNG/GIF) and docs/figures-data/ (its JSON)."""
    DATA.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        draw(name, tmp)
        for file in FIGURES[name][1].values():
            (DOCS / file).write_bytes((tmp / file).read_bytes())
        (DATA / f"{name}.json").write_text((tmp / f"{name}.json").read_text())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"figures (default: all): {', '.join(FIGURES)}")
    parser.add_argument("--check", action="store_true",
                        help="compare the committed data with a fresh run's instead of writing")
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in FIGURES]
    if unknown:
        parser.error(f"unknown figure {unknown[0]!r}; choose from {', '.join(FIGURES)}")
    failed = 0
    for name in args.names or FIGURES:
        if args.check:
            diff = check(name)
            print(f"{name}: {'current' if not diff else f'{len(diff)} differences'}")
            for line in diff[:10]:
                print(f"  {line}")
            failed += bool(diff)
        else:
            regenerate(name)
            print(f"{name}: written ({', '.join(FIGURES[name][1].values())}, figures-data/{name}.json)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
