"""The ``claims`` and ``sweep`` subcommands, wired into the main CLI by ``jaxgd.cli``:

    add_claims_parser(subparsers); add_sweep_parser(subparsers)

Each adds a subparser whose ``func`` is ``(args) -> int``. Bad input raises ValueError with a
message naming the problem (the main CLI prints it on one line and exits with code 2).
"""

from __future__ import annotations

import numpy as np

from .cli import (  # the tutorial's settings and the argparse types, defined once
    TUTORIAL_BATCH, TUTORIAL_EPOCHS, TUTORIAL_LR, TUTORIAL_N, _batch_sizes, _positive_floats, _positive_float,
    _positive_int, check_batch_size, csv_path, figure_path, table,
)


def add_claims_parser(subparsers):
    p = subparsers.add_parser(
        "claims",
        help="check the tutorial's conclusions about GD, SGD and mini-batch SGD over many seeds",
        description="Runs GD (batch n), mini-batch (batch 50) and SGD (batch 1) at the tutorial's "
        "settings over several random seeds, prints each of the tutorial's claims with the figures "
        "behind it (median and 90% interval across seeds) and whether the data support it, and "
        "writes a 2x2 figure of the excess loss against epochs, updates, samples and wall time.",
    )
    p.add_argument("--seeds", type=_positive_int, default=20,
                   help="number of random seeds, at least 2 (default: %(default)s)")
    p.add_argument("--epochs", type=_positive_int, default=TUTORIAL_EPOCHS, help="epochs (default: %(default)s)")
    p.add_argument("--lr", type=_positive_float, default=TUTORIAL_LR, help="learning rate (default: %(default)s)")
    p.add_argument("--n", type=_positive_int, default=TUTORIAL_N, help="number of examples (default: %(default)s)")
    p.add_argument("--batch-size", type=_positive_int, default=TUTORIAL_BATCH,
                   help="mini-batch size, between 2 and n - 1 (default: %(default)s)")
    p.add_argument("--out", type=figure_path, default="jaxgd_claims.png", help="figure path (default: %(default)s)")
    p.set_defaults(func=cmd_claims)
    return p


def cmd_claims(args) -> int:
    from ._claims import check_claims

    report = check_claims(seeds=args.seeds, epochs=args.epochs, lr=args.lr, n=args.n,
                          batch_size=args.batch_size, out=args.out)
    print(report.text)
    return 0


def add_sweep_parser(subparsers):
    p = subparsers.add_parser(
        "sweep",
        help="train every (learning rate, batch size, random seed); heatmap and CSV of all runs",
        description="Trains every combination of learning rate, batch size and random seed (one "
        "compiled program per batch size), writes a heatmap of the median across seeds (final "
        "excess loss or epochs to the target; diverged cells marked) and a CSV with one row per run.",
    )
    p.add_argument("--lrs", type=_positive_floats, default="0.005,0.01,0.02,0.05,0.1",
                   help="comma-separated learning rates (default: %(default)s)")
    p.add_argument("--batch-sizes", type=_batch_sizes, default="1,10,50,n",
                   help="comma-separated batch sizes, 'n' = full batch (default: %(default)s)")
    p.add_argument("--seeds", type=_positive_int, default=5,
                   help="number of random seeds per cell (default: %(default)s)")
    p.add_argument("--epochs", type=_positive_int, default=TUTORIAL_EPOCHS, help="epochs (default: %(default)s)")
    p.add_argument("--n", type=_positive_int, default=TUTORIAL_N,
                   help="number of examples, at least 2 (default: %(default)s)")
    p.add_argument("--out", type=figure_path, default="jaxgd_sweep.png", help="heatmap path (default: %(default)s)")
    p.add_argument("--csv", type=csv_path, default="jaxgd_sweep.csv", help="CSV path (default: %(default)s)")
    p.add_argument("--metric", choices=["excess", "epochs"], default="excess",
                   help="heatmap value: 'excess' (final excess loss) or 'epochs' (epochs to 1%% of the "
                   "initial excess) (default: %(default)s)")
    p.set_defaults(func=cmd_sweep)
    return p


def cmd_sweep(args) -> int:
    from . import analysis, plots
    from ._cli_data import data_from_args, describe
    from ._data import synthetic_data
    from ._sweep import sweep

    loaded = data_from_args(args)
    if loaded is not None:  # a data file: n is its row count
        print(describe(loaded))
        args.n = loaded.n_rows
    if args.n < 2:
        raise ValueError(f"--n must be at least 2, got {args.n}")
    batch_sizes = [args.n if b is None else b for b in args.batch_sizes]
    for b in batch_sizes:
        check_batch_size(b, args.n, loaded, flag="--batch-sizes")
    batch_sizes, lrs = sorted(set(batch_sizes)), sorted(set(args.lrs))

    if loaded is None:
        X, y = synthetic_data(num_examples=args.n)[:2]
    else:
        X, y = loaded.X, loaded.y
    result = sweep(X, y, batch_sizes=batch_sizes, lrs=lrs, seeds=args.seeds,
                         epochs=args.epochs, step_loss="none")
    result.to_csv(args.csv)
    values, label = plots.sweep_cells(result, args.metric)
    path = plots.sweep_heatmap(result, args.metric, args.out)

    B, L, S = result.shape
    print(f"sweep: {B} batch sizes x {L} learning rates x {S} seeds = {result.num_runs} runs, "
          f"{args.epochs} epochs, n={args.n}; compile {result.compile_seconds:.1f} s, "
          f"run {result.draw_seconds + result.run_seconds.sum():.2f} s")
    print(f"{label}, median over seeds ('div' = every seed diverged, k/{S}d = k seeds diverged):")
    header = ["batch \\ lr"] + [f"{lr:g}" for lr in result.lrs]
    rows = []
    for i, bs in enumerate(result.batch_sizes):
        row = [f"{int(bs)} ({result.variants[i]})"]
        for j in range(L):
            k = int(result.diverged[i, j].sum())
            v = values[i, j]
            cell = "div" if k == S else (
                f">{args.epochs}" if args.metric == "epochs" and not np.isfinite(v) else f"{v:.3g}")
            row.append(cell + (f" {k}/{S}d" if 0 < k < S else ""))
        rows.append(row)
    print(table(header, rows))
    print(f"target: excess loss <= {analysis.DEFAULT_REL_TARGET:.0%} of the initial excess")
    print(f"csv: {args.csv} ({result.num_runs} rows)")
    print(f"figure: {path}")
    return 0
