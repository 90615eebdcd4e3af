"""Visitor deletion API (issue 16): ``DELETE visitors/{visitor_id}`` and ``DELETE
visitors?externalId=..`` / ``?customerId=..`` (an admin key)."""

from __future__ import annotations

from pathlib import Path

import anyio
from starlette.requests import Request

from collector.http.auth import authorize
from collector.http.body import query_struct
from collector.http.errors import ApiError
from collector.http.params import JSON
from collector.http.routing import Endpoint, Example, Reply, routes_of
from collector.http.schema import BrandPath
from collector.http.state import runtime

from . import service
from .schema import MAX_VISITOR_ID, VisitorPath, VisitorsDeleted, VisitorsQuery

_AREA = "Privacy"
_BASE = "/api/brands/{brand}/visitors"
_EXAMPLE = VisitorsDeleted(
    visitors=1,
    clicks=3,
    events=7,
    conversions=2,
    replays=1,
    replay_chunks=0,
    replay_segments=4,
    replay_assets=5,
    asset_files=2,
    outbox_items=0,
    exports=1,
)
_DELETED = Reply(200, "What was deleted, per kind (zeros when nothing was left)", VisitorsDeleted)


def _files(request: Request) -> service.Files:
    rt = runtime(request)
    return service.Files(exports=rt.exports.directory, assets=Path(rt.settings.replay_assets_dir))


async def _delete(request: Request, brand_id: int, target: service.Target) -> JSON:
    rt = runtime(request)
    deleted = await anyio.to_thread.run_sync(
        service.delete, rt.store, _files(request), brand_id, target
    )
    # The request waited for the enricher, which trimmed the inbox rows it enriched; the
    # inbox's WAL may still hold their bytes.
    await rt.inbox.scrub()
    return JSON(deleted)


async def delete_visitor(request: Request) -> JSON:
    brand_id = authorize(request, "admin")
    visitor_id = request.path_params["visitor_id"]
    if len(visitor_id) > MAX_VISITOR_ID:
        raise ApiError(
            422, f"visitor_id is longer than {MAX_VISITOR_ID} characters", param="visitor_id"
        )
    return await _delete(request, brand_id, service.Target(visitor_id=visitor_id))


async def delete_visitors(request: Request) -> JSON:
    brand_id = authorize(request, "admin")
    target = service.target_of(query_struct(request, VisitorsQuery))
    return await _delete(request, brand_id, target)


_COMMON = {"area": _AREA, "auth": "admin"}
endpoints = [
    Endpoint(
        "DELETE",
        f"{_BASE}/{{visitor_id}}",
        delete_visitor,
        summary="Delete a visitor and everything stored of them",
        description="Their clicks and page views, events, leads and sales, replays (chunks, "
        "segments, asset links, and asset files no other replay uses), clickstream items not "
        "yet delivered, and the brand's finished CSV exports written since their first visit. "
        "Idempotent: a repeat answers 200 with zeros. docs/PRIVACY.md says when the bytes "
        "physically go on each engine.",
        path_params=VisitorPath,
        replies=(Reply(200, _DELETED.description, VisitorsDeleted, example=_EXAMPLE),),
        errors=(401, 403, 404, 422),
        example=Example(path={"brand": 1, "visitor_id": "0191a3c4d5e6f7a8b9c0d1e2f3a4b5c6"}),
        **_COMMON,  # type: ignore[arg-type]
    ),
    Endpoint(
        "DELETE",
        _BASE,
        delete_visitors,
        summary="Delete every visitor of an external id or of a customer",
        description="`externalId`: every visitor identified as that id. `customerId`: every "
        "visitor the customer's leads and sales name, and those leads and sales. Exactly one "
        f"of the two; at most {service.MAX_VISITORS:,} visitors a request (repeat it for "
        "more). Deletes what `DELETE visitors/{visitor_id}` does, for each.",
        path_params=BrandPath,
        query=VisitorsQuery,
        replies=(Reply(200, _DELETED.description, VisitorsDeleted, example=_EXAMPLE),),
        errors=(401, 403, 404, 422),
        example=Example(path={"brand": 1}, query={"externalId": "user-42"}),
        **_COMMON,  # type: ignore[arg-type]
    ),
]
routes = routes_of(endpoints)
