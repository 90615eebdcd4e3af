"""Service routes: ``/healthz`` (alive), ``/readyz`` and ``/metrics`` (their rows from
``collector/ops/routes.py``), ``/favicon.ico`` and the demo page (``/demo``, ``/demo/...``: the
same page, served only when ``create_app`` is given a :class:`DemoPage`), with the progress of
its sample data at ``/demo/status``."""

from __future__ import annotations

import contextlib
from contextlib import AbstractAsyncContextManager
from importlib import resources
from typing import TYPE_CHECKING, Annotated, Literal

import msgspec
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from collector.http.errors import ApiError
from collector.http.routing import Endpoint, Example, Reply, routes_of
from collector.http.state import runtime
from collector.ops import routes as ops

if TYPE_CHECKING:
    from collector.demo.sample import SampleData
    from collector.runtime import Runtime

STATIC = resources.files("collector") / "static"
HTML = "text/html"

_FAVICON = (
    b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16">'
    b'<circle cx="8" cy="8" r="7" fill="#c8502b"/><circle cx="8" cy="8" r="3" fill="#fff"/></svg>'
)


class DemoPage:
    """The demo landing page, filled in with the demo brand's site key and a read-only key,
    and the brand's sample data, filled in the background while the app runs."""

    def __init__(
        self, brand_id: int, site_key: str, read_key: str, sample: SampleData | None = None
    ) -> None:
        self.sample = sample
        template = (STATIC / "demo.html").read_text()
        self.html = (
            template.replace("{{SITE_KEY}}", site_key)
            .replace("{{BRAND_ID}}", str(brand_id))
            .replace("{{READ_KEY}}", read_key)
        )

    def running(self, runtime: Runtime) -> AbstractAsyncContextManager[None]:
        """Fills the sample data in the background while the block runs (when there is any)."""
        if self.sample is None:
            return contextlib.nullcontext()
        return self.sample.running(runtime)


class Health(msgspec.Struct):
    status: Literal["ok"]
    database: Annotated[str, msgspec.Meta(description="the storage engine", examples=["sqlite"])]


class DemoStatus(msgspec.Struct):
    state: Annotated[
        Literal["none", "waiting", "filling", "done", "skipped", "failed"],
        msgspec.Meta(
            description="none: no sample data; skipped: the brand had it from an earlier start"
        ),
    ]
    done: Annotated[int, msgspec.Meta(description="visits sent so far")]
    total: Annotated[int, msgspec.Meta(description="visits the sample data holds")]


class DemoPath(msgspec.Struct, kw_only=True):
    rest: Annotated[str, msgspec.Meta(description="Any page of the demo site.")]


async def health(request: Request) -> Response:
    database = runtime(request).store.url.split(":")[0]
    return JSONResponse({"status": "ok", "database": database})


async def favicon(request: Request) -> Response:
    return Response(
        _FAVICON, media_type="image/svg+xml", headers={"Cache-Control": "public, max-age=86400"}
    )


async def demo_page(request: Request) -> Response:
    demo: DemoPage | None = request.app.state.demo
    if demo is None:
        raise ApiError(404, "the demo page is only served by `clicktrail demo`")
    return HTMLResponse(demo.html)


async def demo_status(request: Request) -> Response:
    demo: DemoPage | None = request.app.state.demo
    if demo is None:
        raise ApiError(404, "the demo page is only served by `clicktrail demo`")
    if demo.sample is None:
        return JSONResponse({"state": "none", "done": 0, "total": 0})
    status = demo.sample.status
    return JSONResponse({"state": status.state, "done": status.done, "total": status.total})


endpoints = [
    Endpoint(
        "GET",
        "/healthz",
        health,
        summary="Liveness",
        area="Service",
        auth="public",
        replies=(Reply(200, "Up", Health, example=Health("ok", "sqlite")),),
    ),
    *ops.endpoints,  # /readyz, /metrics
    Endpoint(
        "GET",
        "/favicon.ico",
        favicon,
        summary="The icon",
        area="Service",
        auth="public",
        replies=(Reply(200, "An SVG icon", media_type="image/svg+xml"),),
    ),
    Endpoint(
        "GET",
        "/demo",
        demo_page,
        summary="The demo shop (`clicktrail demo` only)",
        area="Service",
        auth="public",
        replies=(Reply(200, "The page", media_type=HTML),),
        errors=(404,),
    ),
    Endpoint(
        "GET",
        "/demo/status",
        demo_status,
        summary="Progress of the demo's sample data (`clicktrail demo` only)",
        area="Service",
        auth="public",
        replies=(
            Reply(200, "How far it got", DemoStatus, example=DemoStatus("filling", 1200, 3000)),
        ),
        errors=(404,),
    ),
    Endpoint(
        "GET",
        "/demo/{rest:path}",
        demo_page,
        summary="A page of the demo shop (`clicktrail demo` only)",
        area="Service",
        auth="public",
        path_params=DemoPath,
        replies=(Reply(200, "The page", media_type=HTML),),
        errors=(404,),
        example=Example(path={"rest": "checkout"}),
    ),
]
routes = routes_of(endpoints)
