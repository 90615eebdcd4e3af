"""SQLite: CSV export jobs and the rows they write.

``export_jobs`` (created in ``schema.py``) holds one row per job (``columns``, ``filters`` and
``click_codes`` as JSON text). :meth:`ExportsMixin.export_rows` reads a page of clicks by keyset,
``(created_at, id)`` after the last row written, so each page is an index range read from the
``(brand_id, created_at, ...)`` index (or the index of an equality filter) and memory stays at
one page however many rows match.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

import msgspec

from collector.query import sqlite as compile_sqlite
from collector.query.clicks import click_list_query

from ..columns import columns as declared_columns
from ..model import Click, ClickQuery, ExportJob
from ..rows import json_text
from .clicks import _query_params
from .connection import SQLiteBase

SCAN_CACHE_KIB = 8192  # the page cache of a runner thread's connection
_FIELDS: tuple[str, ...] = ExportJob.__struct_fields__
_JSON_FIELDS = ("columns", "filters", "click_codes")
_NAMES = ", ".join(f'"{f}"' for f in _FIELDS)
_SELECT = f"SELECT {_NAMES} FROM export_jobs"
_KINDS = {c.name: c.kind for c in declared_columns(Click)}
_DECODERS: dict[str, Callable[[Any], Any]] = {"bool": bool, "map": _query_params}


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


def _decoders(columns: tuple[str, ...]) -> list[tuple[int, Callable[[Any], Any]]]:
    """(position, converter) of each selected column whose stored value is not the struct's
    (0/1 for a bool, JSON text for the query map); None stays None."""
    return [(i, _DECODERS[_KINDS[c]]) for i, c in enumerate(columns) if _KINDS[c] in _DECODERS]


class ExportsMixin(SQLiteBase):
    """:class:`~collector.storage.base.ExportStore` on SQLite."""

    def _scan(self, sql: str, params: list[Any]) -> list[Any]:
        """``sql``'s rows, read as a scan that passes once over many pages: this thread's
        connection (a runner thread's) keeps a small page cache and no memory map, so an export
        does not hold the pages it read (the store's other connections cache 64 MiB and map
        256 MiB). Text reads with the C decoder; a page with invalid UTF-8 is read again with
        the lenient one (U+FFFD), as every other read."""
        conn = self._conn()
        if not getattr(self._local, "scans", False):
            conn.execute("PRAGMA mmap_size = 0")
            conn.execute(f"PRAGMA cache_size = -{SCAN_CACHE_KIB}")
            self._local.scans = True
        lenient = conn.text_factory
        conn.text_factory = str
        try:
            return conn.execute(sql, params).fetchall()
        except sqlite3.OperationalError as error:
            if "decode" not in str(error):
                raise
        finally:
            conn.text_factory = lenient
        return conn.execute(sql, params).fetchall()

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

    def export_rows(
        self,
        brand_id: int,
        query: ClickQuery,
        columns: tuple[str, ...],
        after: tuple[int, str] | None,
        limit: int,
    ) -> list[tuple[Any, ...]]:
        compiled = compile_sqlite.where(click_list_query(query), alias="c")
        direction, beyond = ("ASC", ">") if query.direction == "asc" else ("DESC", "<")
        where = ["c.brand_id = ?", *compiled.parts]
        params: list[Any] = [brand_id, *compiled.params]
        if after is not None:
            # (created_at, id) beyond the key; the first term lets the index bound the range
            where.append(f"c.created_at {beyond}= ? AND (c.created_at, c.id) {beyond} (?, ?)")
            params += [after[0], *after]
        selected = ", ".join(f'c."{name}"' for name in columns)
        rows = self._scan(
            f"SELECT {selected}, c.created_at, c.id FROM clicks AS c WHERE {' AND '.join(where)}"
            f" ORDER BY c.created_at {direction}, c.id {direction} LIMIT ?",
            [*params, limit],
        )
        decoders = _decoders(columns)
        if not decoders:
            return rows
        decoded = []
        for row in rows:
            values = list(row)
            for i, convert in decoders:
                if values[i] is not None:
                    values[i] = convert(values[i])
            decoded.append(tuple(values))
        return decoded
