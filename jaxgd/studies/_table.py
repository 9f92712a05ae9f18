"""The one text-table formatter of the command line and the reports."""

from __future__ import annotations


def table(header, rows) -> str:
    """A text table: the first column left-aligned, the others right-aligned, a rule under the header."""
    cells = [[str(c) for c in r] for r in [header, *rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]

    def line(r):
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))

    return "\n".join([line(cells[0]), "-" * len(line(cells[0])), *map(line, cells[1:])])
