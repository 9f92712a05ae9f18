"""Command-line pieces for training on a data file: ``--data``, ``--target``, ``--standardize``,
``--drop-nonfinite``, and one-line summaries of the data and of the fitted parameters."""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING, Optional

from jaxgd._errors import InputError

if TYPE_CHECKING:
    from jaxgd.data._files import LoadedData


def __getattr__(name):  # PEP 562: the loaders import JAX, so only when a command loads a file
    if name in ("load_dataset", "LoadedData"):
        from jaxgd.data import _files

        globals()[name] = value = getattr(_files, name)
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = ["add_data_arguments", "data_from_args", "describe", "report_parameters"]


def add_data_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add ``--data``, ``--target``, ``--standardize`` and ``--drop-nonfinite`` (in a group)."""
    g = parser.add_argument_group("data file")
    g.add_argument(
        "--data", metavar="PATH", default=None,
        help="a CSV (or .tsv) with a header line, an .npz with X and y, or 'X.npy,y.npy' "
             "(default: none, the synthetic data)",
    )
    g.add_argument(
        "--target", metavar="COLUMN", default=None,
        help="the CSV column to predict; the others are features (default: the last)",
    )
    g.add_argument(
        "--standardize", action="store_true",
        help="rescale the features to mean 0, std 1; parameters also in original units (default: off)",
    )
    g.add_argument(
        "--drop-nonfinite", action="store_true",
        help="drop rows with NaN, infinite or empty values instead of stopping (default: off)",
    )
    return parser


def data_from_args(args: argparse.Namespace, mesh=None) -> Optional[LoadedData]:
    """Load the data named by ``--data``, or return None when ``--data`` was not given.

    ``--target``, ``--standardize`` or ``--drop-nonfinite`` without ``--data`` is an InputError
    rather than being silently ignored. With ``mesh`` (several processes), each process reads
    only its own rows (``load_dataset(..., mesh=)``).
    """
    path = getattr(args, "data", None)
    target = getattr(args, "target", None)
    standardize = bool(getattr(args, "standardize", False))
    drop = bool(getattr(args, "drop_nonfinite", False))
    if path is None:
        given = [flag for flag, on in (("--target", target is not None), ("--standardize", standardize),
                                       ("--drop-nonfinite", drop)) if on]
        if given:
            raise InputError(f"{', '.join(given)} needs --data PATH")
        return None
    try:
        load_dataset = globals().get("load_dataset") or __getattr__("load_dataset")
        return load_dataset(path, target=target, standardize=standardize, drop_nonfinite=drop, mesh=mesh)
    except (FileNotFoundError, PermissionError) as e:
        # A file the user named that cannot be opened is bad input; an error about any other file is not.
        if e.filename is None:  # load_dataset's own message, which names the path
            raise InputError(str(e)) from None
        if os.path.abspath(e.filename) in {os.path.abspath(p.strip()) for p in path.split(",")}:
            raise InputError(f"--data {e.filename}: {e.strerror}") from None
        raise


def describe(loaded: LoadedData) -> str:
    """One line: source, rows, features, target, dropped rows and whether standardized."""
    n, d = loaded.n_rows, loaded.X.shape[1]
    names = loaded.feature_names
    shown = ", ".join(names) if d <= 6 else ", ".join(names[:5]) + f", … ({d - 5} more)"
    parts = [
        f"{loaded.source}: {n} rows",
        f"{d} feature{'s' if d != 1 else ''} ({shown})",
        f"target {loaded.target_name!r}",
        f"{loaded.dropped_rows} row{'s' if loaded.dropped_rows != 1 else ''} dropped (non-finite)",
    ]
    if loaded.standardized:
        parts.append("features standardized")
    return "; ".join(parts)


def _fmt(v: float) -> str:
    return f"{v:.6g}"


def report_parameters(loaded: LoadedData, w, b) -> str:
    """The fitted parameters by feature name, one per line, and in original units when standardized.

    Example (standardized)::

        target 'y' = b + sum of w * feature
        feature        w (standardized)  w (original units)
        ----------------------------------------------------
        x1                      1.16007             2.00068
        x2                     -1.72969            -2.99941
        b (intercept)          -0.49961             1.00052
    """
    import numpy as np

    from jaxgd.studies._table import table

    w64 = np.asarray(w, dtype=np.float64).reshape(-1)
    b64 = float(np.asarray(b, dtype=np.float64).reshape(-1)[0])
    names = loaded.feature_names
    if w64.size != len(names):
        raise InputError(f"w has {w64.size} entries but the data has {len(names)} features")
    rows = [[name, _fmt(v)] for name, v in zip(names, w64)] + [["b (intercept)", _fmt(b64)]]
    header = ["feature", "w"]
    if loaded.standardized:
        w_orig, b_orig = loaded.to_original_units(w64, b64)
        for row, v in zip(rows, [*w_orig.reshape(-1), float(np.asarray(b_orig).reshape(-1)[0])]):
            row.append(_fmt(v))
        header = ["feature", "w (standardized)", "w (original units)"]
    return f"target {loaded.target_name!r} = b + sum of w * feature\n" + table(header, rows)
