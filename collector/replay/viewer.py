"""The replay viewer: ``GET /replay/{id}`` serves the page, ``GET /replay-viewer/{file}`` its
script and stylesheet (built by ``replay-viewer/`` into ``collector/static/replay-viewer/``).

The page is the same for every replay (the script reads the id from the path), so it and the
built files are read once, when its endpoints are made. The page asks for the built files with
``?v=VERSION`` (a hash of both), so a browser can keep them for a year and still picks up a new
build at once.

Answers in the JSON error shape: a replay id that is not a 26-character id is 404 (no page for
a link that cannot work); a missing or unknown file under ``/replay-viewer/`` is 404; the page
and its files are 503 while the viewer is not built.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from importlib import resources
from importlib.resources.abc import Traversable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from collector.http.errors import ApiError, error_response
from collector.http.routing import Endpoint, Example, Reply, routes_of
from collector.ids import is_valid_id
from collector.replay.examples import REPLAY_ID
from collector.replay.schema import ViewerFilePath, ViewerFileQuery, ViewerPath

STATIC = resources.files("collector") / "static"

# The replayed page is rebuilt in an about:blank iframe, which inherits this policy. It needs
# inline styles (rrweb writes <style> elements and style attributes). Everything the recorded
# page loaded comes from the collector: the replay stream is rewritten so that images, fonts,
# stylesheets and media point at stored copies or the signed proxy
# (collector/replay/proxy_routes.py), and this policy makes a reference the rewriting missed fail
# closed instead of reaching the recorded site. Scripts: ours only (the iframe is sandboxed
# without allow-scripts anyway).
CSP = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "media-src 'self' data: blob:",
        "connect-src 'self'",
        "frame-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'self'",  # the dashboard's session page embeds it (issue 12)
        "object-src 'none'",
    ]
)

PAGE_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "SAMEORIGIN",
    "Cache-Control": "no-cache",
}

_MEDIA_TYPES = {
    "viewer.js": "application/javascript; charset=utf-8",
    "viewer.css": "text/css; charset=utf-8",
}
_NOT_BUILT = "the replay viewer is not built; run `make build`"
_YEAR = 365 * 24 * 3600


class _Built:
    """One built file, held in memory with its ETag."""

    def __init__(self, body: bytes, media_type: str) -> None:
        self.body = body
        self.media_type = media_type
        self.etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'


def _read(directory: Traversable) -> dict[str, _Built]:
    files = {}
    for name, media_type in _MEDIA_TYPES.items():
        path = directory / name
        if path.is_file():
            files[name] = _Built(path.read_bytes(), media_type)
    return files


class Viewer:
    """The page and the built files, read once from ``static`` (default: the package's)."""

    def __init__(self, static: Traversable = STATIC) -> None:
        self.files: Mapping[str, _Built] = _read(static / "replay-viewer")
        digest = hashlib.sha256()
        for name in sorted(self.files):
            digest.update(self.files[name].body)
        self.version = digest.hexdigest()[:12]
        template = (static / "viewer.html").read_text()
        self.html = template.replace("{{VERSION}}", self.version).encode()

    @property
    def built(self) -> bool:
        return len(self.files) == len(_MEDIA_TYPES)

    async def page(self, request: Request) -> Response:
        replay_id = request.path_params["replay_id"]
        if not is_valid_id(replay_id):
            return error_response(
                ApiError(404, f"no replay {replay_id!r}: a replay id is 26 lower-case characters")
            )
        if not self.built:
            return error_response(ApiError(503, _NOT_BUILT))
        return Response(self.html, media_type="text/html; charset=utf-8", headers=PAGE_HEADERS)

    async def asset(self, request: Request) -> Response:
        name = request.path_params["file"]
        if name not in _MEDIA_TYPES:
            return error_response(ApiError(404, f"no such path: {request.url.path}"))
        built = self.files.get(name)
        if built is None:
            return error_response(ApiError(503, _NOT_BUILT))
        fresh = request.query_params.get("v") == self.version
        headers = {
            "ETag": built.etag,
            "Cache-Control": f"public, max-age={_YEAR}, immutable" if fresh else "no-cache",
            "X-Content-Type-Options": "nosniff",
        }
        if request.headers.get("if-none-match") == built.etag:
            return Response(status_code=304, headers=headers)
        return Response(built.body, media_type=built.media_type, headers=headers)


def make_endpoints(viewer: Viewer) -> list[Endpoint]:
    """The viewer's rows of the route table, served by ``viewer``."""
    return [
        Endpoint(
            "GET",
            "/replay/{replay_id}",
            viewer.page,
            summary="The replay viewer page",
            area="Replay viewer",
            auth="public",
            description="The page reads a share token from its URL fragment (`#share=TOKEN`), or "
            "asks for an API key (kept in the tab's sessionStorage only).",
            path_params=ViewerPath,
            replies=(Reply(200, "The page", media_type="text/html"),),
            errors=(404, 503),
            example=Example(path={"replay_id": REPLAY_ID}),
        ),
        Endpoint(
            "GET",
            "/replay-viewer/{file}",
            viewer.asset,
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
    ]


def make_routes(static: Traversable = STATIC) -> list[Route]:
    return routes_of(make_endpoints(Viewer(static)))


endpoints = make_endpoints(Viewer())
routes = routes_of(endpoints)
