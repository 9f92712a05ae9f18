"""The documentation site builds strict (any mkdocs, griffe or link warning fails), its CLI
reference is generated from the parser, and the README's links lead somewhere. (The pages' code
blocks run as tests of their own: ``--markdown-docs``, see conftest.py.)"""

import os
import pathlib
import re
import subprocess
import sys

import pytest

pytest.importorskip("mkdocs")
pytest.importorskip("mkdocstrings")

ROOT = pathlib.Path(__file__).resolve().parents[1]
README = ROOT / "README.md"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
           "NO_MKDOCS_2_WARNING": "1"}
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file", str(ROOT / "mkdocs.yml"),
                           "--site-dir", str(out)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-5000:]
    return out


@pytest.mark.slow  # over ~5 s on the 2-core machine (benchmarks/suite-times); .ci/run runs it
def test_strict_build_writes_every_page(site):
    for page in ["index.html", "tutorial/index.html", "cli/index.html", "parity/index.html", "claims/index.html",
                 "benchmarks/index.html", "architecture/index.html", "guide/own-data/index.html",
                 "api/jaxgd/index.html", "api/core/index.html"]:
        assert (site / page).is_file(), page
    assert not (site / "mkdocs_hooks.py").exists(), "the hook file is not a page"
    assert not (site / "make_tutorial_notebook.py").exists()


@pytest.mark.slow  # its module's shared fixture runs a study, a sweep, a command or a cluster (over ~10 s); .ci/run runs it
def test_cli_reference_is_every_commands_help(site):
    from jaxgd import optim
    from jaxgd.cli import COMMANDS

    text = (site / "cli" / "index.html").read_text()
    for module in COMMANDS:  # one module per command: jaxgd/cli/batch_size.py is `jaxgd batch-size`
        name = module.__name__.rsplit(".", 1)[1].replace("_", "-")
        assert f"usage: jaxgd {name} [-h]" in text, name
    for name in optim.NAMES:
        assert f"the flags of --optimizer {name} " in text, name


@pytest.mark.slow  # its module's shared fixture runs a study, a sweep, a command or a cluster (over ~10 s); .ci/run runs it
def test_api_reference_comes_from_the_docstrings(site):
    text = (site / "api" / "jaxgd" / "index.html").read_text()
    for name in ["jaxgd.train", "jaxgd.sweep", "jaxgd.load_dataset", "jaxgd.TrainResult"]:
        assert f'id="{name}"' in text, name
    assert "Load features X (n, d) and targets y" in text  # load_dataset's docstring, rendered


@pytest.mark.slow  # its module's shared fixture runs a study, a sweep, a command or a cluster (over ~10 s); .ci/run runs it
def test_code_fence_options_are_hidden_on_the_site(site):
    text = (site / "architecture" / "index.html").read_text()
    assert "notest" not in text


def test_readme_links_lead_to_files():
    links = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", README.read_text())
    assert links
    for link in links:
        if "://" not in link:
            assert (ROOT / link).exists(), link


def test_readme_is_short():
    assert len(README.read_text().splitlines()) <= 150
