"""Several processes, one run: JAX's multi-controller runtime for ``train`` and ``sweep``.

One process per host (or several on one machine), each running the same program. The three
lines a user writes, on every process::

    mesh = jaxgd.distributed.initialize()                  # join the cluster; a mesh over every process's devices
    data = jaxgd.load_dataset("X.npy,y.npy", mesh=mesh)    # each process reads only its own rows
    result = jaxgd.train(data.X, data.y, n=data.n_rows, mesh=mesh, batch_size=1024)

``initialize()`` with no arguments lets JAX detect the cluster (SLURM, Open MPI, ...); outside
a cluster manager pass ``coordinator="HOST:PORT", num_processes=N, process_id=I``. On CPU the
cross-process collectives run over gloo. Results are replicated: every process can read
``result.w``; let process 0 (:func:`is_main`) print and write.

``train`` shards rows (each process holds only its rows of X); ``sweep`` shards runs (seeds)
and replicates the data, so each process passes the whole (small) data set.
"""

from __future__ import annotations

import os
import socket
from typing import Optional

import jax
import numpy as np

from jaxgd._errors import InputError
from jaxgd.data._mesh import to_host

__all__ = ["initialize", "is_main", "mesh", "parse_coordinator", "to_host"]


def parse_coordinator(text: str) -> tuple[str, int]:
    """``"HOST:PORT"`` as ``(host, port)``; a ValueError names what is wrong."""
    host, sep, port = str(text).rpartition(":")
    if not sep or not host or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise InputError(f"coordinator must be HOST:PORT with a port in 1..65535, got {text!r}")
    return host.strip("[]"), int(port)


def _check_port_free(host: str, port: int) -> None:
    """Process 0 serves the coordinator: a port already taken would crash JAX's server."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as e:
        raise InputError(f"coordinator host {host!r} cannot be resolved: {e.strerror}") from None
    family, _, _, _, addr = infos[0]
    with socket.socket(family, socket.SOCK_STREAM) as s:
        try:
            s.bind(("", addr[1]))
        except OSError:
            raise InputError(f"coordinator port {port} is already in use on this machine (process 0 "
                             "serves the coordinator there): pick a free port") from None


# JAX's text for "no coordinator address and no cluster environment", matched only where this
# JAX does not offer its cluster detection (a private API) to ask first. Run on JAX 0.10.2; the
# same text is in JAX's source since before 0.4.30 (tests/test_distributed.py pins the range).
NO_CLUSTER_TEXT = "coordinator_address"
TEXT_CHECKED_ON = ("0.4.30", "0.10.2")


def _cluster_environment() -> Optional[bool]:
    """Whether JAX would find a cluster to join without a coordinator address: its
    ``JAX_COORDINATOR_ADDRESS`` variable, or one of the environments its cluster detection
    knows (SLURM, Open MPI, Kubernetes, Cloud TPU, ...; not the opt-in mpi4py). None where this
    JAX version's detection cannot be asked (``jax._src.clusters`` is private)."""
    if os.environ.get("JAX_COORDINATOR_ADDRESS"):
        return True
    try:
        from jax._src.clusters import ClusterEnv

        return any(env.is_env_present() for env in ClusterEnv._cluster_types
                   if not getattr(env, "opt_in_only_method", False))
    except Exception:  # moved or changed: let jax.distributed.initialize decide
        return None


def _too_late() -> Optional[str]:
    """Why this process can no longer join a cluster, or None (also where JAX cannot be asked:
    then JAX's own RuntimeError says it)."""
    is_initialized = getattr(jax.distributed, "is_initialized", None)
    if is_initialized is not None and is_initialized():
        return "this process already joined a cluster (initialize runs once per process)"
    try:
        from jax._src import xla_bridge

        started = xla_bridge.backends_are_initialized()
    except Exception:  # private; moved or changed
        started = False
    if started:
        return ("initialize must run before any other JAX computation in this process (including "
                "jax.devices() and jax.device_put), and JAX's backend is already running")
    return None


def _no_cluster_error():
    return InputError("no cluster detected (no SLURM, Open MPI, ... environment); outside a cluster "
                      "manager give the coordinator HOST:PORT, the number of processes and this "
                      "process's id")


def initialize(coordinator: Optional[str] = None, num_processes: Optional[int] = None,
               process_id: Optional[int] = None, *, timeout: int = 60):
    """Join a cluster of processes and return a 1-D mesh over every device of every process.

    Must run before any other JAX computation in the process. With no arguments JAX detects
    the cluster from its environment (SLURM, Open MPI, Kubernetes, ...); otherwise give all
    three of ``coordinator`` (``"HOST:PORT"`` of process 0), ``num_processes`` and
    ``process_id`` (0 .. num_processes - 1). ``timeout``: seconds to wait for every process to
    join; past it JAX ends the process (the command line turns that into a one-line error).

    Raises:
      ValueError: arguments missing or out of range, a port already taken, no cluster detected,
        or too late (JAX already computed in this process, or it already joined a cluster).
        Each is checked here, before JAX is asked to start anything.
    """
    explicit = (coordinator, num_processes, process_id)
    if any(v is not None for v in explicit) and any(v is None for v in explicit):
        raise InputError("give all of coordinator, num_processes and process_id, or none of them "
                         "(to let JAX detect the cluster)")
    kwargs = {}
    if coordinator is not None:
        host, port = parse_coordinator(coordinator)
        if isinstance(num_processes, bool) or not isinstance(num_processes, (int, np.integer)) or num_processes < 1:
            raise InputError(f"num_processes must be a positive integer, got {num_processes!r}")
        if isinstance(process_id, bool) or not isinstance(process_id, (int, np.integer)) or not (
                0 <= process_id < num_processes):
            raise InputError(f"process id {process_id!r} is out of range for {num_processes} processes "
                             f"(0..{num_processes - 1})")
        if process_id == 0:
            _check_port_free(host, port)
        kwargs = dict(coordinator_address=f"{host}:{port}" if ":" not in host else f"[{host}]:{port}",
                      num_processes=int(num_processes), process_id=int(process_id))
    elif _cluster_environment() is False:
        raise _no_cluster_error()
    late = _too_late()
    if late is not None:
        raise InputError(late)
    # The CPU backend's cross-process collectives (all-reduce of gradients and losses).
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    try:
        jax.distributed.initialize(initialization_timeout=int(timeout), **kwargs)
    except ValueError as e:
        # Only where _cluster_environment could not ask JAX (see NO_CLUSTER_TEXT).
        if coordinator is None and NO_CLUSTER_TEXT in str(e):
            raise _no_cluster_error() from None
        raise
    return mesh()


def mesh(axis: str = "data"):
    """A 1-D mesh over every device of every process (after :func:`initialize`), or over this
    process's devices in a single process."""
    return jax.make_mesh((jax.device_count(),), (axis,))


def is_main() -> bool:
    """True on process 0, the one that prints and writes files."""
    return jax.process_index() == 0
