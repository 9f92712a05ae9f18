"""``jaxgd explore``: one self-contained HTML page of real runs (every batch size, learning rate,
optimizer and seed of a grid), with a sample of them verified against PyTorch."""

from __future__ import annotations

import argparse
import os
import shlex

from jaxgd.cli import _common as c

DEFAULT_LRS = "0.001,0.002,0.005,0.01,0.02,0.05,0.1,0.2,0.5,1,2,5"  # jaxgd.explore.DEFAULT_LRS
DEFAULT_BATCH_SIZES = "1,2,5,10,20,50,100,200,500,n"
PARITY_POINTS = 12  # jaxgd.explore._parity.DEFAULT_POINTS
POINTS = 101  # jaxgd.explore.DEFAULT_POINTS


def html_path(text):
    """An output path ending in .html, checked before any work like ``csv_path``."""
    if os.path.splitext(text)[1].lower() not in (".html", ".htm"):
        raise argparse.ArgumentTypeError(f"{text} does not end in .html")
    return c.csv_path(text)


def optimizer_names(text):
    """Comma-separated optimizer names, or 'all' (checked against the registry when the command runs)."""
    names = [t.strip() for t in str(text).split(",")]
    if not all(names):
        raise argparse.ArgumentTypeError(f"expected comma-separated optimizer names or 'all', got {text!r}")
    return None if names == ["all"] else names


def add_parser(subparsers):
    from jaxgd.cli._data import add_data_arguments

    p = subparsers.add_parser(
        "explore", help="one self-contained web page of real runs to play with, verified against PyTorch",
        description="Run one vmapped sweep per optimizer over batch sizes, learning rates and seeds on "
                    "one-feature data, each run traced on a grid of samples processed, and write one HTML file "
                    "(no server, no network) with controls for each: the data with the fit, the path over the "
                    "loss contours, the loss against samples processed and against updates, the final loss or "
                    "the epoch it diverged. A sample of the runs is replayed in PyTorch when torch is installed; "
                    "the page says what was verified. Exit 1 if that parity check fails.")
    p.add_argument("--n", type=c.positive_int, default=c.TUTORIAL_N,
                   help="number of examples of the synthetic data (default: %(default)s)")
    p.add_argument("--epochs", type=c.positive_int, default=c.TUTORIAL_EPOCHS, help="epochs (default: %(default)s)")
    p.add_argument("--data-seed", type=c.random_seed, default=0,
                   help="random seed of the synthetic data and of --val-fraction's split (default: %(default)s)")
    p.add_argument("--batch-sizes", type=c.batch_sizes, default=DEFAULT_BATCH_SIZES,
                   help="comma-separated batch sizes, 'n' = full batch (default: %(default)s)")
    p.add_argument("--lrs", type=c.positive_floats, default=DEFAULT_LRS,
                   help="comma-separated learning rates (default: %(default)s)")
    p.add_argument("--seeds", type=c.int_range(1, 20), default=3,
                   help="seeds 0 .. S-1 of the initial parameters and the sample orders, 1 to 20 (default: %(default)s)")
    p.add_argument("--optimizers", type=optimizer_names, default="all",
                   help="comma-separated optimizer names, each at torch's defaults (default: all)")
    p.add_argument("--points", type=c.int_range(2, 1001), default=POINTS,
                   help="trace points a run, 2 to 1001: the page's size grows with it (default: %(default)s)")
    p.add_argument("--parity-points", type=c.int_range(0, 200), default=PARITY_POINTS,
                   help="runs replayed in PyTorch when torch is installed, 0 to 200 (default: %(default)s)")
    c.add_val_fraction(p)
    p.add_argument("--out", type=html_path, default="jaxgd_explore.html", help="the page (default: %(default)s)")
    c.add_json(p)
    add_data_arguments(p)
    p.set_defaults(func=run, d=1)  # d: the synthetic data's one feature (c.tutorial_data)
    return p


def _command(args) -> str:
    """The command line that makes this page, with the flags that differ from the defaults."""
    parts = ["jaxgd", "explore"]
    given = [("--data", args.data, None), ("--target", args.target, None), ("--n", args.n, c.TUTORIAL_N),
             ("--epochs", args.epochs, c.TUTORIAL_EPOCHS), ("--data-seed", args.data_seed, 0),
             ("--seeds", args.seeds, 3), ("--points", args.points, POINTS),
             ("--parity-points", args.parity_points, PARITY_POINTS), ("--val-fraction", args.val_fraction, None)]
    for flag, value, default in given:
        if value != default:
            parts += [flag, str(value)]
    for flag, on in (("--standardize", args.standardize), ("--drop-nonfinite", args.drop_nonfinite)):
        if on:
            parts.append(flag)
    if args.batch_sizes != c.batch_sizes(DEFAULT_BATCH_SIZES):
        parts += ["--batch-sizes", ",".join("n" if b is None else str(b) for b in args.batch_sizes)]
    if args.lrs != c.positive_floats(DEFAULT_LRS):
        parts += ["--lrs", ",".join(f"{v:g}" for v in args.lrs)]
    if args.optimizers is not None:
        parts += ["--optimizers", ",".join(args.optimizers)]
    parts += ["--out", os.path.basename(args.out)]
    return " ".join(shlex.quote(p) for p in parts)


