"""The parts of an http(s) URL a pinned request needs."""

from __future__ import annotations

from typing import NamedTuple
from urllib.parse import urlsplit

MAX_URL_LENGTH = 2048


class BadURL(ValueError):
    """The URL cannot be requested: not http(s), no host, credentials in it, too long."""


class Target(NamedTuple):
    scheme: str
    host: str
    port: int
    path: str  # with its query


def parse_target(url: str, max_length: int = MAX_URL_LENGTH) -> Target:
    """The scheme, host, port and path (with query) of an http(s) URL; :class:`BadURL`
    otherwise."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise BadURL(f"malformed URL ({exc})") from None
    if parts.scheme not in ("http", "https"):
        raise BadURL(f"scheme {parts.scheme!r} is not http(s)")
    if not parts.hostname:
        raise BadURL("no host")
    if parts.username is not None or parts.password is not None:
        raise BadURL("credentials in URL")
    if len(url) > max_length:
        raise BadURL("URL too long")
    default = 443 if parts.scheme == "https" else 80
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(parts.scheme, parts.hostname, port or default, path)
