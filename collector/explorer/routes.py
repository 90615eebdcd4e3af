"""Explorer API (seed 03): ``POST /api/brands/{brand}/explorer/visitor`` and ``.../hit``."""

from __future__ import annotations

import anyio
import msgspec
from starlette.requests import Request

from collector.http.auth import authorize
from collector.http.body import decode_body
from collector.http.params import JSON
from collector.http.routing import Endpoint, Example, Reply, routes_of
from collector.http.schema import BrandPath
from collector.http.state import runtime

from . import examples, service
from .schema import (
    ExplorerHitRequest,
    ExplorerHitResponse,
    ExplorerVisitorRequest,
    ExplorerVisitorResponse,
)

MAX_BODY = 4_096
_visitor = msgspec.json.Decoder(ExplorerVisitorRequest)
_hit = msgspec.json.Decoder(ExplorerHitRequest)


async def visitor(request: Request) -> JSON:
    brand = authorize(request, "read")
    body: ExplorerVisitorRequest = await decode_body(request, _visitor, "visitor look-up", MAX_BODY)
    store = runtime(request).store
    return JSON(await anyio.to_thread.run_sync(service.visitor, store, brand, body))


async def hit(request: Request) -> JSON:
    brand = authorize(request, "read")
    body: ExplorerHitRequest = await decode_body(request, _hit, "hit look-up", MAX_BODY)
    store = runtime(request).store
    return JSON(await anyio.to_thread.run_sync(service.hit, store, brand, body))


_AREA = "Explorer"
_PATH = {"brand": examples.BRAND_ID}
endpoints = [
    Endpoint(
        "POST",
        "/api/brands/{brand}/explorer/visitor",
        visitor,
        summary="Look up a visitor: who they are and their hits, newest first",
        area=_AREA,
        auth="read",
        description="By `visitorId` with `timeStart` and `timeEnd` (RFC 3339; 422 without "
        "them), or by `hitId` (the visitor of that hit; the range is then optional). `visitor` "
        "is the visitor as their first hit in the range shows them; `hits` one page of their "
        "hits (page views and short-link redirects), newest first. While `hasMore`, send "
        "`nextCursor` back as `cursor` for the next page: no hit is skipped or repeated. "
        "Every key of FunnelFlux's answer is present; those Clicktrail has no fact for are "
        "null (docs/API.md, Visitor and hit explorer).",
        path_params=BrandPath,
        body=ExplorerVisitorRequest,
        replies=(
            Reply(
                200,
                "The visitor and a page of hits",
                ExplorerVisitorResponse,
                example=examples.VISITOR,
            ),
        ),
        errors=(400, 401, 403, 404, 413, 422),
        example=Example(path=_PATH, body=examples.VISITOR_REQUEST),
    ),
    Endpoint(
        "POST",
        "/api/brands/{brand}/explorer/hit",
        hit,
        summary="Look up a hit: the hit and every lead, sale and custom event of it",
        area=_AREA,
        auth="read",
        description="`events` holds the hit, then the leads and sales attributed to it and "
        "the custom events (`clicktrail.track`) sent from its page, by `eventTime` (the hit "
        "first on a tie), each with the hit's device, place, network and tracking facts. "
        "`timeStart` is accepted (and checked) as FunnelFlux's hint; Clicktrail does not need it.",
        path_params=BrandPath,
        body=ExplorerHitRequest,
        replies=(Reply(200, "The hit's events", ExplorerHitResponse, example=examples.HIT),),
        errors=(400, 401, 403, 404, 413, 422),
        example=Example(path=_PATH, body=examples.HIT_REQUEST),
    ),
]
routes = routes_of(endpoints)
