"""Rows of the route table for routes made outside the capability modules: the tracker's routes
and the service routes of ``app.py``, the replay viewer's page and files (``replay/viewer.py``)
and the replay proxy (``replay/proxy_routes.py``). They have no handler here: those modules
make their routes, and ``tests/test_openapi.py`` proves that the app serves exactly the
routes the table documents."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from collector.clicks.examples import AT, CLICK_CODE, SESSION_ID, VISITOR_ID
from collector.http.routing import Endpoint, Example, Reply
from collector.ingest.wire import Beacon
from collector.replay.examples import REPLAY_ID
from collector.replay.wire import ReplayEnvelope

SITE_KEY = "3Fq9zK1cT7bWm2Xa"
JAVASCRIPT = "application/javascript"
HTML = "text/html"


class MaskingConfig(msgspec.Struct):
    i: Annotated[bool, msgspec.Meta(description="mask every input")]
    b: Annotated[str, msgspec.Meta(description="selector of elements not recorded at all")]
    t: Annotated[str, msgspec.Meta(description="selector of elements whose text is masked")]


class TrackerConfig(msgspec.Struct):
    """The brand's settings the tracker needs (cached for 5 minutes)."""

    c: Annotated[bool, msgspec.Meta(description="cookieless")]
    d: Annotated[bool, msgspec.Meta(description="respect Do Not Track")]
    r: Annotated[float, msgspec.Meta(description="replay sample rate, 0..1")]
    m: MaskingConfig


class Health(msgspec.Struct):
    status: Literal["ok"]
    database: Annotated[str, msgspec.Meta(description="the storage engine", examples=["sqlite"])]


class SitePath(msgspec.Struct, kw_only=True):
    site_key: Annotated[str, msgspec.Meta(description="The brand's public site key.")]


class ViewerPath(msgspec.Struct, kw_only=True):
    replay_id: Annotated[str, msgspec.Meta(description="The replay's id.")]


class ViewerFilePath(msgspec.Struct, kw_only=True):
    file: Literal["viewer.js", "viewer.css"]


class ViewerFileQuery(msgspec.Struct, kw_only=True):
    v: (
        Annotated[str, msgspec.Meta(description="The build's version: with it, cached for a year.")]
        | None
    ) = None


class DemoPath(msgspec.Struct, kw_only=True):
    rest: Annotated[str, msgspec.Meta(description="Any page of the demo site.")]


class ProxyPath(msgspec.Struct, kw_only=True):
    brand: int
    expires: Annotated[int, msgspec.Meta(description="Unix seconds")]
    signature: str


class ProxyQuery(msgspec.Struct, kw_only=True):
    u: Annotated[str, msgspec.Meta(description="The URL the recorded page loaded.")]


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
        None,
        summary="The tracker script",
        area="Tracker",
        auth="public",
        description="Cached for an hour, with an ETag. Load it with "
        '`<script defer src="/t.js" data-site="SITE_KEY"></script>`.',
        replies=(Reply(200, "The script", media_type=JAVASCRIPT), Reply(304, "Not modified")),
        errors=(503,),
    ),
    Endpoint(
        "GET",
        "/t/replay.js",
        None,
        summary="The session recorder, loaded by the tracker when a visit is sampled",
        area="Tracker",
        auth="public",
        replies=(Reply(200, "The script", media_type=JAVASCRIPT), Reply(304, "Not modified")),
        errors=(503,),
    ),
    Endpoint(
        "GET",
        "/config/{site_key}",
        None,
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
                    False, False, 0.1, MaskingConfig(True, "[data-ct-block]", "[data-ct-mask]")
                ),
            ),
        ),
        errors=(404,),
        example=Example(path={"site_key": SITE_KEY}),
    ),
    Endpoint(
        "POST",
        "/collect",
        None,
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
        None,
        summary="CORS preflight of a beacon",
        area="Tracker",
        auth="public",
        description=_PREFLIGHT,
        replies=(Reply(204, "Allowed from any origin"),),
    ),
    Endpoint(
        "POST",
        "/collect/replay",
        None,
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
        None,
        summary="CORS preflight of a replay chunk",
        area="Tracker",
        auth="public",
        description=_PREFLIGHT,
        replies=(Reply(204, "Allowed from any origin"),),
    ),
    Endpoint(
        "GET",
        "/replay/{replay_id}",
        None,
        summary="The replay viewer page",
        area="Replay viewer",
        auth="public",
        description="The page reads a share token from its URL fragment (`#share=TOKEN`), or "
        "asks for an API key (kept in the tab's sessionStorage only).",
        path_params=ViewerPath,
        replies=(Reply(200, "The page", media_type=HTML),),
        errors=(404, 503),
        example=Example(path={"replay_id": REPLAY_ID}),
    ),
    Endpoint(
        "GET",
        "/replay-viewer/{file}",
        None,
        summary="The viewer's script and stylesheet",
        area="Replay viewer",
        auth="public",
        path_params=ViewerFilePath,
        query=ViewerFileQuery,
        replies=(
            Reply(200, "The file", media_type="*/*"),
            Reply(304, "Not modified"),
        ),
        errors=(404, 503),
        example=Example(path={"file": "viewer.js"}),
    ),
    Endpoint(
        "GET",
        "/replay-proxy/{brand:int}/{expires:int}/{signature}",
        None,
        summary="What a replay loads from the recorded site, through a signed link",
        area="Replay viewer",
        auth="public",
        description="Only links the collector signed when it served the stream; from the "
        "stored copies, or fetched on demand from public addresses.",
        path_params=ProxyPath,
        query=ProxyQuery,
        replies=(Reply(200, "The file", media_type="*/*"),),
        errors=(403, 404, 413, 415, 502),
    ),
    Endpoint(
        "GET",
        "/healthz",
        None,
        summary="Liveness",
        area="Service",
        auth="public",
        replies=(Reply(200, "Up", Health, example=Health("ok", "sqlite")),),
    ),
    Endpoint(
        "GET",
        "/favicon.ico",
        None,
        summary="The icon",
        area="Service",
        auth="public",
        replies=(Reply(200, "An SVG icon", media_type="image/svg+xml"),),
    ),
    Endpoint(
        "GET",
        "/demo",
        None,
        summary="The demo shop (`clicktrail demo` only)",
        area="Service",
        auth="public",
        replies=(Reply(200, "The page", media_type=HTML),),
        errors=(404,),
    ),
    Endpoint(
        "GET",
        "/demo/{rest:path}",
        None,
        summary="A page of the demo shop (`clicktrail demo` only)",
        area="Service",
        auth="public",
        path_params=DemoPath,
        replies=(Reply(200, "The page", media_type=HTML),),
        errors=(404,),
        example=Example(path={"rest": "checkout"}),
    ),
]
