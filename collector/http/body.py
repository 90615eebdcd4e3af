"""Request bodies under a size limit: 413 as soon as a body passes it, 400 when the client goes
away before sending all of it.

:func:`read_body` reads a framework request (``/collect/replay``, the brand API), and
:func:`decode_body` decodes one as a struct (the links and conversions APIs);
:func:`receive_body` the raw ASGI messages of ``/collect``, which skips the framework.
:func:`arriving_bytes` says how much a body will hold before it is read.
"""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec
from starlette.requests import ClientDisconnect, Request
from starlette.types import Receive

from collector.http.errors import ApiError
from collector.http.params import content_length

S = TypeVar("S", bound=msgspec.Struct)

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


def field_of(exc: msgspec.ValidationError) -> str | None:
    """The top-level field a msgspec error names (``... - at `$.amount```, or ``missing
    required field `clickId```), if any: the error's ``param``."""
    text = str(exc)
    if "at `$." in text:
        return text.split("at `$.", 1)[1].split("`", 1)[0].split("[", 1)[0] or None
    for lead in ("missing required field `", "unknown field `"):
        named = text.split(lead, 1)
        if len(named) == 2:
            return named[1].split("`", 1)[0][:64] or None
    return None


def query_struct(request: Request, struct: type[S]) -> S:
    """The query string as ``struct`` (each parameter's last value); 422 naming the parameter
    that does not fit."""
    try:
        return msgspec.convert(dict(request.query_params), struct, strict=False)
    except msgspec.ValidationError as exc:
        raise ApiError(422, f"invalid query: {exc}", param=field_of(exc)) from None


async def decode_body(
    request: Request, decoder: msgspec.json.Decoder, what: str, limit: int
) -> Any:
    """The body as ``decoder``'s type: 413 past ``limit`` bytes, 400 when it is empty or not
    JSON, 422 naming the field when it does not fit (``what`` names the body in messages)."""
    body = await read_body(request, limit)
    if not body:
        raise ApiError(400, f"the body is empty; send the {what} as a JSON object")
    try:
        return decoder.decode(body)
    except msgspec.ValidationError as exc:
        raise ApiError(422, f"invalid {what}: {exc}", param=field_of(exc)) from None
    except msgspec.DecodeError as exc:
        raise ApiError(400, f"the body is not valid JSON: {exc}") from None
