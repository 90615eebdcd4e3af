"""Sessions answers: the request's filters and window as a compiler
:class:`~collector.query.sessions.SessionQuery`, the store's rows as the API's structs."""

from __future__ import annotations

from typing import Any

import msgspec
from starlette.datastructures import QueryParams

from collector.analytics.filters import Selection, split_values
from collector.analytics.service import api_error, default_granularity, first_event
from collector.analytics.timerange import Window
from collector.errors import Invalid
from collector.http.params import iso
from collector.query import buckets
from collector.query.model import BucketUnit, Query, QueryError, TimeRange
from collector.query.sessions import (
    SIGNAL_TYPES,
    Between,
    Edge,
    SessionExtras,
    SessionQuery,
    SortKey,
    check_breakdown,
)
from collector.storage.base import Click, Store

from .schema import (
    PageRow,
    RefererRow,
    RefererTypeRow,
    SessionBucket,
    SessionRow,
    SessionsQuery,
    SessionTotals,
    Signals,
)


def session_query(selection: Selection, window: Window, **whole: Any) -> SessionQuery:
    clicks = Query(
        filters=selection.for_clicks(),
        time_range=TimeRange(window.start, window.end),
        time_zone=window.zone,
    )
    return SessionQuery(clicks=clicks, **whole)


def signal_types(params: QueryParams) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The event types of every ``signal`` parameter: (any of them, none of them), in the
    filters' syntax (``rage,dead``, ``-error``); an unknown kind is :class:`Invalid`."""
    chosen: tuple[set[str], set[str]] = (set(), set())
    for raw in params.getlist("signal"):
        if raw == "":  # a blank form field: no filter
            continue
        excluded, kinds = split_values(raw, "signal")
        for kind in kinds:
            if kind not in SIGNAL_TYPES:
                raise Invalid(
                    f"`signal` {kind[:20]!r} is no signal; it takes {', '.join(SIGNAL_TYPES)}"
                    " (`rage,dead`: any of them, `-rage`: none)",
                    param="signal",
                )
            chosen[excluded].add(SIGNAL_TYPES[kind])
    return tuple(sorted(chosen[False])), tuple(sorted(chosen[True]))


def listed(
    selection: Selection,
    window: Window,
    query: SessionsQuery,
    signals: tuple[tuple[str, ...], tuple[str, ...]] = ((), ()),
) -> SessionQuery:
    """The list's conditions on whole sessions (seconds as ms; a minimum of 0 is no minimum);
    ``signals``: :func:`signal_types`."""

    def between(low: int | None, high: int | None, scale: int = 1) -> Between:
        return Between(low * scale if low else None, high * scale if high is not None else None)

    return session_query(
        selection,
        window,
        has_replay=query.hasReplay,
        has_conversion=query.hasConversion,
        with_signals=signals[0],
        without_signals=signals[1],
        duration_ms=between(query.minDuration, query.maxDuration, 1000),
        pages=between(query.minPages, query.maxPages),
        interactions=between(query.minClicks, query.maxClicks),
    )


def totals(store: Store, brand_id: int, query: SessionQuery) -> SessionTotals:
    sessions, visitors, pageviews, bounces, duration_ms = store.session_summary(brand_id, query)
    return SessionTotals(
        visitors=int(visitors),
        sessions=int(sessions),
        pageviews=int(pageviews or 0),
        bounceRate=round(bounces / sessions, 4) if sessions else None,
        visitDuration=round(float(duration_ms) / 1000, 1)
        if sessions and duration_ms is not None
        else None,
    )


