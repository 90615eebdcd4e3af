"""The ASGI app: ``create_app(settings)`` puts the capabilities' routes and the runtime of
services together."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.types import Receive, Scope, Send

from collector.analytics import routes as api_analytics
from collector.brands import routes as api_brands
from collector.clicks import routes as api_clicks
from collector.config import Settings
from collector.conversions import routes as api_conversions
from collector.dashboard import routes as dashboard
from collector.enrich.netaddr import parse_trusted_proxies
from collector.explorer import routes as api_explorer
from collector.exports import routes as api_exports
from collector.funnels import routes as api_funnels
from collector.heatmaps import routes as api_heatmaps
from collector.http import audit, openapi
from collector.http.errors import EXCEPTION_HANDLERS
from collector.links import routes as api_links
from collector.ops.observe import RequestObserver
from collector.privacy import routes as api_privacy
from collector.replay import proxy_routes as replay_proxy
from collector.replay import routes as api_replays
from collector.replay import viewer
from collector.runtime import Runtime
from collector.sessions import routes as api_sessions
from collector.site import routes as site
from collector.site.routes import DemoPage
from collector.storage.base import Store
from collector.stream import routes as api_stream
from collector.tracker import routes as tracker
from collector.users import routes as api_users
from collector.webhooks import routes as api_webhooks

_REDIRECTS = ("/g/", "/q/")
# Paths that never wait for the enricher: ingest, the tracker and other static files, probes.
_NO_READ_WAIT = (
    "/collect",
    "/t.js",
    "/t/",
    "/dashboard/",
    "/replay-viewer/",
    "/replay-assets/",
    "/healthz",
    "/readyz",
    "/metrics",
    "/favicon.ico",
    "/config/",
    "/openapi.json",
    "/docs",
)


class Clicktrail(Starlette):
    """Starlette, with beacons sent straight to the ingestor and short links to the redirector:
    the hottest paths skip the middleware stack and router (they answer errors themselves).
    A beacon is timed by the observer's lean path (:meth:`RequestObserver.beacon`)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            if scope["path"] == "/collect" and scope["method"] == "POST":
                scope["app"] = self
                await self.state.observer.beacon(self.state.runtime.ingestor, scope, receive, send)
                return
            await self.state.observer(scope, receive, send)  # timed: metrics, request log
            return
        await super().__call__(scope, receive, send)

    async def serve_http(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path = scope["path"]
            if path[:3] in _REDIRECTS and scope["method"] in ("GET", "HEAD"):
                scope["app"] = self
                await self.state.runtime.redirector(scope, receive, send)
                return
            if not path.startswith(_NO_READ_WAIT):
                # A read sees every beacon answered before it (docs/ARCHITECTURE.md, "Inbox"),
                # unless enrichment lags by more than a second.
                await self.state.runtime.enricher.settled()
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
            # The demo's sample data fills in the background, stopped before the services.
            async with demo.running(services) if demo else contextlib.nullcontext():
                yield

    app = Clicktrail(
        routes=[
            *tracker.routes,
            *site.routes,
            *api_brands.routes,
            *api_users.routes,
            *api_stream.routes,
            *api_exports.routes,
            *api_clicks.routes,
            *api_links.routes,
            *api_conversions.routes,
            *api_analytics.routes,
            *api_funnels.routes,
            *api_sessions.routes,
            *api_heatmaps.routes,
            *api_explorer.routes,
            *api_replays.routes,
            *api_webhooks.routes,
            *api_privacy.routes,
            *replay_proxy.routes,
            *viewer.routes,
            *dashboard.routes,
            *openapi.routes,
        ],
        exception_handlers=EXCEPTION_HANDLERS,
        middleware=audit.middleware(),  # the test suite's spec audit only
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.demo = demo  # read by site/routes.py's demo page
    app.state.observer = RequestObserver(app.serve_http, app.routes)
    return app
