"""Float64 NumPy references shared by the tests (imported as a sibling module)."""

import numpy as np


def numpy_loss(X, y, w, b):
    """The tutorial's loss 1/(2m) sum (X w + b - y)^2 in float64, at parameters (..., d, 1), (..., 1)."""
    X, y = np.asarray(X, np.float64), np.asarray(y, np.float64).reshape(-1, 1)
    r = np.asarray(w, np.float64).swapaxes(-1, -2) @ X.T + np.asarray(b, np.float64)[..., None] - y.T
    return (r * r).sum(axis=-1)[..., 0] / (2 * X.shape[0])
