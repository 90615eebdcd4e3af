"""ClickHouse: a visitor's hits for the explorer (``collector/explorer/``).

The ``clicks_visitor`` bloom filter skips the granules without the visitor, and the time range
prunes partitions and the primary key ``(brand_id, created_at, id)``; a page is ordered by that
key's tail, so the cursor, a row's ``(created_at, id)``, is a plain tuple comparison. A click
stored twice (two collectors, one instant: ``clicks.py``) is read and counted once.
"""

from __future__ import annotations

from typing import Any

from ..model import Click
from .clicks import CLICK_ROWS
from .connection import ClickHouseBase

_COLUMNS = ", ".join(f"`{name}`" for name in CLICK_ROWS.names)


def _visitor_where(
    brand_id: int, visitor_id: str, span: tuple[int | None, int | None]
) -> tuple[list[str], dict[str, Any]]:
    where = ["brand_id = {brand:UInt64}", "visitor_id = {visitor:String}"]
    params: dict[str, Any] = {"brand": brand_id, "visitor": visitor_id}
    start, end = span
    if start is not None:
        where.append("created_at >= fromUnixTimestamp64Milli({start:Int64}, 'UTC')")
        params["start"] = start
    if end is not None:
        where.append("created_at <= fromUnixTimestamp64Milli({end:Int64}, 'UTC')")
        params["end"] = end
    return where, params


class ExplorerMixin(ClickHouseBase):
    """:class:`~collector.storage.base.ExplorerStore` on ClickHouse."""

    def visitor_hits(
        self,
        brand_id: int,
        visitor_id: str,
        span: tuple[int | None, int | None],
        before: tuple[int, str] | None,
        limit: int,
    ) -> list[Click]:
        where, params = _visitor_where(brand_id, visitor_id, span)
        if before is not None:
            where.append(
                "(created_at, id) < (fromUnixTimestamp64Milli({at:Int64}, 'UTC'), {id:String})"
            )
            params.update(at=before[0], id=before[1])
        params["limit"] = max(0, int(limit))
        rows = self._text_rows(
            f"SELECT {_COLUMNS} FROM {{db}}.clicks WHERE {' AND '.join(where)}"
            " ORDER BY created_at DESC, id DESC LIMIT 1 BY id LIMIT {limit:UInt64}",
            params,
        )
        return [CLICK_ROWS.read(row) for row in rows]

    def visitor_summary(
        self, brand_id: int, visitor_id: str, span: tuple[int | None, int | None]
    ) -> tuple[int, Click | None, int | None]:
        where, params = _visitor_where(brand_id, visitor_id, span)
        where_sql = " AND ".join(where)
        count, last = self._rows(
            "SELECT uniqExact(id), max(toUnixTimestamp64Milli(created_at))"
            f" FROM {{db}}.clicks WHERE {where_sql}",
            params,
        )[0]
        if not count:
            return 0, None, None
        first = self._text_rows(
            f"SELECT {_COLUMNS} FROM {{db}}.clicks WHERE {where_sql}"
            " ORDER BY created_at, id LIMIT 1",
            params,
        )
        return int(count), CLICK_ROWS.read(first[0]) if first else None, int(last)
