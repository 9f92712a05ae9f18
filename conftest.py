"""Shared by tests/ and benchmarks/ (one pytest process runs both)."""

import builtins
import gc
import re
import sys

import jax
import pytest


def pytest_runtest_teardown(item, nextitem):
    """After each file's last test, drop the compiled programs (JAX's caches and the sweep's own):
    every XLA:CPU executable holds memory maps, and one process running the whole suite would pass
    the kernel's limit of 65,530 (vm.max_map_count) and crash inside a later compile. (A hook, not
    a module-scoped fixture: the Markdown files' code blocks have no module.)"""
    if nextitem is not None and nextitem.path == item.path:
        return
    from jaxgd.drivers import _sweep_programs

    _sweep_programs.programs.cache_clear()
    jax.clear_caches()
    gc.collect()


# --- The fast part and the whole: a parametrised test marked ``@pytest.mark.diagonal`` keeps, in
# the README's test command (-m 'not slow'), only a covering diagonal of its parameter product:
# one case per value of its longest parameter list, the other lists' values cycled beside it, so
# that every value of every list is still tried (a test of 20 optimizers x 3 batch sizes keeps
# 20 cases, each batch size 6 or 7 times). The other cases are marked slow: .ci/run's second
# line (-m slow) runs them, so CI still runs the whole product, each case once.


def on_diagonal(indices: dict, sizes: dict) -> bool:
    """Whether the case with ``indices`` ({list: its entry's index}) lies on the covering diagonal
    of lists of ``sizes`` ({list: length}): each list's index equals the longest list's index
    modulo that list's length (the longest list: the first of the longest, in sorted order)."""
    if not indices:
        return True
    longest = max(sorted(sizes), key=lambda k: sizes[k])
    return all(indices[k] == indices[longest] % sizes[k] for k in indices)


def _lists(item):
    """The item's parameter lists, one per ``parametrize`` (a list may set several names at once):
    {list: the identities of this case's values in it}."""
    lists = {}
    for mark in item.iter_markers("parametrize"):
        names = mark.args[0] if mark.args else mark.kwargs["argnames"]
        names = tuple(n.strip() for n in names.split(",")) if isinstance(names, str) else tuple(names)
        lists[names] = tuple(id(item.callspec.params[n]) for n in names)
    return lists


@pytest.hookimpl(tryfirst=True)  # before -m deselects by marker
def pytest_collection_modifyitems(config, items):
    cases = {}  # test function (its node id without the parameters) -> its parametrised items
    for item in items:
        if item.get_closest_marker("diagonal") and hasattr(item, "callspec"):
            cases.setdefault(item.nodeid.partition("[")[0], []).append(item)
    for group in cases.values():
        # Each list's entries, numbered in order of first appearance (the list's order): the
        # same entry is the same objects in every case that uses it.
        entries = [_lists(item) for item in group]
        ordinals: dict = {}
        for lists in entries:
            for names, entry in lists.items():
                ordinals.setdefault(names, {}).setdefault(entry, len(ordinals[names]))
        sizes = {names: len(seen) for names, seen in ordinals.items()}
        for item, lists in zip(group, entries):
            if not on_diagonal({names: ordinals[names][entry] for names, entry in lists.items()}, sizes):
                item.add_marker(pytest.mark.slow)


# --- Markdown code blocks: pytest --markdown-docs (pytest-markdown-docs) runs every ```python
# block of README.md and docs/*.md as a test; ```python notest marks one that is shown, not run.
# A block followed by a line `<!-- output -->` and a fenced block must print that text: numbers
# equal to one unit of their last printed digit (or 0.1%), the rest exactly. Write the text from a
# run with `python -m pytest README.md docs --markdown-docs --update-outputs` (not under -n).

OUTPUT_MARKER = "<!-- output"
_NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")
_printed = []  # what the running Markdown block printed


def pytest_addoption(parser):
    parser.addoption("--update-outputs", action="store_true",
                     help="rewrite the quoted output (<!-- output -->) of Markdown code blocks from this run")


