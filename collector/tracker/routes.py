"""The tracker's routes: ``/t.js``, ``/t/replay.js`` and ``/t/x.js`` (the built scripts;
``/t.js?site=KEY`` with the brand's config baked in), ``/config/{site_key}`` (the brand's tracker
settings), ``POST /collect`` (a beacon, served by ``ingest/``; ``app.py`` sends it straight
there), ``POST /collect/replay`` (a chunk, served by the runtime's replay ingestor) and the CORS
preflights of the three."""

from __future__ import annotations

import re

import anyio
import msgspec
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from collector.clicks.examples import AT, CLICK_CODE, SESSION_ID, VISITOR_ID
from collector.http.errors import ApiError
from collector.http.params import text
from collector.http.routing import Endpoint, Example, Reply, routes_of
from collector.http.state import runtime
from collector.ingest.collect import CORS_HEADERS, CollectEndpoint
from collector.ingest.wire import Beacon
from collector.replay.examples import REPLAY_ID
from collector.replay.wire import ReplayEnvelope
from collector.tracker.baked import bake, can_bake, etag_of, tracker_config
from collector.tracker.schema import MaskingConfig, SitePath, TrackerConfig, TrackerScriptQuery
from collector.tracker.static import StaticAsset

SITE_KEY = "3Fq9zK1cT7bWm2Xa"
JAVASCRIPT = "application/javascript"

