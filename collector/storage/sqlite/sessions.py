"""SQLite: sessions, as the dashboard and the sessions API see them.

Every statement over page views comes from the query compiler
(``collector/query/sessions_sqlite.py``); this module runs them, and reads what a page of
sessions adds (conversions, click interactions and frustration signals, replays) by session
id, through the ``(brand_id, session_id, ...)`` indexes of ``conversions``, ``events`` and
``replays``.
"""

from __future__ import annotations

from typing import Any

from collector.query import sessions_sqlite as compile_sessions
from collector.query.sessions import COUNTED_EVENTS, Edge, SessionExtras, SessionQuery, SortKey

from ..rows import json_text
from .connection import SQLiteBase

_IN_SESSIONS = "session_id IN (SELECT value FROM json_each(?))"
_COUNTED = json_text(COUNTED_EVENTS)


class SessionsMixin(SQLiteBase):
    """:class:`~collector.storage.base.SessionStore` on SQLite."""

    def session_summary(self, brand_id: int, query: SessionQuery) -> tuple[Any, ...]:
        statement = compile_sessions.summary(query, brand_id)
        return tuple(self._all(statement.sql, statement.params)[0])

    def session_series(self, brand_id: int, query: SessionQuery) -> list[tuple[Any, ...]]:
        statement = compile_sessions.series(query, brand_id)
        return [tuple(row) for row in self._all(statement.sql, statement.params)]

    def session_pages(
        self, brand_id: int, query: SessionQuery, edge: Edge, limit: int
    ) -> list[tuple[Any, ...]]:
        statement = compile_sessions.pages(query, brand_id, edge, limit)
        return [tuple(row) for row in self._all(statement.sql, statement.params)]

    def session_breakdown(
        self, brand_id: int, query: SessionQuery, keys: tuple[str, ...], limit: int
    ) -> list[tuple[Any, ...]]:
        statement = compile_sessions.breakdown(query, brand_id, keys, limit)
        return [tuple(row) for row in self._all(statement.sql, statement.params)]

    def session_list(
        self,
        brand_id: int,
        query: SessionQuery,
        sort: SortKey,
        page: tuple[bool, int, int],
    ) -> tuple[int, list[tuple[Any, ...]]]:
        listing = compile_sessions.listing(query, brand_id, sort, *page)
        rows = [tuple(row) for row in self._all(listing.sql, listing.params)]
        if rows:
            return int(rows[0][-1]), [row[:-1] for row in rows]
        if page[2] == 0:  # the first page is empty: nothing matches
            return 0, []
        total = compile_sessions.total(query, brand_id)
        return int(self._all(total.sql, total.params)[0][0]), []

    def session_extras(self, brand_id: int, session_ids: list[str]) -> dict[str, SessionExtras]:
        found = {session_id: SessionExtras() for session_id in session_ids}
        if not session_ids:
            return found
        ids = json_text(session_ids)
        for session_id, leads, sales, amount in self._all(
            "SELECT session_id, sum(kind = 'lead'), sum(kind = 'sale'),"
            " coalesce(sum(CASE WHEN kind = 'sale' THEN amount END), 0)"
            f" FROM conversions WHERE brand_id = ? AND {_IN_SESSIONS} GROUP BY session_id",
            (brand_id, ids),
        ):
            extras = found[session_id]
            extras.leads, extras.sales, extras.sale_amount = int(leads), int(sales), int(amount)
        for session_id, kind, count in self._all(
            "SELECT session_id, type, count(*) FROM events WHERE brand_id = ?"
            f" AND type IN (SELECT value FROM json_each(?)) AND {_IN_SESSIONS}"
            " GROUP BY session_id, type",
            (brand_id, _COUNTED, ids),
        ):
            found[session_id].count(kind, int(count))
        for session_id, replay_id in self._all(
            f"SELECT session_id, id FROM replays WHERE brand_id = ? AND {_IN_SESSIONS}"
            " ORDER BY started_at, id",
            (brand_id, ids),
        ):
            found[session_id].replay_ids.append(replay_id)
        return found
