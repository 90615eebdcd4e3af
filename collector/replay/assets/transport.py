"""HTTP on a vetted address for assets: the request target (refused as :class:`_Refused`), the
accepted content types and a size- and time-capped body; and why an asset is refused
(:class:`Refusal`). The pinned connections themselves are :mod:`collector.net`'s."""

from __future__ import annotations

import enum
import http.client
import os
import re
import time
from collections.abc import Callable
from typing import NamedTuple
from urllib.parse import urlsplit

from collector.http.params import content_length
from collector.net import BadURL, Target, parse_target
from collector.replay.assets.css import MAX_URL_LENGTH
from collector.replay.assets.store import _CONTENT_TYPE_RE

FONT_TYPES = frozenset(
    {
        "application/font-woff",
        "application/font-woff2",
        "application/x-font-woff",
        "application/x-font-ttf",
        "application/x-font-otf",
        "application/x-font-opentype",
        "application/vnd.ms-fontobject",
    }
)
_FONT_TYPE_BY_EXTENSION = {
    ".woff2": "font/woff2",
    ".woff": "font/woff",
    ".ttf": "font/ttf",
    ".otf": "font/otf",
    ".eot": "application/vnd.ms-fontobject",
}


class Refusal(enum.Enum):
    """Why an asset is not fetched, in one word (the replay proxy tells its caller)."""

    FAILED = "failed"  # anything else: a bad URL, no address, no answer, an HTTP error, a timeout
    NOT_PUBLIC = "not_public"  # the host resolves to an address assets may not come from
    TOO_LARGE = "too_large"  # the body is over the size limit
    WRONG_TYPE = "wrong_type"  # the content type is not one the caller accepts


class _Refused(Exception):
    """An asset is not fetched: the message says why in detail (for the log), :attr:`refusal`
    in one word."""

    refusal = Refusal.FAILED


class _NotPublic(_Refused):
    """The host resolves to an address assets may not be fetched from."""

    refusal = Refusal.NOT_PUBLIC


class _TooLarge(_Refused):
    """The body is over the size limit."""

    refusal = Refusal.TOO_LARGE


class _WrongType(_Refused):
    """The content type is not one the caller accepts."""

    refusal = Refusal.WRONG_TYPE


Accept = Callable[[str | None, str], tuple[str, str]]


def _target(url: str) -> Target:
    """The parts of an http(s) URL needed for a request; :class:`_Refused` otherwise."""
    try:
        return parse_target(url, MAX_URL_LENGTH)
    except BadURL as exc:
        raise _Refused(str(exc)) from None


def _accepted_type(header: str | None, url: str) -> tuple[str, str]:
    """``(kind, content type to store)`` where kind is ``css`` or ``font``; else refused."""
    media, _, params = (header or "").partition(";")
    media = media.strip().lower()
    if media == "text/css":
        charset = re.search(r"charset=\"?([A-Za-z0-9._-]+)", params)
        return "css", f"text/css; charset={charset.group(1)}" if charset else "text/css"
    if media.startswith("font/") and _CONTENT_TYPE_RE.fullmatch(media):
        return "font", media
    if media in FONT_TYPES:
        return "font", media
    extension = os.path.splitext(urlsplit(url).path.lower())[1]
    if media == "application/octet-stream" and extension in _FONT_TYPE_BY_EXTENSION:
        return "font", _FONT_TYPE_BY_EXTENSION[extension]
    raise _WrongType(f"content type {media or 'missing'!r} is neither CSS nor a font")


def _read_capped(response: http.client.HTTPResponse, max_bytes: int, deadline: float) -> bytes:
    """The body, or :class:`_Refused` past ``max_bytes``, past ``deadline`` or when cut short."""
    declared = content_length(response.getheader("Content-Length"))
    if declared is not None and declared > max_bytes:
        raise _TooLarge(f"Content-Length {declared} over {max_bytes} bytes")
    chunks: list[bytes] = []
    size = 0
    while chunk := response.read1(65536):
        size += len(chunk)
        if size > max_bytes:
            raise _TooLarge(f"body over {max_bytes} bytes")
        if time.monotonic() > deadline:
            raise _Refused("timed out reading the body")
        chunks.append(chunk)
    if declared is not None and size != declared:
        raise _Refused("body shorter than its Content-Length")
    return b"".join(chunks)


class _Download(NamedTuple):
    url: str  # after redirects
    kind: str  # css | font, or what the caller's Accept function named
    content_type: str
    body: bytes
