"""The command line's parser and its one error: ``UsageError``, printed as ``jaxgd <command>: error: ...`` with exit code 2."""

from __future__ import annotations

import argparse

from jaxgd.drivers._runs import quiet_train, timed_train  # noqa: F401  (c.quiet_train, c.timed_train in the commands)


class UsageError(Exception):
    """A command-line mistake: its message is the whole line, reported with exit code 2."""


class Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, no usage dump
        raise UsageError(f"{self.prog}: error: {message}")


def prog(args=None):
    """``jaxgd <command>``, what every error line of a command starts with (``jaxgd`` before one is known)."""
    command = getattr(args, "command", None)
    return "jaxgd" if command is None else f"jaxgd {command}"


def usage_error(args, message):
    """A mistake found after parsing (flags that do not go together), as the line argparse would give."""
    return UsageError(f"{prog(args)}: error: {message}")
