"""Compile a :class:`~collector.query.sessions.SessionQuery` to SQLite.

The sessions are a subquery: the page views matching the click query, grouped by session, with
the conditions on whole sessions as ``session_id IN (...)`` (replays, conversions, frustration
signals, click interactions) or ``HAVING`` (duration, pages). An entry or exit page uses
SQLite's rule for a bare column beside one ``min()`` or ``max()``: it comes from the row
holding that minimum.

Same names as :mod:`collector.query.sessions_clickhouse`.
"""

from __future__ import annotations

from typing import Any

from . import sessions
from .events import CLICK_EVENTS
from .sessions import Between, Edge, SessionQuery, SortKey
from .sqlite import Statement, _ref, bucket, where

_ORDER: dict[str, str] = {
    "startedAt": "s.started",
    "duration": "(s.ended - s.started)",
    "pageviews": "s.pages",
}


def summary(query: SessionQuery, brand_id: int) -> Statement:
    """One row: sessions, visitors, page views, bounces (one-page sessions), mean duration
    (ms, NULL without sessions)."""
    params: list[Any] = []
    rows = _sessions(query, brand_id, params)
    sql = (
        "SELECT count(*), count(DISTINCT visitor_id), coalesce(sum(pages), 0),"
        f" coalesce(sum(pages = 1), 0), avg(ended - started) FROM ({rows})"
    )
    return Statement(sql, params)


def series(query: SessionQuery, brand_id: int) -> Statement:
    """Per bucket of the click query (which has one): visitors, sessions and page views of the
    page views in it."""
    time_bucket = bucket(query.clicks, CLICK_EVENTS, "c")
    params: list[Any] = [*time_bucket.params]
    conditions = _page_view_conditions(query, brand_id, params)
    sql = (
        f"SELECT {time_bucket.parts[0]} AS bucket, count(DISTINCT c.visitor_id),"
        f" count(DISTINCT c.session_id), count(*) FROM clicks AS c WHERE {conditions}"
        " GROUP BY bucket ORDER BY bucket"
    )
    return Statement(sql, params)


def pages(query: SessionQuery, brand_id: int, edge: Edge, limit: int) -> Statement:
    """Entry (or exit) pages: url, sessions, visitors; the most sessions first."""
    params: list[Any] = []
    conditions = _page_view_conditions(query, brand_id, params)
    first_or_last = "min" if edge == "entry" else "max"
    per_session = (
        f"SELECT c.visitor_id AS visitor_id, c.url AS url, {first_or_last}(c.created_at)"
        f" FROM clicks AS c WHERE {conditions} GROUP BY c.session_id"
    )
    params.append(limit)
    sql = (
        "SELECT url, count(*) AS sessions, count(DISTINCT visitor_id) AS visitors"
        f" FROM ({per_session}) GROUP BY url ORDER BY sessions DESC, url LIMIT ?"
    )
    return Statement(sql, params)


def breakdown(query: SessionQuery, brand_id: int, keys: tuple[str, ...], limit: int) -> Statement:
    """Arrivals (page views not from the site's own pages) grouped by ``keys``: key0...,
    visitors, sessions, page views; the most visitors first."""
    params: list[Any] = []
    conditions = _page_view_conditions(query, brand_id, params)
    names = [f"key{i}" for i in range(len(keys))]
    selects = [
        f"{_ref(sessions.field(key), 'c')} AS {name}" for key, name in zip(keys, names, strict=True)
    ]
    params.append(limit)
    sql = (
        f"SELECT {', '.join(selects)}, count(DISTINCT c.visitor_id) AS visitors,"
        " count(DISTINCT c.session_id), count(*) FROM clicks AS c"
        f" WHERE {conditions} AND NOT {sessions.FROM_OWN_PAGE.format(alias='c.')}"
        f" GROUP BY {', '.join(names)} ORDER BY visitors DESC, {', '.join(names)} LIMIT ?"
    )
    return Statement(sql, params)


