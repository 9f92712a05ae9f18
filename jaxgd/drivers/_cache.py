"""JAX's persistent compilation cache, in a per-user directory.

The command line turns it on (``--no-cache`` turns it off); in Python it is one call::

    jaxgd.enable_compilation_cache()          # before the first train/sweep of the process

A compiled program is then written to disk once and read back by later processes, so a second
``jaxgd compare`` skips XLA compilation. The cache can only ever hold programs: a result computed
from a cached program is bit-identical to one from a fresh compile (tested).
"""

from __future__ import annotations

import os
import tempfile
import warnings
from pathlib import Path
from typing import Optional

__all__ = ["cache_dir", "enable_compilation_cache", "source_key"]


def cache_dir() -> Path:
    """``$JAXGD_CACHE_DIR``, else ``$XDG_CACHE_HOME/jaxgd``, else ``~/.cache/jaxgd``."""
    if os.environ.get("JAXGD_CACHE_DIR"):
        return Path(os.environ["JAXGD_CACHE_DIR"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "jaxgd"


def source_key() -> str:
    """A hash of the installed ``jaxgd`` package: every ``.py`` file's path and bytes, jaxgd's
    version and Python's (about 3 ms for ~80 files). What is cached from jaxgd's code (the
    command line's facts, whole compiled programs) is filed under it, so an edited source file
    or another version is never served a stale entry."""
    import hashlib
    import sys

    import jaxgd

    root = os.path.dirname(os.path.abspath(jaxgd.__file__))
    h = hashlib.sha256(f"{jaxgd.__version__}\0{sys.version}\0{root}\0".encode())
    paths = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        paths += [os.path.join(folder, f) for f in files if f.endswith(".py")]
    for path in sorted(paths):
        h.update(os.path.relpath(path, root).encode() + b"\0")
        with open(path, "rb") as f:
            h.update(f.read())
        h.update(b"\0")
    return h.hexdigest()[:32]


def enable_compilation_cache(path=None) -> Optional[str]:
    """Turn on JAX's persistent compilation cache in ``path`` (default :func:`cache_dir`).

    Every program is cached, however quickly it compiled (JAX's default skips programs that
    compile in under a second: most of jaxgd's). Returns the directory, or None with a
    ``UserWarning`` when it cannot be created or written: then nothing is cached and
    everything else works as before.
    """
    import jax

    path = Path(path).expanduser() if path is not None else cache_dir()
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".jaxgd-write-check-"):
            pass
    except OSError as e:
        warnings.warn(f"compilation cache off: cannot write to {path} ({e.strerror or e})", UserWarning,
                      stacklevel=2)
        return None
    jax.config.update("jax_compilation_cache_dir", str(path))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    return str(path)
