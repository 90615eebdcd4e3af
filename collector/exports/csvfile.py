"""A click's values as CSV cells, and the export file they go into.

Cells: times as ISO 8601 UTC with milliseconds (as the API shows them), booleans as ``true`` /
``false``, the query map as JSON text, None as an empty cell. A text cell that a spreadsheet
would read as a formula (it starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return: docs/DESIGN.md, OWASP's "CSV injection") gets a leading single quote, which shows the
text as it is. Numbers are written by Clicktrail itself and are never formulas, so a negative
longitude stays a number.

The file is gzip-compressed as it is written (level 1: the compressor keeps up with the rows),
so a download to a client that takes gzip sends it as it is.
"""

from __future__ import annotations

import csv
import functools
import gzip
import io
import os
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from collector.http.params import FIRST_SHOWN_MS, LAST_SHOWN_MS
from collector.storage.columns import columns as declared_columns
from collector.storage.model import Click
from collector.storage.rows import json_text

_RISKY = ("=", "+", "-", "@", "\t", "\r")
_RISKY_STARTS = tuple("\n" + c for c in _RISKY)  # a risky cell in a column joined by \n
_KINDS = {c.name: c.kind for c in declared_columns(Click)}
# Every click field but the brand's id (it is in the path).
EXPORT_COLUMNS: tuple[str, ...] = tuple(name for name in _KINDS if name != "brand_id")
GZIP_LEVEL = 1


def safe_text(value: str) -> str:
    """``value``, with a leading ``'`` when a spreadsheet would take it for a formula."""
    return "'" + value if value.startswith(_RISKY) else value


@functools.lru_cache(maxsize=4096)
def _second(seconds: int) -> str:
    """``YYYY-MM-DDTHH:MM:SS.`` of a second since the epoch (rows of one second share it)."""
    moment = datetime.fromtimestamp(seconds, tz=UTC)
    return f"{moment.year:04d}-" + moment.strftime("%m-%dT%H:%M:%S.")


def _time(ms: int) -> str:
    """As :func:`collector.http.params.iso` (empty outside years 1..9999), a cached second
    plus the milliseconds."""
    if not FIRST_SHOWN_MS <= ms <= LAST_SHOWN_MS:
        return ""
    return f"{_second(ms // 1000)}{ms % 1000:03d}Z"


# Each converts a whole column of a page (None stays None: the csv module writes it empty).
def _texts(column: Sequence[Any]) -> Sequence[Any]:
    """The column, with risky cells quoted. Most columns have none: six substring searches of
    the column joined by line breaks (in C) tell, and only a column where one finds something
    is walked cell by cell. A match inside a cell (after a line break) only costs the walk."""
    joined = "\n" + "\n".join(filter(None, column))
    if not any(start in joined for start in _RISKY_STARTS):
        return column
    return [v if v is None or not v.startswith(_RISKY) else "'" + v for v in column]


def _times(column: Sequence[Any]) -> list[Any]:
    return [None if v is None else _time(v) for v in column]


def _bools(column: Sequence[Any]) -> list[Any]:
    return [None if v is None else ("true" if v else "false") for v in column]


def _jsons(column: Sequence[Any]) -> Sequence[Any]:
    return _texts([None if v is None else json_text(v) for v in column])


_CONVERT: dict[str, Callable[[Sequence[Any]], Sequence[Any]]] = {
    "text": _texts,
    "time": _times,
    "bool": _bools,
    "map": _jsons,
    "json": _jsons,
}


def column_kinds(names: Sequence[str]) -> list[str]:
    """The kind of each exported column (``storage/columns.py``)."""
    return [_KINDS[name] for name in names]


def rows_as_cells(rows: list[tuple[Any, ...]], kinds: Sequence[str]) -> Iterable[tuple[Any, ...]]:
    """The first ``len(kinds)`` values of each row as cells (the key that follows is left),
    converted a column at a time: one comprehension per column rather than a call per cell."""
    columns: list[Any] = list(zip(*rows, strict=True))[: len(kinds)]
    for i, kind in enumerate(kinds):
        convert = _CONVERT.get(kind)
        if convert is not None:
            columns[i] = convert(columns[i])
    return zip(*columns, strict=True)


class CsvFile:
    """A gzip-compressed CSV file being written: the header, then pages of rows of cells. A
    page is written as CSV text in memory, then encoded and compressed in one call."""

    def __init__(self, path: str, header: list[str]) -> None:
        self._raw = open(path, "wb")  # noqa: SIM115 - closed by close()
        self._gzip = gzip.GzipFile(fileobj=self._raw, mode="wb", compresslevel=GZIP_LEVEL)
        self.write([header])

    def write(self, cells: Iterable[Sequence[Any]]) -> None:
        text = io.StringIO(newline="")
        csv.writer(text).writerows(cells)
        self._gzip.write(text.getvalue().encode("utf-8", "replace"))

    def close(self) -> None:
        """Flush everything to disk (the file is complete once this returns)."""
        self._gzip.close()  # writes the gzip trailer; the file itself stays open
        self._raw.flush()
        os.fsync(self._raw.fileno())
        self._raw.close()
