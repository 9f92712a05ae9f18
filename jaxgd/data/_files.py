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

import contextlib
import csv
import os
from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from jaxgd._errors import InputError

__all__ = ["LoadedData", "load_dataset"]

# Rows parsed per block when reading CSV, and rows visited per block when scanning arrays.
# Bounds the temporaries to a block while the result is built in float32.
_CSV_BLOCK = 16384
_ARRAY_BLOCK = 1 << 16

_F32_MAX = float(np.finfo(np.float32).max)


@dataclass(frozen=True, eq=False)
class LoadedData:
    """A loaded data set.

    Attributes:
      X: features, float32 array of shape (n, d). Standardized (each column has mean 0 and
        standard deviation 1) when loaded with ``standardize=True``. May be a read-only
        memory map for an already float32, C-contiguous ``.npy`` file.
      y: targets, float32 array of shape (n,). Never standardized.
      feature_names: the d feature names (CSV header names; ``x0 ... x{d-1}`` for arrays).
      target_name: the target's name (the CSV column; ``"y"`` for arrays).
      dropped_rows: rows dropped because they held NaN, infinite or missing values
        (only with ``drop_nonfinite=True``; otherwise 0).
      mean, scale: float64 arrays (d,) with the column means and standard deviations
        (population, ddof=0) of the raw features when standardized, else ``None``.
      source: the path the data came from.
      padded_from: with ``load_dataset(..., mesh=)``: the number of real rows n, when X and y
        are global arrays padded with zero rows to a multiple of the mesh's devices (pass it
        on as ``train(..., n=data.n_rows)``); else ``None``.
    """

    X: np.ndarray
    y: np.ndarray
    feature_names: list[str]
    target_name: str
    dropped_rows: int = 0
    mean: Optional[np.ndarray] = None
    scale: Optional[np.ndarray] = None
    source: str = field(default="")
    padded_from: Optional[int] = None

    @property
    def standardized(self) -> bool:
        return self.mean is not None

    @property
    def n_rows(self) -> int:
        """The number of data rows n (without a mesh's padding rows)."""
        return int(self.X.shape[0] if self.padded_from is None else self.padded_from)

    def to_original_units(self, w, b):
        """Map parameters fitted on the standardized features back to the raw features' units.

        With z = (x - mean) / scale, the model w·z + b equals w_orig·x + b_orig where
        ``w_orig = w / scale`` and ``b_orig = b - sum(w * mean / scale)``. ``w`` may have shape
        (d,) or (d, 1) and ``b`` may be a scalar or shape (1,); the results are float64 with the
        same shapes. Without standardization the parameters are returned unchanged (as float64).
        """
        w64 = np.asarray(w, dtype=np.float64)
        b64 = np.asarray(b, dtype=np.float64)
        d = len(self.feature_names)
        if w64.size != d:
            raise InputError(f"w has {w64.size} entries but the data has {d} features")
        if b64.size != 1:
            raise InputError(f"b must hold one value, got shape {b64.shape}")
        if not self.standardized:
            return w64.copy(), b64.copy()
        flat = w64.reshape(d) / self.scale
        b_orig = b64 - float(np.dot(w64.reshape(d), self.mean / self.scale))
        return flat.reshape(w64.shape), b_orig


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


# ----------------------------------------------------------------------------------------------
# CSV


def _open_text(path):
    if not os.path.exists(path):
        raise FileNotFoundError(f"data file not found: {path}")
    if os.path.isdir(path):
        raise InputError(f"{path} is a directory, not a data file")
    # utf-8-sig drops a byte-order mark (spreadsheet exports); newline="" as csv requires.
    return open(path, newline="", encoding="utf-8-sig")


def _parse_cell(text):
    s = text.strip()
    if not s:
        return float("nan")  # a missing value
    return float(s)


