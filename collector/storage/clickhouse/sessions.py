"""ClickHouse: sessions, as the dashboard and the sessions API see them.

Every statement over page views comes from the query compiler
(``collector/query/sessions_clickhouse.py``); this module runs them, and reads what a page of
sessions adds (conversions, click interactions and frustration signals, replays) for the
page's session ids: three small statements, whatever the number of sessions.
"""

from __future__ import annotations

from typing import Any

from collector.query import sessions_clickhouse as compile_sessions
from collector.query.sessions import COUNTED_EVENTS, Edge, SessionExtras, SessionQuery, SortKey

from .analytics import lenient
from .connection import ClickHouseBase

_IN_SESSIONS = "brand_id = {brand:UInt64} AND session_id IN {ids:Array(String)}"


class SessionsMixin(ClickHouseBase):
    """:class:`~collector.storage.base.SessionStore` on ClickHouse."""

    def _compiled(self, statement: Any) -> list[tuple[Any, ...]]:
        return self._compiled_sql(statement.sql, statement.params)

    def session_summary(self, brand_id: int, query: SessionQuery) -> tuple[Any, ...]:
        return self._compiled(compile_sessions.summary(query, brand_id))[0]

    def session_series(self, brand_id: int, query: SessionQuery) -> list[tuple[Any, ...]]:
        return self._compiled(compile_sessions.series(query, brand_id))

    def session_pages(
        self, brand_id: int, query: SessionQuery, edge: Edge, limit: int
    ) -> list[tuple[Any, ...]]:
        return self._compiled(compile_sessions.pages(query, brand_id, edge, limit))

    def session_breakdown(
        self, brand_id: int, query: SessionQuery, keys: tuple[str, ...], limit: int
    ) -> list[tuple[Any, ...]]:
        return self._compiled(compile_sessions.breakdown(query, brand_id, keys, limit))

    def session_list(
        self,
        brand_id: int,
        query: SessionQuery,
        sort: SortKey,
        page: tuple[bool, int, int],
    ) -> tuple[int, list[tuple[Any, ...]]]:
        rows = self._compiled(compile_sessions.listing(query, brand_id, sort, *page))
        if rows:
            return int(rows[0][-1]), [row[:-1] for row in rows]
        if page[2] == 0:  # the first page is empty: nothing matches
            return 0, []
        return int(self._compiled(compile_sessions.total(query, brand_id))[0][0]), []

    def session_extras(self, brand_id: int, session_ids: list[str]) -> dict[str, SessionExtras]:
        found = {session_id: SessionExtras() for session_id in session_ids}
        if not session_ids:
            return found
        params = {"brand": brand_id, "ids": session_ids}
        for session_id, leads, sales, amount in self._compiled_sql(
            "SELECT session_id, countIf(kind = 'lead'), countIf(kind = 'sale'),"
            " sumIf(ifNull(amount, 0), kind = 'sale') FROM"
            f" (SELECT * FROM {{db}}.conversions WHERE {_IN_SESSIONS} LIMIT 1 BY id)"
            " GROUP BY session_id",
            params,
        ):
            extras = found[session_id]
            extras.leads, extras.sales, extras.sale_amount = int(leads), int(sales), int(amount)
        for session_id, kind, count in self._compiled_sql(
            f"SELECT session_id, type, count() FROM {{db}}.events WHERE {_IN_SESSIONS}"
            " AND type IN {counted:Array(String)} GROUP BY session_id, type",
            {**params, "counted": list(COUNTED_EVENTS)},
        ):
            found[session_id].count(kind, int(count))
        for session_id, replay_id in self._compiled_sql(
            "SELECT session_id, replay_id FROM ("
            " SELECT session_id, replay_id, first_ts FROM {db}.replay_chunks"
            f" WHERE {_IN_SESSIONS}"
            " UNION ALL SELECT session_id, replay_id, first_ts FROM {db}.replay_segments"
            f" WHERE {_IN_SESSIONS}) GROUP BY session_id, replay_id"
            " ORDER BY min(first_ts), replay_id",
            params,
        ):
            found[session_id].replay_ids.append(replay_id)
        return found

    def _compiled_sql(self, sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        return [tuple(map(lenient, row)) for row in self._text_rows(sql, params)]
