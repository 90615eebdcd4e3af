"""``GET /metrics`` (Prometheus text, for an admin API key of any brand or ``--metrics-token``)
and ``GET /readyz``. Their rows join the service routes (``site/routes.py``)."""

from __future__ import annotations

import hmac
from collections import Counter as Tally
from typing import TYPE_CHECKING, Annotated, Literal

import anyio
import msgspec
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from collector.http.auth import key_from_headers
from collector.http.errors import ApiError
from collector.http.routing import Endpoint, Reply
from collector.http.state import runtime
from collector.ops.metrics import METRICS, render
from collector.ops.ready import readiness

if TYPE_CHECKING:
    from collector.runtime import Runtime

PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8"
_UNFINISHED_EXPORTS = ("queued", "running")

Part = Annotated[str, msgspec.Meta(description='"ok", or what is not ready')]


class Readiness(msgspec.Struct):
    status: Literal["ready", "not ready"]
    store: Part
    migrations: Part
    writer: Part


def _check_scraper(request: Request, services: Runtime) -> None:
    """401 without a credential or with a bad one, 403 for a key below admin."""
    credential = key_from_headers(request)
    token = services.settings.metrics_token
    if token and credential and hmac.compare_digest(credential.encode(), token.encode()):
        return
    record = services.keys.verify(credential)
    if record.scope != "admin":
        raise ApiError(403, "/metrics needs an admin API key (of any brand) or --metrics-token")


def _read_gauges(services: Runtime) -> None:
    """The gauges' values now (store reads: runs in a thread)."""
    METRICS.queue.set(services.writer.queue_depth)
    METRICS.inbox_pending.set(services.inbox.pending)
    METRICS.inbox_lag.set(services.enricher.lag_seconds)
    METRICS.enrichment_background.set(int(services.enricher.background))
    METRICS.webhook_backlog.set(services.webhooks.backlog())
    states: Tally[str] = Tally(
        job.status for job in services.store.exports_in(list(_UNFINISHED_EXPORTS))
    )
    for state in _UNFINISHED_EXPORTS:
        METRICS.exports_waiting.set(states[state], (state,))


async def metrics(request: Request) -> Response:
    services = runtime(request)
    _check_scraper(request, services)
    await anyio.to_thread.run_sync(_read_gauges, services)
    return Response(render(METRICS.all), media_type=PROMETHEUS_TEXT)


async def readyz(request: Request) -> Response:
    parts = await readiness(getattr(request.app.state, "runtime", None))
    ready = all(state == "ok" for state in parts.values())
    body = {"status": "ready" if ready else "not ready", **parts}
    return JSONResponse(body, status_code=200 if ready else 503)


_EXAMPLE_METRICS = (
    "# HELP clicktrail_beacons Beacons (POST /collect) stored.\n"
    "# TYPE clicktrail_beacons counter\n"
    "clicktrail_beacons_total 1520\n"
)

endpoints = [
    Endpoint(
        "GET",
        "/metrics",
        metrics,
        summary="Metrics for Prometheus",
        area="Service",
        auth="admin",
        description="The collector's counters, gauges and histograms in the Prometheus text "
        "format (docs/OPERATIONS.md lists them). Totals of the whole collector, every brand "
        "together: an admin API key of any brand, or `--metrics-token` as a bearer token.",
        replies=(Reply(200, "The metrics", media_type="text/plain", example=_EXAMPLE_METRICS),),
        errors=(401, 403),
    ),
    Endpoint(
        "GET",
        "/readyz",
        readyz,
        summary="Readiness",
        area="Service",
        auth="public",
        description="200 when the store answers, its migrations are done and the writer "
        "runs; otherwise 503, the same body naming the part that is not ready.",
        replies=(
            Reply(200, "Ready", Readiness, example=Readiness("ready", "ok", "ok", "ok")),
            Reply(
                503,
                "Not ready",
                Readiness,
                example=Readiness("not ready", "ok", "ok", "stopped"),
            ),
        ),
    ),
]