def run(args):
    import time

    import numpy as np

    from jaxgd import explore, optim

    t0 = time.perf_counter()
    if args.data is not None and args.n != c.TUTORIAL_N:
        raise c.usage_error(args, "--n sets the size of the synthetic data; --data reads all the file's rows")
    for name in args.optimizers or ():
        if name not in optim.NAMES:
            raise c.usage_error(args, f"--optimizers: unknown optimizer {name!r}; known: {', '.join(optim.NAMES)}")
    if args.optimizers is not None and len(set(args.optimizers)) != len(args.optimizers):
        raise c.usage_error(args, f"--optimizers names one twice: {','.join(args.optimizers)}")
    X, y, true_w, true_b, loaded = c.training_data(args)
    n, d = X.shape
    if d != 1:
        raise c.InputError(f"{loaded.source if loaded else 'the data'} has {d} features; jaxgd explore draws the "
                           "fit and the paths over (w, b) for one feature")
    X, y, validation = c.validation_split(args, X, y, loaded)
    n = X.shape[0]
    for bs in args.batch_sizes:
        c.check_batch_size(bs, n, loaded, flag="--batch-sizes", held_out=0 if validation is None else len(validation[0]))
    batch_sizes = [n if b is None else b for b in args.batch_sizes]
    if len(set(batch_sizes)) != len(batch_sizes):
        raise c.usage_error(args, f"--batch-sizes names one twice (n = {n})")
    runs = explore.run_grid(X, y, batch_sizes=batch_sizes, lrs=args.lrs, seeds=args.seeds,
                            optimizers=args.optimizers, epochs=args.epochs, points=args.points, validation=validation)
    print(f"{runs.num_runs:,} runs ({len(runs.optimizers)} optimizers x {len(batch_sizes)} batch sizes x "
          f"{len(args.lrs)} learning rates x {args.seeds} seeds, {args.epochs} epochs, {len(runs.samples)} trace points "
          f"each): {runs.seconds:.1f} s; {int(np.sum(runs.diverged_epoch >= 0)):,} diverged")
    parity = explore.check(X, y, runs, args.parity_points)
    if parity.checked:
        print(f"parity with PyTorch at {len(parity.points)} sampled runs: worst |page - torch| {parity.worst_diff:.1e}, "
              f"worst / tolerance {parity.worst_ratio:.2g} ({'ok' if parity.ok else 'BROKEN'}; {parity.seconds:.1f} s)")
    else:
        print(f"parity with PyTorch: not checked ({parity.reason}); {explore.CHECK_COMMAND} checks it")
    source = loaded.source if loaded is not None else f"the tutorial's data (n={n}, data seed {args.data_seed})"
    page = explore.render(X, y, runs, parity, source=source, command=_command(args), validation=validation,
                          true_params=None if true_w is None else (float(np.ravel(true_w)[0]), float(true_b)))
    with open(args.out, "w", encoding="utf-8") as f:
        f.write(page)
    print(f"page: {args.out} ({os.path.getsize(args.out) / 1e6:.2f} MB; {time.perf_counter() - t0:.1f} s in all)")
    c.write_json(args.json, {
        "page": args.out, "bytes": os.path.getsize(args.out), "runs": runs.num_runs,
        "diverged": int(np.sum(runs.diverged_epoch >= 0)), "sweep_seconds": runs.seconds,
        "seconds": time.perf_counter() - t0, "trace_samples": runs.samples,
        "parity": {"checked": parity.checked, "reason": parity.reason, "ok": parity.ok, "tolerance": parity.tolerance,
                   "worst_diff": parity.worst_diff, "worst_ratio": parity.worst_ratio, "seconds": parity.seconds,
                   "drawn_from": parity.pool,
                   "points": [{"optimizer": q.optimizer, "batch_size": q.batch_size, "lr": q.lr, "seed": q.seed,
                               "max_diff": q.max_diff, "ratio": q.ratio, "ok": q.ok} for q in parity.points]},
        "config": {"command": _command(args), "n": n, "epochs": args.epochs, "data_seed": args.data_seed,
                   "batch_sizes": batch_sizes, "lrs": args.lrs, "seeds": args.seeds,
                   "optimizers": list(runs.optimizers), "points": args.points, "parity_points": args.parity_points,
                   "val_fraction": args.val_fraction, "data": args.data, "target": args.target,
                   "standardize": args.standardize, "drop_nonfinite": args.drop_nonfinite}})
    if parity.checked and not parity.ok:
        print("parity BROKEN: a sampled run differs from PyTorch beyond the tolerance (the page says so)")
        return 1
    return 0
