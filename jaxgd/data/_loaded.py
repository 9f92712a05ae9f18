"""``LoadedData``: what ``load_dataset`` returns (the arrays, their names, the standardisation to undo)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from jaxgd._errors import InputError


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
