"""ClickHouse: CSV export jobs and the CSV they write.

- ``export_jobs``: ``ReplacingMergeTree(version) ORDER BY (brand_id, id)``, read with ``FINAL``
  (as webhook destinations are): a status change inserts a newer version; an expired job is
  removed by a lightweight ``DELETE``.
- :meth:`ExportsMixin.export_csv` reads a page of clicks by keyset, ``(created_at, id)`` after
  the last row written, in the table's sort order (``brand_id, created_at, id``): each page is a
  range of the primary key, only the selected columns are read, and ``LIMIT 1 BY id`` keeps a
  twin stored by two collectors out.
- Each row comes out of ClickHouse as its CSV line (the export's fast path, docs/DECISIONS.md,
  issue 14): the statement formats every cell as ``collector/exports/csvfile.py`` says, as the
  SQLite one does, so Python only joins a page of lines, as bytes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec

from collector.query import clickhouse as compile_clickhouse
from collector.query.clicks import click_list_query

from ..columns import columns as declared_columns
from ..model import Click, ClickQuery, ExportJob
from ..rows import json_text
from .connection import ClickHouseBase

_FIELDS: tuple[str, ...] = ExportJob.__struct_fields__
_SELECT = f"SELECT {', '.join(f'`{f}`' for f in _FIELDS)} FROM {{db}}.export_jobs FINAL"
_KINDS = {c.name: c.kind for c in declared_columns(Click)}
_RISKY_FIRST = "('=', '+', '-', '@', '\\t', '\\r')"  # as csvfile.safe_text
_NEEDS_QUOTES = "[',', '\"', '\\n', '\\r']"  # as the csv module's QUOTE_MINIMAL
_QUOTE, _QUOTES = "'\"'", "'\"\"'"  # " and "" as SQL literals
# toJSONString writes / as it is, as msgspec does. One thread and 128 KiB read buffers (not 1
# MiB per column and thread): at 1,000,000 clicks and every column, +90 MB of resident memory
# instead of +110-180 MB, for 6 % fewer rows/s.
# A page's rows: the engine reads and sorts them with their lines, then each becomes a Python
# bytes object; 100,000 rows of 12 columns cost +150-250 MB of resident memory, 25,000 about a
# quarter. Pages are smaller here than the runner's (SQLite's), at some cost in speed.
PAGE_ROWS = 25_000
PAGE_CELLS = 500_000
_SETTINGS = (
    " SETTINGS output_format_json_escape_forward_slashes = 0, max_threads = 1,"
    " max_read_buffer_size = 131072, max_block_size = 8192"
)


def _text_cell(ref: str) -> str:
    """A text cell: ``'`` before a formula start, quoted when it needs to be; NULL empty."""
    value = f"ifNull({ref}, '')"
    lead = f"if(substring({value}, 1, 1) IN {_RISKY_FIRST}, '''', '')"
    quoted = f"concat({_QUOTE}, {lead}, replaceAll({value}, {_QUOTE}, {_QUOTES}), {_QUOTE})"
    return f"if(multiSearchAny({value}, {_NEEDS_QUOTES}), {quoted}, concat({lead}, {value}))"


def _float_cell(ref: str) -> str:
    """As Python's repr for the numbers a click holds: ``52.0``, not ``52``."""
    whole = f"isFinite({ref}) AND {ref} = trunc({ref}) AND abs({ref}) < 1e16"
    return f"ifNull(if({whole}, concat(toString({ref}), '.0'), toString({ref})), '')"


_CELLS: dict[str, Callable[[str], str]] = {
    "text": _text_cell,
    "json": _text_cell,
    "time": lambda ref: f"ifNull(concat(replaceOne(toString({ref}), ' ', 'T'), 'Z'), '')",
    "map": lambda ref: _text_cell(f"toJSONString({ref})"),
    "bool": lambda ref: f"multiIf(isNull({ref}), '', {ref}, 'true', 'false')",
    "int": lambda ref: f"ifNull(toString({ref}), '')",
    "float": _float_cell,
}


def csv_line(columns: tuple[str, ...]) -> str:
    """One expression: a click's CSV line (its cells joined by commas, then CR LF). A lone
    empty cell is written ``""``, as the csv module does (an empty line reads as no row)."""
    cells = [_CELLS[_KINDS[name]](f"`{name}`") for name in columns]
    if len(cells) == 1:
        cells = [f"if(({cells[0]}) = '', {_QUOTES}, {cells[0]})"]
    joined = ", ',', ".join(cells)
    return f"concat({joined}, '\\r\\n')"


def _key(name: str) -> str:
    """A (created_at, id) key of parameters ``{name}_ms`` and ``{name}_id``."""
    return f"(fromUnixTimestamp64Milli({{{name}_ms:Int64}}, 'UTC'), {{{name}_id:String}})"


def _utf8(lines: bytes) -> bytes:
    """``lines`` as valid UTF-8: text stored with invalid bytes gets U+FFFD, as other reads."""
    try:
        lines.decode()
    except UnicodeDecodeError:
        return lines.decode("utf-8", "replace").encode()
    return lines


def _read_job(row: tuple[Any, ...]) -> ExportJob:
    values = dict(zip(_FIELDS, row, strict=True))
    values["columns"] = list(values["columns"])
    codes = values["click_codes"]
    values["click_codes"] = None if codes is None else msgspec.json.decode(codes)
    return msgspec.convert(values, ExportJob)


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

    def export_csv(
        self,
        brand_id: int,
        query: ClickQuery,
        columns: tuple[str, ...],
        after: tuple[int, str] | None,
        limit: int,
    ) -> tuple[bytes, int, tuple[int, str] | None]:
        limit = max(1, min(limit, PAGE_ROWS, PAGE_CELLS // len(columns)))
        compiled = compile_clickhouse.where(click_list_query(query), prefix="q")
        direction, beyond = ("ASC", ">") if query.direction == "asc" else ("DESC", "<")
        where = ["brand_id = {brand:UInt64}", *compiled.parts]
        params: dict[str, Any] = {**compiled.params, "brand": brand_id}
        if after is not None:
            where.append(f"(created_at, id) {beyond} {_key('after')}")
            params |= {"after_ms": after[0], "after_id": after[1]}
        order = f" ORDER BY created_at {direction}, id {direction}"
        end = self._page_end(" AND ".join(where), order, params, limit)
        if end is not None:  # the page is the key range up to its last row
            where.append(f"(created_at, id) {'<=' if beyond == '>' else '>='} {_key('end')}")
            params |= {"end_ms": end[0], "end_id": end[1]}
        result = self.client.query(
            f"SELECT {csv_line(columns)} AS line FROM {self._db}.clicks"
            f" WHERE {' AND '.join(where)}{order} LIMIT 1 BY id{_SETTINGS}",
            parameters=params,
            query_formats={"String": "bytes"},
        )
        lines = result.result_columns[0] if result.result_columns else []
        return _utf8(b"".join(lines)), len(lines), end

    def _page_end(
        self, where: str, order: str, params: dict[str, Any], limit: int
    ) -> tuple[int, str] | None:
        """The key of the ``limit``-th row after the cursor (None when fewer are left), read
        from the sort key alone: the lines' statement then reads a key range, where with
        ``LIMIT`` it read and sorted every row left (+300 MB and a third slower for every
        column at 1,000,000 clicks)."""
        rows = self._rows(
            f"SELECT created_at, id FROM {{db}}.clicks WHERE {where}{order}"
            f" LIMIT 1 OFFSET {limit - 1}{_SETTINGS}",
            params,
        )
        return (rows[0][0], rows[0][1]) if rows else None
