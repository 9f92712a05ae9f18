"""``jaxgd optimizers``: every torch.optim optimizer in GD, mini-batch and SGD, each at its best learning rate."""

from __future__ import annotations

from jaxgd.cli import _common as c


def add_parser(subparsers):
    from jaxgd.cli._data import add_data_arguments
    from jaxgd.cli._facts import facts

    DEFAULT_LRS = facts()["optimizers_lrs"]  # studies._optimizers.DEFAULT_LRS

    p = subparsers.add_parser(
        "optimizers",
        help="compare the torch.optim optimizers (optim.NAMES) in GD, mini-batch and SGD, each at its best learning rate",
        description="Sweeps each of sgd, adam, adamw, adagrad, rmsprop and adadelta (torch's defaults) over a log "
        "grid of learning rates and several random seeds (one vmapped sweep per optimizer) in GD (batch n), "
        "mini-batch and SGD (batch 1); keeps, per optimizer and variant, the rate with the lowest median final "
        "excess loss among those at which no seed diverged; prints epochs and updates to the target, the final "
        "excess loss and the fluctuation (median and 90% interval over seeds) and writes a 2x3 figure of the "
        "excess loss against epochs and updates.",
    )
    p.add_argument("--seeds", type=c.int_at_least(2), default=20,
                   help="number of random seeds, at least 2 for an interval (default: %(default)s)")
    p.add_argument("--epochs", type=c.positive_int, default=c.TUTORIAL_EPOCHS, help="epochs (default: %(default)s)")
    p.add_argument("--lrs", type=c.positive_floats, default=",".join(f"{v:g}" for v in DEFAULT_LRS),
                   help="comma-separated learning rates to choose from (default: %(default)s)")
    p.add_argument("--n", type=c.int_at_least(3), default=c.TUTORIAL_N,
                   help="number of examples of the synthetic data, at least 3 (default: %(default)s)")
    p.add_argument("--d", type=c.positive_int, default=1,
                   help="number of features of the synthetic data (default: %(default)s)")
    p.add_argument("--data-seed", type=c.random_seed, default=0,
                   help="random seed of the synthetic data (default: %(default)s)")
    p.add_argument("--batch-size", type=c.int_at_least(2), default=c.TUTORIAL_BATCH,
                   help="mini-batch size, between 2 and n - 1 (default: %(default)s)")
    p.add_argument("--out", type=c.figure_path, default="jaxgd_optimizers.png",
                   help="figure path (default: %(default)s)")
    c.add_val_fraction(p)
    c.add_json(p)
    add_data_arguments(p)
    p.set_defaults(func=run)
    return p


def run(args) -> int:
    from jaxgd.studies._optimizers import run_optimizers

    X, y, _, _, loaded = c.training_data(args)
    X, y, validation = c.validation_split(args, X, y, loaded)
    n = X.shape[0]
    if not 1 < args.batch_size < n:
        where = f"{loaded.source} has {n} rows" if loaded is not None else f"--n is {n}"
        if validation is not None:
            where = f"--val-fraction leaves {n} training rows"
        raise c.InputError(f"--batch-size {args.batch_size} must be between 2 and n - 1 for a mini-batch variant "
                           f"({where})")
    report, text = run_optimizers(X, y, out=args.out, batch_size=args.batch_size, lrs=sorted(set(args.lrs)),
                                  seeds=args.seeds, epochs=args.epochs, validation=validation)
    print(text)
    c.write_json(args.json, _json(report, args, n, 0 if validation is None else validation[0].shape[0]))
    return 0


def _json(report, args, n, n_val):
    """The printed table, one object per (optimizer, variant) keyed by its columns; a 'median
    [5%, 95%]' cell as an object (not reached: "Infinity"), the best lr a number (None: every
    lr diverged)."""
    from jaxgd.studies._optimizers import TABLE_METRICS, table_header

    header = table_header(report)
    rows = []
    for e in report.entries:
        row = {"optimizer": e.optimizer, "variant": e.variant, "batch": e.batch_size, "best lr": e.best_lr}
        for key, metric in zip(header[4:], TABLE_METRICS):
            row[key] = None if e.best_lr is None else c.spread_json(e.metrics[metric])
        row["lr at the grid's edge"] = e.best_lr is not None and e.best_lr in (float(e.lrs.min()), float(e.lrs.max()))
        rows.append(row)
    return {"rows": rows, "optimum_loss": report.optimum_loss, "target_rel": report.rel, "tail": report.tail,
            "config": c.run_config(args, n_train=n, n_val=n_val)}
