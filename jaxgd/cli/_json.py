"""``--json``: one writer for every command (strict JSON, non-finite values as strings) and the run's configuration."""

from __future__ import annotations

NONFINITE = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}


def plain(value):
    """``value`` as JSON-ready Python: arrays and numpy scalars as lists and Python numbers (floats
    at full precision: Python's float repr round-trips), dataclass-free containers recursed,
    non-finite floats as the strings "NaN", "Infinity", "-Infinity" (``float()`` reads them back)."""
    import numpy as np

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
    import numpy as np

    from jaxgd import analysis

    values = np.asarray(values, np.float64)
    diverged = np.zeros(values.shape, bool) if diverged is None else np.asarray(diverged, bool)
    kept = values[~diverged]
    lo, mid, hi = analysis.describe(kept, qs) if kept.size else (None, None, None)
    return {"median": mid, f"{qs[0]:.0%}": lo, f"{qs[2]:.0%}": hi, "diverged": int(diverged.sum())}
