"""Heatmaps API: ``GET /api/brands/{brand}/heatmaps/clicks``, ``.../scroll``, ``.../snapshot``
and ``.../pages``."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import anyio
import msgspec
from starlette.requests import Request

from collector.http.auth import authorize
from collector.http.body import query_struct
from collector.http.params import JSON
from collector.http.routing import Endpoint, Example, Reply, routes_of
from collector.http.schema import BrandPath
from collector.http.state import runtime

from . import examples, service
from .schema import ClickMap, PageQuery, Pages, PageTime, ScrollMap, Snapshot, SnapshotQuery

AREA = "Heatmaps"
ERRORS = (401, 403, 404, 422)


def _now() -> int:
    return time.time_ns() // 1_000_000


async def _answer(
    request: Request, query_type: type[msgspec.Struct], answer: Callable[..., Any], *more: Any
) -> JSON:
    """``answer(store, brand, query, *more)`` in a worker thread, once the key may read."""
    brand = authorize(request)
    query = query_struct(request, query_type)
    store = runtime(request).store
    return JSON(await anyio.to_thread.run_sync(answer, store, brand, query, *more))


async def clicks(request: Request) -> JSON:
    return await _answer(
        request,
        PageQuery,
        lambda store, brand, query: service.click_map(store, brand, query, _now()),
    )


async def scroll(request: Request) -> JSON:
    return await _answer(
        request,
        PageQuery,
        lambda store, brand, query: service.scroll_map(store, brand, query, _now()),
    )


async def snapshot(request: Request) -> JSON:
    return await _answer(request, SnapshotQuery, service.snapshot)


async def pages(request: Request) -> JSON:
    return await _answer(request, PageTime, service.pages, _now())


_PAGE = Example(path={"brand": examples.BRAND_ID}, query={"url": examples.URL, "interval": "30d"})

endpoints = [
    Endpoint(
        "GET",
        "/api/brands/{brand}/heatmaps/clicks",
        clicks,
        summary="A page's click map: its clicked elements by selector, with frustration signals",
        area=AREA,
        auth="read",
        description="Clicks of the page sessions that started in the range, on the page "
        "(`url` without query string and fragment), counted by the clicked element's selector, "
        "so the map survives layout changes; rage, dead and error clicks by theirs. The most "
        f"clicked first, at most {service.MAX_SELECTORS}. `pageViews`: page views of the page.",
        path_params=BrandPath,
        query=PageQuery,
        replies=(Reply(200, "The page's clicked elements", ClickMap, example=examples.CLICK_MAP),),
        errors=ERRORS,
        example=_PAGE,
    ),
    Endpoint(
        "GET",
        "/api/brands/{brand}/heatmaps/scroll",
        scroll,
        summary="A page's scroll depth: the share of page views that reached each tenth",
        area=AREA,
        auth="read",
        description="Each page view's deepest scroll depth on the page (the tracker's t/x.js "
        "sends it when the page is hidden or left). `pageViews` counts the page views "
        "measured; those without a scroll depth are left out of the shares.",
        path_params=BrandPath,
        query=PageQuery,
        replies=(
            Reply(200, "Page views by depth reached", ScrollMap, example=examples.SCROLL_MAP),
        ),
        errors=ERRORS,
        example=_PAGE,
    ),
    Endpoint(
        "GET",
        "/api/brands/{brand}/heatmaps/snapshot",
        snapshot,
        summary="The stored replay of a page to draw its maps over",
        area=AREA,
        auth="read",
        description="The newest replay of the page recorded at a viewport width of the same "
        "class as `width` (under 768 px phone, under 1200 tablet, else desktop), else the "
        "newest replay of the page. 404 when the page has no replay yet.",
        path_params=BrandPath,
        query=SnapshotQuery,
        replies=(Reply(200, "The replay to draw over", Snapshot, example=examples.SNAPSHOT),),
        errors=ERRORS,
        example=Example(
            path={"brand": examples.BRAND_ID}, query={"url": examples.URL, "width": 1280}
        ),
    ),
    Endpoint(
        "GET",
        "/api/brands/{brand}/heatmaps/pages",
        pages,
        summary="The pages with the most page views, with their clicks and replays",
        area=AREA,
        auth="read",
        description="Pages (URLs without query string and fragment) of the page sessions that "
        f"started in the range, the most page views first, at most {service.MAX_PAGES}.",
        path_params=BrandPath,
        query=PageTime,
        replies=(Reply(200, "The pages", Pages, example=examples.PAGES),),
        errors=ERRORS,
        example=Example(path={"brand": examples.BRAND_ID}, query={"interval": "30d"}),
    ),
]
routes = routes_of(endpoints)
