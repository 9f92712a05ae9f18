"""``jaxgd sweep``: every (learning rate, batch size, random seed); a heatmap and a CSV of all runs."""

from __future__ import annotations

from jaxgd.cli import _cluster, _common as c


def add_parser(subparsers):
    from jaxgd.cli._data import add_data_arguments

    p = subparsers.add_parser(
        "sweep",
        help="train every (learning rate, batch size, random seed); heatmap and CSV of all runs",
        description="Trains every combination of learning rate, batch size and random seed (one "
        "compiled program per batch size), writes a heatmap of the median across seeds (final "
        "excess loss or epochs to the target; diverged cells marked) and a CSV with one row per run.",
    )
    p.add_argument("--lrs", type=c.positive_floats, default="0.005,0.01,0.02,0.05,0.1",
                   help="comma-separated learning rates (default: %(default)s)")
    p.add_argument("--batch-sizes", type=c.batch_sizes, default="1,10,50,n",
                   help="comma-separated batch sizes, 'n' = full batch (default: %(default)s)")
    p.add_argument("--seeds", type=c.positive_int, default=5,
                   help="number of random seeds per cell (default: %(default)s)")
    p.add_argument("--epochs", type=c.positive_int, default=c.TUTORIAL_EPOCHS, help="epochs (default: %(default)s)")
    p.add_argument("--n", type=c.int_at_least(2), default=c.TUTORIAL_N,
                   help="number of examples, at least 2 (default: %(default)s)")
    p.add_argument("--out", type=c.figure_path, default="jaxgd_sweep.png", help="heatmap path (default: %(default)s)")
    p.add_argument("--csv", type=c.csv_path, default="jaxgd_sweep.csv", help="CSV path (default: %(default)s)")
    p.add_argument("--metric", choices=["excess", "epochs"], default="excess",
                   help="heatmap value: 'excess' (final excess loss) or 'epochs' (epochs to 1%% of the "
                   "initial excess) (default: %(default)s)")
    p.add_argument("--data-seed", type=c.random_seed, default=0,
                   help="random seed of the synthetic data and of the --val-fraction split (default: %(default)s)")
    c.add_val_fraction(p)
    c.add_json(p)
    add_data_arguments(p)
    c.add_optimizer_arguments(p)
    _cluster.add_arguments(p)
    p.set_defaults(func=run)
    return p


def run(args) -> int:
    import numpy as np

    from jaxgd import analysis, plots
    from jaxgd.cli._data import data_from_args, describe
    from jaxgd.data._synthetic import synthetic_data
    from jaxgd.drivers._sweep import sweep

    opt = c.optimizer_from_args(args, "jaxgd sweep")
    loaded = data_from_args(args)
    if loaded is not None:  # a data file: n is its row count
        if loaded.n_rows < 2:
            raise c.InputError(f"{loaded.source} has {loaded.n_rows} row; a sweep needs at least 2")
        print(describe(loaded))
        args.n = loaded.n_rows
        X, y = loaded.X, loaded.y
    else:
        X, y = synthetic_data(num_examples=args.n, seed=args.data_seed)[:2]
    X, y, validation = c.validation_split(args, X, y, loaded)
    n, n_val = X.shape[0], 0 if validation is None else validation[0].shape[0]
    if n < 2:
        raise c.InputError(f"--val-fraction {args.val_fraction:g} leaves {n} training row; a sweep needs at least 2")
    batch_sizes = [n if b is None else b for b in args.batch_sizes]
    for b in batch_sizes:
        c.check_batch_size(b, n, loaded, flag="--batch-sizes", held_out=n_val)
    batch_sizes, lrs = sorted(set(batch_sizes)), sorted(set(args.lrs))

    held = {} if validation is None else {"validation": validation}
    result = sweep(X, y, batch_sizes=batch_sizes, lrs=lrs, seeds=args.seeds, epochs=args.epochs,
                   step_loss="none", optimizer=opt, schedule=args.schedule, mesh=getattr(args, "mesh", None), **held)
    values, label = plots.sweep_cells(result, args.metric)
    held_out = None if validation is None else analysis.median_over_kept(np.asarray(result.val_loss)[..., -1],
                                                                         result.diverged)
    path = args.out
    from jaxgd.distributed import is_main

    if is_main():  # several processes: process 0 writes
        result.to_csv(args.csv)
        path = plots.sweep_heatmap(result, args.metric, args.out)

    B, L, S = result.shape
    print(f"sweep: {B} batch sizes x {L} learning rates x {S} seeds = {result.num_runs} runs, "
          f"{args.epochs} epochs, n={n}; compile {result.compile_seconds:.1f} s, "
          f"run {result.draw_seconds + result.run_seconds.sum():.2f} s")
    print(c.describe_optimizer(opt, args.schedule))
    header = ["batch \\ lr"] + [f"{lr:g}" for lr in result.lrs]

    def cells(table_values, what):
        rows = []
        for i, bs in enumerate(result.batch_sizes):
            row = [f"{int(bs)} ({result.variants[i]})"]
            for j in range(L):
                k = int(result.diverged[i, j].sum())
                v = table_values[i, j]
                cell = "div" if k == S else (
                    f">{args.epochs}" if what == "epochs" and not np.isfinite(v) else f"{v:.3g}")
                row.append(cell + (f" {k}/{S}d" if 0 < k < S else ""))
            rows.append(row)
        return rows

    print(f"{label}, median over seeds ('div' = every seed diverged, k/{S}d = k seeds diverged):")
    c.print_table(header, cells(values, args.metric))
    print(f"target: excess loss <= {analysis.DEFAULT_REL_TARGET:.0%} of the initial excess")
    if held_out is not None:
        print(f"final held-out loss ({n_val} rows), median over the seeds that did not diverge:")
        c.print_table(header, cells(held_out, "loss"))
    print(f"csv: {args.csv} ({result.num_runs} rows)")
    print(f"figure: {path}")
    records = []
    for i, bs in enumerate(result.batch_sizes):
        for j, lr in enumerate(result.lrs):
            record = {"batch": int(bs), "variant": result.variants[i], "lr": float(lr), label: values[i, j]}
            if held_out is not None:
                record["final held-out loss"] = held_out[i, j]
            records.append(record | {"diverged seeds": int(result.diverged[i, j].sum()), "seeds": S})
    c.write_json(args.json, {"rows": records, "metric": label, "optimum_loss": result.optimum_loss,
                             "config": c.run_config(args, opt, batch_sizes=batch_sizes, n_train=n, n_val=n_val)})
    return 0
