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

__all__ = ["cache_dir", "enable_compilation_cache"]


def cache_dir() -> Path:
    """``$JAXGD_CACHE_DIR``, else ``$XDG_CACHE_HOME/jaxgd``, else ``~/.cache/jaxgd``."""
    if os.environ.get("JAXGD_CACHE_DIR"):
        return Path(os.environ["JAXGD_CACHE_DIR"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "jaxgd"


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
