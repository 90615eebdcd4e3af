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
        self.max_age = max_age
        self.name = name

    def built(self) -> bytes:
        if self.body is None:
            raise ApiError(503, f"{self.name} is not built; run `make build`")
        return self.body

    def response(
        self,
        request: Request,
        body: bytes | None = None,
        etag: str | None = None,
        max_age: int | None = None,
    ) -> Response:
        """The file, or ``body`` made from it (with its ``etag``), or 304 when the browser's copy
        is current."""
        content = self.built() if body is None else body
        headers = {
            "ETag": etag or self.etag,
            "Cache-Control": f"public, max-age={self.max_age if max_age is None else max_age}",
            "Access-Control-Allow-Origin": "*",
        }
        if request.headers.get("if-none-match") == headers["ETag"]:
            return Response(status_code=304, headers=headers)
        return Response(content, media_type=self.media_type, headers=headers)
