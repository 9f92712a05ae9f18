"""What the parser needs from modules that import JAX, without importing JAX on a warm run.

The optimizer flags are derived from ``optim.REGISTRY`` and a few commands' defaults live in
their studies (``DEFAULT_LRS``, ...); those modules import JAX, which costs more than the rest
of ``jaxgd --help``. ``facts()`` reads them once, writes them as JSON into the cache directory
(``jaxgd.drivers._cache.cache_dir``), and later processes read the file instead.

Nothing here can go stale: the file's name is a hash of every ``.py`` file of the installed
``jaxgd`` package (path and bytes), of jaxgd's version and of Python's, so an edited optimizer,
a new one or another jaxgd version is another file, computed afresh (tested). Where the
directory cannot be written, or with ``JAXGD_NO_CACHE`` or ``--no-cache``, the facts are
computed in the process each time, as before.
"""

from __future__ import annotations

import functools
import json
import os

PREFIX = "cli-facts-"


def _compute() -> dict:
    """The facts, read from the modules themselves (imports JAX)."""
    from jaxgd import optim
    from jaxgd.studies import _batch_size, _optimizers

    return {
        "optimizers": [
            {"name": d.name, "torch_name": d.torch_name, "help": dict(d.help),
             "keywords": [[k, repr(v)] for k, v in d.keywords.items()]}  # repr: floats, bools, tuples exactly
            for d in optim.REGISTRY.values()],
        "optimizer_names": list(optim.NAMES),
        "schedule_names": list(optim.SCHEDULE_NAMES),
        "batch_size_lrs": [repr(v) for v in _batch_size.DEFAULT_LRS],
        "batch_size_targets": [repr(v) for v in _batch_size.DEFAULT_TARGETS],
        "optimizers_lrs": [repr(v) for v in _optimizers.DEFAULT_LRS],
    }


def key() -> str:
    """``jaxgd.drivers._cache.source_key()``: a hash of every ``.py`` file of the package, jaxgd's
    version and Python's."""
    from jaxgd.drivers._cache import source_key

    return source_key()


def _path(use_cache: bool):
    if not use_cache or os.environ.get("JAXGD_NO_CACHE"):
        return None
    from jaxgd.drivers._cache import cache_dir

    return os.path.join(cache_dir(), f"{PREFIX}{key()}.json")


def _write(path, facts):
    """Write atomically (a file of its own, then renamed); remove the files of older sources.
    Any OSError (a read-only directory) leaves things as they were."""
    import tempfile

    folder = os.path.dirname(path)
    try:
        os.makedirs(folder, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".cli-facts-", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(facts, f)
        os.replace(tmp, path)
        for name in os.listdir(folder):
            if name.startswith(PREFIX) and name.endswith(".json") and name != os.path.basename(path):
                os.remove(os.path.join(folder, name))
    except OSError:
        pass


def _decode(facts: dict) -> dict:
    import ast

    out = dict(facts)
    out["optimizers"] = {
        d["name"]: {"torch_name": d["torch_name"], "help": d["help"],
                    "keywords": {k: ast.literal_eval(v) for k, v in d["keywords"]}}
        for d in facts["optimizers"]}
    out["optimizer_names"] = tuple(facts["optimizer_names"])
    out["schedule_names"] = tuple(facts["schedule_names"])
    for k in ("batch_size_lrs", "batch_size_targets", "optimizers_lrs"):
        out[k] = tuple(ast.literal_eval(v) for v in facts[k])
    return out


# Whether facts() may read and write the cache file: cli.main sets it off for --no-cache.
USE_CACHE = True


def facts() -> dict:
    """{"optimizers": {name: {"torch_name", "help", "keywords": {keyword: torch's default}}} in
    registration order, "optimizer_names", "schedule_names", "batch_size_lrs",
    "batch_size_targets", "optimizers_lrs"}: from the cache file of these sources
    when there is one, else read from the modules (and the file written). Read once a process."""
    return _facts(USE_CACHE)


@functools.lru_cache(maxsize=None)
def _facts(use_cache: bool) -> dict:
    path = _path(use_cache)
    if path is not None:
        try:
            with open(path, encoding="utf-8") as f:
                return _decode(json.load(f))
        except (OSError, ValueError, KeyError, TypeError, SyntaxError):
            pass  # none yet, or unreadable: computed afresh and rewritten
    raw = _compute()
    if path is not None:
        _write(path, raw)
    return _decode(raw)
