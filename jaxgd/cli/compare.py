"""``jaxgd compare``: the tutorial's experiment, GD, mini-batch and SGD side by side, with a figure."""

from __future__ import annotations

import numpy as np

from . import _common as c


TRACE_POINTS = 5000  # points of each loss curve in the figure (d2l evaluates every 200 samples)
TRACE_MAX_VALUES = 20_000_000  # updates x (d + 1) parameters kept for the trace: 80 MB of float32


def record_step(n, epochs, points=TRACE_POINTS):
    """The trace's step in samples processed: every sample up to ``points`` points, else the
    step that gives about ``points`` (50 epochs of the tutorial's 1000 samples: every 10)."""
    return max(1, -(-epochs * n // points))


def add_parser(subparsers):
    from .._cli_data import add_data_arguments

    p = subparsers.add_parser(
        "compare", help="the tutorial's experiment: GD, mini-batch and SGD side by side, with a figure",
        description="Train GD (batch n), mini-batch SGD and SGD (batch 1) on the tutorial's data and "
                    "hyperparameters; print a table and write a figure.")
    c.add_common(p)
    p.add_argument("--batch-size", type=c.positive_int, default=c.TUTORIAL_BATCH,
                   help="mini-batch size (default: %(default)s)")
    p.add_argument("--out", type=c.figure_path, default="jaxgd_compare.png", help="figure path (default: %(default)s)")
    c.add_optimizer_arguments(p)
    add_data_arguments(p)
    p.set_defaults(func=run)
    return p


def run(args):
    from .. import plots
    from .._cli_data import report_parameters
    from .._train import variant_name

    opt = c.optimizer_from_args(args, "jaxgd compare")
    X, y, true_w, true_b, loaded = c.training_data(args)
    n = X.shape[0]
    c.check_batch_size(args.batch_size, n, loaded)
    results, rows = {}, []
    for batch_size in dict.fromkeys((n, args.batch_size, 1)):  # --batch-size 1 or n: each variant once
        label = f"{variant_name(batch_size, n)} (batch {batch_size})"
        r, wall, first = c.timed_train(X, y, batch_size=batch_size, lr=args.lr, epochs=args.epochs, seed=args.seed,
                                       optimizer=opt, schedule=args.schedule)
        results[label] = r
        if r.diverged_at is None:
            outcome = [f"{float(r.epoch_loss[-1]):.5f}", c.fmt_vec(r.w), c.fmt_vec(r.b)]
        else:
            outcome = [f"diverged at epoch {r.diverged_at}", "-", "-"]
        rows.append([r.config.variant, batch_size, r.updates, *outcome, f"{wall * 1e3:.2f}", f"{first:.2f}"])
    if loaded is None:
        print(f"Linear regression y = Xw + b + N(0, 0.5²): n={n}, d={X.shape[1]}, true w={c.fmt_vec(true_w)}, "
              f"b={float(true_b):g}; lr={args.lr}, epochs={args.epochs}, seed={args.seed}\n")
    else:
        print(f"lr={args.lr}, epochs={args.epochs}, seed={args.seed}\n")
    print(c.describe_optimizer(opt, args.schedule) + "\n")
    c.print_table(["variant", "batch", "updates", "final loss", "w", "b", "wall ms", "first call s"], rows)
    print("\nwall ms: one whole training run, median of 5 after the first call;"
          " first call s: the first call, compilation included.")
    if any(r.diverged_at is not None for r in results.values()):
        print(f"diverged: {c.DIVERGED}; try a smaller --lr than {args.lr:g}")
    if loaded is not None and loaded.standardized:
        for label, r in results.items():
            if r.diverged_at is None:
                print(f"\n{label}:\n{report_parameters(loaded, np.asarray(r.w), np.asarray(r.b))}")
    # The figure's loss curves: the same runs again (bit-identical), recorded every R samples
    # (at most ~TRACE_POINTS points a curve), apart from the timings above. Small data only:
    # the trace keeps every update's parameters in memory.
    if args.epochs * n * (X.shape[1] + 1) <= TRACE_MAX_VALUES:
        every = record_step(n, args.epochs)
        for label, r in results.items():
            results[label] = c.quiet_train(X, y, batch_size=r.config.batch_size, lr=args.lr, epochs=args.epochs,
                                           seed=args.seed, optimizer=opt, schedule=args.schedule, record_every=every)
    path = plots.compare_figure(X, y, true_w, true_b, results, args.out)
    print(f"figure: {path}")
    return 0
