"""What the commands share: the tutorial's settings, the parser, argparse types (the one place
values are validated), common options, output-path checks, data loading and table printing."""

from __future__ import annotations

import argparse

import numpy as np

from jaxgd._errors import InputError
from jaxgd.drivers._runs import quiet_train, timed_train  # noqa: F401  (c.quiet_train, c.timed_train in the commands)
from jaxgd.studies._table import table

TUTORIAL_N, TUTORIAL_LR, TUTORIAL_EPOCHS, TUTORIAL_BATCH = 1000, 0.02, 50, 50


class UsageError(Exception):
    """A command-line mistake: its message is the whole line, reported with exit code 2."""


class Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, no usage dump
        raise UsageError(f"{self.prog}: error: {message}")


def prog(args=None):
    """``jaxgd <command>``, what every error line of a command starts with (``jaxgd`` before one is known)."""
    command = getattr(args, "command", None)
    return "jaxgd" if command is None else f"jaxgd {command}"


def usage_error(args, message):
    """A mistake found after parsing (flags that do not go together), as the line argparse would give."""
    return UsageError(f"{prog(args)}: error: {message}")


# --- argparse types: each value is validated once, where it is parsed -------------------------


def positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def positive_floats(text):
    """Comma-separated finite numbers > 0."""
    try:
        return [positive_float(t.strip()) for t in str(text).split(",")]
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers > 0, got {text!r}") from None


def positive_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not (np.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"expected a finite number > 0, got {text!r}")
    return value


def _output_path(text, figure):
    import os

    path = os.path.expanduser(text)
    if os.path.isdir(path):
        raise argparse.ArgumentTypeError(f"{text} is a directory; give a file name")
    folder = os.path.dirname(path) or "."
    if not os.path.isdir(folder):
        why = "is not a directory" if os.path.exists(folder) else "does not exist"
        raise argparse.ArgumentTypeError(f"cannot write {text}: the directory {folder} {why}")
    if figure:
        from matplotlib.backend_bases import FigureCanvasBase

        formats = FigureCanvasBase.get_supported_filetypes()
        ext = os.path.splitext(path)[1].lower().lstrip(".")
        if ext not in formats:
            known = ", ".join(f".{e}" for e in sorted(formats))
            what = f"the extension .{ext}" if ext else "no extension"
            raise argparse.ArgumentTypeError(f"{text} has {what}; matplotlib writes {known}")
    try:  # the one sure test of writability (permissions, read-only file systems, root)
        if os.path.exists(path):
            open(path, "ab").close()  # appends nothing: the file is left as it is
        else:
            open(path, "xb").close()
            os.remove(path)
    except OSError as e:
        raise argparse.ArgumentTypeError(f"cannot write {text}: {e.strerror}") from None
    return path


def figure_path(text):
    """An output figure path, checked before any work: not a directory, in an existing writable
    directory, with an extension matplotlib can write."""
    return _output_path(text, figure=True)


def csv_path(text):
    """An output file path, checked before any work: not a directory, in an existing writable directory."""
    return _output_path(text, figure=False)


def json_path(text):
    """An output JSON path, checked before any work like ``csv_path``."""
    return _output_path(text, figure=False)


def open_fraction(text):
    """A number strictly between 0 and 1 (``--val-fraction``)."""
    try:
        value = float(text)
    except ValueError:
        value = None
    if value is None or not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"expected a number between 0 and 1 (exclusive), got {text!r}")
    return value


def gif_path(text):
    """An output GIF path, checked before any work like ``figure_path``, ending in .gif."""
    import os

    if os.path.splitext(text)[1].lower() != ".gif":
        raise argparse.ArgumentTypeError(f"{text} does not end in .gif")
    return _output_path(text, figure=False)


def batch_sizes(text):
    """Comma-separated batch sizes: positive integers, or 'n' (full batch) as None."""
    tokens = [t.strip() for t in str(text).split(",")]
    try:
        values = [None if t.lower() in ("n", "gd", "full") else int(t) for t in tokens]
    except ValueError:
        values = None
    if values is None or any(v is not None and v < 1 for v in values):
        raise argparse.ArgumentTypeError(
            f"expected comma-separated batch sizes (positive integers, or 'n' for full batch), got {text!r}"
        )
    return values


def int_at_least(low):
    """An argparse type: an integer >= ``low``."""

    def convert(text):
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < low:
            raise argparse.ArgumentTypeError(f"expected an integer >= {low}, got {text!r}")
        return value

    convert.__name__ = f"integer >= {low}"
    return convert


