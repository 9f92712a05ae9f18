"""The command line's parser imports neither JAX nor numpy: ``jaxgd --help``, a command's
``--help`` and a usage mistake are answered before JAX is imported (issue 19). What the parser
reads of the optimizer registry is cached per source tree (``jaxgd.cli._facts``) and can never be
stale: another source file, jaxgd version or Python is another cache file."""

import json
import os
import subprocess
import sys

import pytest

from jaxgd.cli import _facts

# Each command line, run through cli.main in one fresh process; then which heavy modules it imported.
PROBE = """
import json, sys
from jaxgd.cli import build_parser, main
build_parser()
codes = []
for argv in json.loads(sys.argv[1]):
    try:
        codes.append(main(argv))
    except SystemExit as e:  # --help
        codes.append(e.code)
print(json.dumps({"codes": codes, "imported": [m for m in ("jax", "jaxlib", "numpy", "matplotlib", "torch")
                                                if m in sys.modules]}))
"""

ARGVS = [
    ["--help"],
    ["compare", "--help"],
    ["train", "--optimizer", "adam", "--help"],
    ["batch-size", "--help"],
    ["optimizers", "--help"],
    ["compare", "--n", "x"],  # a bad value
    ["compare", "--bogus"],  # an unknown flag: string defaults (--out, --schedule) are not converted
    ["train", "--schedule", "warmup"],  # an unknown schedule
    [],  # bare jaxgd: the commands
]


def _probe(cache, argvs=ARGVS):
    env = {**os.environ, "JAXGD_CACHE_DIR": str(cache)}
    env.pop("JAXGD_NO_CACHE", None)
    p = subprocess.run([sys.executable, "-c", PROBE, json.dumps(argvs)], env=env, capture_output=True, text=True,
                       timeout=300)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout.strip().splitlines()[-1])


def test_the_parser_imports_no_jax(tmp_path):
    cache = tmp_path / "cache"
    first = _probe(cache)  # a new source tree: the facts are read from the registry (JAX) and written
    assert "jax" in first["imported"]
    assert [p.name for p in cache.iterdir()] == [f"{_facts.PREFIX}{_facts.key()}.json"]
    then = _probe(cache)
    assert then["codes"] == first["codes"] == [0, 0, 0, 0, 0, 2, 2, 2, 2]
    assert then["imported"] == []


def test_the_cached_facts_are_the_registry(tmp_path, monkeypatch):
    from jaxgd import optim
    from jaxgd.studies import _batch_size, _optimizers

    monkeypatch.setenv("JAXGD_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("JAXGD_NO_CACHE", raising=False)
    monkeypatch.setattr(_facts, "USE_CACHE", True)  # whatever an earlier main(["--no-cache", ...]) left
    _facts._facts.cache_clear()
    written = _facts.facts()
    _facts._facts.cache_clear()
    read = _facts.facts()  # from the file
    assert read == written
    assert list(read["optimizers"]) == list(read["optimizer_names"]) == list(optim.NAMES)
    for name, d in read["optimizers"].items():
        definition = optim.REGISTRY[name]
        assert d["keywords"] == definition.keywords and d["help"] == definition.help
        assert d["torch_name"] == definition.torch_name
        for k, v in d["keywords"].items():  # the same types too (a tuple stays a tuple, a bool a bool)
            assert type(v) is type(definition.keywords[k]), (name, k)
    assert read["schedule_names"] == tuple(optim.SCHEDULE_NAMES)
    assert read["batch_size_lrs"] == _batch_size.DEFAULT_LRS
    assert read["batch_size_targets"] == _batch_size.DEFAULT_TARGETS
    assert read["optimizers_lrs"] == _optimizers.DEFAULT_LRS
    _facts._facts.cache_clear()


def test_another_source_or_version_is_another_cache_file(tmp_path, monkeypatch):
    import jaxgd

    key = _facts.key()
    monkeypatch.setattr(jaxgd, "__version__", jaxgd.__version__ + ".post1")
    assert _facts.key() != key
    monkeypatch.undo()
    assert _facts.key() == key
    # A copy of the package with one optimizer's default changed: another key.
    import shutil

    root = tmp_path / "jaxgd"
    shutil.copytree(os.path.dirname(jaxgd.__file__), root, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(jaxgd, "__file__", str(root / "__init__.py"))
    same_bytes = _facts.key()
    sgd = root / "optim" / "_sgd.py"
    sgd.write_text(sgd.read_text().replace("def sgd(momentum=0.0,", "def sgd(momentum=0.5,"))
    assert _facts.key() != same_bytes


def test_a_stale_or_broken_cache_file_is_not_read(tmp_path, monkeypatch):
    monkeypatch.setenv("JAXGD_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("JAXGD_NO_CACHE", raising=False)
    monkeypatch.setattr(_facts, "USE_CACHE", True)  # whatever an earlier main(["--no-cache", ...]) left
    _facts._facts.cache_clear()
    monkeypatch.setattr(_facts, "key", lambda: "old")
    old = _facts.facts()
    assert (tmp_path / f"{_facts.PREFIX}old.json").exists()
    # the sources change: the new key's file is written, the old one removed
    monkeypatch.setattr(_facts, "key", lambda: "new")
    _facts._facts.cache_clear()
    assert _facts.facts() == old
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{_facts.PREFIX}new.json"]
    # an unreadable file is computed afresh and rewritten
    (tmp_path / f"{_facts.PREFIX}new.json").write_text("{not json")
    _facts._facts.cache_clear()
    assert _facts.facts() == old
    assert json.loads((tmp_path / f"{_facts.PREFIX}new.json").read_text())
    _facts._facts.cache_clear()


@pytest.mark.parametrize("argv", [["python", "-m", "jaxgd"], ["jaxgd"]])
def test_the_entry_points_answer_help(argv):
    exe = [sys.executable, "-m", "jaxgd"] if argv[0] == "python" else [os.path.join(os.path.dirname(sys.executable),
                                                                                     "jaxgd")]
    p = subprocess.run([*exe, "compare", "--help"], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0 and "--batch-size" in p.stdout, p.stderr