def _load_csv(path, target, standardize, drop_nonfinite):
    name = os.path.basename(path)
    delimiter = "\t" if path.lower().endswith(".tsv") else ","
    with _open_text(path) as f:
        reader = csv.reader(f, delimiter=delimiter)
        try:
            header = next(reader, None)
            while header is not None and not any(c.strip() for c in header):
                header = next(reader, None)  # leading blank lines
        except (csv.Error, UnicodeDecodeError) as e:
            raise InputError(f"{name}: cannot read the header: {e}") from None
        if header is None:
            raise InputError(f"{name} is empty: expected a header row of column names and data rows")
        header = [c.strip() for c in header]
        header_line = reader.line_num
        _check_header(name, header, header_line)
        ncol = len(header)
        if ncol < 2:
            raise InputError(
                f"{name} has {ncol} column ({header[0]!r}); need at least one feature column and a target column"
            )
        if target is None:
            t = ncol - 1
        elif target in header:
            t = header.index(target)
        else:
            available = ", ".join(repr(c) for c in header)
            raise InputError(f"{name} has no column {target!r}; available columns: {available}")
        feat = [i for i in range(ncol) if i != t]
        feature_names = [header[i] for i in feat]

        X_blocks, y_blocks = [], []
        total = dropped = 0
        first_bad = None  # (line, column name, cell text)
        block = np.empty((_CSV_BLOCK, ncol), dtype=np.float64)
        lines = np.empty(_CSV_BLOCK, dtype=np.int64)
        k = 0

        def flush(k):
            nonlocal total, dropped, first_bad
            vals = block[:k]
            finite = np.isfinite(vals)
            over = finite & (np.abs(vals) > _F32_MAX)
            if over.any():
                r, c = np.argwhere(over)[0]
                raise InputError(
                    f"{name} line {lines[r]}, column {header[c]!r}: {float(vals[r, c])!r} is too large for float32"
                )
            good = finite.all(axis=1)
            nbad = k - int(good.sum())
            if nbad:
                if first_bad is None:
                    r, c = np.argwhere(~finite)[0]
                    first_bad = (int(lines[r]), header[c])
                dropped += nbad
                vals = vals[good]
            total += k
            X_blocks.append(vals[:, feat].astype(np.float32))
            y_blocks.append(vals[:, t].astype(np.float32))

        try:
            for row in reader:
                if not row or (len(row) == 1 and not row[0].strip()):
                    continue  # blank line
                line = reader.line_num
                if len(row) != ncol:
                    raise InputError(
                        f"{name} line {line}: expected {ncol} fields as in the header, got {len(row)}"
                    )
                try:
                    block[k] = [_parse_cell(c) for c in row]
                except ValueError:
                    for c, text in enumerate(row):
                        try:
                            _parse_cell(text)
                        except ValueError:
                            raise InputError(
                                f"{name} line {line}, column {header[c]!r}: {text.strip()!r} is not a number"
                            ) from None
                    raise
                lines[k] = line
                k += 1
                if k == _CSV_BLOCK:
                    flush(k)
                    k = 0
        except csv.Error as e:
            raise InputError(f"{name} line {reader.line_num}: malformed CSV: {e}") from None
        except UnicodeDecodeError as e:
            raise InputError(f"{name}: not UTF-8 text ({e.reason} at byte {e.start})") from None
        if k:
            flush(k)

    if total == 0:
        raise InputError(f"{name} has a header but no data rows")
    if dropped and not drop_nonfinite:
        line, col = first_bad
        raise InputError(
            f"{name}: {dropped} of {total} rows contain NaN, infinite or missing values "
            f"(first: line {line}, column {col!r}); pass drop_nonfinite=True (--drop-nonfinite) to drop them"
        )
    if dropped == total:
        raise InputError(f"{name}: all {total} rows contain NaN, infinite or missing values; no rows left")
    del block
    X = np.concatenate(X_blocks, out=_aligned_empty((sum(len(b) for b in X_blocks), X_blocks[0].shape[1])))
    X_blocks.clear()
    y = np.concatenate(y_blocks) if len(y_blocks) > 1 else y_blocks[0]
    return _standardize_if(X, y, feature_names, header[t], dropped, path, name, standardize)


