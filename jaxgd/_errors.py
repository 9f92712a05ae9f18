"""jaxgd's own error type: what the command line reports in one line, everything else being a bug."""

from __future__ import annotations

__all__ = ["InputError"]


class InputError(ValueError):
    """Bad input to jaxgd: the message names the problem.

    A ``ValueError``, so code that catches the documented ``ValueError`` keeps working; the
    command line prints it as one line with exit code 2 and lets any other exception show its
    traceback.
    """
