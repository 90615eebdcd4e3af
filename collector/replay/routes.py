"""Replays API (seed 01): ``/api/brands/{brand}/replays...``, and the stored replay assets."""

from __future__ import annotations

import time
import zlib
from typing import Any, cast

import anyio
import msgspec
from starlette.requests import Request
from starlette.responses import Response

from collector.http import params
from collector.http.auth import Access, authorize_shared, path_brand
from collector.http.errors import ApiError
from collector.http.params import JSON, duration_ms, iso
from collector.http.routing import Endpoint, Example, Reply, routes_of
from collector.http.schema import BrandPath
from collector.http.state import public_base, runtime
from collector.ids import is_valid_id
from collector.replay import examples
from collector.replay.assets import ASSET_PREFIX
from collector.replay.events import seed_events
from collector.replay.proxy import ReplayProxy
from collector.replay.read import ReplayIndex, Window, read_stream, replay_index
from collector.replay.schema import (
    AssetPath,
    ReplayIndexJson,
    ReplayJson,
    ReplayListQuery,
    ReplayPath,
    ReplayQuery,
    ReplaySize,
    ReplaySummary,
    RrwebStream,
    SeedEvent,
    ShareLink,
    ShareRequest,
)
from collector.replay.share import DEFAULT_SECONDS, MAX_SECONDS, ShareGrant
from collector.storage.base import Replay, Store

GZIP_MIN_BYTES = 32 * 1024
GZIP_LEVEL = 4


def _store(request: Request) -> Store:
    return runtime(request).store


def replay_summary(replay: Replay) -> ReplaySummary:
    """A list row: the seed's three fields, then what a replay picker needs."""
    return ReplaySummary(
        replay.id,
        replay.session_id,
        replay.page_session_id,
        replay.url,
        iso(replay.started_at),
        duration_ms(replay.started_at, replay.ended_at),
    )


def replay_json(replay: Replay, events: list[dict[str, Any]]) -> ReplayJson:
    """The seed's replay object, then Clicktrail's additions. ``events``: seed_events' dicts,
    each of one of the :data:`SeedEvent` shapes (encoded as they are)."""
    return ReplayJson(
        replay.id,
        replay.session_id,
        replay.page_session_id,
        replay.url,
        duration_ms(replay.started_at, replay.ended_at),
        replay.viewport_width,
        replay.viewport_height,
        cast(list[SeedEvent], events),
        ReplaySize(replay.raw_bytes, replay.stored_bytes),
        iso(replay.started_at),
        replay.visitor_id,
    )


async def list_replays(request: Request) -> JSON:
    access = authorize_shared(request)
    session_id = params.text(request.query_params, "session_id", max_length=64)
    if not session_id:
        raise ApiError(422, "`session_id` is required", param="session_id")
    access.check_session(session_id)
    store = _store(request)
    replays = await anyio.to_thread.run_sync(store.replays_for_session, access.brand_id, session_id)
    return JSON([replay_summary(r) for r in replays])


async def _replay(request: Request, access: Access | None = None) -> tuple[int, Replay]:
    """The replay of the path, readable by this request's key or share link (or by ``access``,
    already checked); else 404."""
    access = access or authorize_shared(request)
    replay_id = request.path_params["replay_id"]
    replay = None
    if is_valid_id(replay_id):
        replay = await anyio.to_thread.run_sync(
            _store(request).get_replay, access.brand_id, replay_id
        )
    if replay is None:
        raise ApiError(404, f"no replay {replay_id!r}")
    access.check_session(replay.session_id)
    return access.brand_id, replay


def _raw_events(
    store: Store,
    replay: Replay,
    since_ms: int | None,
    window: Window | None,
    proxy: ReplayProxy | None,
) -> bytes:
    events = read_stream(store, replay.brand_id, replay.id, since_ms, window) or b"[]"
    if proxy is not None:  # the viewer's copy: it loads nothing but the collector
        events = proxy.viewer_stream(store, replay, events)
    return events


def _seed_replay(store: Store, replay: Replay) -> ReplayJson:
    events = read_stream(store, replay.brand_id, replay.id) or b"[]"
    return replay_json(replay, seed_events(events))


