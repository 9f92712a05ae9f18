"""The command line's parser and its one error: ``UsageError``, printed as ``jaxgd <command>: error: ...`` with exit code 2."""

from __future__ import annotations

import argparse


class UsageError(Exception):
    """A command-line mistake: its message is the whole line, reported with exit code 2."""


class _Default(str):
    """A flag's string default, kept as text until the whole command line has parsed."""

    def __new__(cls, text, action, prog):
        self = super().__new__(cls, text)
        self.action, self.prog = action, prog
        return self

    def convert(self):
        """The default through the flag's type; a rejected default is the line argparse gives."""
        try:
            return self.action.type(str(self))
        except argparse.ArgumentTypeError as e:
            name = "/".join(self.action.option_strings) or self.action.dest
            raise UsageError(f"{self.prog}: error: argument {name}: {e}") from None


class Parser(argparse.ArgumentParser):
    """argparse's parser with one-line errors. A string default goes through its flag's type only
    once the command line has parsed without error (argparse converts it before it reports an
    unknown flag): so a mistake or ``--help`` runs no type, and a type may import what it
    needs (a figure path's check imports matplotlib; ``--schedule``'s, JAX)."""

    def error(self, message):  # one line, no usage dump
        raise UsageError(f"{self.prog}: error: {message}")

    def _get_value(self, action, arg_string):
        if arg_string is action.default and isinstance(arg_string, str) and callable(action.type):
            return _Default(arg_string, action, self.prog)
        return super()._get_value(action, arg_string)

    def parse_args(self, args=None, namespace=None):
        namespace = super().parse_args(args, namespace)
        for key, value in vars(namespace).items():
            if isinstance(value, _Default):
                setattr(namespace, key, value.convert())
        return namespace


def prog(args=None):
    """``jaxgd <command>``, what every error line of a command starts with (``jaxgd`` before one is known)."""
    command = getattr(args, "command", None)
    return "jaxgd" if command is None else f"jaxgd {command}"


def usage_error(args, message):
    """A mistake found after parsing (flags that do not go together), as the line argparse would give."""
    return UsageError(f"{prog(args)}: error: {message}")
