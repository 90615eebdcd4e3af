"""What a cell of an export looks like, and the file the lines go into.

Cells: times as ISO 8601 UTC with milliseconds (as the API shows them), booleans as ``true`` /
``false``, the query map as JSON text, None as an empty cell; text quoted only when it holds a
comma, a double quote or a line break (the csv module's minimal quoting; a lone empty cell is
``""``); lines end with CR LF. A text cell that a spreadsheet would read as a formula (it starts
with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return: docs/DESIGN.md, OWASP's "CSV
injection") gets a leading single quote, which shows the text as it is. Numbers are written by
Clicktrail itself and are never formulas, so a negative longitude stays a number.

The store formats the lines (``export_csv`` in ``storage/*/exports.py``: each engine's
statement writes these cells, so no Python object is made per cell); :func:`safe_text` is the
rule for one text cell, as both statements apply it.

The file is gzip-compressed as it is written, a page of lines (megabytes) per call at level 1
(the compressor keeps up with the rows), so a download to a client that takes gzip sends it as
it is.
"""

from __future__ import annotations

import gzip
import os

from collector.storage.columns import columns as declared_columns
from collector.storage.model import Click

RISKY = ("=", "+", "-", "@", "\t", "\r")
# Every click field but the brand's id (it is in the path).
EXPORT_COLUMNS: tuple[str, ...] = tuple(
    c.name for c in declared_columns(Click) if c.name != "brand_id"
)
GZIP_LEVEL = 1


def safe_text(value: str) -> str:
    """``value``, with a leading ``'`` when a spreadsheet would take it for a formula."""
    return "'" + value if value.startswith(RISKY) else value


class CsvFile:
    """A gzip-compressed CSV file being written: the header, then pages of lines."""

    def __init__(self, path: str, header: list[str]) -> None:
        self._raw = open(path, "wb")  # noqa: SIM115 - closed by close()
        self._gzip = gzip.GzipFile(fileobj=self._raw, mode="wb", compresslevel=GZIP_LEVEL)
        # column names are a click's field names: never quoted, never a formula
        self.write((",".join(header) + "\r\n").encode())

    def write(self, lines: bytes) -> None:
        """CSV lines as UTF-8 bytes, each ending with CR LF."""
        self._gzip.write(lines)

    def close(self) -> None:
        """Flush everything to disk (the file is complete once this returns)."""
        self._gzip.close()  # writes the gzip trailer; the file itself stays open
        self._raw.flush()
        os.fsync(self._raw.fileno())
        self._raw.close()