@pytest.hookimpl(wrapper=True)
def pytest_collect_file(file_path, parent):
    """Markdown files only: pytest-markdown-docs would also import every .py file it is shown,
    to run the fences of its docstrings, and tests/ and benchmarks/ hold scripts that run when
    imported (tests/distributed_check.py)."""
    collectors = yield
    return [c for c in collectors if type(c).__name__ != "MarkdownDocstringCodeModule"]


@pytest.hookimpl(optionalhook=True)  # a hook of pytest-markdown-docs: without the plugin, unused
def pytest_markdown_docs_globals():
    return {"print": _print}


def _print(*args, sep=" ", end="\n", file=None, flush=False):
    """``print`` inside a Markdown block: what goes to stdout is kept for the comparison, not shown
    (a failed comparison shows it)."""
    if file is None or file is sys.stdout:
        _printed.append((" " if sep is None else sep).join(map(str, args)) + ("\n" if end is None else end))
    else:
        builtins.print(*args, sep=sep, end=end, file=file, flush=flush)


def _is_markdown_block(item):
    return item.get_closest_marker("markdown-docs") is not None and item.path.suffix == ".md"


@pytest.fixture(autouse=True)
def _markdown_block_in_tmp_path(request):
    """A Markdown block runs in a temporary directory: the files it writes land there."""
    if _is_markdown_block(request.node):
        request.getfixturevalue("monkeypatch").chdir(request.getfixturevalue("tmp_path"))
    yield


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    if not _is_markdown_block(item):
        return (yield)
    _printed.clear()
    result = yield
    quoted = _quoted_output(item)
    if quoted is not None:
        printed = "".join(_printed)
        if item.config.getoption("update_outputs"):
            _rewrite_output(item.path, quoted, printed)
        else:
            assert _same_output(printed, quoted[2]), (
                f"{item.path.name} line {quoted[0]}: the block prints\n{printed}\nbut the page quotes\n{quoted[2]}"
                "(python -m pytest README.md docs --markdown-docs --update-outputs rewrites it)")
    return result


def _quoted_output(item):
    """(first line, last line (0-based, the fence's own lines excluded), text) of the output quoted
    after the item's block, or None."""
    from markdown_it import MarkdownIt

    tokens = MarkdownIt("commonmark").parse(item.path.read_text("utf8"))
    own = item.code.rstrip("\n").split("\n")  # a continuation's code ends with the block's own

    def is_block(token):
        lines = token.content.rstrip("\n").split("\n")
        return token.type == "fence" and token.info.startswith("python") and own[-len(lines):] == lines

    blocks = [i for i, token in enumerate(tokens) if is_block(token)]
    here = [i for i in blocks if tokens[i].map[0] + 1 == item.start_line]
    if not here and len(blocks) == 1:  # lines moved: an earlier block's output was rewritten
        here = blocks
    for i in here[:1]:
        if (i + 2 < len(tokens) and tokens[i + 1].type == "html_block"
                and tokens[i + 1].content.startswith(OUTPUT_MARKER) and tokens[i + 2].type == "fence"):
            out = tokens[i + 2]
            return out.map[0] + 1, out.map[1] - 1, out.content
    return None


def _rewrite_output(path, quoted, printed):
    first, last, _ = quoted
    lines = path.read_text("utf8").split("\n")
    lines[first:last] = printed.rstrip("\n").split("\n")
    path.write_text("\n".join(lines), "utf8")


def _same_output(printed, quoted):
    """Equal text; numbers within one unit of the quoted number's last digit, or 0.1% of it."""
    if _NUMBER.split(printed) != _NUMBER.split(quoted):
        return False
    for a, b in zip(_NUMBER.findall(printed), _NUMBER.findall(quoted)):
        mantissa = re.split("[eE]", b)[0]
        unit = 10.0 ** -len(mantissa.partition(".")[2]) if "." in mantissa else 1.0
        if "e" in b.lower():
            unit *= 10.0 ** int(re.split("[eE]", b)[1])
        if abs(float(a) - float(b)) > max(unit, 1e-3 * abs(float(b))):
            return False
    return True
