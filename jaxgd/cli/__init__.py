"""Command line: ``jaxgd compare | train | parity | claims | sweep | optimizers`` (also ``python -m jaxgd``).

One module per command (``add_parser(subparsers)`` and ``run(args) -> int``); what they share is
in ``_common``. Values are validated by their argparse types; bad input is one line on stderr
and exit code 2.
"""

from __future__ import annotations

import sys
import warnings

from . import _common, claims, compare, optimizers, parity, sweep, train

__all__ = ["build_parser", "main"]

COMMANDS = (compare, train, parity, claims, sweep, optimizers)


def build_parser():
    parser = _common.Parser(prog="jaxgd", description="GD, SGD and mini-batch SGD as one compiled JAX program.")
    sub = parser.add_subparsers(dest="command", title="commands", metavar="COMMAND", parser_class=_common.Parser)
    for command in COMMANDS:
        command.add_parser(sub)
    return parser


def _show_warning(message, *_, **__):
    print(f"jaxgd: warning: {message}", file=sys.stderr)


def main(argv=None):
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); returns the exit code."""
    parser = build_parser()
    # Warnings as one plain line each, not a Python warning dump; only while main runs.
    with warnings.catch_warnings():
        warnings.simplefilter("once", RuntimeWarning)
        warnings.showwarning = _show_warning
        try:
            args = parser.parse_args(argv)
            if args.command is None:  # bare `jaxgd`: what there is to run
                print(parser.format_help(), end="", file=sys.stderr)
                return 2
            return args.func(args)
        except _common.UsageError as e:
            print(e, file=sys.stderr)
            return 2
        except (ValueError, OSError) as e:
            print(f"jaxgd: error: {e}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            print("jaxgd: interrupted", file=sys.stderr)
            return 130


if __name__ == "__main__":
    sys.exit(main())
