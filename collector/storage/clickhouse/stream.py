"""ClickHouse: the raw clicks stream (``collector/stream/``).

A page is found reading only the sort key (``(brand_id, created_at, id)``: the table's own
order) and the filtered columns, then its rows are read by key (``clicks.clicks_by_key``, the
late materialisation of the clicks list). Conditions come from the compiler
(``collector/query/clickhouse.py``); a group of alternatives is their conditions OR-ed.
``is_unique`` reads the page's visitors' clicks of the day before (bloom filter on
``visitor_id``).
"""

from __future__ import annotations

from typing import Any

from collector.query import clickhouse as compile_clickhouse
from collector.query.model import Filter, Query

from ..model import Click
from ..rows import text
from .clicks import clicks_by_key
from .connection import ClickHouseBase


def _conditions(query: Query, groups: tuple[tuple[Filter, ...], ...]) -> tuple[str, dict[str, Any]]:
    """The time range and every group (one of its filters) as one condition."""
    timed = compile_clickhouse.where(query, prefix="t")
    parts, params = list(timed.parts), dict(timed.params)
    for g, group in enumerate(groups):
        alternatives = []
        for f, filter_ in enumerate(group):
            compiled = compile_clickhouse.where(Query(filters=(filter_,)), prefix=f"g{g}_{f}_")
            alternatives.append(compiled.sql)
            params.update(compiled.params)
        parts.append("(" + " OR ".join(alternatives) + ")")
    return " AND ".join(parts) or "1", params


class StreamMixin(ClickHouseBase):
    """:class:`~collector.storage.base.StreamStore` on ClickHouse."""

    def stream_clicks(
        self,
        brand_id: int,
        query: Query,
        groups: tuple[tuple[Filter, ...], ...],
        after: tuple[int, str] | None,
        limit: int,
    ) -> list[Click]:
        where, params = _conditions(query, groups)
        sql = (
            "SELECT id, toUnixTimestamp64Milli(created_at) FROM {db}.clicks"
            f" WHERE brand_id = {{brand:UInt64}} AND {where}"
        )
        params.update(brand=brand_id, limit=limit)
        if after is not None:
            sql += (
                " AND created_at >= fromUnixTimestamp64Milli({after_at:Int64}, 'UTC')"
                " AND (created_at > fromUnixTimestamp64Milli({after_at:Int64}, 'UTC')"
                " OR id > {after_id:String})"
            )
            params.update(after_at=after[0], after_id=after[1])
        sql += " ORDER BY created_at, id LIMIT 1 BY id LIMIT {limit:UInt64}"
        keys = [(text(key) or "", int(at)) for key, at in self._text_rows(sql, params)]
        return clicks_by_key(self, brand_id, keys)

    def visitor_history(
        self, brand_id: int, visitor_ids: list[str], start: int, end: int
    ) -> list[tuple[Any, ...]]:
        if not visitor_ids:
            return []
        rows = self._text_rows(
            "SELECT visitor_id, link_id, funnel_id, toUnixTimestamp64Milli(created_at), id"
            " FROM {db}.clicks WHERE brand_id = {brand:UInt64}"
            " AND visitor_id IN {visitors:Array(String)}"
            " AND created_at >= fromUnixTimestamp64Milli({start:Int64}, 'UTC')"
            " AND created_at <= fromUnixTimestamp64Milli({end:Int64}, 'UTC')"
            " LIMIT 1 BY id",
            {"brand": brand_id, "visitors": sorted(set(visitor_ids)), "start": start, "end": end},
        )
        return [
            (text(v), text(link), None if funnel is None else int(funnel), int(at), text(i))
            for v, link, funnel, at, i in rows
        ]
