"""``.npz`` files and ``X.npy,y.npy`` pairs, and with a mesh the pair as row-sharded global arrays (each process reads only its rows)."""

from __future__ import annotations

import contextlib
import os

import numpy as np

from jaxgd._errors import InputError
from jaxgd.data._arrays import _aligned_empty, _checked_arrays
from jaxgd.data._loaded import LoadedData
from jaxgd.data._standardize import _standardize


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