def replay_index_json(replay: Replay, index: ReplayIndex | None) -> ReplayIndexJson:
    """The replay's index; without stored parts, an empty one at its start."""
    index = index or ReplayIndex(replay.started_at, replay.started_at, [0])
    return ReplayIndexJson(
        replay.id,
        replay.session_id,
        replay.page_session_id,
        replay.url,
        iso(replay.started_at),
        index.last_ts - index.first_ts,
        index.first_ts,
        index.seek_points_ms,
        replay.viewport_width,
        replay.viewport_height,
        ReplaySize(replay.raw_bytes, replay.stored_bytes),
        replay.visitor_id,
    )


def _index(store: Store, replay: Replay) -> ReplayIndexJson:
    return replay_index_json(replay, replay_index(store, replay.brand_id, replay.id))


def _window(q: Any) -> tuple[int | None, Window | None]:
    """``since_ms`` and the window of ``from_ms``/``until_ms`` asked for (422 when they do not
    go together)."""
    since_ms = params.integer(q, "since_ms", minimum=0, maximum=params.LAST_SHOWN_MS)
    from_ms = params.integer(q, "from_ms", minimum=0, maximum=params.LAST_SHOWN_MS)
    until_ms = params.integer(q, "until_ms", minimum=0, maximum=params.LAST_SHOWN_MS)
    if since_ms is not None and from_ms is not None:
        raise ApiError(
            422,
            "`since_ms` (from a seek point) and `from_ms` (exactly) cannot be combined: send one",
            param="from_ms",
        )
    if from_ms is not None and until_ms is not None and until_ms < from_ms:
        raise ApiError(422, "`until_ms` is before `from_ms`", param="until_ms")
    if from_ms is None and until_ms is None:
        return since_ms, None
    return since_ms, Window(from_ms, until_ms)


async def get_replay(request: Request) -> Response:
    _, replay = await _replay(request)
    q = request.query_params
    fmt = params.choice(q, "format", ("seed", "rrweb"), "seed")
    store = _store(request)
    if fmt == "seed":
        return JSON(await anyio.to_thread.run_sync(_seed_replay, store, replay))
    since_ms, window = _window(q)
    assets = params.choice(q, "assets", ("original", "stored"), "original") == "stored"
    proxy = runtime(request).replay_proxy if assets else None
    body = await anyio.to_thread.run_sync(_raw_events, store, replay, since_ms, window, proxy)
    if len(body) < GZIP_MIN_BYTES or "gzip" not in request.headers.get("accept-encoding", ""):
        return Response(body, media_type="application/json", headers={"Vary": "Accept-Encoding"})
    packed = await anyio.to_thread.run_sync(_gzip, body)
    headers = {"Content-Encoding": "gzip", "Vary": "Accept-Encoding"}
    return Response(packed, media_type="application/json", headers=headers)


async def get_replay_index(request: Request) -> JSON:
    _, replay = await _replay(request)
    return JSON(await anyio.to_thread.run_sync(_index, _store(request), replay))


def _gzip(body: bytes) -> bytes:
    """rrweb streams are megabytes of repetitive JSON: gzip at a fast level takes ~10 ms a MB
    and sends a tenth of the bytes to a viewer across the internet."""
    packer = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    return packer.compress(body) + packer.flush()


async def share_replay(request: Request) -> JSON:
    brand = path_brand(request)
    access = runtime(request).keys.authorize(request, brand, "read")  # a key: no share link
    body = await request.body()
    try:
        wanted = msgspec.json.decode(body, type=ShareRequest) if body.strip() else ShareRequest()
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise ApiError(422, f"invalid share request: {exc}") from None
    if not 60 <= wanted.expires_in <= MAX_SECONDS:
        raise ApiError(422, f"`expires_in` must be 60..{MAX_SECONDS} seconds", param="expires_in")
    _, replay = await _replay(request, access)
    expires = int(time.time()) + wanted.expires_in
    token = runtime(request).share.mint(
        ShareGrant(b=brand, s=replay.session_id, r=replay.id, e=expires)
    )
    url = f"{public_base(request)}/replay/{replay.id}#share={token}"
    return JSON(ShareLink(url, iso(expires * 1000)), status_code=201)


