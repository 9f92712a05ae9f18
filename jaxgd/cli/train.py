"""``jaxgd train``: one variant, every hyperparameter a flag."""

from __future__ import annotations

from jaxgd.cli import _cluster, _common as c


def add_parser(subparsers):
    from jaxgd.cli._data import add_data_arguments

    p = subparsers.add_parser("train", help="train one variant",
                              description="Train one variant on the tutorial's synthetic data or a data file.")
    c.add_common(p)
    p.add_argument("--batch-size", type=c.positive_int, default=None,
                   help="1 = SGD, n or omitted = full-batch GD, between = mini-batch (default: full batch)")
    c.add_val_fraction(p)
    c.add_json(p)
    add_data_arguments(p)
    c.add_optimizer_arguments(p)
    _cluster.add_arguments(p)
    p.set_defaults(func=run)
    return p


def run(args):
    import numpy as np

    from jaxgd.cli._data import report_parameters

    opt = c.optimizer_from_args(args, "jaxgd train")
    mesh = getattr(args, "mesh", None)
    if mesh is not None and args.val_fraction is not None:
        raise c.usage_error(args, "--val-fraction cannot be combined with several processes (each process holds "
                                  "only its rows); split the files into training and held-out files first")
    X, y, _, _, loaded = c.training_data(args, mesh)
    X, y, validation = c.validation_split(args, X, y, loaded)
    n_val = 0 if validation is None else validation[0].shape[0]
    n = loaded.n_rows if (loaded is not None and validation is None) else X.shape[0]
    c.check_batch_size(args.batch_size, n, loaded, held_out=n_val)
    held = {} if validation is None else {"validation": validation}
    sharding = {} if mesh is None else {"mesh": mesh, "n": n}
    r, wall, first = c.timed_train(X, y, batch_size=args.batch_size, lr=args.lr, epochs=args.epochs, seed=args.seed,
                                   optimizer=opt, schedule=args.schedule, **held, **sharding)
    if mesh is not None:
        import jax

        print(f"{jax.process_count()} processes, {mesh.size} devices; the rows sharded over all of them")
    print(f"{c.describe_optimizer(opt, args.schedule)}; lr={args.lr:g}")
    loss = np.asarray(r.epoch_loss)
    val = None if validation is None else np.asarray(r.val_loss)
    every = max(1, args.epochs // 10)
    for e in range(0, args.epochs + 1):
        if e % every == 0 or e == args.epochs:
            print(f"epoch {e:4d}  loss {loss[e]:.6f}" + ("" if val is None else f"  held-out loss {val[e]:.6f}"))
    if r.diverged_at is not None:
        outcome = f"diverged at epoch {r.diverged_at} ({c.DIVERGED}; try a smaller --lr than {args.lr:g})"
    else:
        outcome = (f"w={c.fmt_vec(r.w)}, b={c.fmt_vec(r.b)}, final loss {loss[-1]:.6f}"
                   + ("" if val is None else f", held-out loss {val[-1]:.6f}"))
    print(f"{r.config.variant}: batch {r.config.batch_size}, {r.updates} updates, {outcome}, "
          f"{wall * 1e3:.2f} ms ({first:.2f} s first call, with compilation)")
    if loaded is not None and r.diverged_at is None:
        print(report_parameters(loaded, np.asarray(r.w), np.asarray(r.b)))
    c.write_json(args.json, {
        "w": np.asarray(r.w).ravel(), "b": float(np.asarray(r.b).ravel()[0]),
        "epoch_loss": loss, "val_loss": val, "updates": r.updates, "diverged_at": r.diverged_at,
        "wall_ms": wall * 1e3, "first_call_s": first,
        "config": c.run_config(args, opt, batch_size=r.config.batch_size, variant=r.config.variant,
                               n_train=X.shape[0], n_val=n_val),
    })
    return 0