def _aligned_empty(shape, dtype=np.float32, align=64):
    """An uninitialised array whose data start on a 64-byte boundary.

    JAX's CPU client uses such a numpy buffer in place; numpy's default (16-byte) alignment
    makes every ``jaxgd.train`` call copy X first, doubling peak memory (measured on
    10^7 x 32 float32: 2.18x the data against 1.19x).
    """
    nbytes = int(np.prod(shape)) * np.dtype(dtype).itemsize
    buf = np.empty(nbytes + align, np.uint8)
    offset = (-buf.ctypes.data) % align
    return buf[offset : offset + nbytes].view(dtype).reshape(shape)


def _check_header(name, header, line):
    for i, c in enumerate(header):
        if not c:
            raise InputError(f"{name} line {line}: column {i + 1} of the header has no name")
        try:
            number = np.isfinite(float(c))
        except ValueError:
            number = False
        if number:
            raise InputError(
                f"{name} line {line}: the first row must be a header of column names, found the number {c!r}"
            )
    seen = set()
    for c in header:
        if c in seen:
            raise InputError(f"{name} line {line}: the header names column {c!r} twice")
        seen.add(c)


# ----------------------------------------------------------------------------------------------
# Arrays


def _check_exists(path):
    if not os.path.exists(path):
        raise FileNotFoundError(f"data file not found: {path}")
    if os.path.isdir(path):
        raise InputError(f"{path} is a directory, not a data file")


def _load_npy(path, mmap):
    _check_exists(path)
    name = os.path.basename(path)
    try:
        return np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False)
    except ValueError as e:  # object arrays, corrupt headers
        raise InputError(f"{name}: cannot load the array: {e}") from None
    except (OSError, EOFError) as e:
        raise InputError(f"{name}: not a readable .npy file ({e})") from None


def _load_npy_pair(x_path, y_path):
    X = _load_npy(x_path, mmap=True)
    y = _load_npy(y_path, mmap=False)
    names = None
    source = f"{x_path},{y_path}"
    return X, y, names, "y", (source, os.path.basename(x_path), os.path.basename(y_path))


