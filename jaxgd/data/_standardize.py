"""The one standardiser: float64 column statistics (reduced across processes on a mesh) and (x - mean) / scale."""

from __future__ import annotations

import numpy as np

from jaxgd._errors import InputError
from jaxgd.data._arrays import _aligned_empty, _row_blocks
from jaxgd.data._loaded import LoadedData


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
