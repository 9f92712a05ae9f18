"""Load real data sets for ``jaxgd.train``: CSV with a header, ``.npz``, or a pair of ``.npy`` files.

    from jaxgd import load_dataset
    data = load_dataset("house.csv", target="price", standardize=True)
    result = jaxgd.train(data.X, data.y, batch_size=50, lr=0.05, epochs=30)
    w, b = data.to_original_units(result.w, result.b)

Every problem with the file is reported as a one-line ``InputError`` (a ``ValueError``) that
names the file and, where there is one, the line and column (a missing file is a
``FileNotFoundError``).
"""

from __future__ import annotations

import os
from typing import Optional

import numpy as np

from jaxgd._errors import InputError
from jaxgd.data._arrays import (
    _aligned_empty,  # noqa: F401
    _checked_arrays,
    _row_blocks,
    _take_rows,
)
from jaxgd.data._csv import _load_csv
from jaxgd.data._loaded import LoadedData
from jaxgd.data._npy import _load_npy_pair, _load_npy_pair_sharded, _load_npz
from jaxgd.data._standardize import _standardize_if

__all__ = ["LoadedData", "load_dataset"]


def load_dataset(path, *, target: Optional[str] = None, standardize: bool = False,
                 drop_nonfinite: bool = False, mesh=None) -> LoadedData:
    """Load features X (n, d) and targets y (n,) as float32 from a file.

    Formats, chosen by the file name:

    * ``*.csv`` (comma-separated) or ``*.tsv`` (tab-separated): the first line is a header of
      column names (unique, non-empty). Every other column is a feature; ``target`` names the y
      column, default the last column. Cells are parsed as Python ``float`` (``1.5``, ``-2e3``,
      ``nan``, ``inf``); an empty cell is a missing value and counts as non-finite. Blank lines
      are skipped. Line numbers in errors are the file's 1-based line numbers (the header is
      line 1). The file is read in blocks into float32, so at most about two copies of the data
      are held at once.
    * ``*.npz``: arrays named ``X`` (n, d) — or (n,) for a single feature — and ``y`` (n,) or
      (n, 1); an optional string array ``feature_names`` of length d names the features.
    * a pair of ``.npy`` files given as ``"X.npy,y.npy"`` (features file, a comma, targets
      file; any names ending in ``.npy``; no other form is accepted for .npy). The features are
      memory-mapped: a float32 C-contiguous X is kept as a read-only memory map (no copy, unless
      rows are dropped or the features standardized, which make one float32 copy); any other
      dtype or layout is converted to float32 block by block (one float32 copy).

    ``target`` applies to CSV only (for arrays the target is ``y``).

    Args:
      standardize: rescale each feature column to mean 0, standard deviation 1 (population).
        Only X is standardized, never y. The means and scales are kept in ``mean``/``scale``
        and ``to_original_units`` maps fitted parameters back. A constant column is an error.
      drop_nonfinite: drop the rows holding NaN, infinite or missing values and count them in
        ``dropped_rows``; by default such rows are an error.
      mesh: a ``jax.sharding.Mesh`` (for several processes, ``jaxgd.distributed.initialize()``'s):
        an ``"X.npy,y.npy"`` pair is loaded as global JAX arrays whose rows are sharded over the
        mesh's devices, each process reading from the files only the rows of its own devices
        (no process ever holds all of X). The rows are padded with zeros to a multiple of the
        devices; ``n_rows`` is the real count, to pass as ``train(..., n=data.n_rows)``.
        Values are not scanned here (each process sees only its rows): non-finite values are
        reported by ``train``, for every process alike. Not with ``drop_nonfinite``.

    Raises:
      FileNotFoundError: a file does not exist.
      InputError (a ValueError): anything wrong with the contents, in one line naming the file, line and column.
    """
    path = os.fspath(path)
    if os.path.isdir(path):
        raise InputError(f"{path} is a directory, not a data file")
    lower = path.lower()
    parts = [p.strip() for p in path.split(",")]
    if len(parts) == 2 and all(p.lower().endswith(".npy") for p in parts):
        if target is not None:
            raise InputError("target applies to CSV files only; a .npy pair holds y in its second file")
        if mesh is not None:
            if drop_nonfinite:
                raise InputError("drop_nonfinite cannot be used with mesh: each process reads only its own "
                                 "rows; drop the non-finite rows from the files first")
            return _load_npy_pair_sharded(*parts, mesh, standardize)
        X, y, names, tname, source = _load_npy_pair(*parts)
    elif mesh is not None:
        raise InputError(f"{path}: loading with a mesh (each process reading only its rows) needs an "
                         "'X.npy,y.npy' pair; convert the data to .npy files first")
    elif lower.endswith(".npy"):
        raise InputError(
            f"{path}: a .npy file holds one array; pass the features and targets as "
            f"'X.npy,y.npy' or use an .npz file with arrays X and y"
        )
    elif lower.endswith(".npz"):
        if target is not None:
            raise InputError("target applies to CSV files only; an .npz file holds y as its array 'y'")
        X, y, names, tname, source = _load_npz(path)
    elif lower.endswith(".csv") or lower.endswith(".tsv"):
        return _load_csv(path, target, standardize, drop_nonfinite)
    else:
        raise InputError(
            f"{path}: unknown data format; expected a .csv, .tsv or .npz file or an 'X.npy,y.npy' pair"
        )
    return _finish_arrays(X, y, names, tname, source, standardize, drop_nonfinite)


def _finish_arrays(X, y, names, target_name, source, standardize, drop_nonfinite):
    X, y, names, name = _checked_arrays(X, y, names, source)
    path, xname, yname = source
    n, d = X.shape
    # float32 conversion block by block, checking values on the way: a float32 C-contiguous
    # array (e.g. a memory-mapped .npy) is kept as it is, anything else is converted once.
    keep = X.dtype == np.float32 and X.flags.c_contiguous
    X32 = X if keep else _aligned_empty((n, d))
    good = np.ones(n, dtype=bool)
    for i, j in _row_blocks(n):
        src = np.asarray(X[i:j])
        fin = np.isfinite(src) if src.dtype.kind == "f" else np.ones(src.shape, dtype=bool)
        if not keep:
            with np.errstate(over="ignore", invalid="ignore"):
                X32[i:j] = src
            over = fin & ~np.isfinite(X32[i:j])
            if over.any():
                r, c = np.argwhere(over)[0]
                raise InputError(f"{xname} row {i + r}, column {c}: {float(src[r, c])!r} is too large for float32")
        good[i:j] = fin.all(axis=1)
    y_src = np.asarray(y)
    with np.errstate(over="ignore", invalid="ignore"):
        y32 = y_src.astype(np.float32)
    y_fin = np.isfinite(y_src) if y_src.dtype.kind == "f" else np.ones(n, dtype=bool)
    over = y_fin & ~np.isfinite(y32)
    if over.any():
        r = int(np.flatnonzero(over)[0])
        raise InputError(f"{yname} row {r}: {float(y_src[r])!r} is too large for float32")
    good &= y_fin
    nbad = n - int(good.sum())
    if nbad:
        if not drop_nonfinite:
            first = int(np.flatnonzero(~good)[0])
            raise InputError(
                f"{name}: {nbad} of {n} rows contain NaN or infinite values (first: row {first}, 0-based); "
                f"pass drop_nonfinite=True (--drop-nonfinite) to drop them"
            )
        if nbad == n:
            raise InputError(f"{name}: all {n} rows contain NaN or infinite values; no rows left")
        X32 = _take_rows(X32, good)
        y32 = y32[good]
    return _standardize_if(X32, y32, names, target_name, nbad, path, name, standardize)