TRACKER = StaticAsset("t.js", JAVASCRIPT, max_age=3600)
RECORDER = StaticAsset("t/replay.js", JAVASCRIPT, max_age=3600)
INSIGHTS = StaticAsset("t/x.js", JAVASCRIPT, max_age=3600)
# ``/t.js?site=KEY``: a brand's settings reach its pages within this many seconds.
SITE_SCRIPT_MAX_AGE = 300
CONFIG_MAX_AGE = 300
PREFLIGHT_MAX_AGE = 86400
# What a preflight may ask for in Access-Control-Request-Headers to have it echoed: header names.
_HEADER_NAMES = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+(\s*,\s*[!#$%&'*+.^_`|~0-9A-Za-z-]+)*")


async def tracker(request: Request) -> Response:
    site_key = text(request.query_params, "site", max_length=64)
    if site_key is None:
        return TRACKER.response(request)
    return await anyio.to_thread.run_sync(_site_tracker, request, site_key)


def _site_tracker(request: Request, site_key: str) -> Response:
    """The tracker with the brand's config baked in; the plain script (which then fetches
    ``/config``) for an unknown key, or when the build has no placeholder."""
    script = TRACKER.built()
    brand = runtime(request).brands.by_site_key(site_key)
    if brand is None or not can_bake(script):
        return TRACKER.response(request, max_age=SITE_SCRIPT_MAX_AGE)
    body = bake(script, brand)
    return TRACKER.response(request, body, etag_of(body), SITE_SCRIPT_MAX_AGE)


async def recorder(request: Request) -> Response:
    return RECORDER.response(request)


async def insights(request: Request) -> Response:
    return INSIGHTS.response(request)


def _brand_config(request: Request) -> Response:
    brand = runtime(request).brands.by_site_key(request.path_params["site_key"])
    if brand is None:
        raise ApiError(404, "unknown site key")
    headers = {**CORS_HEADERS, "Cache-Control": f"public, max-age={CONFIG_MAX_AGE}"}
    return JSONResponse(tracker_config(brand), headers=headers)


async def brand_config(request: Request) -> Response:
    return await anyio.to_thread.run_sync(_brand_config, request)


def _preflight(request: Request, methods: str) -> Response:
    """204 allowing any origin, ``methods``, and the headers asked for (when they are header
    names; else ``Content-Type``): no credentials are ever involved."""
    asked = request.headers.get("access-control-request-headers", "").strip()
    allowed = asked if len(asked) <= 1000 and _HEADER_NAMES.fullmatch(asked) else "Content-Type"
    headers = {
        **CORS_HEADERS,
        "Access-Control-Allow-Methods": methods,
        "Access-Control-Allow-Headers": allowed,
        "Access-Control-Max-Age": str(PREFLIGHT_MAX_AGE),
    }
    return Response(status_code=204, headers=headers)


async def collect_preflight(request: Request) -> Response:
    return _preflight(request, "POST, OPTIONS")


async def config_preflight(request: Request) -> Response:
    return _preflight(request, "GET, OPTIONS")


async def collect_replay(request: Request) -> Response:
    return await runtime(request).replay_ingestor(request)


_BEACON = Beacon(
    k=SITE_KEY,
    p=CLICK_CODE,
    u="https://checkout.mybrand.com/checkout?utm_source=newsletter",
    e=[],
    v=VISITOR_ID,
    s=SESSION_ID,
    n=1,
    r="https://www.google.com/",
    f=5,
    l="en-US",
    w=1440,
    h=900,
)
_BEACON_EXAMPLE = {
    **msgspec.to_builtins(_BEACON),
    "e": [{"t": "page_view", "ts": AT}, {"t": "add_to_cart", "ts": AT, "d": {"product_id": 3}}],
}
_CHUNK_EXAMPLE = {
    **{"k": SITE_KEY, "r": REPLAY_ID, "p": CLICK_CODE, "q": 0},
    **{"u": "https://checkout.mybrand.com/checkout", "v": VISITOR_ID, "s": SESSION_ID},
    "e": [{"type": 4, "timestamp": AT, "data": {"href": "https://checkout.mybrand.com/"}}],
}
_PREFLIGHT = "CORS preflight: the tracker's `fetch` sends `Content-Type` on some browsers."


endpoints = [
    Endpoint(
        "GET",
        "/t.js",
        tracker,
        summary="The tracker script",
        area="Tracker",
        auth="public",
        description="With an ETag. Load it with "
        '`<script defer src="/t.js?site=SITE_KEY"></script>`: the brand\'s settings are baked '
        "in (cached for 5 minutes), so the page needs no `GET /config`. An unknown key gets the "
        'plain script. Without `site` (`<script defer src="/t.js" data-site="SITE_KEY">`, '
        "cached for an hour) the script fetches `/config/{site_key}`.",
        query=TrackerScriptQuery,
        replies=(Reply(200, "The script", media_type=JAVASCRIPT), Reply(304, "Not modified")),
        errors=(422, 503),
        example=Example(query={"site": SITE_KEY}),
    ),
    Endpoint(
        "GET",
        "/t/replay.js",
        recorder,
        summary="The session recorder, loaded by the tracker when a visit is sampled",
        area="Tracker",
        auth="public",
        replies=(Reply(200, "The script", media_type=JAVASCRIPT), Reply(304, "Not modified")),
        errors=(503,),
    ),
    Endpoint(
        "GET",
        "/t/x.js",
        insights,
        summary="Dead and error click detection, loaded by the tracker after the brand config",
        area="Tracker",
        auth="public",
        replies=(Reply(200, "The script", media_type=JAVASCRIPT), Reply(304, "Not modified")),
        errors=(503,),
    ),
    Endpoint(
        "GET",
        "/config/{site_key}",
        brand_config,
        summary="The brand's tracker settings",
        area="Tracker",
        auth="public",
        path_params=SitePath,
        replies=(
            Reply(
                200,
                "The settings",
                TrackerConfig,
                example=TrackerConfig(
                    False, False, 0.1, MaskingConfig(True, "[data-ct-block]", "[data-ct-mask]"), 90
                ),
            ),
        ),
        errors=(404,),
        example=Example(path={"site_key": SITE_KEY}),
    ),
    Endpoint(
        "OPTIONS",
        "/config/{site_key}",
        config_preflight,
        summary="CORS preflight of the brand's tracker settings",
        area="Tracker",
        auth="public",
        path_params=SitePath,
        description="The tracker's `GET` needs none; a page whose own code adds headers to "
        "every `fetch` makes the browser ask.",
        replies=(Reply(204, "Allowed from any origin"),),
        example=Example(path={"site_key": SITE_KEY}),
    ),
    Endpoint(
        "POST",
        "/collect",
        CollectEndpoint(),
        summary="A beacon from the tracker: a page view and the page's events",
        area="Tracker",
        auth="public",
        description="JSON sent as `text/plain` (no CORS preflight); see `docs/WIRE.md`. "
        "Answered once stored durably. The site key is public: the brand's allowed domains "
        "decide which pages may send.",
        body=Beacon,
        body_media_type="text/plain",
        replies=(Reply(204, "Stored durably"),),
        errors=(400, 403, 404, 413, 422),
        example=Example(body=_BEACON_EXAMPLE),
    ),
    Endpoint(
        "OPTIONS",
        "/collect",
        collect_preflight,
        summary="CORS preflight of a beacon",
        area="Tracker",
        auth="public",
        description=_PREFLIGHT,
        replies=(Reply(204, "Allowed from any origin"),),
    ),
    Endpoint(
        "POST",
        "/collect/replay",
        collect_replay,
        summary="A chunk of a session recording",
        area="Tracker",
        auth="public",
        description="JSON, optionally gzip-compressed, sent as `text/plain`; see "
        "`docs/REPLAY.md`. Past the collector's memory budget: 503 with `Retry-After`.",
        body=ReplayEnvelope,
        body_media_type="text/plain",
        replies=(Reply(204, "Stored durably (or not recorded: Do Not Track)"),),
        errors=(400, 403, 404, 413, 422, 503),
        example=Example(body=_CHUNK_EXAMPLE),
    ),
    Endpoint(
        "OPTIONS",
        "/collect/replay",
        collect_preflight,
        summary="CORS preflight of a replay chunk",
        area="Tracker",
        auth="public",
        description=_PREFLIGHT,
        replies=(Reply(204, "Allowed from any origin"),),
    ),
]
routes = routes_of(endpoints)
