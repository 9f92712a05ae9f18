"""The optimizer and schedule flags, derived from ``optim.REGISTRY``: one flag per torch keyword
of the registered optimizers (``weight_decay``: ``--weight-decay``), checked by the optimizer's
own factory. ``--help`` lists the keyword flags of the optimizer named on the same command line
(``jaxgd train --optimizer adam --help``), and only names them otherwise, so a command's help
stays short however many optimizers there are. What the parser reads of the registry comes
through ``_facts`` (no JAX import on a warm run); building a spec imports ``optim`` itself."""

from __future__ import annotations

import argparse

from jaxgd.cli._types import pair, real
from jaxgd.cli._usage import UsageError


def optimizer_flags():
    """{flag: keyword} for every keyword of every registered optimizer's factory (``--weight-decay``
    for ``weight_decay``), in registration order: the CLI's optimizer flags, derived from
    ``optim.REGISTRY``."""
    flags = {}
    for definition in _optimizers().values():
        for key in definition["keywords"]:
            flags.setdefault("--" + key.replace("_", "-"), key)
    return flags


def _optimizers():
    """{name: {"torch_name", "help", "keywords"}} of ``optim.REGISTRY``, in registration order."""
    from jaxgd.cli._facts import facts

    return facts()["optimizers"]


def _names():
    from jaxgd.cli._facts import facts

    return facts()["optimizer_names"]


def _takes(name):
    """{keyword: torch's default} of optimizer ``name``'s factory."""
    return _optimizers()[name]["keywords"]


def _fmt_default(v):
    if isinstance(v, bool):
        return "on" if v else "off"
    if isinstance(v, tuple):
        return ",".join(f"{x:g}" for x in v)
    return f"{v:g}"


# The optimizer whose keyword flags --help describes: set by cli.main from the command line when
# it asks for help (None: the flags are parsed but not listed one by one).
HELP_FOR = None


def help_for(argv):
    """The optimizer named on a command line that asks for ``--help`` (else None)."""
    if not {"-h", "--help"} & set(argv):
        return None
    for i, arg in enumerate(argv):
        if arg == "--optimizer" and i + 1 < len(argv):
            name = argv[i + 1]
        elif arg.startswith("--optimizer="):
            name = arg.partition("=")[2]
        else:
            continue
        if name in _names():
            return name
    return None


def add_optimizer_arguments(p, allow_all=False):
    """``--optimizer NAME`` (or ``all`` with ``allow_all``), one flag per torch.optim keyword of
    the registered optimizers (``optim.REGISTRY``), and ``--schedule SPEC``."""
    from jaxgd.cli._facts import facts

    names_ = _names()
    shown = HELP_FOR
    if shown is None:
        about = ("torch.optim's optimizers, each keyword a flag (weight_decay: --weight-decay) with torch's "
                 "default; '--optimizer NAME --help' lists NAME's flags")
    else:
        about = (f"the flags of --optimizer {shown} (torch.optim.{_optimizers()[shown]['torch_name']}), with torch's "
                 "defaults; a flag it does not take is an error")
    g = p.add_argument_group("optimizer and learning-rate schedule", about)
    g.add_argument("--optimizer", choices=names_ + (("all",) if allow_all else ()), default="sgd",
                   metavar="NAME",
                   help=f"one of {', '.join(names_)}" + (", or 'all' (each at torch's defaults)" if allow_all
                                                            else "")
                        + "; sgd without flags is the tutorial's sgd_optimizer (default: %(default)s)")
    for flag, key in optimizer_flags().items():
        owners = [n for n in names_ if key in _takes(n)]
        default = _takes(owners[0])[key]
        if shown is not None and key in _takes(shown):
            what = _optimizers()[shown]["help"].get(key, key.replace("_", " "))
            help_ = f"{what} (default: {_fmt_default(_takes(shown)[key])})".replace("%", "%%")
        else:
            help_ = argparse.SUPPRESS
        if isinstance(default, bool):
            g.add_argument(flag, dest=key, action="store_const", const=True, default=None, help=help_)
        else:
            metavar = "A,B" if isinstance(default, tuple) else "X"
            g.add_argument(flag, dest=key, type=pair if isinstance(default, tuple) else real, metavar=metavar,
                           default=None, help=help_)
    names = ", ".join(n for n in facts()["schedule_names"] if n != "constant")
    g.add_argument("--schedule", type=schedule_spec, default="constant", metavar="SPEC",
                   help=f"lr schedule stepped after each epoch: 'constant' or NAME:KEY=VALUE,... with NAME one of "
                        f"{names}; e.g. step_lr:step_size=10,gamma=0.5 (default: %(default)s)")


def schedule_spec(text):
    """``constant`` or ``NAME:KEY=VALUE,...`` -> an ``optim.Schedule`` (milestones joined by '+')."""
    import inspect

    from jaxgd.cli._facts import facts

    known = facts()["schedule_names"]
    name, _, rest = str(text).strip().partition(":")
    if name not in known:  # before importing optim (JAX): a mistake is quick
        raise argparse.ArgumentTypeError(f"unknown schedule {name!r}; expected one of {', '.join(known)}")
    from jaxgd import optim

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