def listing(
    query: SessionQuery, brand_id: int, sort: SortKey, descending: bool, limit: int, offset: int
) -> Statement:
    """One page of sessions: session id, visitor id, pages, start, end (ms), the ids of the
    session's first and last page views (of the whole session, not only the matching ones),
    and the number of sessions matching (in every row: one pass counts and pages)."""
    params: list[Any] = []
    rows = _sessions(query, brand_id, params)
    direction = "DESC" if descending else "ASC"
    edge = (
        "(SELECT x.id FROM clicks AS x WHERE x.brand_id = ? AND x.session_id = s.session_id"
        " AND x.trigger = 'pageview' ORDER BY x.created_at {0}, x.id {0} LIMIT 1)"
    )
    order = f"ORDER BY {_ORDER[sort]} {direction}, s.session_id {direction}"
    # the page first, then its edges: the correlated lookups run for the page's rows only
    page = f"SELECT *, count(*) OVER () AS total FROM ({rows}) AS s {order} LIMIT ? OFFSET ?"
    sql = (
        f"SELECT s.session_id, s.visitor_id, s.pages, s.started, s.ended,"
        f" {edge.format('ASC')}, {edge.format('DESC')}, s.total FROM ({page}) AS s {order}"
    )
    return Statement(sql, [brand_id, brand_id, *params, limit, offset])


def total(query: SessionQuery, brand_id: int) -> Statement:
    """The number of sessions matching."""
    params: list[Any] = []
    return Statement(f"SELECT count(*) FROM ({_sessions(query, brand_id, params)})", params)


def _sessions(query: SessionQuery, brand_id: int, params: list[Any]) -> str:
    """Per session: session_id, visitor_id, pages, started, ended (ms)."""
    conditions = _page_view_conditions(query, brand_id, params, grouped=False)
    having = _having(query, params)
    return (
        "SELECT c.session_id AS session_id, min(c.visitor_id) AS visitor_id, count(*) AS pages,"
        " min(c.created_at) AS started, max(c.created_at) AS ended"
        f" FROM clicks AS c WHERE {conditions} GROUP BY c.session_id{having}"
    )


def _page_view_conditions(
    query: SessionQuery, brand_id: int, params: list[Any], grouped: bool = True
) -> str:
    """The page views of the matching sessions. ``grouped``: also the conditions on a session's
    own aggregates, as a subquery of those sessions (callers that group by session themselves
    put them in their ``HAVING``)."""
    clicks = where(query.page_views(), CLICK_EVENTS, "c", brand_id)
    params += [brand_id, *clicks.params]
    parts = ["c.brand_id = ?", *clicks.parts, *_whole_session(query, brand_id, params)]
    if grouped and query.grouped:
        inner = _sessions(query, brand_id, params)
        parts.append(f"c.session_id IN (SELECT session_id FROM ({inner}))")
    return " AND ".join(parts)


def _whole_session(query: SessionQuery, brand_id: int, params: list[Any]) -> list[str]:
    parts = []
    sources = (
        (query.has_replay, "SELECT session_id FROM replays WHERE brand_id = ?"),
        (query.has_conversion, "SELECT session_id FROM conversions WHERE brand_id = ?"),
    )
    for wanted, select in sources:
        if wanted is not None:
            parts.append(f"c.session_id {'' if wanted else 'NOT '}IN ({select})")
            params.append(brand_id)
    signals = ((query.with_signals, True), (query.without_signals, False))
    for types, wanted in signals:
        if types:
            marks = ", ".join("?" * len(types))
            select = f"SELECT session_id FROM events WHERE brand_id = ? AND type IN ({marks})"
            parts.append(f"c.session_id {'' if wanted else 'NOT '}IN ({select})")
            params += [brand_id, *types]
    if not query.interactions.open:
        parts.append(_interactions(query.interactions, brand_id, params))
    return parts


def _interactions(count: Between, brand_id: int, params: list[Any]) -> str:
    """Sessions with that many ``click`` events: those counted in the range, or, when the range
    takes 0, those not counted above it (a session without clicks has no events row)."""
    clicked = (
        "SELECT session_id FROM events WHERE brand_id = ? AND type = 'click'"
        " GROUP BY session_id HAVING "
    )
    params.append(brand_id)
    if count.minimum is not None and count.minimum > 0:
        bounds = ["count(*) >= ?"] + (["count(*) <= ?"] if count.maximum is not None else [])
        params += [count.minimum] + ([count.maximum] if count.maximum is not None else [])
        return f"c.session_id IN ({clicked}{' AND '.join(bounds)})"
    params.append(count.maximum)
    return f"c.session_id NOT IN ({clicked}count(*) > ?)"


def _having(query: SessionQuery, params: list[Any]) -> str:
    parts = []
    for expression, bounds in (("count(*)", query.pages), (_DURATION, query.duration_ms)):
        for operator, value in ((">=", bounds.minimum), ("<=", bounds.maximum)):
            if value is not None:
                parts.append(f"{expression} {operator} ?")
                params.append(value)
    return f" HAVING {' AND '.join(parts)}" if parts else ""


_DURATION = "(max(c.created_at) - min(c.created_at))"
