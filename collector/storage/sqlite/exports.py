"""SQLite: CSV export jobs and the CSV they write.

``export_jobs`` (created in ``schema.py``) holds one row per job (``columns``, ``filters`` and
``click_codes`` as JSON text). :meth:`ExportsMixin.export_csv` reads a page of clicks by keyset,
``(created_at, id)`` after the last row written, so each page is an index range read from the
``(brand_id, created_at, ...)`` index (or the index of an equality filter) and memory stays at
one page however many rows match.

Each row comes out of SQLite as its CSV line (the export's fast path, docs/DECISIONS.md, issue
14): the statement formats every cell as ``collector/exports/csvfile.py`` says (text quoted only
when it holds a comma, a quote or a line break, a formula start neutralised with ``'``, times as
ISO 8601 UTC with milliseconds, booleans as ``true``/``false``, the query map as its JSON text,
NULL as an empty cell) and joins them, so Python only joins a page of lines, as bytes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec

from collector.http.params import FIRST_SHOWN_MS, LAST_SHOWN_MS
from collector.query import sqlite as compile_sqlite
from collector.query.clicks import click_list_query

from ..columns import columns as declared_columns
from ..model import Click, ClickQuery, ExportJob
from ..rows import json_text
from .connection import SQLiteBase

SCAN_CACHE_KIB = 8192  # the page cache of a runner thread's connection
_FIELDS: tuple[str, ...] = ExportJob.__struct_fields__
_JSON_FIELDS = ("columns", "filters", "click_codes")
_NAMES = ", ".join(f'"{f}"' for f in _FIELDS)
_SELECT = f"SELECT {_NAMES} FROM export_jobs"
_KINDS = {c.name: c.kind for c in declared_columns(Click)}
_RISKY_START = "'[-=+@' || char(9) || char(13) || ']*'"  # as csvfile.safe_text
_QUOTE, _QUOTES = "'\"'", "'\"\"'"  # " and "" as SQL literals


def _job_row(job: ExportJob) -> tuple[Any, ...]:
    values = msgspec.structs.asdict(job)
    for name in _JSON_FIELDS:
        if values[name] is not None:
            values[name] = json_text(values[name])
    return tuple(values[f] for f in _FIELDS)


def _read_job(row: tuple[Any, ...]) -> ExportJob:
    values = dict(zip(_FIELDS, row, strict=True))
    for name in _JSON_FIELDS:
        if values[name] is not None:
            values[name] = msgspec.json.decode(values[name])
    return msgspec.convert(values, ExportJob)


def _text_cell(ref: str) -> str:
    """A text cell: ``'`` before a formula start, quoted when it needs to be."""
    risky = f"{ref} GLOB {_RISKY_START}"
    lead = f"iif({risky}, '''', '')"
    quoted = f"{_QUOTE} || {lead} || replace({ref}, {_QUOTE}, {_QUOTES}) || {_QUOTE}"
    return (
        f"CASE WHEN {_needs_quotes(ref)} THEN {quoted}"
        f" WHEN {risky} THEN '''' || {ref} ELSE {ref} END"
    )


def _needs_quotes(ref: str) -> str:
    """Whether a text holds a comma, a quote or a line break (the csv module's QUOTE_MINIMAL)."""
    return " OR ".join(f"instr({ref}, {char})" for char in ("','", _QUOTE, "char(10)", "char(13)"))


def _time_cell(ref: str) -> str:
    """``YYYY-MM-DDTHH:MM:SS.mmmZ`` (none outside years 1..9999, as ``http.params.iso``)."""
    ms = f"((({ref} % 1000) + 1000) % 1000)"
    return (
        f"CASE WHEN {ref} BETWEEN {FIRST_SHOWN_MS} AND {LAST_SHOWN_MS} THEN"
        f" strftime('%Y-%m-%dT%H:%M:%S.', ({ref} - {ms}) / 1000, 'unixepoch')"
        f" || printf('%03dZ', {ms}) END"
    )


def _map_cell(ref: str) -> str:
    """The stored JSON object (quoted when it needs to be); ``{}`` for none or a broken one."""
    return (
        f"CASE WHEN substr({ref}, 1, 1) <> '{{' OR NOT json_valid({ref}) THEN '{{}}'"
        f" WHEN {_needs_quotes(ref)} THEN {_QUOTE} || replace({ref}, {_QUOTE}, {_QUOTES})"
        f" || {_QUOTE} ELSE {ref} END"
    )


def _float_cell(ref: str) -> str:
    """The fewest digits (15 to 17) that read back as the same number, as Python's repr."""
    tries = [f"printf('%!.{digits}g', {ref})" for digits in (15, 16)]
    found = " ".join(f"WHEN CAST({text} AS REAL) = {ref} THEN {text}" for text in tries)
    return f"CASE WHEN {ref} IS NULL THEN NULL {found} ELSE printf('%!.17g', {ref}) END"


