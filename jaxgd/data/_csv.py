"""CSV files with a header row: parsed in blocks into float32, every bad cell named by line and column."""

from __future__ import annotations

import csv
import os

import numpy as np

from jaxgd._errors import InputError
from jaxgd.data._arrays import _F32_MAX, _aligned_empty
from jaxgd.data._standardize import _standardize_if

# Rows parsed per block when reading CSV, and rows visited per block when scanning arrays.
# Bounds the temporaries to a block while the result is built in float32.
_CSV_BLOCK = 16384


def _open_text(path):
    if not os.path.exists(path):
        raise FileNotFoundError(f"data file not found: {path}")
    if os.path.isdir(path):
        raise InputError(f"{path} is a directory, not a data file")
    # utf-8-sig drops a byte-order mark (spreadsheet exports); newline="" as csv requires.
    return open(path, newline="", encoding="utf-8-sig")


def _parse_cell(text):
    s = text.strip()
    if not s:
        return float("nan")  # a missing value
    return float(s)


def _load_csv(path, target, standardize, drop_nonfinite):
    name = os.path.basename(path)
    delimiter = "\t" if path.lower().endswith(".tsv") else ","
    with _open_text(path) as f:
        reader = csv.reader(f, delimiter=delimiter)
        try:
            header = next(reader, None)
            while header is not None and not any(c.strip() for c in header):
                header = next(reader, None)  # leading blank lines
        except (csv.Error, UnicodeDecodeError) as e:
            raise InputError(f"{name}: cannot read the header: {e}") from None
        if header is None:
            raise InputError(f"{name} is empty: expected a header row of column names and data rows")
        header = [c.strip() for c in header]
        header_line = reader.line_num
        _check_header(name, header, header_line)
        ncol = len(header)
        if ncol < 2:
            raise InputError(
                f"{name} has {ncol} column ({header[0]!r}); need at least one feature column and a target column"
            )
        if target is None:
            t = ncol - 1
        elif target in header:
            t = header.index(target)
        else:
            available = ", ".join(repr(c) for c in header)
            raise InputError(f"{name} has no column {target!r}; available columns: {available}")
        feat = [i for i in range(ncol) if i != t]
        feature_names = [header[i] for i in feat]

        X_blocks, y_blocks = [], []
        total = dropped = 0
        first_bad = None  # (line, column name, cell text)
        block = np.empty((_CSV_BLOCK, ncol), dtype=np.float64)
        lines = np.empty(_CSV_BLOCK, dtype=np.int64)
        k = 0

        def flush(k):
            nonlocal total, dropped, first_bad
            vals = block[:k]
            finite = np.isfinite(vals)
            over = finite & (np.abs(vals) > _F32_MAX)
            if over.any():
                r, c = np.argwhere(over)[0]
                raise InputError(
                    f"{name} line {lines[r]}, column {header[c]!r}: {float(vals[r, c])!r} is too large for float32"
                )
            good = finite.all(axis=1)
            nbad = k - int(good.sum())
            if nbad:
                if first_bad is None:
                    r, c = np.argwhere(~finite)[0]
                    first_bad = (int(lines[r]), header[c])
                dropped += nbad
                vals = vals[good]
            total += k
            X_blocks.append(vals[:, feat].astype(np.float32))
            y_blocks.append(vals[:, t].astype(np.float32))

        try:
            for row in reader:
                if not row or (len(row) == 1 and not row[0].strip()):
                    continue  # blank line
                line = reader.line_num
                if len(row) != ncol:
                    raise InputError(
                        f"{name} line {line}: expected {ncol} fields as in the header, got {len(row)}"
                    )
                try:
                    block[k] = [_parse_cell(c) for c in row]
                except ValueError:
                    for c, text in enumerate(row):
                        try:
                            _parse_cell(text)
                        except ValueError:
                            raise InputError(
                                f"{name} line {line}, column {header[c]!r}: {text.strip()!r} is not a number"
                            ) from None
                    raise
                lines[k] = line
                k += 1
                if k == _CSV_BLOCK:
                    flush(k)
                    k = 0
        except csv.Error as e:
            raise InputError(f"{name} line {reader.line_num}: malformed CSV: {e}") from None
        except UnicodeDecodeError as e:
            raise InputError(f"{name}: not UTF-8 text ({e.reason} at byte {e.start})") from None
        if k:
            flush(k)

    if total == 0:
        raise InputError(f"{name} has a header but no data rows")
    if dropped and not drop_nonfinite:
        line, col = first_bad
        raise InputError(
            f"{name}: {dropped} of {total} rows contain NaN, infinite or missing values "
            f"(first: line {line}, column {col!r}); pass drop_nonfinite=True (--drop-nonfinite) to drop them"
        )
    if dropped == total:
        raise InputError(f"{name}: all {total} rows contain NaN, infinite or missing values; no rows left")
    del block
    X = np.concatenate(X_blocks, out=_aligned_empty((sum(len(b) for b in X_blocks), X_blocks[0].shape[1])))
    X_blocks.clear()
    y = np.concatenate(y_blocks) if len(y_blocks) > 1 else y_blocks[0]
    return _standardize_if(X, y, feature_names, header[t], dropped, path, name, standardize)


def _check_header(name, header, line):
    for i, c in enumerate(header):
        if not c:
            raise InputError(f"{name} line {line}: column {i + 1} of the header has no name")
        try:
            number = np.isfinite(float(c))
        except ValueError:
            number = False
        if number:
            raise InputError(
                f"{name} line {line}: the first row must be a header of column names, found the number {c!r}"
            )
    seen = set()
    for c in header:
        if c in seen:
            raise InputError(f"{name} line {line}: the header names column {c!r} twice")
        seen.add(c)
