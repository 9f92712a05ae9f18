"""mkdocs hooks (``hooks:`` in mkdocs.yml), run at every build:

- ``<!-- cli-reference -->`` in a page becomes the command-line reference, generated from
  argparse: ``jaxgd --help`` and every command's ``--help`` exactly as ``jaxgd.cli.main`` prints
  them, then each optimizer's flags as ``--optimizer NAME --help`` lists them. Nothing is typed
  in, so the page cannot fall behind the parser.
- Options after ```` ```python ```` in a code fence (``notest``, ``continuation``: read by
  pytest-markdown-docs) are dropped, so that Python-Markdown highlights the block as Python.
- In the API reference, the docstrings' reStructuredText roles (``:func:`draw```) show as the
  code they name, and a paragraph's closing ``::`` (a literal block follows) as ``:``.
"""

from __future__ import annotations

import contextlib
import io
import os
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
MARKER = "<!-- cli-reference -->"
WIDTH = "100"  # argparse wraps help to $COLUMNS: fixed, so the page does not depend on a terminal
OPTIMIZER_GROUP = "optimizer and learning-rate schedule:"
_FENCE_OPTIONS = re.compile(r"^(\s*```+python)[ \t]+\S[^\n]*$", re.MULTILINE)
_RST_ROLE = re.compile(r":(?:func|class|meth|attr|mod|data):(?=<code)")
_RST_LITERAL = re.compile(r"\s?::</p>")


def on_page_markdown(markdown, page, config, files):
    del page, config, files
    markdown = _FENCE_OPTIONS.sub(r"\1", markdown)
    if MARKER in markdown:
        markdown = markdown.replace(MARKER, cli_reference())
    return markdown


def on_page_content(html, page, config, files):
    del config, files
    if page.file.src_uri.startswith("api/"):
        html = _RST_LITERAL.sub(":</p>", _RST_ROLE.sub("", html))
    return html


def _help(argv):
    """What ``jaxgd ARGV`` prints (``--help`` exits 0 after printing)."""
    if str(ROOT) not in sys.path:  # this checkout's jaxgd, as mkdocstrings reads it
        sys.path.insert(0, str(ROOT))
    from jaxgd.cli import main

    out = io.StringIO()
    old = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = WIDTH
    try:
        with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):
            main(argv)
    finally:
        if old is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = old
    text = out.getvalue()
    if not text.strip():
        raise RuntimeError(f"jaxgd {' '.join(argv)} printed no help")
    return text


def _section(text, heading):
    """The section of an argparse help text that starts with the line ``heading``."""
    lines = text.splitlines()
    start = lines.index(heading)
    end = next((i for i in range(start + 1, len(lines)) if lines[i] and not lines[i][0].isspace()), len(lines))
    return "\n".join(lines[start:end]).rstrip() + "\n"


def _fence(text):
    return f"```text\n{text.rstrip()}\n```\n"


def cli_reference():
    from jaxgd import optim
    from jaxgd.cli import COMMANDS, build_parser

    names = [parser.prog.split()[-1] for parser in _subparsers(build_parser())]
    assert len(names) == len(COMMANDS), names
    parts = ["## `jaxgd --help`\n", _fence(_help(["--help"]))]
    with_optimizer = []
    for name in names:
        text = _help([name, "--help"])
        parts += [f"## `jaxgd {name}`\n", _fence(text)]
        if OPTIMIZER_GROUP in text.splitlines():
            with_optimizer.append(f"`{name}`")
    parts.append(
        "## Optimizer flags\n\n"
        f"{', '.join(with_optimizer[:-1])} and {with_optimizer[-1]} take `--optimizer NAME` and the keyword\n"
        "flags of that optimizer, with torch.optim's names and defaults; `--help` lists them one by one\n"
        "only beside `--optimizer NAME`. Each optimizer's, as `jaxgd train --optimizer NAME --help`\n"
        "prints them:\n")
    for name in optim.NAMES:
        text = _help(["train", "--optimizer", name, "--help"])
        parts += [f"### `--optimizer {name}`\n", _fence(_section(text, OPTIMIZER_GROUP))]
    return "\n".join(parts)


def _subparsers(parser):
    import argparse

    for action in parser._actions:  # argparse keeps its subcommands here; no public accessor
        if isinstance(action, argparse._SubParsersAction):
            return list(dict.fromkeys(action.choices.values()))
    raise RuntimeError("jaxgd's parser has no subcommands")
