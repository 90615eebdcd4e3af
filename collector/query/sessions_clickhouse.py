"""Compile a :class:`~collector.query.sessions.SessionQuery` to ClickHouse.

The same statements as :mod:`collector.query.sessions_sqlite`, in ClickHouse's words: a page
view stored twice counts once (``uniqExact(id)``), entry and exit pages are ``argMin`` and
``argMax`` of the URL by time, and a session has a replay when its chunks or segments say so.
``{db}`` stands for the database, as in the store's own queries.
"""

from __future__ import annotations

from . import sessions
from .clickhouse import Statement, _Params, _ref, bucket, where
from .events import CLICK_EVENTS
from .sessions import Between, Edge, SessionQuery, SortKey

_ORDER: dict[str, str] = {
    "startedAt": "started",
    "duration": "(ended - started)",
    "pageviews": "pages",
}
_JOINED_ORDER: dict[str, str] = {
    "startedAt": "p.started",
    "duration": "(p.ended - p.started)",
    "pageviews": "p.pages",
}
_MS = "toUnixTimestamp64Milli(created_at)"


def summary(query: SessionQuery, brand_id: int) -> Statement:
    """One row: sessions, visitors, page views, bounces (one-page sessions), mean duration
    (ms, NULL without sessions)."""
    params = _Params("w")
    rows = _sessions(query, brand_id, params, "s")
    sql = (
        "SELECT count(), uniqExact(visitor_id), sum(pages), countIf(pages = 1),"
        f" if(count() = 0, NULL, avg(ended - started)) FROM ({rows})"
    )
    return Statement(sql, params.values)


def series(query: SessionQuery, brand_id: int) -> Statement:
    """Per bucket of the click query (which has one): visitors, sessions and page views of the
    page views in it."""
    time_bucket = bucket(query.clicks, CLICK_EVENTS, "b")
    params = _Params("w")
    conditions = _page_view_conditions(query, brand_id, params, "c")
    sql = (
        f"SELECT {time_bucket.parts[0]} AS bucket, uniqExact(visitor_id),"
        f" uniqExact(session_id), uniqExact(id) FROM {{db}}.clicks WHERE {conditions}"
        " GROUP BY bucket ORDER BY bucket"
    )
    return Statement(sql, {**time_bucket.params, **params.values})


def pages(query: SessionQuery, brand_id: int, edge: Edge, limit: int) -> Statement:
    """Entry (or exit) pages: url, sessions, visitors; the most sessions first."""
    params = _Params("w")
    conditions = _page_view_conditions(query, brand_id, params, "c")
    first_or_last = "argMin" if edge == "entry" else "argMax"
    per_session = (
        f"SELECT any(visitor_id) AS visitor_id, {first_or_last}(url, created_at) AS url"
        f" FROM {{db}}.clicks WHERE {conditions} GROUP BY session_id"
    )
    sql = (
        "SELECT url, count() AS sessions, uniqExact(visitor_id) AS visitors"
        f" FROM ({per_session}) GROUP BY url ORDER BY sessions DESC, url"
        f" LIMIT {params.bind(limit, 'UInt64')}"
    )
    return Statement(sql, params.values)


def breakdown(query: SessionQuery, brand_id: int, keys: tuple[str, ...], limit: int) -> Statement:
    """Arrivals (page views not from the site's own pages) grouped by ``keys``: key0...,
    visitors, sessions, page views; the most visitors first."""
    params = _Params("w")
    conditions = _page_view_conditions(query, brand_id, params, "c")
    names = [f"key{i}" for i in range(len(keys))]
    selects = [
        f"{_ref(sessions.field(key))} AS {name}" for key, name in zip(keys, names, strict=True)
    ]
    ordered = ", ".join(f"{name} NULLS FIRST" for name in names)
    sql = (
        f"SELECT {', '.join(selects)}, uniqExact(visitor_id) AS visitors,"
        f" uniqExact(session_id), uniqExact(id) FROM {{db}}.clicks"
        f" WHERE {conditions} AND NOT {sessions.FROM_OWN_PAGE.format(alias='')}"
        f" GROUP BY {', '.join(names)}"
        f" ORDER BY visitors DESC, {ordered} LIMIT {params.bind(limit, 'UInt64')}"
    )
    return Statement(sql, params.values)


