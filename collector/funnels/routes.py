"""Funnels API: ``GET /api/brands/{brand}/funnel``."""

from __future__ import annotations

import time

import anyio
from starlette.requests import Request

from collector.analytics import service as analytics
from collector.analytics import timerange
from collector.analytics.filters import selection
from collector.http.auth import authorize
from collector.http.body import query_struct
from collector.http.params import JSON
from collector.http.routing import Endpoint, Example, Reply, routes_of
from collector.http.schema import BrandPath
from collector.http.state import runtime
from collector.query.model import QueryError

from . import examples, service
from .schema import FunnelAnswer, FunnelQuery


async def funnel(request: Request) -> JSON:
    brand = authorize(request)
    query = query_struct(request, FunnelQuery)
    window = timerange.window(query, time.time_ns() // 1_000_000)
    chosen = selection(request.query_params, query)
    steps = request.query_params.getlist("step")
    store = runtime(request).store
    try:
        found = await anyio.to_thread.run_sync(service.funnel, store, brand, steps, chosen, window)
    except QueryError as error:
        raise analytics.api_error(error) from None
    return JSON(found)


endpoints = [
    Endpoint(
        "GET",
        "/api/brands/{brand}/funnel",
        funnel,
        summary="A funnel: the visitors who took the steps in order, with conversion and drop-off",
        area="Events and analytics",
        auth="read",
        description="A visitor reaches step 1 with their first matching row in the range, and "
        "each next step with a matching row at or after the time they reached the one before "
        "(still in the range). `conversionRate` is a step's visitors over step 1's, `dropOff` "
        "the share of the previous step's visitors lost. The filters narrow every step: page "
        "views and short-link clicks by their own facts, leads and sales by their click's, "
        "custom events by the click they happened in. Bots are left out unless `bots` says.",
        path_params=BrandPath,
        query=FunnelQuery,
        replies=(
            Reply(
                200, "The visitors of each step, in order", FunnelAnswer, example=examples.FUNNEL
            ),
        ),
        errors=(401, 403, 404, 422),
        example=Example(
            path={"brand": examples.BRAND_ID},
            query={"step": examples.STEPS[0], "interval": "30d"},
        ),
    ),
]
routes = routes_of(endpoints)
