"""ClickHouse: the events and analytics API (seed 02).

Every statement comes from the query compiler (``collector/query/clickhouse.py``) over the
registries of ``collector/query/events.py``; this module runs them and reads the rows (text
decoded leniently, as every row the API shows). ClickHouse scans a brand's columns fast enough
to need no rollups: an analytics answer reads the columns its filters and group name, within the
``(brand_id, created_at)`` key range. A page of events finds its keys reading only the sort
columns, then reads those rows (``clicks.rows_by_key``).

A lead or a sale stored twice by two collectors at the same instant (``conversions.py``) would
count twice here; one collector never stores a twin.
"""

from __future__ import annotations

from typing import Any

from collector.query import clickhouse as compile_clickhouse
from collector.query import funnel_clickhouse
from collector.query.events import CLICK_EVENTS, CONVERSION_EVENTS
from collector.query.fields import Source
from collector.query.funnel import Funnel
from collector.query.model import Query

from ..model import Click, Conversion
from ..rows import text
from .clicks import clicks_by_key, rows_by_key
from .connection import ClickHouseBase
from .conversions import CONVERSION_ROWS, read_conversion

_CONVERSION_COLUMNS = ", ".join(f"`{name}`" for name in CONVERSION_ROWS.names)


def lenient(value: Any) -> Any:
    """A text column's bytes decoded leniently (as every row the API shows); others as they are."""
    return text(value) if isinstance(value, bytes) else value


class AnalyticsMixin(ClickHouseBase):
    """:class:`~collector.storage.base.AnalyticsStore` on ClickHouse."""

    def aggregate(
        self,
        brand_id: int,
        query: Query,
        sources: list[Source],
        order: int | None,
        limit: int | None,
    ) -> list[tuple[Any, ...]]:
        statement = compile_clickhouse.aggregate(query, brand_id, sources, order, limit)
        rows = self._text_rows(statement.sql, statement.params)
        return [tuple(map(lenient, row)) for row in rows]

    def page_clicks(
        self, brand_id: int, query: Query, descending: bool, limit: int, offset: int
    ) -> list[Click]:
        page = compile_clickhouse.page(query, brand_id, CLICK_EVENTS, descending, limit, offset)
        return clicks_by_key(self, brand_id, self._keys(page.sql, page.params))

    def page_conversions(
        self, brand_id: int, query: Query, descending: bool, limit: int, offset: int
    ) -> list[Conversion]:
        page = compile_clickhouse.page(
            query, brand_id, CONVERSION_EVENTS, descending, limit, offset
        )
        keys = self._keys(page.sql, page.params)
        rows = rows_by_key(self, "conversions", _CONVERSION_COLUMNS, brand_id, keys)
        return [read_conversion(row) for row in rows]

    def funnel(self, brand_id: int, funnel: Funnel) -> list[int]:
        statement = funnel_clickhouse.funnel(funnel, brand_id)
        return [int(n) for n in self._text_rows(statement.sql, statement.params)[0]]

    def _keys(self, sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        """(id, ms) of a page, ids decoded as every row the API shows."""
        return [(text(row[0]), int(row[1])) for row in self._text_rows(sql, params)]
