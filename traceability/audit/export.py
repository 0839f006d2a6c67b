"""The audit log as a CSV file a spreadsheet opens safely: UTF-8 with a byte-order mark, no live formulas.

Excel reads a file without the mark as the local code page (Vietnamese letters garbled), and runs a cell that
starts with = + - @ (or a tab or carriage return before one) as a formula: an actor or a reason typed by
anyone could then run code on the reader's machine. Such cells get a leading apostrophe, shown as text.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Sequence
from itertools import chain
from typing import Any

BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value: str) -> str:
    """Return value as a cell a spreadsheet shows as text, never evaluates."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def json_text(value: Any) -> str:
    """Write a stored before/after object as JSON with its letters as letters (no \\u escapes)."""
    return "" if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)


def lines(header: Sequence[str], rows: Iterable[Sequence[str]]) -> Iterator[str]:
    """Yield the file a line at a time: the mark, the header, then one line per row, every cell made safe."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    yield BOM
    for row in chain([header], rows):
        writer.writerow([cell(value) for value in row])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
