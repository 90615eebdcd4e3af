"""ClickHouse: CSV export jobs and the rows they write.

- ``export_jobs``: ``ReplacingMergeTree(version) ORDER BY (brand_id, id)``, read with ``FINAL``
  (as webhook destinations are): a status change inserts a newer version; an expired job is
  removed by a lightweight ``DELETE``.
- :meth:`ExportsMixin.export_rows` reads a page of clicks by keyset, ``(created_at, id)`` after
  the last row written, in the table's sort order (``brand_id, created_at, id``): each page is a
  range of the primary key, only the selected columns are read, and ``LIMIT 1 BY id`` keeps a
  twin stored by two collectors out.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec

from collector.query import clickhouse as compile_clickhouse
from collector.query.clicks import click_list_query

from ..columns import columns as declared_columns
from ..model import Click, ClickQuery, ExportJob
from ..rows import json_text, text
from .clicks import _text_map
from .connection import ClickHouseBase

_FIELDS: tuple[str, ...] = ExportJob.__struct_fields__
_SELECT = f"SELECT {', '.join(f'`{f}`' for f in _FIELDS)} FROM {{db}}.export_jobs FINAL"
_KINDS = {c.name: c.kind for c in declared_columns(Click)}
_DECODERS: dict[str, Callable[[Any], Any]] = {"text": text, "map": _text_map, "bool": bool}


def _read_job(row: tuple[Any, ...]) -> ExportJob:
    values = dict(zip(_FIELDS, row, strict=True))
    values["columns"] = list(values["columns"])
    codes = values["click_codes"]
    values["click_codes"] = None if codes is None else msgspec.json.decode(codes)
    return msgspec.convert(values, ExportJob)


def _decoders(columns: tuple[str, ...]) -> list[tuple[int, Callable[[Any], Any]]]:
    """(position, converter) of each selected column read as another type than the struct's
    (text as bytes, decoded leniently; the query map's bytes); None stays None."""
    return [(i, _DECODERS[_KINDS[c]]) for i, c in enumerate(columns) if _KINDS[c] in _DECODERS]


class ExportsMixin(ClickHouseBase):
    """:class:`~collector.storage.base.ExportStore` on ClickHouse."""

    def _save(self, job: ExportJob) -> None:
        values = msgspec.structs.asdict(job)
        if job.click_codes is not None:
            values["click_codes"] = json_text(job.click_codes)
        row = (*(values[f] for f in _FIELDS), self._next_version())
        self._insert("export_jobs", (*_FIELDS, "version"), [row])

    def add_export(self, job: ExportJob) -> None:
        self._save(job)

    def save_export(self, job: ExportJob) -> None:
        self._save(job)

    def get_export(self, brand_id: int, job_id: str) -> ExportJob | None:
        rows = self._rows(
            f"{_SELECT} WHERE brand_id = {{brand:UInt64}} AND id = {{id:String}}",
            {"brand": brand_id, "id": job_id},
        )
        return _read_job(rows[0]) if rows else None

    def exports_in(self, statuses: list[str]) -> list[ExportJob]:
        rows = self._rows(
            f"{_SELECT} WHERE status IN {{statuses:Array(String)}} ORDER BY created_at, id",
            {"statuses": statuses},
        )
        return [_read_job(row) for row in rows]

    def delete_export(self, brand_id: int, job_id: str) -> None:
        self._command(
            "DELETE FROM {db}.export_jobs WHERE brand_id = {brand:UInt64} AND id = {id:String}",
            {"brand": brand_id, "id": job_id},
        )

    def export_rows(
        self,
        brand_id: int,
        query: ClickQuery,
        columns: tuple[str, ...],
        after: tuple[int, str] | None,
        limit: int,
    ) -> list[tuple[Any, ...]]:
        compiled = compile_clickhouse.where(click_list_query(query), prefix="q")
        direction, beyond = ("ASC", ">") if query.direction == "asc" else ("DESC", "<")
        where = ["brand_id = {brand:UInt64}", *compiled.parts]
        params: dict[str, Any] = {**compiled.params, "brand": brand_id, "limit": limit}
        if after is not None:
            where.append(
                "(created_at, id) "
                + beyond
                + " (fromUnixTimestamp64Milli({after_ms:Int64}, 'UTC'), {after_id:String})"
            )
            params |= {"after_ms": after[0], "after_id": after[1]}
        selected = ", ".join(f"`{name}`" for name in columns)
        rows = self._text_rows(
            f"SELECT {selected}, created_at, id FROM {{db}}.clicks WHERE {' AND '.join(where)}"
            f" ORDER BY created_at {direction}, id {direction} LIMIT 1 BY id"
            " LIMIT {limit:UInt64}",
            params,
        )
        decoders = [*_decoders(columns), (len(columns) + 1, text)]
        decoded = []
        for row in rows:
            values = list(row)
            for i, convert in decoders:
                if values[i] is not None:
                    values[i] = convert(values[i])
            decoded.append(tuple(values))
        return decoded
