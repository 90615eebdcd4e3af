"""SQLite: the raw clicks stream (``collector/stream/``).

A page is one statement driven by the ``(brand_id, created_at, is_bot)`` index: the window's
rows in (created_at, id) order after the cursor, filtered by the compiler's conditions
(``collector/query/sqlite.py``; a group of alternatives is their conditions OR-ed), stopped
after ``limit`` rows. ``is_unique`` reads the page's visitors' clicks of the day before through
the ``(brand_id, visitor_id, created_at, is_bot)`` index.

Rows read only the columns a stream row shows (:data:`STREAM_FIELDS`; the click's other fields
keep their defaults): at 5,000 rows, decoding the other ~30 columns was a sixth of the time.
"""

from __future__ import annotations

from typing import Any

from collector.query import sqlite as compile_sqlite
from collector.query.model import Filter, Query

from ..model import Click
from ..rows import json_text
from .clicks import _query_params
from .connection import SQLiteBase

# The fields of a click the stream shows (collector/stream/rows.py), read as they are but for
# ``query`` (JSON text) and the flags (0 or 1).
STREAM_FIELDS = (
    "id", "brand_id", "session_id", "visitor_id", "created_at", "ip_address", "url",
    "domain_id", "funnel_id", "sub1", "sub2", "sub3", "sub4", "sub5", "utm_source", "query",
    "referrer", "country", "region", "city", "zip", "time_zone", "isp", "device_type",
    "device_brand", "device_model", "os", "os_version", "browser", "browser_version",
    "language", "is_bot", "link_id", "accept_language", "organization", "connection_type",
    "mobile_carrier", "is_proxy",
)  # fmt: skip
_COLUMNS_SQL = ", ".join(f'c."{name}"' for name in STREAM_FIELDS)
_QUERY = STREAM_FIELDS.index("query")
_FLAGS = (STREAM_FIELDS.index("is_bot"), STREAM_FIELDS.index("is_proxy"))


def _stream_click(row: tuple[Any, ...]) -> Click:
    values = list(row)
    values[_QUERY] = _query_params(values[_QUERY])
    for at in _FLAGS:
        values[at] = bool(values[at])
    return Click(**dict(zip(STREAM_FIELDS, values, strict=True)))


def _conditions(query: Query, groups: tuple[tuple[Filter, ...], ...]) -> tuple[str, list[Any]]:
    """The time range and every group (one of its filters) as one condition."""
    timed = compile_sqlite.where(query, alias="c")
    parts, params = list(timed.parts), list(timed.params)
    for group in groups:
        alternatives = []
        for filter_ in group:
            compiled = compile_sqlite.where(Query(filters=(filter_,)), alias="c")
            alternatives.append(compiled.sql)
            params += compiled.params
        parts.append("(" + " OR ".join(alternatives) + ")")
    return " AND ".join(parts) or "1", params


class StreamMixin(SQLiteBase):
    """:class:`~collector.storage.base.StreamStore` on SQLite."""

    def stream_clicks(
        self,
        brand_id: int,
        query: Query,
        groups: tuple[tuple[Filter, ...], ...],
        after: tuple[int, str] | None,
        limit: int,
    ) -> list[Click]:
        where, params = _conditions(query, groups)
        sql = f"SELECT {_COLUMNS_SQL} FROM clicks AS c WHERE c.brand_id = ? AND {where}"
        params = [brand_id, *params]
        if after is not None:
            sql += " AND c.created_at >= ? AND (c.created_at > ? OR c.id > ?)"
            params += [after[0], after[0], after[1]]
        rows = self._all(sql + " ORDER BY c.created_at, c.id LIMIT ?", [*params, limit])
        return [_stream_click(r) for r in rows]

    def visitor_history(
        self, brand_id: int, visitor_ids: list[str], start: int, end: int
    ) -> list[tuple[Any, ...]]:
        if not visitor_ids:
            return []
        rows = self._all(
            "SELECT visitor_id, link_id, funnel_id, created_at, id"
            " FROM clicks INDEXED BY clicks_brand_visitor_id WHERE brand_id = ?"
            " AND visitor_id IN (SELECT value FROM json_each(?))"
            " AND created_at >= ? AND created_at <= ?",
            (brand_id, json_text(sorted(set(visitor_ids))), start, end),
        )
        return [tuple(r) for r in rows]
