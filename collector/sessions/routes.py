"""Sessions API: ``GET /api/brands/{brand}/sessions`` and ``.../sessions/analytics``."""

from __future__ import annotations

from typing import Any

import anyio
from starlette.requests import Request

from collector.analytics import service as analytics
from collector.analytics.routes import page_links, request_filters
from collector.http.auth import authorize
from collector.http.body import query_struct
from collector.http.params import JSON
from collector.http.routing import Endpoint, Example, Reply, routes_of
from collector.http.schema import BrandPath
from collector.http.state import runtime
from collector.query.model import QueryError

from . import examples, service
from .schema import (
    SessionAnalyticsQuery,
    SessionAnalyticsRow,
    SessionRow,
    SessionsQuery,
    SessionTotals,
)


def _analytics(request: Request, brand: int, query: SessionAnalyticsQuery) -> Any:
    chosen, window = request_filters(request, query)
    store = runtime(request).store
    if query.groupBy == "timeseries":
        return service.timeseries(store, brand, chosen, window, query.granularity)
    sessions = service.session_query(chosen, window)
    if query.groupBy == "count":
        return service.totals(store, brand, sessions)
    if query.groupBy in ("entry_pages", "exit_pages"):
        return service.edge_pages(store, brand, sessions, query.groupBy, query.limit)
    return service.referers(store, brand, sessions, query.groupBy, query.limit)


async def session_analytics(request: Request) -> JSON:
    brand = authorize(request)
    query = query_struct(request, SessionAnalyticsQuery)
    try:
        found = await anyio.to_thread.run_sync(_analytics, request, brand, query)
    except QueryError as error:
        raise analytics.api_error(error) from None
    return JSON(found)


def _listing(request: Request, brand: int, query: SessionsQuery) -> Any:
    chosen, window = request_filters(request, query)
    signals = service.signal_types(request.query_params)
    sessions = service.listed(chosen, window, query, signals)
    page = (query.sortOrder == "desc", query.limit, (query.page - 1) * query.limit)
    return service.listing(runtime(request).store, brand, sessions, query.sortBy, page)


async def list_sessions(request: Request) -> JSON:
    brand = authorize(request)
    query = query_struct(request, SessionsQuery)
    try:
        total, rows = await anyio.to_thread.run_sync(_listing, request, brand, query)
    except QueryError as error:
        raise analytics.api_error(error) from None
    last = max(1, -(-total // query.limit))
    headers = {"X-Total-Count": str(total), "Link": page_links(request, query.page, last)}
    return JSON(rows, headers=headers)


_AREA = "Sessions"
endpoints = [
    Endpoint(
        "GET",
        "/api/brands/{brand}/sessions",
        list_sessions,
        summary="List sessions with their pages, source, conversions and replays",
        area=_AREA,
        auth="read",
        description="A session is made of its page views that match the filters: it starts at "
        "the first and ends at the last. Besides every filter of `analytics`, whole sessions "
        "filter by replay, conversion, frustration signal (`signal`), duration, pages and "
        "clicks. `X-Total-Count` gives the sessions matching, `Link` the first, previous, next "
        "and last pages.",
        path_params=BrandPath,
        query=SessionsQuery,
        replies=(Reply(200, "One page of sessions", list[SessionRow], example=[examples.SESSION]),),
        errors=(401, 403, 404, 422),
        example=Example(
            path={"brand": examples.BRAND_ID}, query={"interval": "7d", "hasReplay": True}
        ),
    ),
    Endpoint(
        "GET",
        "/api/brands/{brand}/sessions/analytics",
        session_analytics,
        summary="Count visitors, sessions and page views: totals, a time series or a breakdown",
        area=_AREA,
        auth="read",
        description="`groupBy=count`: visitors, sessions, page views, bounce rate and mean "
        "visit duration; `timeseries`: visitors, sessions and page views per bucket (every "
        "bucket, empty ones as zeros); `entry_pages` / `exit_pages`: sessions by the URL of "
        "their first / last page view; `referers` / `referer_types`: page views by referrer "
        "and its class. Every filter and time parameter of `analytics` applies.",
        path_params=BrandPath,
        query=SessionAnalyticsQuery,
        replies=(
            Reply(
                200,
                "Totals, buckets or rows",
                SessionTotals | list[SessionAnalyticsRow],
                example=examples.TOTALS,
            ),
        ),
        errors=(401, 403, 404, 422),
        example=Example(path={"brand": examples.BRAND_ID}, query={"interval": "30d"}),
    ),
]
routes = routes_of(endpoints)
