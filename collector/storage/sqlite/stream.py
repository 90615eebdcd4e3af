"""SQLite: the raw clicks stream (``collector/stream/``).

A page is one statement driven by the ``(brand_id, created_at, is_bot)`` index: the window's
rows in (created_at, id) order after the cursor, filtered by the compiler's conditions
(``collector/query/sqlite.py``; a group of alternatives is their conditions OR-ed), stopped
after ``limit`` rows. ``is_unique`` reads the page's visitors' clicks of the day before through
the ``(brand_id, visitor_id, created_at, is_bot)`` index.
"""

from __future__ import annotations

from typing import Any

from collector.query import sqlite as compile_sqlite
from collector.query.model import Filter, Query

from ..model import Click
from ..rows import json_text
from .clicks import _CLICK_COLUMNS_SQL_C, CLICK_ROWS
from .connection import SQLiteBase


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
        sql = f"SELECT {_CLICK_COLUMNS_SQL_C} FROM clicks AS c WHERE c.brand_id = ? AND {where}"
        params = [brand_id, *params]
        if after is not None:
            sql += " AND c.created_at >= ? AND (c.created_at > ? OR c.id > ?)"
            params += [after[0], after[0], after[1]]
        rows = self._all(sql + " ORDER BY c.created_at, c.id LIMIT ?", [*params, limit])
        return [CLICK_ROWS.read(r) for r in rows]

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
