"""``/openapi.json`` and ``/docs``: the OpenAPI 3.1 document generated from the route table
(``endpoints.py``, ``spec.py``), and the page rendered from it (``docs_page.py``)."""

from __future__ import annotations

import msgspec
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from collector.http.docs_page import CSP, DocsPage
from collector.http.endpoints import AREAS, ENDPOINTS
from collector.http.routing import Endpoint, Reply, routes_of
from collector.http.schema import OpenObject
from collector.http.spec import build_spec

INFO = {
    "title": "Clicktrail API",
    "version": "0.1.0",
    "description": "Self-hosted click tracking and session replay. The API's routes sit under "
    "`/api/brands/{brand}/` and take a key (see Authentication); field names and nesting "
    "follow the seed's API, and what Clicktrail adds comes after the seed's fields. Errors "
    'always have the shape `{"error": {"status", "code", "message", "param"?}}`.',
}
DOCS_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


async def openapi_json(request: Request) -> Response:
    return Response(SPEC_JSON, media_type="application/json")


async def docs_page(request: Request) -> Response:
    return HTMLResponse(DOCS.render(str(request.base_url)), headers=DOCS_HEADERS)


endpoints = [
    Endpoint(
        "GET",
        "/openapi.json",
        openapi_json,
        summary="This API as an OpenAPI 3.1 document",
        area="Service",
        auth="public",
        description="Generated from the route table and the types the handlers answer.",
        replies=(Reply(200, "The document", OpenObject),),
    ),
    Endpoint(
        "GET",
        "/docs",
        docs_page,
        summary="This API as a page to read",
        area="Service",
        auth="public",
        replies=(Reply(200, "The page", media_type="text/html"),),
    ),
]

SPEC = build_spec((*ENDPOINTS, *endpoints), AREAS, INFO)
SPEC_JSON = msgspec.json.encode(SPEC)
DOCS = DocsPage(SPEC)
routes = routes_of(endpoints)
