"""What the commands share: the tutorial's settings, the parser, argparse types (the one place
values are validated), common options, output-path checks, data loading and table printing."""

from __future__ import annotations

import argparse
import time

import numpy as np

from .._table import table

TUTORIAL_N, TUTORIAL_LR, TUTORIAL_EPOCHS, TUTORIAL_BATCH = 1000, 0.02, 50, 50


class UsageError(Exception):
    """A command-line mistake: reported in one line with exit code 2."""


class Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, no usage dump
        raise UsageError(f"{self.prog}: error: {message}")


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


def check_batch_size(batch_size, n, loaded=None, flag="--batch-size"):
    """The one check of a batch size against the data: names the flag and where n came from."""
    if batch_size is None or batch_size <= n:
        return
    if loaded is not None:
        raise ValueError(f"{loaded.source} has {n} rows, fewer than {flag} {batch_size}")
    raise ValueError(f"{flag} {batch_size} is larger than --n {n}")



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


# --- data, training, printing ----------------------------------------------------------------------


def tutorial_data(args):
    """The tutorial's synthetic data with --n examples, --d features and --data-seed."""
    from .._data import synthetic_data, tutorial_weights

    return synthetic_data(tutorial_weights(args.d), 4.0, args.n, seed=args.data_seed)


def training_data(args, mesh=None):
    """(X, y, true_w, true_b, loaded): a data file from --data (described on stdout), else the
    tutorial's synthetic data (loaded None). With ``mesh``, a data file's rows are sharded over it,
    each process reading only its own."""
    from .._cli_data import data_from_args, describe

    loaded = data_from_args(args, mesh)
    if loaded is None:
        data = tutorial_data(args)
        return data.X, data.y, data.true_w, data.true_b, None
    print(describe(loaded))
    return loaded.X, loaded.y, None, None, loaded


def timed_train(X, y, repeats=5, **kwargs):
    """Returns (result, median steady-state wall time, first call's time including compilation).

    A diverging run is timed like any other; the commands report its divergence themselves,
    so train's warning about it is not repeated.
    """
    import warnings

    import jax

    from .._train import train

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="training diverged", category=RuntimeWarning)
        t0 = time.perf_counter()
        result = jax.block_until_ready(train(X, y, **kwargs))
        first = time.perf_counter() - t0
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            jax.block_until_ready(train(X, y, **kwargs))
            times.append(time.perf_counter() - t0)
    return result, float(np.median(times)), first


def quiet_train(X, y, **kwargs):
    """``train`` without its divergence warning (for a run a command has already reported)."""
    import warnings

    from .._train import train

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="training diverged", category=RuntimeWarning)
        return train(X, y, **kwargs)


def print_table(header, rows):
    print(table(header, rows))


def fmt_vec(a):
    a = np.asarray(a).ravel()
    return f"{a[0]:.4f}" if a.size == 1 else "[" + ", ".join(f"{v:.3f}" for v in a[:3]) + (", …]" if a.size > 3 else "]")


DIVERGED = "the loss is non-finite or above 1000x the initial loss"


# --- optimizer and schedule flags -----------------------------------------------------------------

# flag -> (the optim factories' keyword, metavar or None for an on/off flag, what it is)
OPTIMIZER_FLAGS = {
    "--momentum": ("momentum", "X", "momentum factor"),
    "--dampening": ("dampening", "X", "dampening of the momentum"),
    "--nesterov": ("nesterov", None, "Nesterov momentum (needs --momentum > 0 and --dampening 0)"),
    "--weight-decay": ("weight_decay", "X", "weight decay (L2 on the gradient; AdamW: decoupled)"),
    "--betas": ("betas", "B1,B2", "coefficients of the running averages of the gradient and its square"),
    "--eps": ("eps", "X", "term added to the denominator for numerical stability"),
    "--amsgrad": ("amsgrad", None, "AMSGrad: the maximum of the past second moments"),
    "--lr-decay": ("lr_decay", "X", "learning-rate decay"),
    "--initial-accumulator-value": ("initial_accumulator_value", "X", "initial value of the sum of squared gradients"),
    "--alpha": ("alpha", "X", "smoothing constant of the squared-gradient average"),
    "--centered": ("centered", None, "centered RMSprop (normalised by an estimate of the gradient's variance)"),
    "--rho": ("rho", "X", "coefficient of the running averages of squared gradients and updates"),
}


def _factory(name):
    from .. import optim

    return getattr(optim, name)


