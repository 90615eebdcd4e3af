"""Every HTTP request timed once: its line in the request log and its metrics, keyed by the
route's template (``/api/brands/{brand}/clicks``), never the raw path.

:class:`RequestObserver` wraps the whole app, fast paths included (``POST /collect`` and the
short-link redirects skip the router: their templates are named here). The brand comes from
the path (``{brand}``) or from the beacon, which the ingestors note in the scope
(:func:`note_brand`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from typing import Protocol

from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from collector.http.routing import spec_path
from collector.ops.logging import log_request
from collector.ops.metrics import METRICS

log = logging.getLogger("clicktrail")

_BRAND = "clicktrail.brand"  # the scope key an ingestor notes the beacon's brand under
_FAST_PATHS = {"/g/": "/g/{code}", "/q/": "/q/{code}"}
_METHODS = frozenset(("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"))


def note_brand(scope: Scope, brand_id: int) -> None:
    """The request's brand, for its log line (``/collect`` and ``/collect/replay`` know it
    only once the beacon is read)."""
    scope[_BRAND] = brand_id


class RouteTemplates:
    """A matched route's template, from the endpoint and path parameters the router left in
    the scope."""

    def __init__(self, routes: Iterable[BaseRoute]) -> None:
        self._templates: dict[tuple[object, frozenset[str]], str] = {}
        for route in routes:
            if isinstance(route, Route):
                key = (route.endpoint, frozenset(route.param_convertors))
                self._templates.setdefault(key, spec_path(route.path))

    def of(self, scope: Scope, status: int) -> str:
        endpoint = scope.get("endpoint")
        if endpoint is not None:
            params = frozenset(scope.get("path_params") or ())
            found = self._templates.get((endpoint, params))
            if found is not None:
                return found
        path: str = scope["path"]
        if path == "/collect":
            return path
        fast = _FAST_PATHS.get(path[:3])
        if fast is not None:
            return fast
        return "unmatched" if status in (404, 405) else "other"


def _brand_of(scope: Scope) -> int | None:
    """The beacon's brand, else the path's ``{brand}`` when it is a number."""
    brand = scope.get(_BRAND)
    if brand is None:
        brand = (scope.get("path_params") or {}).get("brand")
        # ASCII digits only: str.isdigit() is also true of '²', which int() refuses
        if isinstance(brand, str) and brand.isascii() and brand.isdigit() and len(brand) <= 12:
            return int(brand)
    return brand if isinstance(brand, int) else None


# Answered beacons are counted (clicktrail_beacons, clicktrail_http_requests), not logged a line
# each: at thousands a second the lines would cost the ingest path a tenth of its time and say
# nothing the counters do not. A refused beacon is still logged.
_QUIET_ROUTES = frozenset(("/collect", "/collect/replay"))
_BEACON_ROUTE = "/collect"


class BeaconHandler(Protocol):
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> int: ...


class RequestObserver:
    """Times ``app`` for every HTTP request: metrics, then one log line."""

    def __init__(self, app: ASGIApp, routes: Iterable[BaseRoute]) -> None:
        self.app = app
        self._routes = list(routes)
        self._templates: RouteTemplates | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        status = 500  # unless the app answers: an exception escaped it

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            self._observe(scope, status, time.perf_counter() - started)

    async def beacon(
        self, ingestor: BeaconHandler, scope: Scope, receive: Receive, send: Send
    ) -> None:
        """``POST /collect``, timed like any request, but without wrapping ``send``: the ingestor
        returns the status it answered, and the route is known."""
        started = time.perf_counter()
        status = 500  # unless the ingestor answers: an exception escaped it
        try:
            status = await ingestor(scope, receive, send)
        finally:
            try:
                _record(scope, _BEACON_ROUTE, "POST", status, time.perf_counter() - started)
            except Exception:
                log.exception("a beacon could not be observed")

    def _observe(self, scope: Scope, status: int, seconds: float) -> None:
        """The request's metrics and log line; a failure here is logged, never the request's."""
        try:
            if self._templates is None:
                self._templates = RouteTemplates(self._routes)
            route = self._templates.of(scope, status)
            method = scope["method"] if scope["method"] in _METHODS else "other"
            _record(scope, route, method, status, seconds)
        except Exception:
            log.exception("a request could not be observed")


def _record(scope: Scope, route: str, method: str, status: int, seconds: float) -> None:
    """A request's metrics, and its log line unless it is an answered beacon."""
    METRICS.request(route, method, status, seconds)
    if status >= 300 or route not in _QUIET_ROUTES:
        log_request(method, route, status, seconds, _brand_of(scope))
