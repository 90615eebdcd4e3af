"""SQLite: a visitor's hits for the explorer (``collector/explorer/``).

Both reads run on the ``clicks_brand_visitor_id`` index, ``(brand_id, visitor_id, created_at,
is_bot)``: the range and the count are read from the index alone, and a page walks it backwards
from the cursor, so a look-up costs the same at a million clicks as at a thousand. The cursor is
a row's ``(created_at, id)``; ``created_at <= ?`` bounds the index range and the ``OR`` settles
ties, which are few (rows of one millisecond), so ordering by ``id`` within them is cheap.
"""

from __future__ import annotations

from typing import Any

from ..model import Click
from .clicks import CLICK_ROWS
from .connection import SQLiteBase

_COLUMNS = ", ".join(f'"{name}"' for name in CLICK_ROWS.names)


def _visitor_where(
    brand_id: int, visitor_id: str, span: tuple[int | None, int | None]
) -> tuple[list[str], list[Any]]:
    where = ["brand_id = ?", "visitor_id = ?"]
    params: list[Any] = [brand_id, visitor_id]
    start, end = span
    if start is not None:
        where.append("created_at >= ?")
        params.append(start)
    if end is not None:
        where.append("created_at <= ?")
        params.append(end)
    return where, params


class ExplorerMixin(SQLiteBase):
    """:class:`~collector.storage.base.ExplorerStore` on SQLite."""

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
            where.append("created_at <= ? AND (created_at < ? OR id < ?)")
            params.extend((before[0], before[0], before[1]))
        rows = self._all(
            f"SELECT {_COLUMNS} FROM clicks WHERE {' AND '.join(where)}"
            " ORDER BY created_at DESC, id DESC LIMIT ?",
            [*params, max(0, int(limit))],
        )
        return [CLICK_ROWS.read(row) for row in rows]

    def visitor_summary(
        self, brand_id: int, visitor_id: str, span: tuple[int | None, int | None]
    ) -> tuple[int, Click | None, int | None]:
        where, params = _visitor_where(brand_id, visitor_id, span)
        where_sql = " AND ".join(where)
        count, last = self._one(
            f"SELECT count(*), max(created_at) FROM clicks WHERE {where_sql}", params
        )
        if not count:
            return 0, None, None
        first = self._one(
            f"SELECT {_COLUMNS} FROM clicks WHERE {where_sql} ORDER BY created_at, id LIMIT 1",
            params,
        )
        return int(count), CLICK_ROWS.read(first) if first else None, int(last)
