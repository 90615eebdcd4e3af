"""``GET /replay-proxy/{brand}/{expires}/{signature}?u=TARGET``: the HTTP side of the replay
proxy (:mod:`collector.replay.proxy`, which decides what is served).

Bodies are served with ``nosniff`` and a sandboxing CSP, private to the viewer's cache. A link
the collector did not sign is 403 and a missing asset 404 (domain errors, answered by
:mod:`collector.http.errors`); an asset the fetcher refuses is answered with the status of its
refusal (:data:`REFUSAL_STATUS`).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from collector.http.errors import ApiError
from collector.http.routing import Endpoint, Reply, routes_of
from collector.http.state import runtime
from collector.replay.assets.proxy import PROXY_PREFIX
from collector.replay.assets.transport import Refusal
from collector.replay.proxy import AssetRefused
from collector.replay.schema import ProxyPath, ProxyQuery

PROXY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    # An SVG or anything else opened on its own can run nothing on the collector's origin.
    "Content-Security-Policy": "sandbox; default-src 'none'; style-src 'unsafe-inline'",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "private, max-age=86400",
}
REFUSAL_STATUS = {
    Refusal.NOT_PUBLIC: 403,
    Refusal.TOO_LARGE: 413,
    Refusal.WRONG_TYPE: 415,
    Refusal.FAILED: 502,
}


async def serve_proxied(request: Request) -> Response:
    """The body behind a signed link, with :data:`PROXY_HEADERS`."""
    params = request.path_params
    try:
        content_type, body = await runtime(request).replay_proxy.serve(
            params["brand"],
            params["expires"],
            params["signature"],
            request.query_params.get("u", ""),
        )
    except AssetRefused as refused:
        raise ApiError(REFUSAL_STATUS[refused.refusal], refused.message) from None
    return Response(body, media_type=content_type, headers=PROXY_HEADERS)


endpoints = [
    Endpoint(
        "GET",
        PROXY_PREFIX + "{brand:int}/{expires:int}/{signature}",
        serve_proxied,
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
]
routes = routes_of(endpoints)
