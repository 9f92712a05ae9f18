"""``jaxgd paths``: the loss surface over (w, b) with each variant's path of parameters, as a
figure and optionally an animation."""

from __future__ import annotations

import math

from jaxgd.cli import _common as c

PATH_POINTS = 5000  # at most this many points a path (SGD's 50,000 updates: every 11th)
FRAMES = 120


def record_step(batch_size, n, epochs, points=PATH_POINTS):
    """The trace step that catches every update, gcd(batch size, n) samples (every update ends
    on a multiple of it), when the run has at most ``points`` updates (and the grid is not more
    than 20x that: each grid point costs a full-data loss); else the step that gives about
    ``points`` points (a thinned path; the trace keeps both ends exactly)."""
    step = math.gcd(batch_size, n)
    total = epochs * n
    updates = epochs * -(-n // batch_size)
    if updates + 1 > points or total // step + 1 > 20 * points:
        step = -(-total // (points - 1))
    return step


def add_parser(subparsers):
    from jaxgd.cli._data import add_data_arguments

    p = subparsers.add_parser(
        "paths", help="the loss surface over (w, b) with each variant's path of parameters (d = 1)",
        description="Train GD (batch n), mini-batch SGD and SGD (batch 1) on one-feature data and draw the "
                    "full-data loss as contours over (w, b) with each run's path on top: every update of GD "
                    "and mini-batch, SGD evenly thinned (both ends exact). --gif also writes it as an "
                    "animation in which every variant advances by samples processed.")
    c.add_common(p)
    p.add_argument("--batch-size", type=c.positive_int, default=c.TUTORIAL_BATCH,
                   help="mini-batch size (default: %(default)s)")
    p.add_argument("--out", type=c.figure_path, default="jaxgd_paths.png", help="figure path (default: %(default)s)")
    p.add_argument("--gif", type=c.gif_path, default=None, metavar="PATH",
                   help="also write the paths as an animated GIF (default: none)")
    p.add_argument("--frames", type=c.int_range(2, 300), default=None,
                   help=f"frames of the GIF, 2 to 300 (default: {FRAMES})")
    c.add_json(p)
    add_data_arguments(p)
    c.add_optimizer_arguments(p)
    p.set_defaults(func=run)
    return p


def run(args):
    from jaxgd import plots
    from jaxgd.core._plan import variant_name

    if args.d != 1:
        raise c.usage_error(args, f"--d {args.d}: the paths are drawn over (w, b), for one feature (--d 1)")
    if args.frames is not None and args.gif is None:
        raise c.usage_error(args, "--frames needs --gif PATH")
    frames = args.frames or FRAMES
    opt = c.optimizer_from_args(args, "jaxgd paths")
    X, y, true_w, true_b, loaded = c.training_data(args)
    n, d = X.shape
    if d != 1:
        raise c.InputError(f"{loaded.source} has {d} features; jaxgd paths draws (w, b) for one feature")
    c.check_batch_size(args.batch_size, n, loaded)
    header = ["variant", "batch", "updates", "path drawn", "final loss", "w", "b"]
    results, rows, records = {}, [], []
    for batch_size in dict.fromkeys((n, args.batch_size, 1)):  # --batch-size 1 or n: each variant once
        label = f"{variant_name(batch_size, n)} (batch {batch_size})"
        every = record_step(batch_size, n, args.epochs)
        r = c.quiet_train(X, y, batch_size=batch_size, lr=args.lr, epochs=args.epochs, seed=args.seed,
                          optimizer=opt, schedule=args.schedule, record_every=every)
        results[label] = r
        drawn = len(plots._path(label, r)[1])
        shown = "every update" if drawn == r.updates + 1 else f"{drawn:,} points, every {every} samples"
        if r.diverged_at is None:
            outcome = [f"{float(r.epoch_loss[-1]):.5f}", c.fmt_vec(r.w), c.fmt_vec(r.b)]
        else:
            outcome = [f"diverged at epoch {r.diverged_at}", "-", "-"]
        rows.append([r.config.variant, batch_size, r.updates, shown, *outcome])
        records.append(dict(zip(header, [r.config.variant, batch_size, r.updates, shown,
                                         float(r.epoch_loss[-1]), float(r.w[0, 0]), float(r.b[0])]),
                            **{"diverged at epoch": r.diverged_at, "record every": every}))
    if loaded is None:
        print(f"Linear regression y = xw + b + N(0, 0.5²): n={n}, true w={c.fmt_vec(true_w)}, b={float(true_b):g}; "
              f"lr={args.lr}, epochs={args.epochs}, seed={args.seed}\n")
    else:
        print(f"lr={args.lr}, epochs={args.epochs}, seed={args.seed}\n")
    print(c.describe_optimizer(opt, args.schedule) + "\n")
    c.print_table(header, rows)
    if any(r.diverged_at is not None for r in results.values()):
        print(f"diverged: {c.DIVERGED}; try a smaller --lr than {args.lr:g}")
    print(f"figure: {plots.paths_figure(X, y, results, args.out, true_w=true_w, true_b=true_b)}")
    if args.gif is not None:
        import os

        plots.paths_animation(X, y, results, args.gif, true_w=true_w, true_b=true_b, frames=frames)
        print(f"animation: {args.gif} ({frames} frames, {os.path.getsize(args.gif) / 1e6:.2f} MB)")
    c.write_json(args.json, {"rows": records, "config": c.run_config(args, opt)})
    return 0
