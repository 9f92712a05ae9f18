"""What the commands share, in one namespace (``from jaxgd.cli import _common as c``): the options
every command takes, the tutorial's data and held-out split, table printing; and, re-exported from
their own modules, the parser and its error (``_usage``), the argparse types (``_types``), the
``--json`` writer (``_json``) and the optimizer flags (``_optimizer_flags``).

Importing it, and building the parser, imports neither JAX nor numpy (``jaxgd --help`` is
quick); ``quiet_train`` and ``timed_train`` (``jaxgd.drivers._runs``) are imported when a
command first uses them."""

from __future__ import annotations

from jaxgd._errors import InputError
from jaxgd.cli._json import (  # noqa: F401
    NONFINITE,
    optimizer_config,
    plain,
    run_config,
    spread_json,
    write_json,
)
from jaxgd.cli._optimizer_flags import (  # noqa: F401
    add_optimizer_arguments,
    describe_optimizer,
    optimizer_flags,
    optimizer_from_args,
    schedule_spec,
)
from jaxgd.cli._types import (  # noqa: F401
    batch_sizes,
    csv_path,
    figure_path,
    gif_path,
    int_at_least,
    int_range,
    json_path,
    open_fraction,
    pair,
    positive_float,
    positive_floats,
    positive_int,
    random_seed,
    real,
)
from jaxgd.cli._usage import Parser, UsageError, prog, usage_error  # noqa: F401


def __getattr__(name):  # PEP 562: the drivers (JAX) when a command first runs one
    if name in ("quiet_train", "timed_train"):
        from jaxgd.drivers import _runs

        return getattr(_runs, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


TUTORIAL_N, TUTORIAL_LR, TUTORIAL_EPOCHS, TUTORIAL_BATCH = 1000, 0.02, 50, 50


def check_batch_size(batch_size, n, loaded=None, flag="--batch-size", held_out=0):
    """The one check of a batch size against the data: names the flag and where n came from
    (``held_out``: rows --val-fraction took out of the data, leaving ``n`` to train on)."""
    if batch_size is None or batch_size <= n:
        return
    if held_out:
        raise InputError(f"{flag} {batch_size} is larger than the {n} training rows --val-fraction leaves "
                         f"(of {n + held_out})")
    if loaded is not None:
        raise InputError(f"{loaded.source} has {n} rows, fewer than {flag} {batch_size}")
    raise InputError(f"{flag} {batch_size} is larger than --n {n}")


def add_common(p, *, d=True, data_seed=True):
    """--n, --d, --lr, --epochs, --seed and --data-seed with the tutorial's defaults."""
    p.add_argument("--n", type=positive_int, default=TUTORIAL_N, help="number of examples (default: %(default)s)")
    if d:
        p.add_argument("--d", type=positive_int, default=1,
                       help="number of features of the synthetic data (default: %(default)s)")
    p.add_argument("--lr", type=positive_float, default=TUTORIAL_LR, help="learning rate (default: %(default)s)")
    p.add_argument("--epochs", type=positive_int, default=TUTORIAL_EPOCHS, help="epochs (default: %(default)s)")
    p.add_argument("--seed", type=random_seed, default=0,
                   help="random seed of the initial parameters and the epoch orders (default: %(default)s)")
    if data_seed:
        p.add_argument("--data-seed", type=random_seed, default=0,
                       help="random seed of the synthetic data (default: %(default)s)")


def add_json(p):
    """``--json PATH``: the command's numbers as JSON (see ``write_json``)."""
    p.add_argument("--json", type=json_path, default=None, metavar="PATH",
                   help="also write the results as strict JSON to PATH, at full precision (default: none)")


def add_val_fraction(p):
    """``--val-fraction F``: hold out a seeded fraction of the rows (see ``split_validation``)."""
    p.add_argument("--val-fraction", type=open_fraction, default=None, metavar="F",
                   help="hold out ceil(F x rows) rows, drawn by --data-seed, and report their loss (default: none)")


def split_validation(X, y, fraction, seed, source="the data"):
    """Split the rows into (X_train, y_train, X_val, y_val): ``ceil(fraction * n)`` held-out rows,
    the first of ``numpy.random.default_rng(seed).permutation(n)``; both parts keep the rows'
    order. A split leaving no row on either side is an InputError naming --val-fraction."""
    import math

    import numpy as np

    n = X.shape[0]
    n_val = math.ceil(round(fraction * n, 9))  # round: 0.3 * 10 is 3.0000000000000004
    if n_val < 1 or n - n_val < 1:
        raise InputError(f"--val-fraction {fraction:g} of {source}'s {n} rows leaves {n - n_val} training and "
                         f"{n_val} held-out rows; each needs at least 1")
    from jaxgd.data._files import (
        _take_rows,  # 64-byte aligned, so JAX uses the rows in place
    )

    held = np.zeros(n, bool)
    held[np.random.default_rng(seed).permutation(n)[:n_val]] = True
    X, y = np.asarray(X), np.asarray(y)
    return _take_rows(X, ~held), y[~held], _take_rows(X, held), y[held]


def describe_split(n_train, n_val, fraction, seed):
    return (f"held-out: {n_val} of {n_train + n_val} rows (--val-fraction {fraction:g}, drawn by seed {seed}); "
            f"training on the other {n_train}")


def tutorial_data(args):
    """The tutorial's synthetic data with --n examples, --d features and --data-seed."""
    from jaxgd.data._synthetic import synthetic_data, tutorial_weights

    return synthetic_data(tutorial_weights(args.d), 4.0, args.n, seed=args.data_seed)


def training_data(args, mesh=None):
    """(X, y, true_w, true_b, loaded): a data file from --data (described on stdout), else the
    tutorial's synthetic data (loaded None). With ``mesh``, a data file's rows are sharded over it,
    each process reading only its own."""
    from jaxgd.cli._data import data_from_args, describe

    loaded = data_from_args(args, mesh)
    if loaded is None:
        data = tutorial_data(args)
        return data.X, data.y, data.true_w, data.true_b, None
    print(describe(loaded))
    return loaded.X, loaded.y, None, None, loaded


def validation_split(args, X, y, loaded=None):
    """(X, y, validation): with --val-fraction, the training rows and ``(X_val, y_val)`` split by
    --data-seed (described on stdout); without it, the rows as they are and None."""
    if getattr(args, "val_fraction", None) is None:
        return X, y, None
    source = loaded.source if loaded is not None else "the synthetic data"
    X, y, X_val, y_val = split_validation(X, y, args.val_fraction, args.data_seed, source)
    print(describe_split(X.shape[0], X_val.shape[0], args.val_fraction, args.data_seed))
    return X, y, (X_val, y_val)


def print_table(header, rows):
    from jaxgd.studies._table import table

    print(table(header, rows))


def fmt_vec(a):
    import numpy as np

    a = np.asarray(a).ravel()
    return f"{a[0]:.4f}" if a.size == 1 else "[" + ", ".join(f"{v:.3f}" for v in a[:3]) + (", …]" if a.size > 3 else "]")


DIVERGED = "the loss is non-finite or above 1000x the initial loss"
