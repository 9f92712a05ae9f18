"""``jaxgd compare``: the tutorial's experiment, GD, mini-batch and SGD side by side, with a figure."""

from __future__ import annotations

from jaxgd.cli import _common as c


TRACE_POINTS = 5000  # points of each loss curve in the figure (d2l evaluates every 200 samples)
TRACE_MAX_VALUES = 20_000_000  # updates x (d + 1) parameters kept for the trace: 80 MB of float32


def record_step(n, epochs, points=TRACE_POINTS):
    """The trace's step in samples processed: every sample up to ``points`` points, else the
    step that gives about ``points`` (50 epochs of the tutorial's 1000 samples: every 10)."""
    return max(1, -(-epochs * n // points))


def add_parser(subparsers):
    from jaxgd.cli._data import add_data_arguments

    p = subparsers.add_parser(
        "compare", help="the tutorial's experiment: GD, mini-batch and SGD side by side, with a figure",
        description="Train GD (batch n), mini-batch SGD and SGD (batch 1) on the tutorial's data and "
                    "hyperparameters; print a table and write a figure.")
    c.add_common(p)
    p.add_argument("--batch-size", type=c.positive_int, default=c.TUTORIAL_BATCH,
                   help="mini-batch size (default: %(default)s)")
    p.add_argument("--out", type=c.figure_path, default="jaxgd_compare.png", help="figure path (default: %(default)s)")
    c.add_val_fraction(p)
    c.add_json(p)
    add_data_arguments(p)
    c.add_optimizer_arguments(p)
    p.set_defaults(func=run)
    return p


def run(args):
    import numpy as np

    from jaxgd import plots
    from jaxgd.cli._data import report_parameters
    from jaxgd.core._plan import variant_name

    opt = c.optimizer_from_args(args, "jaxgd compare")
    X, y, true_w, true_b, loaded = c.training_data(args)
    X, y, validation = c.validation_split(args, X, y, loaded)
    n, n_val = X.shape[0], 0 if validation is None else validation[0].shape[0]
    c.check_batch_size(args.batch_size, n, loaded, held_out=n_val)
    held = {} if validation is None else {"validation": validation}
    header = ["variant", "batch", "updates", "final loss", *(["held-out loss"] if held else []), "w", "b",
              "wall ms", "first call s"]
    results, rows, records = {}, [], []
    for batch_size in dict.fromkeys((n, args.batch_size, 1)):  # --batch-size 1 or n: each variant once
        label = f"{variant_name(batch_size, n)} (batch {batch_size})"
        r, wall, first = c.timed_train(X, y, batch_size=batch_size, lr=args.lr, epochs=args.epochs, seed=args.seed,
                                       optimizer=opt, schedule=args.schedule, **held)
        results[label] = r
        final = float(np.asarray(r.epoch_loss)[-1])
        held_out = [float(np.asarray(r.val_loss)[-1])] if held else []
        w, b = np.asarray(r.w).ravel(), float(np.asarray(r.b).ravel()[0])
        records.append(dict(zip(header, [r.config.variant, batch_size, r.updates, final, *held_out, w, b,
                                         wall * 1e3, first]), **{"diverged at epoch": r.diverged_at}))
        if r.diverged_at is None:
            outcome = [f"{final:.5f}", *(f"{v:.5f}" for v in held_out), c.fmt_vec(w), c.fmt_vec(b)]
        else:
            outcome = [f"diverged at epoch {r.diverged_at}", *(["-"] if held else []), "-", "-"]
        rows.append([r.config.variant, batch_size, r.updates, *outcome, f"{wall * 1e3:.2f}", f"{first:.2f}"])
    if loaded is None:
        print(f"Linear regression y = Xw + b + N(0, 0.5²): n={n}, d={X.shape[1]}, true w={c.fmt_vec(true_w)}, "
              f"b={float(true_b):g}; lr={args.lr}, epochs={args.epochs}, seed={args.seed}\n")
    else:
        print(f"lr={args.lr}, epochs={args.epochs}, seed={args.seed}\n")
    print(c.describe_optimizer(opt, args.schedule) + "\n")
    c.print_table(header, rows)
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
                                           seed=args.seed, optimizer=opt, schedule=args.schedule, record_every=every,
                                           **held)
    path = plots.compare_figure(X, y, true_w, true_b, results, args.out)
    print(f"figure: {path}")
    c.write_json(args.json, {"rows": records, "config": c.run_config(args, opt, n_train=n, n_val=n_val)})
    return 0
