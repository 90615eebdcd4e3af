"""The answer recorder for the spec audit: when the environment variable ``CLICKTRAIL_API_AUDIT``
names a file, the app appends a JSON line per answer to it (method, path, the route that matched,
status, content type and encoding, and the body of a JSON answer up to 1 MiB). The test suite
sets it, for its in-process apps and the collector processes it starts, and checks every line
against ``/openapi.json`` (``tests/spec_audit.py``). Unset, the app has no such middleware.

``POST /collect`` skips the middleware stack (``app.Clicktrail``), so it is not recorded.
"""

from __future__ import annotations

import os

import msgspec
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

ENVIRONMENT = "CLICKTRAIL_API_AUDIT"
MAX_BODY = 1 << 20


class Answer(msgspec.Struct, omit_defaults=True, frozen=True):
    method: str
    path: str
    route: str | None  # the matched route's path (as the app declares it), or None
    status: int
    content_type: str = ""
    encoding: str = ""
    body: str | None = None  # a JSON answer's text; None when not JSON or too large


class AuditRecorder:
    """ASGI middleware appending an :class:`Answer` line per HTTP answer to ``path``."""

    def __init__(self, app: ASGIApp, path: str) -> None:
        self.app = app
        self.path = path
        # opened once, appending: one write per line, so lines of several processes never mix
        self._descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start: dict[str, str | int] = {"status": 500, "content_type": ""}
        chunks: list[bytes] = []
        size = 0

        async def recording(message: Message) -> None:
            nonlocal size
            if message["type"] == "http.response.start":
                headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in message["headers"]}
                start["status"] = message["status"]
                start["content_type"] = headers.get("content-type", "")
                start["encoding"] = headers.get("content-encoding", "")
            elif message["type"] == "http.response.body" and "json" in str(start["content_type"]):
                size += len(message.get("body", b""))
                if size <= MAX_BODY:  # past it, the answer is recorded without its body
                    chunks.append(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, recording)
        finally:
            whole = chunks and size <= MAX_BODY
            self._write(scope, start, b"".join(chunks) if whole else None)

    def _write(self, scope: Scope, start: dict[str, str | int], body: bytes | None) -> None:
        route = scope.get("route")
        answer = Answer(
            method=scope["method"],
            path=scope["path"],
            route=getattr(route, "path", None),
            status=int(start["status"]),
            content_type=str(start.get("content_type", "")),
            encoding=str(start.get("encoding", "")),
            body=None if body is None else body.decode("latin-1"),  # bytes as they are
        )
        os.write(self._descriptor, msgspec.json.encode(answer) + b"\n")


def middleware() -> list[Middleware]:
    """The recorder, when ``CLICKTRAIL_API_AUDIT`` names a file; else nothing."""
    path = os.environ.get(ENVIRONMENT)
    return [Middleware(AuditRecorder, path=path)] if path else []
