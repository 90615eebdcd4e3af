"""Built files (``make build``) served from memory with an ETag."""

from __future__ import annotations

import hashlib
from importlib import resources

from starlette.requests import Request
from starlette.responses import Response

from collector.http.errors import ApiError

STATIC = resources.files("collector") / "static"


class StaticAsset:
    """A built file served from memory with an ETag; read once, when made."""

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
