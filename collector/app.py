"""The ASGI app: ``create_app(settings)`` puts the routes and the runtime of services together."""

from __future__ import annotations

import contextlib
import hashlib
import logging
from collections.abc import AsyncIterator
from importlib import resources

import anyio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from collector.brands import routes as api_brands
from collector.clicks import routes as api_clicks
from collector.config import Settings
from collector.enrich.netaddr import parse_trusted_proxies
from collector.http import audit, openapi
from collector.http.errors import EXCEPTION_HANDLERS, ApiError
from collector.http.state import runtime
from collector.ingest.collect import CORS_HEADERS, CollectEndpoint
from collector.replay import proxy_routes as replay_proxy
from collector.replay import routes as api_replays
from collector.replay import viewer
from collector.runtime import Runtime
from collector.storage.base import Store

log = logging.getLogger("clicktrail")

STATIC = resources.files("collector") / "static"


class StaticAsset:
    """A built file served from memory with an ETag; read once, at start-up."""

    def __init__(self, name: str, media_type: str, max_age: int) -> None:
        path = STATIC / name
        self.body = path.read_bytes() if path.is_file() else None
        self.etag = '"' + hashlib.sha256(self.body or b"").hexdigest()[:16] + '"'
        self.media_type = media_type
        self.cache_control = f"public, max-age={max_age}"
        self.name = name

    def response(self, request: Request) -> Response:
        if self.body is None:
            raise ApiError(503, f"{self.name} is not built; run `make build`")
        headers = {
            "ETag": self.etag,
            "Cache-Control": self.cache_control,
            "Access-Control-Allow-Origin": "*",
        }
        if request.headers.get("if-none-match") == self.etag:
            return Response(status_code=304, headers=headers)
        return Response(self.body, media_type=self.media_type, headers=headers)


def _brand_config(request: Request) -> Response:
    brand = runtime(request).brands.by_site_key(request.path_params["site_key"])
    if brand is None:
        raise ApiError(404, "unknown site key")
    s = brand.settings
    config = {
        "c": s.cookieless,
        "d": s.respect_dnt,
        "r": s.replay_sample_rate,
        "m": {"i": s.mask_all_inputs, "b": s.block_selector, "t": s.mask_text_selector},
    }
    headers = {**CORS_HEADERS, "Cache-Control": "public, max-age=300"}
    return JSONResponse(config, headers=headers)


async def brand_config(request: Request) -> Response:
    return await anyio.to_thread.run_sync(_brand_config, request)


async def collect_preflight(request: Request) -> Response:
    headers = {
        **CORS_HEADERS,
        "Access-Control-Allow-Methods": "POST, OPTIONS",
        "Access-Control-Allow-Headers": "Content-Type",
        "Access-Control-Max-Age": "86400",
    }
    return Response(status_code=204, headers=headers)


async def tracker(request: Request) -> Response:
    return request.app.state.tracker.response(request)


async def recorder(request: Request) -> Response:
    return request.app.state.recorder.response(request)


async def collect_replay(request: Request) -> Response:
    return await runtime(request).replay_ingestor(request)


_FAVICON = (
    b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16">'
    b'<circle cx="8" cy="8" r="7" fill="#c8502b"/><circle cx="8" cy="8" r="3" fill="#fff"/></svg>'
)


async def favicon(request: Request) -> Response:
    return Response(
        _FAVICON, media_type="image/svg+xml", headers={"Cache-Control": "public, max-age=86400"}
    )


async def health(request: Request) -> Response:
    database = runtime(request).store.url.split(":")[0]
    return JSONResponse({"status": "ok", "database": database})


async def demo_page(request: Request) -> Response:
    demo: DemoPage | None = request.app.state.demo
    if demo is None:
        raise ApiError(404, "the demo page is only served by `clicktrail demo`")
    return HTMLResponse(demo.html)


class DemoPage:
    """The demo landing page, filled in with the demo brand's site key and a read-only key."""

    def __init__(self, brand_id: int, site_key: str, read_key: str) -> None:
        template = (STATIC / "demo.html").read_text()
        self.html = (
            template.replace("{{SITE_KEY}}", site_key)
            .replace("{{BRAND_ID}}", str(brand_id))
            .replace("{{READ_KEY}}", read_key)
        )


class Clicktrail(Starlette):
    """Starlette, with beacons sent straight to the ingestor: the hottest path skips the
    middleware stack and router (it answers errors in the same JSON shape itself)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == "/collect" and scope["method"] == "POST":
            scope["app"] = self
            await self.state.runtime.ingestor(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def create_app(
    settings: Settings,
    store: Store | None = None,
    demo: DemoPage | None = None,
) -> Starlette:
    """The collector app: routes, error handlers and, as its lifespan, a
    :class:`~collector.runtime.Runtime` of every service. Pass ``store`` to use an open store
    (it is then not closed on shutdown); otherwise ``settings.database`` is opened at start-up."""
    parse_trusted_proxies(settings.trusted_proxies)  # fail at creation, not at first request

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with Runtime.running(settings, store) as services:
            app.state.runtime = services
            yield

    app = Clicktrail(
        routes=[
            Route("/collect", CollectEndpoint(), methods=["POST"]),
            Route("/collect", collect_preflight, methods=["OPTIONS"]),
            Route("/collect/replay", collect_replay, methods=["POST"]),
            Route("/collect/replay", collect_preflight, methods=["OPTIONS"]),
            Route("/t/replay.js", recorder, methods=["GET", "HEAD"]),
            Route("/config/{site_key}", brand_config, methods=["GET"]),
            Route("/t.js", tracker, methods=["GET", "HEAD"]),
            Route("/demo", demo_page, methods=["GET"]),
            Route("/demo/{rest:path}", demo_page, methods=["GET"]),
            Route("/healthz", health, methods=["GET"]),
            Route("/favicon.ico", favicon, methods=["GET"]),
            *api_brands.routes,
            *api_clicks.routes,
            *api_replays.routes,
            *replay_proxy.routes,
            *viewer.routes,
            *openapi.routes,
        ],
        exception_handlers=EXCEPTION_HANDLERS,
        middleware=audit.middleware(),  # the test suite's spec audit only
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.demo = demo
    app.state.tracker = StaticAsset("t.js", "application/javascript", max_age=3600)
    app.state.recorder = StaticAsset("t/replay.js", "application/javascript", max_age=3600)
    return app