def _takes(name):
    """{keyword: torch's default} of optimizer ``name``'s factory."""
    import inspect

    return {k: p.default for k, p in inspect.signature(_factory(name)).parameters.items()}


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
    """``--optimizer NAME`` (or ``all`` with ``allow_all``), one flag per torch.optim
    hyperparameter, and ``--schedule SPEC``."""
    from .. import optim

    g = p.add_argument_group(
        "optimizer and learning-rate schedule",
        "torch.optim's optimizers with torch's defaults; a hyperparameter flag that the chosen "
        "optimizer does not take is an error")
    g.add_argument("--optimizer", choices=optim.NAMES + (("all",) if allow_all else ()), default="sgd",
                   help="optimizer; sgd without flags is the tutorial's sgd_optimizer"
                        + ("; 'all': each of the six at torch's defaults" if allow_all else "")
                        + " (default: %(default)s)")
    for flag, (key, metavar, what) in OPTIMIZER_FLAGS.items():
        owners = [n for n in optim.NAMES if key in _takes(n)]
        defaults = {n: _fmt_default(_takes(n)[key]) for n in owners}
        values = list(defaults.values())
        common = max(values, key=values.count)
        others = ", ".join(f"{n} {v}" for n, v in defaults.items() if v != common)
        default = f"{common}{f' ({others})' if others else ''}, torch's"
        help_ = f"{what}; for {', '.join(owners)} (default: {default})".replace("%", "%%")
        if metavar is None:
            g.add_argument(flag, action="store_const", const=True, default=None, help=help_)
        else:
            g.add_argument(flag, type=pair if key == "betas" else real, metavar=metavar, default=None, help=help_)
    names = ", ".join(n for n in optim.SCHEDULE_NAMES if n != "constant")
    g.add_argument("--schedule", type=schedule_spec, default="constant", metavar="SPEC",
                   help="learning-rate schedule stepped after each epoch, as torch's lr_scheduler: 'constant' or "
                        f"NAME:KEY=VALUE,... with NAME one of {names}; e.g. step_lr:step_size=10,gamma=0.5, "
                        "multistep_lr:milestones=10+20,gamma=0.1, cosine_annealing_lr:T_max=50 "
                        "(default: %(default)s)")


def schedule_spec(text):
    """``constant`` or ``NAME:KEY=VALUE,...`` -> an ``optim.Schedule`` (milestones joined by '+')."""
    import inspect

    from .. import optim

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
    """The ``optim.Optimizer`` the flags describe: ``optim.<name>(**given)``, so torch's checks
    apply; a flag that the optimizer does not take, or a value it rejects, is a UsageError.
    ``--optimizer all``: the list of the six at torch's defaults (no hyperparameter flags)."""
    name = args.optimizer
    if name == "all":
        given = [flag for flag, (key, _, _) in OPTIMIZER_FLAGS.items() if getattr(args, key) is not None]
        if given:
            raise UsageError(f"{prog}: error: {given[0]} needs one --optimizer, not all (all: torch's defaults)")
        from .. import optim

        return [optim.get(n) for n in optim.NAMES]
    takes = _takes(name)
    given = {}
    for flag, (key, _, _) in OPTIMIZER_FLAGS.items():
        value = getattr(args, key)
        if value is None:
            continue
        if key not in takes:
            flags = ", ".join(f for f, (k, _, _) in OPTIMIZER_FLAGS.items() if k in takes)
            raise UsageError(f"{prog}: error: {flag} does not apply to --optimizer {name} (it takes {flags})")
        given[key] = value
    try:
        return _factory(name)(**given)
    except ValueError as e:
        raise UsageError(f"{prog}: error: --optimizer {name}: {e}") from None


def describe_optimizer(spec, schedule=None) -> str:
    """One line: the optimizer with every hyperparameter, and the schedule."""
    from .. import optim

    values = dict(spec.hyperparams)
    if "beta1" in values:
        values = {"betas": (values.pop("beta1"), values.pop("beta2")), **values}
    # *_enabled options are derived structure (momentum != 0, ...), not torch arguments
    values.update({k: v for k, v in spec.options if not k.endswith("_enabled")})
    parts = ", ".join(f"{k}={_fmt_default(v) if not isinstance(v, bool) else v}" for k, v in values.items())
    schedule = optim.get_schedule(schedule)
    if schedule.name == "multistep_lr":
        p = dict(schedule.params)
        sched = f"multistep_lr(milestones={'+'.join(str(v) for k, v in schedule.params if k.startswith('milestone_'))}, gamma={p['gamma']:g})"
    elif schedule.params:
        sched = f"{schedule.name}(" + ", ".join(f"{k}={v:g}" for k, v in schedule.params) + ")"
    else:
        sched = schedule.name
    return f"optimizer {spec.name}({parts}); schedule {sched}"
