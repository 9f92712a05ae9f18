"""Command line: ``jaxgd compare | train | parity | claims | sweep | optimizers | paths | batch-size`` (also ``python -m jaxgd``).

One module per command (``add_parser(subparsers)`` and ``run(args) -> int``); what they share is
in ``_common``. Values are validated by their argparse types; bad input (a ``UsageError`` or an
``InputError``) is one line on stderr, ``jaxgd <command>: error: ...``, and exit code 2; any other
exception is a bug and keeps its traceback.
"""

from __future__ import annotations

import contextlib
import os
import sys
import warnings

from jaxgd._errors import InputError
from jaxgd.cli import _cluster, _common, _facts, _optimizer_flags, batch_size, claims, compare, explore, optimizers, parity, paths, sweep, train

__all__ = ["build_parser", "main"]

COMMANDS = (compare, train, parity, claims, sweep, optimizers, paths, batch_size, explore)


def build_parser():
    parser = _common.Parser(prog="jaxgd", description="GD, SGD and mini-batch SGD as one compiled JAX program.")
    sub = parser.add_subparsers(dest="command", title="commands", metavar="COMMAND", parser_class=_common.Parser)
    for command in COMMANDS:  # --help: the command's own flags, the optimizer's, the cluster's, then this
        command.add_parser(sub).add_argument_group("compilation cache").add_argument(
            "--no-cache", action="store_true",
            help="no persistent compilation cache ($JAXGD_CACHE_DIR, $XDG_CACHE_HOME/jaxgd or ~/.cache/jaxgd; "
                 "default: use it)")
    return parser


_CACHE_READ_ERROR = "Error reading persistent compilation cache entry"


class _WarningPrinter:
    """Warnings as one plain line each; unreadable cache entries (JAX warns once per entry and
    recompiles it) are summarised in one line."""

    def __init__(self):
        self.cache_noted = False

    def __call__(self, message, *_, **__):
        text = str(message)
        if text.startswith(_CACHE_READ_ERROR):
            if self.cache_noted:
                return
            self.cache_noted = True
            from jaxgd.drivers._cache import cache_dir

            text = (f"the compilation cache has unreadable entries; they are compiled afresh "
                    f"(delete {cache_dir()} to clear it)")
        print(f"jaxgd: warning: {text}", file=sys.stderr)


def main(argv=None):
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); returns the exit code."""
    argv = sys.argv[1:] if argv is None else list(argv)
    # What the parser reads of the optimizer registry comes from a cache file (no JAX import),
    # unless the cache is off.
    _facts.USE_CACHE = "--no-cache" not in argv
    # --help lists the keyword flags of the optimizer named beside it (none otherwise).
    _optimizer_flags.HELP_FOR = _optimizer_flags.help_for(argv)
    try:
        parser = build_parser()
    finally:
        _optimizer_flags.HELP_FOR = None
    # Warnings as one plain line each, not a Python warning dump; only while main runs.
    with warnings.catch_warnings():
        warnings.simplefilter("once", RuntimeWarning)
        warnings.showwarning = _WarningPrinter()
        args = None
        try:
            args = parser.parse_args(argv)
            if args.command is None:  # bare `jaxgd`: what there is to run
                print(parser.format_help(), end="", file=sys.stderr)
                return 2
            kept = contextlib.nullcontext()
            if not (args.no_cache or os.environ.get("JAXGD_NO_CACHE")):
                from jaxgd.drivers import _aot
                from jaxgd.drivers._cache import enable_compilation_cache

                directory = enable_compilation_cache()
                if directory is not None:  # whole programs too: a warm run skips tracing and lowering
                    kept = contextlib.ExitStack()
                    kept.enter_context(_aot.enabled(directory))
                    # torch's side of parity checks (parity, explore), read back instead of run again
                    from jaxgd import parity

                    kept.enter_context(parity.reference_cache(directory))
            args.mesh = _cluster.start(args) if _cluster.requested(args) else None
            with kept:
                return args.func(args)
        except _common.UsageError as e:
            print(e, file=sys.stderr)
            return 2
        except InputError as e:  # bad input found while running; any other exception is a bug
            print(f"{_common.prog(args)}: error: {e}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            print("jaxgd: interrupted", file=sys.stderr)
            return 130


if __name__ == "__main__":
    sys.exit(main())