def int_range(low, high):
    """An argparse type: an integer from ``low`` to ``high``."""

    def convert(text):
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or not low <= value <= high:
            raise argparse.ArgumentTypeError(f"expected an integer from {low} to {high}, got {text!r}")
        return value

    convert.__name__ = f"integer from {low} to {high}"
    return convert


def random_seed(text):
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None


# --- checks that need more than one value ---------------------------------------------------------


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
                   help="also write the results as JSON to PATH, numbers at full precision; non-finite "
                        "numbers as the strings \"NaN\", \"Infinity\", \"-Infinity\" (default: none)")


def add_val_fraction(p):
    """``--val-fraction F``: hold out a seeded fraction of the rows (see ``split_validation``)."""
    p.add_argument("--val-fraction", type=open_fraction, default=None, metavar="F",
                   help="hold out ceil(F x rows) of the rows, drawn by --data-seed, and report the loss on "
                        "them beside the training loss; training uses the rest (default: none, train on all rows)")


# --- JSON output ---------------------------------------------------------------------------------

NONFINITE = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}


def plain(value):
    """``value`` as JSON-ready Python: arrays and numpy scalars as lists and Python numbers (floats
    at full precision: Python's float repr round-trips), dataclass-free containers recursed,
    non-finite floats as the strings "NaN", "Infinity", "-Infinity" (``float()`` reads them back)."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, np.integer, np.bool_)):
        return value.item() if isinstance(value, np.generic) else value
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if np.isfinite(value) else NONFINITE[repr(value)]
    array = np.asarray(value)  # jax and numpy arrays
    if array.dtype == object:
        raise TypeError(f"cannot write {type(value).__name__} as JSON")
    return plain(array.tolist()) if array.ndim else plain(array.item())


def write_json(path, obj):
    """Write ``obj`` (through ``plain``) to ``path`` as JSON; returns ``path``. No-op for path None
    and, in a run of several processes, on every process but 0."""
    import json

    from jaxgd.distributed import is_main

    if path is None or not is_main():
        return None
    with open(path, "w", encoding="utf-8") as f:
        json.dump(plain(obj), f, indent=1, allow_nan=False)
        f.write("\n")
    return path


def optimizer_config(spec, schedule=None):
    """{"optimizer": {"name", hyperparameters and options}, "schedule": {"name", parameters}}."""
    from jaxgd import optim

    schedule = optim.get_schedule(schedule)
    return {"optimizer": {"name": spec.name, **spec.kwargs}, "schedule": {"name": schedule.name, **schedule.kwargs}}


_CONFIG_FLAGS = ("n", "d", "lr", "lrs", "epochs", "seed", "seeds", "batch_size", "batch_sizes", "data_seed",
                 "val_fraction", "data", "target", "standardize", "drop_nonfinite", "metric", "dtype")


def run_config(args, spec=None, **extra):
    """The settings of a run as one JSON-ready dict: the flags the command has (by their
    argparse names), the optimizer ``spec`` and --schedule, and ``extra`` (values resolved
    from the data)."""
    config = {"command": args.command}
    config.update({k: getattr(args, k) for k in _CONFIG_FLAGS if hasattr(args, k)})
    if spec is not None:
        config.update(optimizer_config(spec, getattr(args, "schedule", None)))
    config.update(extra)
    return config


def spread_json(values, diverged=None, qs=(0.05, 0.5, 0.95)):
    """A printed 'median [5%, 95%]' cell as {"median", "5%", "95%", "diverged"}: over the runs
    that did not diverge (``diverged``: a boolean mask), None where every run diverged."""
    from jaxgd import analysis

    values = np.asarray(values, np.float64)
    diverged = np.zeros(values.shape, bool) if diverged is None else np.asarray(diverged, bool)
    kept = values[~diverged]
    lo, mid, hi = analysis.describe(kept, qs) if kept.size else (None, None, None)
    return {"median": mid, f"{qs[0]:.0%}": lo, f"{qs[2]:.0%}": hi, "diverged": int(diverged.sum())}


# --- held-out rows -------------------------------------------------------------------------------


def split_validation(X, y, fraction, seed, source="the data"):
    """Split the rows into (X_train, y_train, X_val, y_val): ``ceil(fraction * n)`` held-out rows,
    the first of ``numpy.random.default_rng(seed).permutation(n)``; both parts keep the rows'
    order. A split leaving no row on either side is an InputError naming --val-fraction."""
    import math

    n = X.shape[0]
    n_val = math.ceil(round(fraction * n, 9))  # round: 0.3 * 10 is 3.0000000000000004
    if n_val < 1 or n - n_val < 1:
        raise InputError(f"--val-fraction {fraction:g} of {source}'s {n} rows leaves {n - n_val} training and "
                         f"{n_val} held-out rows; each needs at least 1")
    from jaxgd.data._files import _take_rows  # 64-byte aligned, so JAX uses the rows in place

    held = np.zeros(n, bool)
    held[np.random.default_rng(seed).permutation(n)[:n_val]] = True
    X, y = np.asarray(X), np.asarray(y)
    return _take_rows(X, ~held), y[~held], _take_rows(X, held), y[held]


def describe_split(n_train, n_val, fraction, seed):
    return (f"held-out: {n_val} of {n_train + n_val} rows (--val-fraction {fraction:g}, drawn by seed {seed}); "
            f"training on the other {n_train}")


# --- data, training, printing ----------------------------------------------------------------------


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
    print(table(header, rows))


def fmt_vec(a):
    a = np.asarray(a).ravel()
    return f"{a[0]:.4f}" if a.size == 1 else "[" + ", ".join(f"{v:.3f}" for v in a[:3]) + (", …]" if a.size > 3 else "]")


DIVERGED = "the loss is non-finite or above 1000x the initial loss"


# --- optimizer and schedule flags -----------------------------------------------------------------

def optimizer_flags():
    """{flag: keyword} for every keyword of every registered optimizer's factory (``--weight-decay``
    for ``weight_decay``), in registration order: the CLI's optimizer flags, derived from
    ``optim.REGISTRY``."""
    from jaxgd import optim

    flags = {}
    for definition in optim.REGISTRY.values():
        for key in definition.keywords:
            flags.setdefault("--" + key.replace("_", "-"), key)
    return flags


def _takes(name):
    """{keyword: torch's default} of optimizer ``name``'s factory."""
    from jaxgd import optim

    return optim.REGISTRY[name].keywords


def real(text):
    """Any number (optim checks the range, as torch does)."""
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None


def pair(text):
    """Two comma-separated numbers."""
    parts = str(text).split(",")
    try:
        if len(parts) != 2:
            raise ValueError
        return tuple(float(p) for p in parts)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected two comma-separated numbers such as 0.9,0.999, got {text!r}") from None


def _fmt_default(v):
    if isinstance(v, bool):
        return "on" if v else "off"
    if isinstance(v, tuple):
        return ",".join(f"{x:g}" for x in v)
    return f"{v:g}"


def add_optimizer_arguments(p, allow_all=False):
    """``--optimizer NAME`` (or ``all`` with ``allow_all``), one flag per torch.optim keyword of
    the registered optimizers (``optim.REGISTRY``), and ``--schedule SPEC``."""
    from jaxgd import optim

    g = p.add_argument_group(
        "optimizer and learning-rate schedule",
        "torch.optim's optimizers with torch's defaults; a flag that the chosen optimizer does not take is an error")
    g.add_argument("--optimizer", choices=optim.NAMES + (("all",) if allow_all else ()), default="sgd",
                   help="optimizer; sgd without flags is the tutorial's sgd_optimizer"
                        + ("; 'all': each at torch's defaults" if allow_all else "")
                        + " (default: %(default)s)")
    for flag, key in optimizer_flags().items():
        owners = [n for n in optim.NAMES if key in _takes(n)]
        defaults = {n: _fmt_default(_takes(n)[key]) for n in owners}
        values = list(defaults.values())
        common = max(values, key=values.count)
        others = ", ".join(f"{n} {v}" for n, v in defaults.items() if v != common)
        what = next(optim.REGISTRY[n].help[key] for n in owners if key in optim.REGISTRY[n].help)
        where = "all" if len(owners) == len(optim.NAMES) else ", ".join(owners)
        help_ = f"{what}; for {where} (default: {common}{f' ({others})' if others else ''})".replace("%", "%%")
        default = _takes(owners[0])[key]
        if isinstance(default, bool):
            g.add_argument(flag, dest=key, action="store_const", const=True, default=None, help=help_)
        else:
            metavar = "A,B" if isinstance(default, tuple) else "X"
            g.add_argument(flag, dest=key, type=pair if isinstance(default, tuple) else real, metavar=metavar,
                           default=None, help=help_)
    names = ", ".join(n for n in optim.SCHEDULE_NAMES if n != "constant")
    g.add_argument("--schedule", type=schedule_spec, default="constant", metavar="SPEC",
                   help="learning-rate schedule stepped after each epoch, as torch's lr_scheduler: 'constant' or "
                        f"NAME:KEY=VALUE,... with NAME one of {names}; e.g. step_lr:step_size=10,gamma=0.5, "
                        "multistep_lr:milestones=10+20,gamma=0.1, cosine_annealing_lr:T_max=50 "
                        "(default: %(default)s)")


def schedule_spec(text):
    """``constant`` or ``NAME:KEY=VALUE,...`` -> an ``optim.Schedule`` (milestones joined by '+')."""
    import inspect

    from jaxgd import optim

    name, _, rest = str(text).strip().partition(":")
    if name not in optim.SCHEDULE_NAMES:
        raise argparse.ArgumentTypeError(f"unknown schedule {name!r}; expected one of {', '.join(optim.SCHEDULE_NAMES)}")
    factory = getattr(optim, name)
    params = inspect.signature(factory).parameters
    given = {}
    for item in filter(None, (t.strip() for t in rest.split(","))):
        key, eq, value = item.partition("=")
        key = key.strip()
        if not eq or key not in params:
            takes = ", ".join(params) or "nothing"
            raise argparse.ArgumentTypeError(f"{name} takes {takes} as KEY=VALUE, got {item!r}")
        if key in given:
            raise argparse.ArgumentTypeError(f"{key} given twice in {text!r}")
        try:
            if key == "milestones":
                given[key] = [int(m) for m in value.split("+")]
            else:
                given[key] = int(value) if value.strip().lstrip("+-").isdigit() else float(value)
        except ValueError:
            what = "integers joined by '+' such as 10+20" if key == "milestones" else "a number"
            raise argparse.ArgumentTypeError(f"{name}: {key}={value!r} is not {what}") from None
    missing = [k for k, prm in params.items() if prm.default is inspect.Parameter.empty and k not in given]
    if missing:
        raise argparse.ArgumentTypeError(f"{name} needs {', '.join(f'{k}=VALUE' for k in missing)}")
    try:
        return factory(**given)
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"{name}: {e}") from None


def optimizer_from_args(args, prog):
    """The ``optim.Optimizer`` the flags describe: the registered factory called with the flags
    given, so torch's checks apply; a flag that the optimizer does not take, or a value it
    rejects, is a UsageError. ``--optimizer all``: every registered optimizer at torch's
    defaults (no hyperparameter flags)."""
    from jaxgd import optim

    flags = optimizer_flags()
    name = args.optimizer
    if name == "all":
        given = [flag for flag, key in flags.items() if getattr(args, key) is not None]
        if given:
            raise UsageError(f"{prog}: error: {given[0]} needs one --optimizer, not all (all: torch's defaults)")
        return [optim.get(n) for n in optim.NAMES]
    takes = _takes(name)
    given = {}
    for flag, key in flags.items():
        value = getattr(args, key)
        if value is None:
            continue
        if key not in takes:
            accepted = ", ".join(f for f, k in flags.items() if k in takes)
            raise UsageError(f"{prog}: error: {flag} does not apply to --optimizer {name} (it takes {accepted})")
        given[key] = value
    try:
        return optim.REGISTRY[name].factory(**given)
    except ValueError as e:
        raise UsageError(f"{prog}: error: --optimizer {name}: {e}") from None


def describe_optimizer(spec, schedule=None) -> str:
    """One line: the optimizer with every hyperparameter, and the schedule."""
    from jaxgd import optim

    # spec.kwargs: torch's keywords (derived structure such as momentum_enabled is not one)
    parts = ", ".join(f"{k}={_fmt_default(v) if not isinstance(v, bool) else v}" for k, v in spec.kwargs.items())
    schedule = optim.get_schedule(schedule)
    kw = schedule.kwargs
    if schedule.name == "multistep_lr":
        sched = f"multistep_lr(milestones={'+'.join(str(v) for v in kw['milestones'])}, gamma={kw['gamma']:g})"
    elif kw:
        sched = f"{schedule.name}(" + ", ".join(f"{k}={v:g}" for k, v in kw.items()) + ")"
    else:
        sched = schedule.name
    return f"optimizer {spec.name}({parts}); schedule {sched}"