def timeseries(
    store: Store,
    brand_id: int,
    selection: Selection,
    window: Window,
    granularity: BucketUnit | None,
) -> list[SessionBucket]:
    """Every bucket of the range, empty ones as zeros (as the analytics time series)."""
    start = window.start
    if start is None:
        start = first_event(store, brand_id, selection, window)
    if start is None:
        return []
    window = msgspec.structs.replace(window, start=start)
    unit = granularity or default_granularity(start, window.end)
    try:
        buckets.check_range(start, window.end, unit)
    except QueryError as error:
        raise api_error(error) from None
    query = session_query(selection, window)
    query = msgspec.structs.replace(
        query, clicks=msgspec.structs.replace(query.clicks, bucket=unit)
    )
    found = {
        int(row[0]): row[1:] for row in store.session_series(brand_id, query) if row[0] is not None
    }
    edges = buckets.edges(start, window.end, unit, buckets.zone(window.zone))
    return [_bucket(edge, found.get(edge, (0, 0, 0))) for edge in edges]


def _bucket(edge: int, row: tuple[Any, ...]) -> SessionBucket:
    visitors, sessions, pageviews = (int(value) for value in row)
    return SessionBucket(start=iso(edge), visitors=visitors, sessions=sessions, pageviews=pageviews)


def edge_pages(
    store: Store, brand_id: int, query: SessionQuery, group: str, limit: int
) -> list[PageRow]:
    edge: Edge = "entry" if group == "entry_pages" else "exit"
    return [
        PageRow(url=url, sessions=int(sessions), visitors=int(visitors))
        for url, sessions, visitors in store.session_pages(brand_id, query, edge, limit)
    ]


def referers(
    store: Store, brand_id: int, query: SessionQuery, group: str, limit: int
) -> list[RefererRow] | list[RefererTypeRow]:
    keys = check_breakdown(group)
    rows = store.session_breakdown(brand_id, query, keys, limit)
    counts = [dict(zip(_COUNTS, (int(v) for v in row[-3:]), strict=True)) for row in rows]
    if group == "referer_types":
        return [
            RefererTypeRow(refererType=row[0] or "direct", **n)
            for row, n in zip(rows, counts, strict=True)
        ]
    return [
        RefererRow(referer=row[0], refererType=row[1] or "direct", **n)
        for row, n in zip(rows, counts, strict=True)
    ]


_COUNTS = ("visitors", "sessions", "pageviews")


def listing(
    store: Store, brand_id: int, query: SessionQuery, sort: SortKey, page: tuple[bool, int, int]
) -> tuple[int, list[SessionRow]]:
    """(sessions matching, one page of them)."""
    total, rows = store.session_list(brand_id, query, sort, page)
    if not rows:
        return total, []
    edges = [click_id for row in rows for click_id in row[5:7] if click_id]
    clicks = store.clicks_by_id(brand_id, edges)
    extras = store.session_extras(brand_id, [row[0] for row in rows])
    return total, [_session_row(row, clicks, extras[row[0]]) for row in rows]


# A listed session's facts: those of its first page view (the API's name: the click's field).
_FIRST_FACTS = {
    "entryPage": "url",
    "country": "country",
    "city": "city",
    "device": "device_type",
    "browser": "browser",
    "os": "os",
    "referer": "referrer_host",
    "refererType": "referrer_type",
    "utm_source": "utm_source",
    "utm_medium": "utm_medium",
    "utm_campaign": "utm_campaign",
    "linkId": "link_id",
}


def _session_row(
    row: tuple[Any, ...], clicks: dict[str, Click], extras: SessionExtras
) -> SessionRow:
    session_id, visitor_id, pages, started, ended, first_id, last_id = row
    first, last = clicks.get(first_id or ""), clicks.get(last_id or "")
    facts = {key: getattr(first, name) if first else None for key, name in _FIRST_FACTS.items()}
    return SessionRow(
        sessionId=session_id,
        visitorId=visitor_id,
        startedAt=iso(int(started)),
        endedAt=iso(int(ended)),
        duration=(int(ended) - int(started)) // 1000,
        pageviews=int(pages),
        clicks=extras.interactions,
        signals=Signals(**extras.signals),
        exitPage=last.url if last else None,
        leads=extras.leads,
        sales=extras.sales,
        saleAmount=extras.sale_amount,
        replayIds=extras.replay_ids,
        bot=bool(first and first.is_bot),
        **facts,
    )
