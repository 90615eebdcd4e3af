"""Clickstream webhooks API (issue 13, seed 05): destinations, their delivery log, replays."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import anyio
import msgspec
from starlette.requests import Request
from starlette.responses import Response

from collector.analytics.routes import page_links
from collector.errors import Conflict, Invalid, NotFound
from collector.http.auth import authorize
from collector.http.body import decode_body, query_struct
from collector.http.params import JSON, iso
from collector.http.routing import Endpoint, Example, Reply, routes_of
from collector.http.schema import BrandPath
from collector.http.state import runtime
from collector.net import IPNetwork
from collector.storage.base import Brand

from . import examples, service
from .schema import (
    DeliveriesQuery,
    DeliveryJson,
    ReplayBody,
    ReplayJson,
    WebhookCreate,
    WebhookCreated,
    WebhookJson,
    WebhookPath,
    WebhookUpdate,
)

if TYPE_CHECKING:
    from collector.runtime import Runtime

MAX_BODY = 16_384
_create = msgspec.json.Decoder(WebhookCreate)
_update = msgspec.json.Decoder(WebhookUpdate)
_replay = msgspec.json.Decoder(ReplayBody)


def _now() -> int:
    return time.time_ns() // 1_000_000


def _networks(rt: Runtime) -> tuple[IPNetwork, ...]:
    """The private networks destinations may be in (``--webhook-networks``)."""
    return rt.webhook_networks


def _brand(rt: Runtime, brand_id: int) -> Brand:
    brand = rt.store.get_brand(brand_id)
    if brand is None:
        raise NotFound(f"no brand {brand_id}")
    return brand


async def create(request: Request) -> JSON:
    brand_id = authorize(request, "admin")
    body: WebhookCreate = await decode_body(request, _create, "webhook destination", MAX_BODY)
    rt = runtime(request)

    def make() -> WebhookCreated:
        brand = _brand(rt, brand_id)
        made = service.create_destination(rt.store, brand, body, _networks(rt), _now())
        return service.created_json(made)

    created = await anyio.to_thread.run_sync(make)
    rt.feed.invalidate()
    return JSON(created, status_code=201)


async def list_destinations(request: Request) -> JSON:
    brand_id = authorize(request, "admin")
    found = await anyio.to_thread.run_sync(runtime(request).store.list_webhooks, brand_id)
    return JSON([service.webhook_json(destination) for destination in found])


async def one_destination(request: Request) -> Response:
    """GET, PATCH and DELETE of one destination (one route, so a 405 lists all three)."""
    brand_id = authorize(request, "admin")
    rt = runtime(request)
    wanted = request.path_params["webhook"]
    if request.method == "GET":
        found = await anyio.to_thread.run_sync(service.find_destination, rt.store, brand_id, wanted)
        return JSON(service.webhook_json(found))
    if request.method == "DELETE":
        gone = await anyio.to_thread.run_sync(rt.store.delete_webhook, brand_id, wanted)
        if not gone:
            raise NotFound(f"no webhook destination {wanted[:64]!r}")
        rt.feed.invalidate()
        return Response(status_code=204)
    patch: WebhookUpdate = await decode_body(request, _update, "webhook update", MAX_BODY)

    def change() -> WebhookJson:
        brand = _brand(rt, brand_id)
        updated = service.update_destination(rt.store, brand, wanted, patch, _networks(rt), _now())
        return service.webhook_json(updated)

    changed = await anyio.to_thread.run_sync(change)
    rt.feed.invalidate()
    return JSON(changed)


async def deliveries(request: Request) -> JSON:
    brand_id = authorize(request, "admin")
    query = query_struct(request, DeliveriesQuery)
    store = runtime(request).store
    wanted = request.path_params["webhook"]

    def page() -> tuple[int, list[DeliveryJson]]:
        service.find_destination(store, brand_id, wanted)
        offset = (query.page - 1) * query.per_page
        total, rows = store.list_deliveries(brand_id, wanted, query.per_page, offset)
        return total, [service.delivery_json(row) for row in rows]

    total, rows = await anyio.to_thread.run_sync(page)
    last = max(1, -(-total // query.per_page))
    headers = {"X-Total-Count": str(total), "Link": page_links(request, query.page, last)}
    return JSON(rows, headers=headers)


async def replay(request: Request) -> JSON:
    brand_id = authorize(request, "admin")
    body: ReplayBody = await decode_body(request, _replay, "replay", MAX_BODY)
    start = service.parse_moment(body.start, "start")
    end = service.parse_moment(body.end, "end")
    if end < start:
        raise Invalid("`end` is before `start`", param="end")
    rt = runtime(request)
    wanted = request.path_params["webhook"]

    def queue() -> int:
        destination = service.find_destination(rt.store, brand_id, wanted)
        if not destination.enabled:
            raise Conflict("the destination is disabled: enable it first (PATCH enabled)")
        items = service.replay_items(rt.store, _brand(rt, brand_id), destination, start, end)
        if items:
            rt.store.append_outbox(items)
        return len(items)

    queued = await anyio.to_thread.run_sync(queue)
    if queued:
        rt.feed.committed()
    return JSON(ReplayJson(start=iso(start), end=iso(end), items=queued), status_code=202)


_BASE = "/api/brands/{brand}/webhooks"
_AREA = "Webhooks"
_PATH = {"brand": examples.BRAND_ID}
_ONE = {**_PATH, "webhook": examples.DESTINATION.id}
_EXAMPLE = service.webhook_json(examples.DESTINATION)
_COMMON = {"area": _AREA, "auth": "admin"}
endpoints = [
    Endpoint(
        "POST",
        _BASE,
        create,
        summary="Add a clickstream destination",
        description="201 with the destination and its signing `secret` (`whsec_...`), shown "
        "this once. The URL must be http(s) and resolve to public addresses only, unless in "
        "`--webhook-networks` (https only when the brand's `webhooks_https_only` is set); a "
        "refused URL, a method other than POST or PUT, no or unknown `events`, or a bad auth "
        "header is 422 naming the field. At most 20 destinations a brand (409 beyond). It "
        "receives what is written after it is made; see `replay` for earlier items.",
        path_params=BrandPath,
        body=WebhookCreate,
        replies=(
            Reply(
                201,
                "The new destination and its secret",
                WebhookCreated,
                example=service.created_json(examples.DESTINATION),
            ),
        ),
        errors=(400, 401, 403, 404, 409, 413, 422),
        example=Example(path=_PATH, body=msgspec.convert(examples.CREATE_BODY, WebhookCreate)),
        **_COMMON,  # type: ignore[arg-type]
    ),
    Endpoint(
        "GET",
        _BASE,
        list_destinations,
        summary="List the clickstream destinations, oldest first",
        path_params=BrandPath,
        replies=(Reply(200, "The destinations", list[WebhookJson], example=[_EXAMPLE]),),
        errors=(401, 403, 404),
        example=Example(path=_PATH),
        **_COMMON,  # type: ignore[arg-type]
    ),
    Endpoint(
        "GET",
        f"{_BASE}/{{webhook}}",
        one_destination,
        summary="One clickstream destination",
        description="`disabled_reason` and `disabled_at` say why and since when the collector "
        "turned it off; `failing_since` since when its deliveries fail.",
        path_params=WebhookPath,
        replies=(Reply(200, "The destination", WebhookJson, example=_EXAMPLE),),
        errors=(401, 403, 404),
        example=Example(path=_ONE),
        **_COMMON,  # type: ignore[arg-type]
    ),
    Endpoint(
        "PATCH",
        f"{_BASE}/{{webhook}}",
        one_destination,
        summary="Change a clickstream destination",
        description="Any of `url`, `method`, `header_key`, `header_value`, `events`, "
        "`enabled`, checked as when made. Enabling it clears `disabled_reason`, "
        "`disabled_at` and `failing_since`; it then receives what is written from then on.",
        path_params=WebhookPath,
        body=WebhookUpdate,
        replies=(Reply(200, "The destination as changed", WebhookJson, example=_EXAMPLE),),
        errors=(400, 401, 403, 404, 413, 422),
        example=Example(path=_ONE, body=msgspec.convert(examples.UPDATE_BODY, WebhookUpdate)),
        **_COMMON,  # type: ignore[arg-type]
    ),
    Endpoint(
        "DELETE",
        f"{_BASE}/{{webhook}}",
        one_destination,
        summary="Remove a clickstream destination",
        description="Nothing more is sent to it; its delivery log goes too.",
        path_params=WebhookPath,
        replies=(Reply(204, "Removed"),),
        errors=(401, 403, 404),
        example=Example(path=_ONE),
        **_COMMON,  # type: ignore[arg-type]
    ),
    Endpoint(
        "GET",
        f"{_BASE}/{{webhook}}/deliveries",
        deliveries,
        summary="The destination's delivery attempts, newest first",
        description="Each attempt of each batch: the receiver's status (null when none came, "
        "`error` says why), latency, the first 512 characters of its answer, and what came "
        "of it. `X-Total-Count` gives the attempts, `Link` the first, previous, next and "
        "last pages.",
        path_params=WebhookPath,
        query=DeliveriesQuery,
        replies=(
            Reply(
                200,
                "One page of attempts",
                list[DeliveryJson],
                example=[service.delivery_json(examples.DELIVERY)],
            ),
        ),
        errors=(401, 403, 404, 422),
        example=Example(path=_ONE, query={"page": 1, "per_page": 50}),
        **_COMMON,  # type: ignore[arg-type]
    ),
    Endpoint(
        "POST",
        f"{_BASE}/{{webhook}}/replay",
        replay,
        summary="Send a time range's items again",
        description="202: the clicks, page views, leads and sales of `[start, end]` of the "
        "kinds the destination takes are queued for it alone, with their own ids (a receiver "
        "that keeps ids drops those it has), and sent in order after what is waiting. At "
        "most 100,000 items (422: narrow the range); `end` before `start` is 422; a "
        "disabled destination is 409 (enable it first).",
        path_params=WebhookPath,
        body=ReplayBody,
        replies=(
            Reply(
                202,
                "The items queued",
                ReplayJson,
                example=ReplayJson(
                    start="2024-12-10T09:00:00.000Z", end="2024-12-10T11:00:00.000Z", items=5210
                ),
            ),
        ),
        errors=(400, 401, 403, 404, 409, 413, 422),
        example=Example(path=_ONE, body=msgspec.convert(examples.REPLAY_BODY, ReplayBody)),
        **_COMMON,  # type: ignore[arg-type]
    ),
]
routes = routes_of(endpoints)