async def replay_asset(request: Request) -> Response:
    """A stored stylesheet or font, by content hash (immutable, so cached for a year)."""
    found = await anyio.to_thread.run_sync(
        runtime(request).asset_store.get, request.path_params["sha256"]
    )
    if found is None:
        raise ApiError(404, "no such asset")
    content_type, body = found
    headers = {
        "Cache-Control": "public, max-age=31536000, immutable",
        "X-Content-Type-Options": "nosniff",
        "Access-Control-Allow-Origin": "*",
    }
    return Response(body, media_type=content_type, headers=headers)


_REPLAYS = "/api/brands/{brand}/replays"
_EXAMPLE_PATH = {"brand": examples.BRAND_ID, "replay_id": examples.REPLAY_ID}
_SHARED = "A share link reads this too, for its own session only (another session is 404)."

endpoints = [
    Endpoint(
        "GET",
        _REPLAYS,
        list_replays,
        summary="A session's replays, one per recorded page",
        area="Replays",
        auth="read_or_share",
        description=_SHARED,
        path_params=BrandPath,
        query=ReplayListQuery,
        replies=(
            Reply(
                200,
                "The replays",
                list[ReplaySummary],
                example=[replay_summary(examples.REPLAY)],
            ),
        ),
        errors=(401, 403, 404, 422),
        example=Example(
            path={"brand": examples.BRAND_ID}, query={"session_id": examples.SESSION_ID}
        ),
    ),
    Endpoint(
        "GET",
        _REPLAYS + "/{replay_id}",
        get_replay,
        summary="A replay: the seed's events, the raw rrweb stream, or its index",
        area="Replays",
        auth="read_or_share",
        description="`format=rrweb` answers the recorded rrweb event array (gzip-encoded over "
        "32 KB for clients that accept it), all of it or a window (`since_ms`, `from_ms`, "
        "`until_ms`); `format=index` the times and seek points a player needs first. " + _SHARED,
        path_params=ReplayPath,
        query=ReplayQuery,
        replies=(
            Reply(
                200,
                "The replay (`format=seed`), or its rrweb events (`format=rrweb`)",
                ReplayJson | RrwebStream,
                example=replay_json(examples.REPLAY, examples.SEED_EVENTS),
            ),
        ),
        errors=(401, 403, 404, 422),
        example=Example(path=_EXAMPLE_PATH),
    ),
    Endpoint(
        "GET",
        _REPLAYS + "/{replay_id}/index",
        get_replay_index,
        summary="A replay's times and seek points, without its events",
        area="Replays",
        auth="read_or_share",
        description="What a player needs first, to open a long replay with a window of its "
        "first seconds and fetch the rest while it plays. " + _SHARED,
        path_params=ReplayPath,
        replies=(
            Reply(
                200,
                "The index",
                ReplayIndexJson,
                example=replay_index_json(
                    examples.REPLAY,
                    ReplayIndex(examples.AT, examples.AT + 45_000, [0, 30_000]),
                ),
            ),
        ),
        errors=(401, 403, 404),
        example=Example(path=_EXAMPLE_PATH),
    ),
    Endpoint(
        "POST",
        _REPLAYS + "/{replay_id}/share",
        share_replay,
        summary="A signed, expiring viewer link for the replay's session",
        area="Replays",
        auth="read",
        description="Anyone with the link can watch the session's replays until it expires; "
        "changing the collector's share secret revokes every link.",
        path_params=ReplayPath,
        body=ShareRequest,
        body_required=False,
        replies=(
            Reply(
                201,
                "The link",
                ShareLink,
                example=ShareLink(
                    f"https://collector.example/replay/{examples.REPLAY_ID}"
                    f"#share={examples.SHARE_TOKEN}",
                    iso(examples.AT + DEFAULT_SECONDS * 1000),
                ),
            ),
        ),
        errors=(401, 403, 404, 422),
        example=Example(path=_EXAMPLE_PATH, body=ShareRequest(expires_in=86_400)),
    ),
    Endpoint(
        "GET",
        ASSET_PREFIX + "{sha256}",
        replay_asset,
        summary="A stylesheet, font or image a replay loads, stored by content hash",
        area="Replay viewer",
        auth="public",
        description="Immutable: cached for a year.",
        path_params=AssetPath,
        replies=(Reply(200, "The stored file", media_type="*/*"),),
        errors=(404,),
        example=Example(path={"sha256": "9f86d081884c7d659a2feaa0c55ad015" * 2}),
    ),
]
routes = routes_of(endpoints)
