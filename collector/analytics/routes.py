"""Events and analytics API (seed 02): ``GET /api/brands/{brand}/events`` and ``.../analytics``."""

from __future__ import annotations

import time
from typing import Any

import anyio
from starlette.requests import Request

from collector.http.auth import authorize
from collector.http.body import query_struct
from collector.http.params import JSON
from collector.http.routing import Endpoint, Example, Reply, routes_of
from collector.http.schema import BrandPath
from collector.http.state import runtime
from collector.query.model import QueryError

from . import examples, service, timerange
from .filters import Selection, selection
from .schema import (
    AnalyticsQuery,
    AnalyticsRow,
    ClickEvent,
    EventsQuery,
    Filters,
    LeadEvent,
    SaleEvent,
    Totals,
)


def _now() -> int:
    return time.time_ns() // 1_000_000


def request_filters(request: Request, query: Filters) -> tuple[Selection, timerange.Window]:
    window = timerange.window(query, _now())
    return selection(request.query_params, query), window


def page_links(request: Request, page: int, last: int) -> str:
    """The ``Link`` header: first, prev, next and last pages, as RFC 8288 says."""
    pages = [("first", 1), ("prev", page - 1), ("next", page + 1), ("last", last)]
    return ", ".join(
        f'<{request.url.include_query_params(page=number)}>; rel="{rel}"'
        for rel, number in pages
        if 1 <= number <= last and (rel in ("first", "last") or number != page)
    )


async def list_events(request: Request) -> JSON:
    brand = authorize(request)
    query = query_struct(request, EventsQuery)
    chosen, window = request_filters(request, query)
    page = (query.sortOrder == "desc", query.limit, (query.page - 1) * query.limit)
    store = runtime(request).store
    try:
        total, rows = await anyio.to_thread.run_sync(
            service.events_page, store, brand, query.event, chosen, window, page
        )
    except QueryError as error:
        raise service.api_error(error) from None
    last = max(1, -(-total // query.limit))
    headers = {"X-Total-Count": str(total), "Link": page_links(request, query.page, last)}
    return JSON(rows, headers=headers)


def _analytics(request: Request, brand: int, query: AnalyticsQuery) -> Any:
    chosen, window = request_filters(request, query)
    store = runtime(request).store
    if query.groupBy == "count":
        return service.totals(store, brand, chosen, window)
    if query.groupBy == "timeseries":
        return service.timeseries(store, brand, chosen, window, query.granularity)
    order = service.ORDER[query.event]
    return service.breakdown(store, brand, chosen, window, query.groupBy, order, query.limit)


async def analytics(request: Request) -> JSON:
    brand = authorize(request)
    query = query_struct(request, AnalyticsQuery)
    try:
        found = await anyio.to_thread.run_sync(_analytics, request, brand, query)
    except QueryError as error:
        raise service.api_error(error) from None
    return JSON(found)


endpoints = [
    Endpoint(
        "GET",
        "/api/brands/{brand}/events",
        list_events,
        summary="List clicks, leads or sales, newest first",
        area="Events and analytics",
        auth="read",
        description="Filters combine (every one must hold). `X-Total-Count` gives the events "
        "matching, `Link` the first, previous, next and last pages.",
        path_params=BrandPath,
        query=EventsQuery,
        replies=(
            Reply(
                200,
                "One page of events",
                list[ClickEvent | LeadEvent | SaleEvent],
                example=examples.EVENTS,
            ),
        ),
        errors=(401, 403, 404, 422),
        example=Example(
            path={"brand": examples.BRAND_ID}, query={"interval": "7d", "country": "GB"}
        ),
    ),
    Endpoint(
        "GET",
        "/api/brands/{brand}/analytics",
        analytics,
        summary="Count clicks, leads, sales and revenue: totals, a time series or a breakdown",
        area="Events and analytics",
        auth="read",
        description="`groupBy=count` answers one object; `timeseries` a list of buckets; any "
        "other groupBy a list of rows keyed by that dimension (`countries`: `country`, "
        "`cities`: `city` and `country`, `top_links`: `linkId`, `domain`, `key`, `shortLink`, "
        "`url`; the utm ones by `utm_source`...), largest first.",
        path_params=BrandPath,
        query=AnalyticsQuery,
        replies=(
            Reply(
                200,
                "Totals, buckets or rows",
                Totals | list[AnalyticsRow],
                example=examples.TOTALS,
            ),
        ),
        errors=(401, 403, 404, 422),
        example=Example(path={"brand": examples.BRAND_ID}, query={"groupBy": "countries"}),
    ),
]
routes = routes_of(endpoints)