# Each gives the cell's text, or NULL for an empty cell (printf's %s writes NULL as nothing).
_CELLS: dict[str, Callable[[str], str]] = {
    "text": _text_cell,
    "time": _time_cell,
    "map": _map_cell,
    "json": lambda ref: f"CASE WHEN {ref} IS NOT NULL THEN {_map_cell(ref)} END",
    "bool": lambda ref: f"CASE WHEN {ref} THEN 'true' WHEN NOT {ref} THEN 'false' END",
    "int": lambda ref: ref,
    "float": _float_cell,
}


def csv_line(columns: tuple[str, ...], alias: str = "c") -> str:
    """One expression: a click's CSV line (its cells joined by commas, then CR LF), written by
    one printf (a chain of ``||`` would copy the growing line once per cell). A lone empty cell
    is written ``""``, as the csv module does (an empty line reads as no row)."""
    cells = [_CELLS[_KINDS[name]](f'{alias}."{name}"') for name in columns]
    if len(cells) == 1:
        cells = [f"coalesce(nullif({cells[0]}, ''), {_QUOTES})"]
    template = ",".join(["%s"] * len(cells))
    return f"printf('{template}' || char(13) || char(10), {', '.join(cells)})"


def utf8(lines: bytes) -> bytes:
    """``lines`` as valid UTF-8: text stored with invalid bytes gets U+FFFD, as other reads."""
    try:
        lines.decode()
    except UnicodeDecodeError:
        return lines.decode("utf-8", "replace").encode()
    return lines


class ExportsMixin(SQLiteBase):
    """:class:`~collector.storage.base.ExportStore` on SQLite."""

    def _scan(self, sql: str, params: list[Any]) -> list[Any]:
        """``sql``'s rows, text as bytes, read as a scan that passes once over many pages:
        this thread's connection (a runner thread's) keeps a small page cache and no memory
        map, so an export does not hold the pages it read (the store's other connections cache
        64 MiB and map 256 MiB)."""
        conn = self._conn()
        if not getattr(self._local, "scans", False):
            conn.execute("PRAGMA mmap_size = 0")
            conn.execute(f"PRAGMA cache_size = -{SCAN_CACHE_KIB}")
            self._local.scans = True
        text_factory = conn.text_factory
        conn.text_factory = bytes
        try:
            return conn.execute(sql, params).fetchall()
        finally:
            conn.text_factory = text_factory

    def add_export(self, job: ExportJob) -> None:
        with self._write() as conn:
            conn.execute(
                f"INSERT INTO export_jobs ({_NAMES}) VALUES ({', '.join('?' * len(_FIELDS))})",
                _job_row(job),
            )

    def get_export(self, brand_id: int, job_id: str) -> ExportJob | None:
        row = self._one(f"{_SELECT} WHERE id = ? AND brand_id = ?", (job_id, brand_id))
        return _read_job(row) if row else None

    def save_export(self, job: ExportJob) -> None:
        sets = ", ".join(f'"{f}" = ?' for f in _FIELDS[1:])
        with self._write() as conn:
            conn.execute(
                f"UPDATE export_jobs SET {sets} WHERE id = ?", (*_job_row(job)[1:], job.id)
            )

    def exports_in(self, statuses: list[str]) -> list[ExportJob]:
        rows = self._all(
            f"{_SELECT} WHERE status IN (SELECT value FROM json_each(?)) ORDER BY created_at, id",
            (json_text(statuses),),
        )
        return [_read_job(row) for row in rows]

    def delete_export(self, brand_id: int, job_id: str) -> None:
        with self._write() as conn:
            conn.execute(
                "DELETE FROM export_jobs WHERE id = ? AND brand_id = ?", (job_id, brand_id)
            )

    def export_csv(
        self,
        brand_id: int,
        query: ClickQuery,
        columns: tuple[str, ...],
        after: tuple[int, str] | None,
        limit: int,
    ) -> tuple[bytes, int, tuple[int, str] | None]:
        compiled = compile_sqlite.where(click_list_query(query), alias="c")
        direction, beyond = ("ASC", ">") if query.direction == "asc" else ("DESC", "<")
        where = ["c.brand_id = ?", *compiled.parts]
        params: list[Any] = [brand_id, *compiled.params]
        if after is not None:
            # (created_at, id) beyond the key; the first term lets the index bound the range
            where.append(f"c.created_at {beyond}= ? AND (c.created_at, c.id) {beyond} (?, ?)")
            params += [after[0], *after]
        rows = self._scan(
            f"SELECT {csv_line(columns)}, c.created_at, c.id FROM clicks AS c"
            f" WHERE {' AND '.join(where)}"
            f" ORDER BY c.created_at {direction}, c.id {direction} LIMIT ?",
            [*params, limit],
        )
        if not rows:
            return b"", 0, None
        lines = utf8(b"".join([row[0] for row in rows]))
        end = (rows[-1][1], rows[-1][2].decode()) if len(rows) == limit else None
        return lines, len(rows), end
