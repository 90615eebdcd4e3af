"""Request bodies under a size limit: 413 as soon as a body passes it, 400 when the client goes
away before sending all of it.

:func:`read_body` reads a framework request (``/collect/replay``, the brand API);
:func:`receive_body` the raw ASGI messages of ``/collect``, which skips the framework.
:func:`arriving_bytes` says how much a body will hold before it is read.
"""

from __future__ import annotations

from starlette.requests import ClientDisconnect, Request
from starlette.types import Receive

from collector.http.errors import ApiError
from collector.http.params import content_length

_WENT_AWAY = "the client went away before sending the whole body"


def too_large(limit: int) -> ApiError:
    """The 413 of a body over ``limit`` bytes."""
    return ApiError(413, f"the body is larger than {limit} bytes")


def declared_over(declared: str | None, limit: int) -> bool:
    """True when a Content-Length header (ASCII digits only: "²".isdigit() too) passes limit."""
    length = content_length(declared)
    return length is not None and length > limit


def arriving_bytes(request: Request, limit: int) -> int:
    """What the body will hold once read: its Content-Length, or ``limit`` when none is sent
    (a longer body is refused when it passes the limit)."""
    declared = content_length(request.headers.get("content-length"))
    return limit if declared is None else min(declared, limit)


async def read_body(request: Request, limit: int) -> bytes:
    """The body of a framework request, or 413 as soon as it passes ``limit`` bytes."""
    if declared_over(request.headers.get("content-length"), limit):
        raise too_large(limit)
    chunks = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise too_large(limit)
            chunks.append(chunk)
    except ClientDisconnect:
        raise ApiError(400, _WENT_AWAY) from None
    return b"".join(chunks)


async def receive_body(receive: Receive, declared: str | None, limit: int) -> bytes:
    """The body of a raw ASGI request whose Content-Length header is ``declared``, or 413 as
    soon as it passes ``limit`` bytes."""
    if declared_over(declared, limit):
        raise too_large(limit)
    message = await receive()
    body = message.get("body", b"")
    if not message.get("more_body", False):
        if len(body) > limit:
            raise too_large(limit)
        return body
    chunks = [body]
    size = len(body)
    while message.get("more_body", False):
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ApiError(400, _WENT_AWAY)
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)
