"""Meshes: the one check of a user's ``mesh`` argument, and the row sharding of ``train``."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from jaxgd._errors import InputError


def auto_mesh(mesh):
    """``mesh`` validated and rebuilt with Auto axes, so that XLA (GSPMD) places the collectives
    whatever the mesh's own axis types."""
    from jax.sharding import Mesh

    if not isinstance(mesh, Mesh):
        raise InputError(f"mesh must be a jax.sharding.Mesh, got {type(mesh).__name__}")
    axis_type = getattr(jax.sharding, "AxisType", None)
    if axis_type is not None:
        mesh = Mesh(mesh.devices, mesh.axis_names, axis_types=(axis_type.Auto,) * len(mesh.axis_names))
    return mesh


def shard_rows(X, y, mesh):
    """Pad X and y to a multiple of the mesh's devices and shard their rows across all of them.

    Returns ``(X, y, rows)``; the padding rows are zeros, which the run weights 0.
    """
    from jax.sharding import NamedSharding, PartitionSpec

    mesh = auto_mesh(mesh)
    n = X.shape[0]
    rows = -(-n // mesh.size) * mesh.size
    xp = jnp if isinstance(X, jax.Array) else np
    y = y.reshape(n, 1)
    if rows != n:
        X = xp.concatenate([X, xp.zeros((rows - n, X.shape[1]), X.dtype)])
        y = xp.concatenate([y, xp.zeros((rows - n, 1), y.dtype)])
    sharding = NamedSharding(mesh, PartitionSpec(mesh.axis_names, None))
    return jax.device_put(X, sharding), jax.device_put(y, sharding), rows


def replicate(arrays, mesh):
    """``arrays`` (a pytree) placed whole on every device of ``mesh``."""
    from jax.sharding import NamedSharding, PartitionSpec

    return jax.device_put(arrays, NamedSharding(auto_mesh(mesh), PartitionSpec()))


def to_host(a) -> np.ndarray:
    """``a`` as a numpy array on every process, gathering the shards other processes hold
    (a sweep's runs are spread over every process's devices)."""
    if isinstance(a, jax.Array) and not a.is_fully_addressable:
        from jax.experimental import multihost_utils

        return np.asarray(multihost_utils.process_allgather(a, tiled=True))
    return np.asarray(a)
