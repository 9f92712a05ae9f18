"""argparse types: each value is validated once, where it is parsed (one line and exit 2 on a mistake); output paths are checked before any work."""

from __future__ import annotations

import argparse
import math


def positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def positive_floats(text):
    """Comma-separated finite numbers > 0."""
    try:
        return [positive_float(t.strip()) for t in str(text).split(",")]
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers > 0, got {text!r}") from None


def positive_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"expected a finite number > 0, got {text!r}")
    return value


def _output_path(text, figure):
    import os

    path = os.path.expanduser(text)
    if os.path.isdir(path):
        raise argparse.ArgumentTypeError(f"{text} is a directory; give a file name")
    folder = os.path.dirname(path) or "."
    if not os.path.isdir(folder):
        why = "is not a directory" if os.path.exists(folder) else "does not exist"
        raise argparse.ArgumentTypeError(f"cannot write {text}: the directory {folder} {why}")
    if figure:
        from matplotlib.backend_bases import FigureCanvasBase

        formats = FigureCanvasBase.get_supported_filetypes()
        ext = os.path.splitext(path)[1].lower().lstrip(".")
        if ext not in formats:
            known = ", ".join(f".{e}" for e in sorted(formats))
            what = f"the extension .{ext}" if ext else "no extension"
            raise argparse.ArgumentTypeError(f"{text} has {what}; matplotlib writes {known}")
    try:  # the one sure test of writability (permissions, read-only file systems, root)
        if os.path.exists(path):
            open(path, "ab").close()  # appends nothing: the file is left as it is
        else:
            open(path, "xb").close()
            os.remove(path)
    except OSError as e:
        raise argparse.ArgumentTypeError(f"cannot write {text}: {e.strerror}") from None
    return path


def figure_path(text):
    """An output figure path, checked before any work: not a directory, in an existing writable
    directory, with an extension matplotlib can write."""
    return _output_path(text, figure=True)


def csv_path(text):
    """An output file path, checked before any work: not a directory, in an existing writable directory."""
    return _output_path(text, figure=False)


def json_path(text):
    """An output JSON path, checked before any work like ``csv_path``."""
    return _output_path(text, figure=False)


def open_fraction(text):
    """A number strictly between 0 and 1 (``--val-fraction``)."""
    try:
        value = float(text)
    except ValueError:
        value = None
    if value is None or not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"expected a number between 0 and 1 (exclusive), got {text!r}")
    return value


def gif_path(text):
    """An output GIF path, checked before any work like ``figure_path``, ending in .gif."""
    import os

    if os.path.splitext(text)[1].lower() != ".gif":
        raise argparse.ArgumentTypeError(f"{text} does not end in .gif")
    return _output_path(text, figure=False)


def batch_sizes(text):
    """Comma-separated batch sizes: positive integers, or 'n' (full batch) as None."""
    tokens = [t.strip() for t in str(text).split(",")]
    try:
        values = [None if t.lower() in ("n", "gd", "full") else int(t) for t in tokens]
    except ValueError:
        values = None
    if values is None or any(v is not None and v < 1 for v in values):
        raise argparse.ArgumentTypeError(
            f"expected comma-separated batch sizes (positive integers, or 'n' for full batch), got {text!r}"
        )
    return values


def int_at_least(low):
    """An argparse type: an integer >= ``low``."""

    def convert(text):
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < low:
            raise argparse.ArgumentTypeError(f"expected an integer >= {low}, got {text!r}")
        return value

    convert.__name__ = f"integer >= {low}"
    return convert


def int_range(low, high):
    """An argparse type: an integer from ``low`` to ``high``."""

    def convert(text):
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or not low <= value <= high:
            raise argparse.ArgumentTypeError(f"expected an integer from {low} to {high}, got {text!r}")
        return value

    convert.__name__ = f"integer from {low} to {high}"
    return convert


def random_seed(text):
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None


def real(text):
    """Any number (optim checks the range, as torch does)."""
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None


def pair(text):
    """Two comma-separated numbers."""
    parts = str(text).split(",")
    try:
        if len(parts) != 2:
            raise ValueError
        return tuple(float(p) for p in parts)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected two comma-separated numbers such as 0.9,0.999, got {text!r}") from None