def _read_rows(a, start, stop, out):
    """Rows ``[start, stop)`` of the .npy memory map ``a`` into ``out`` (float32), block by block.

    A C-ordered file is read with plain file reads at the rows' offset rather than through the
    map, so the mapped pages do not stay resident beside the copy (peak memory: the rows once).
    """
    d = out.shape[1] if out.ndim == 2 else 1
    flat_out = out.reshape(len(out), d)
    c_order = isinstance(a, np.memmap) and a.flags.c_contiguous
    row_bytes = d * a.dtype.itemsize
    block = max(1, (8 << 20) // max(row_bytes, 1))
    with open(a.filename, "rb") if c_order else contextlib.nullcontext() as f:
        for i in range(start, stop, block):
            j = min(stop, i + block)
            if c_order:
                buf = np.empty((j - i) * d, a.dtype)
                f.seek(a.offset + i * row_bytes)
                got = f.readinto(memoryview(buf).cast("B"))
                if got != buf.nbytes:
                    raise InputError(f"{os.path.basename(a.filename)}: the file is shorter than its header says")
                src = buf.reshape(j - i, d)
            else:
                src = np.asarray(a[i:j]).reshape(j - i, d)
            with np.errstate(over="ignore", invalid="ignore"):
                flat_out[i - start:j - start] = src


def _load_npy_pair_sharded(x_path, y_path, mesh, standardize):
    """X and y as global JAX arrays with rows sharded over ``mesh``: every process reads from the
    files only the rows of its own devices (``jax.make_array_from_callback`` asks for exactly
    those). Rows are padded with zeros to a multiple of the devices."""
    import jax
    from jax.sharding import NamedSharding, PartitionSpec

    from jaxgd.data._mesh import auto_mesh

    mesh = auto_mesh(mesh)
    X, y = _load_npy(x_path, mmap=True), _load_npy(y_path, mmap=True)  # headers only: no data read
    source = (f"{x_path},{y_path}", os.path.basename(x_path), os.path.basename(y_path))
    X, y, names, _ = _checked_arrays(X, y, None, source)
    n, d = X.shape
    rows = -(-n // mesh.size) * mesh.size
    axes = tuple(mesh.axis_names)

    def read(a, start, stop):
        """Rows [start, stop) of the padded array: the file's rows, zeros past row n."""
        out = _aligned_empty((stop - start,) + a.shape[1:])
        real = max(start, min(stop, n))
        _read_rows(a, start, real, out[: real - start])
        out[real - start:] = 0
        return out

    def rows_of(index):
        return index[0].indices(rows)[:2]

    X_sh = NamedSharding(mesh, PartitionSpec(axes, None))
    y_sh = NamedSharding(mesh, PartitionSpec(axes))
    mean = scale = None
    if standardize:
        # This process's rows, read once and standardized in place before they become the
        # global array; the statistics are summed over every process in float64.
        local = {key: read(X, *key) for key in {rows_of(i) for i in
                                                X_sh.addressable_devices_indices_map((rows, d)).values()}}
        real = [buf[: max(0, min(stop, n) - start)] for (start, stop), buf in local.items()]
        mean, scale = _standardize(real, real, n, names, os.path.basename(x_path), _sum_over_processes)
        Xg = jax.make_array_from_callback((rows, d), X_sh, lambda index: local[rows_of(index)])
    else:
        Xg = jax.make_array_from_callback((rows, d), X_sh, lambda index: read(X, *rows_of(index)))
    yg = jax.make_array_from_callback((rows,), y_sh, lambda index: read(y, *rows_of(index)))
    return LoadedData(Xg, yg, list(names), "y", 0, mean, scale, source[0], padded_from=n)


def _sum_over_processes(a):
    """The float64 array ``a`` summed over every process, in float64 on every process alike.
    The values travel as their bits (uint32 pairs): JAX without x64 would round float64 to float32."""
    import jax

    if jax.process_count() == 1:
        return a
    from jax.experimental import multihost_utils

    bits = np.ascontiguousarray(a, np.float64).view(np.uint32)
    every = np.ascontiguousarray(multihost_utils.process_allgather(bits), np.uint32)  # (processes, 2 d)
    return every.view(np.float64).sum(axis=0)


def _load_npz(path):
    _check_exists(path)
    name = os.path.basename(path)
    try:
        archive = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as e:
        raise InputError(f"{name}: not a readable .npz file ({e})") from None
    if not hasattr(archive, "files"):
        raise InputError(f"{name}: not an .npz archive")
    with archive:
        keys = list(archive.files)
        for key in ("X", "y"):
            if key not in keys:
                found = ", ".join(repr(k) for k in keys) or "none"
                raise InputError(f"{name} has no array {key!r} (arrays found: {found}); expected arrays 'X' and 'y'")
        try:
            X, y = archive["X"], archive["y"]
            names = archive["feature_names"] if "feature_names" in keys else None
        except ValueError as e:
            raise InputError(f"{name}: cannot load the arrays: {e}") from None
    if names is not None:
        if names.dtype.kind not in "US" or names.ndim != 1:
            raise InputError(f"{name}: 'feature_names' must be a 1-D array of strings, got {names.dtype} {names.shape}")
        names = [str(s) for s in names]
    return X, y, names, "y", (path, f"{name} array 'X'", f"{name} array 'y'")


def _row_blocks(n):
    for i in range(0, n, _ARRAY_BLOCK):
        yield i, min(n, i + _ARRAY_BLOCK)


def _checked_arrays(X, y, names, source):
    """Dtype and shape checks shared by every array loader: ``(X (n, d), y (n,), names, name)``."""
    path, xname, yname = source
    name = os.path.basename(path.split(",")[0]) if "," in path else os.path.basename(path)
    for label, a in ((xname, X), (yname, y)):
        if not (np.issubdtype(a.dtype, np.number) or a.dtype == bool) or np.iscomplexobj(a):
            raise InputError(f"{label} must hold real numbers, got dtype {a.dtype}")
    if X.ndim == 1:
        X = X.reshape(-1, 1)
    if X.ndim != 2:
        raise InputError(f"{xname} must have shape (n, d) or (n,), got {X.shape}")
    if y.ndim == 2 and y.shape[1] == 1:
        y = y.reshape(-1)
    if y.ndim != 1:
        raise InputError(f"{yname} must have shape (n,) or (n, 1), got {y.shape}")
    n, d = X.shape
    if len(y) != n:
        raise InputError(f"length mismatch: {xname} has {n} rows but {yname} has {len(y)}")
    if n == 0:
        raise InputError(f"{xname} has no rows")
    if d == 0:
        raise InputError(f"{xname} has no feature columns (shape {X.shape})")
    if names is None:
        names = [f"x{i}" for i in range(d)]
    elif len(names) != d:
        raise InputError(f"{name}: 'feature_names' has {len(names)} names but X has {d} columns")
    return X, y, names, name


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


def _take_rows(X, good):
    """``X[good]`` into a 64-byte-aligned array (boolean indexing gives numpy's default 16-byte
    alignment, which JAX copies on every call), copied block by block (X may be a memory map)."""
    out = _aligned_empty((int(good.sum()), X.shape[1]), X.dtype)
    k = 0
    for i, j in _row_blocks(X.shape[0]):
        rows = X[i:j][good[i:j]]
        out[k : k + len(rows)] = rows
        k += len(rows)
    return out


# ----------------------------------------------------------------------------------------------
# Standardization


def _column_stats(parts, n, total):
    """Means and population standard deviations of the columns of n rows held as the row blocks
    ``parts``, in float64, block by block. ``total`` sums a partial sum over the processes
    that hold the other rows (the mesh loader), or returns it as it is."""
    d = parts[0].shape[1]
    sums = np.zeros(d, dtype=np.float64)
    for part in parts:
        for i, j in _row_blocks(len(part)):
            sums += part[i:j].sum(axis=0, dtype=np.float64)
    mean = total(sums) / n
    sq = np.zeros(d, dtype=np.float64)
    for part in parts:
        for i, j in _row_blocks(len(part)):
            dev = part[i:j].astype(np.float64) - mean
            sq += np.einsum("ij,ij->j", dev, dev)
    return mean, np.sqrt(total(sq) / n)


def _standardize(parts, outs, n, feature_names, name, total=lambda a: a):
    """The one standardiser of both loaders: writes ``(x - mean) / scale``, computed in float64
    with float64 column statistics over all n rows, into ``outs`` (float32 blocks matching
    ``parts``; may be ``parts`` themselves). Returns ``(mean, scale)``."""
    mean, scale = _column_stats(parts, n, total)
    for c in range(len(mean)):
        # Zero spread, or a spread at the level of float32 rounding of the values: not scalable.
        if not scale[c] > 4 * np.finfo(np.float32).eps * abs(mean[c]):
            raise InputError(
                f"{name}: feature column {feature_names[c]!r} is constant (value {mean[c]:.6g}); "
                f"cannot standardize it — remove the column or load without standardize"
            )
    for part, out in zip(parts, outs):
        for i, j in _row_blocks(len(part)):
            out[i:j] = (part[i:j].astype(np.float64) - mean) / scale
    return mean, scale


def _standardize_if(X, y, feature_names, target_name, dropped, source, name, standardize):
    if not standardize:
        return LoadedData(X, y, list(feature_names), str(target_name), int(dropped), source=source)
    # Scale in place when X is this loader's own buffer; never write into a memory-mapped file.
    out = X if (X.flags.writeable and not isinstance(X, np.memmap) and X.base is not None
                and not isinstance(X.base, np.memmap)) else _aligned_empty(X.shape)
    mean, scale = _standardize([X], [out], X.shape[0], feature_names, name)
    return LoadedData(out, y, list(feature_names), str(target_name), int(dropped), mean, scale, source)
