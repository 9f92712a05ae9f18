"""Whole compiled programs on disk, for the command line: a warm run skips tracing, lowering
and XLA's compile (``jax.experimental.serialize_executable``).

JAX's persistent compilation cache (``_cache``) keys on the lowered program, so every process
still traces and lowers each program before it can look it up: about 0.3-0.5 s a program here,
most of a warm ``jaxgd compare``. While ``enabled(directory)`` is in force (the command line
holds it around a command), ``call(jitted, static, *args)`` keeps the compiled executable
itself, filed under a key of everything that decides the program:

- the function (module and name) and its static arguments (the ``Plan``);
- the arguments' pytree structure (the optimizer's and schedule's static options included) and
  each leaf's shape, dtype and weak type;
- jax's, jaxlib's and jaxgd's versions, a hash of every jaxgd source file
  (``_cache.source_key``), Python's version, the backend (platform, version, devices), every
  ``jax.config`` value that can change a program (not the persistent cache's, not logging's)
  and ``XLA_FLAGS``.

So another jaxgd, jax or source edit is another entry (tested), and entries of other sources
are removed when a new one is written. Loading checks the arguments' structure again, and the
loaded ``Compiled`` checks every argument's type on each call, so a key collision cannot run a
program on arguments it was not compiled for. A result from a loaded executable is
bit-identical to one from ``jit`` (tested): it is the same compiled code. Any failure to read,
write or deserialise falls back to ``jit`` (the persistent cache still serves the compile).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import sys
import threading

import jax

__all__ = ["call", "enabled", "kept"]

_DIRECTORY = None  # the folder of this source tree's entries while enabled, else None
_LOADED: dict = {}  # key -> Compiled, for the process (a command calls the same program again)


@contextlib.contextmanager
def enabled(directory):
    """Keep and reuse compiled programs under ``directory`` (a cache directory) inside the block."""
    global _DIRECTORY
    from jaxgd.drivers._cache import source_key

    before = _DIRECTORY
    _DIRECTORY = os.path.join(os.fspath(directory), f"aot-{source_key()}")
    try:
        yield _DIRECTORY
    finally:
        _DIRECTORY = before
        _LOADED.clear()


def _program_config(name: str) -> bool:
    """Whether the ``jax.config`` option ``name`` can change a compiled program. The persistent
    cache's options and logging cannot, and ``_without_persistent_cache`` turns the cache off
    while a thread compiles: a key read meanwhile in another thread (the batch-size study
    compiles its timing programs beside its sweeps) must be the key a warm run reads."""
    return "cache" not in name and name not in ("jax_log_compiles", "jax_debug_log_modules", "jax_logging_level")


def _environment() -> str:
    import jaxlib

    import jaxgd

    backend = jax.devices()[0].client
    devices = tuple((d.platform, d.device_kind, d.id) for d in jax.devices())
    config = sorted((k, repr(v)) for k, v in jax.config.values.items() if _program_config(k))
    return repr((jax.__version__, jaxlib.__version__, jaxgd.__version__, sys.version, backend.platform,
                 backend.platform_version, devices, config, os.environ.get("XLA_FLAGS", "")))


def key(jitted, static: dict, args) -> str:
    """The entry's name: a hash of the function, ``static``, the arguments' structure and leaf
    types, and the environment (versions, backend, config, flags)."""
    leaves, tree = jax.tree.flatten(args)
    types = tuple((tuple(t.shape), str(t.dtype), bool(getattr(t, "weak_type", False)))
                  for t in map(jax.typeof, leaves))
    what = repr((getattr(jitted, "__module__", None), getattr(jitted, "__qualname__", None),
                 sorted((k, repr(v)) for k, v in static.items()), str(tree), types, _environment()))
    return hashlib.sha256(what.encode()).hexdigest()[:40]


def _load(path, args=None):
    """What ``path`` keeps: with ``args``, the one executable, if it was compiled for the
    structure of ``args``; without, the list of executables (``kept``). None if there is none."""
    from jax.experimental.serialize_executable import deserialize_and_load

    try:
        with open(path, "rb") as f:
            entries = pickle.load(f)
        if args is None:
            return [deserialize_and_load(*entry) for entry in entries]
        ((blob, in_tree, out_tree),) = entries
        if in_tree.children()[0] != jax.tree.structure(args):  # in_tree is ((args), {})
            return None
        return deserialize_and_load(blob, in_tree, out_tree)
    except Exception:  # none yet, or unreadable (truncated, another format): compiled afresh
        return None


def _store(path, compiled):
    """Keep the executables ``compiled`` (a list) in ``path``."""
    import tempfile

    from jax.experimental.serialize_executable import serialize

    folder = os.path.dirname(path)
    try:
        entries = [serialize(c) for c in compiled]
        os.makedirs(folder, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".aot-", suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            pickle.dump(entries, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)  # atomic: a reader sees the old entry or the whole new one
        parent = os.path.dirname(folder)
        for name in os.listdir(parent):  # the entries of other sources can never be read again
            if name.startswith("aot-") and name != os.path.basename(folder):
                import shutil

                shutil.rmtree(os.path.join(parent, name), ignore_errors=True)
    except Exception:  # a read-only directory, an executable that cannot be serialised: not kept
        pass


_OFF_LOCK = threading.Lock()
_OFF = [0, None]  # blocks inside _without_persistent_cache now (any thread), the setting before them


@contextlib.contextmanager
def _without_persistent_cache():
    """JAX's persistent cache off for the block: neither read nor written. An executable JAX
    loaded from that cache, serialised again, fails when loaded and run (XLA:CPU, jax 0.10.2:
    "NOT_FOUND: Function ..._fusion not found"; tests/test_cache.py), so a program kept here is
    always compiled afresh. JAX decides whether a process uses the cache once, at its first
    compile (``compilation_cache.is_cache_used``), so turning ``jax_enable_compilation_cache``
    off alone does not stop a process that has compiled already: ``reset_cache`` makes JAX
    decide again on entering (off) and on leaving (the cache as it was, same directory).
    Threads may compile kept programs at once: the first block in turns the cache off, the last
    out restores it."""
    from jax.experimental.compilation_cache import compilation_cache

    with _OFF_LOCK:
        if _OFF[0] == 0:
            _OFF[1] = jax.config.jax_enable_compilation_cache
            jax.config.update("jax_enable_compilation_cache", False)
            compilation_cache.reset_cache()
        _OFF[0] += 1
    try:
        yield
    finally:
        with _OFF_LOCK:
            _OFF[0] -= 1
            if _OFF[0] == 0:
                jax.config.update("jax_enable_compilation_cache", _OFF[1])
                compilation_cache.reset_cache()


def _compile(jitted, static, args):
    lowered = jitted.lower(*args, **static)
    with _without_persistent_cache():
        return lowered.compile()


def _entry(k: str, load, build):
    """The executables kept under key ``k``: this process's, else ``load(path)``'s, else
    ``build()``'s (then kept on disk). ``load`` and ``build`` return what ``kept``/``call``
    hand out; ``build``'s result is stored as a list of executables."""
    compiled = _LOADED.get(k)
    if compiled is None:
        path = os.path.join(_DIRECTORY, k + ".bin")
        compiled = load(path)
        if compiled is None:
            compiled = build()
            _store(path, compiled if isinstance(compiled, list) else [compiled])
        _LOADED[k] = compiled
    return compiled


def call(jitted, static: dict, *args):
    """``jitted(*args, **static)``; while ``enabled``, through the executable kept on disk."""
    if _DIRECTORY is None:
        return jitted(*args, **static)
    compiled = _entry(key(jitted, static, args), lambda path: _load(path, args),
                      lambda: _compile(jitted, static, args))
    return compiled(*args)


def kept(name: str, static: str, build):
    """``build()``, a list of compiled executables (``Compiled``) that ``static`` (a repr of
    everything static about them: shapes, dtypes, pytree structures, plans) determines; while
    ``enabled``, kept on disk under ``name``, ``static`` and the environment, and built with
    JAX's persistent cache off (``_without_persistent_cache``). The executables check every
    argument's type when called."""
    if _DIRECTORY is None:
        return build()

    def built():
        with _without_persistent_cache():
            return list(build())

    k = hashlib.sha256(repr((name, static, _environment())).encode()).hexdigest()[:40]
    return _entry(k, _load, built)