def listing(
    query: SessionQuery, brand_id: int, sort: SortKey, descending: bool, limit: int, offset: int
) -> Statement:
    """One page of sessions: session id, visitor id, pages, start, end (ms), the ids of the
    session's first and last page views (of the whole session, not only the matching ones),
    and the number of sessions matching (in every row: one pass counts and pages)."""
    params = _Params("w")
    rows = _sessions(query, brand_id, params, "s")
    direction = "DESC" if descending else "ASC"
    page = (
        f"SELECT session_id, visitor_id, pages, started, ended, count() OVER () AS total"
        f" FROM ({rows})"
        f" ORDER BY {_ORDER[sort]} {direction}, session_id {direction}"
        f" LIMIT {params.bind(limit, 'UInt64')} OFFSET {params.bind(offset, 'UInt64')}"
    )
    brand = params.bind(brand_id, "UInt64")
    edges = (
        f"SELECT session_id, argMin(id, (created_at, id)) AS first_id,"
        f" argMax(id, (created_at, id)) AS last_id FROM {{db}}.clicks"
        f" WHERE brand_id = {brand} AND trigger = 'pageview'"
        f" AND session_id IN (SELECT session_id FROM page) GROUP BY session_id"
    )
    sql = (
        f"WITH page AS ({page}) SELECT p.session_id, p.visitor_id, p.pages, p.started,"
        f" p.ended, e.first_id, e.last_id, p.total FROM page AS p LEFT JOIN ({edges}) AS e"
        f" ON e.session_id = p.session_id"
        f" ORDER BY {_JOINED_ORDER[sort]} {direction}, p.session_id {direction}"
    )
    return Statement(sql, params.values)


def total(query: SessionQuery, brand_id: int) -> Statement:
    """The number of sessions matching."""
    params = _Params("w")
    return Statement(
        f"SELECT count() FROM ({_sessions(query, brand_id, params, 's')})", params.values
    )


def _sessions(query: SessionQuery, brand_id: int, params: _Params, prefix: str) -> str:
    """Per session: session_id, visitor_id, pages, started, ended (ms)."""
    conditions = _page_view_conditions(query, brand_id, params, prefix, grouped=False)
    having = _having(query, params)
    return (
        f"SELECT session_id, any(visitor_id) AS visitor_id, uniqExact(id) AS pages,"
        f" min({_MS}) AS started, max({_MS}) AS ended"
        f" FROM {{db}}.clicks WHERE {conditions} GROUP BY session_id{having}"
    )


def _page_view_conditions(
    query: SessionQuery, brand_id: int, params: _Params, prefix: str, grouped: bool = True
) -> str:
    """The page views of the matching sessions (see the SQLite module)."""
    clicks = where(query.page_views(), CLICK_EVENTS, f"{params.prefix}{prefix}", brand_id)
    params.values.update(clicks.params)
    brand = params.bind(brand_id, "UInt64")
    parts = [f"brand_id = {brand}", *clicks.parts, *_whole_session(query, brand, params)]
    if grouped and query.grouped:
        inner = _sessions(query, brand_id, params, prefix + "g")
        parts.append(f"session_id IN (SELECT session_id FROM ({inner}))")
    return " AND ".join(parts)


def _whole_session(query: SessionQuery, brand: str, params: _Params) -> list[str]:
    parts = []
    replays = (
        f"SELECT session_id FROM {{db}}.replay_chunks WHERE brand_id = {brand}"
        f" UNION DISTINCT SELECT session_id FROM {{db}}.replay_segments WHERE brand_id = {brand}"
    )
    conversions = f"SELECT session_id FROM {{db}}.conversions WHERE brand_id = {brand}"
    for wanted, select in ((query.has_replay, replays), (query.has_conversion, conversions)):
        if wanted is not None:
            parts.append(f"session_id {'' if wanted else 'NOT '}IN ({select})")
    for types, wanted in ((query.with_signals, True), (query.without_signals, False)):
        if types:
            kinds = params.bind(list(types), "Array(String)")
            select = (
                f"SELECT session_id FROM {{db}}.events WHERE brand_id = {brand} AND type IN {kinds}"
            )
            parts.append(f"session_id {'' if wanted else 'NOT '}IN ({select})")
    if not query.interactions.open:
        parts.append(_interactions(query.interactions, brand, params))
    return parts


def _interactions(count: Between, brand: str, params: _Params) -> str:
    """Sessions with that many ``click`` events (see the SQLite module)."""
    clicked = (
        f"SELECT session_id FROM {{db}}.events WHERE brand_id = {brand} AND type = 'click'"
        " GROUP BY session_id HAVING "
    )
    if count.minimum is not None and count.minimum > 0:
        bounds = [f"count() >= {params.bind(count.minimum, 'Int64')}"]
        if count.maximum is not None:
            bounds.append(f"count() <= {params.bind(count.maximum, 'Int64')}")
        return f"session_id IN ({clicked}{' AND '.join(bounds)})"
    return f"session_id NOT IN ({clicked}count() > {params.bind(count.maximum, 'Int64')})"


def _having(query: SessionQuery, params: _Params) -> str:
    parts = []
    for expression, bounds in (("uniqExact(id)", query.pages), (_DURATION, query.duration_ms)):
        for operator, value in ((">=", bounds.minimum), ("<=", bounds.maximum)):
            if value is not None:
                parts.append(f"{expression} {operator} {params.bind(value, 'Int64')}")
    return f" HAVING {' AND '.join(parts)}" if parts else ""


_DURATION = f"(max({_MS}) - min({_MS}))"
