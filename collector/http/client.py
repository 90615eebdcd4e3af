"""Who sent a request: the visitor's address behind the collector's trusted proxies, and the
few headers a raw ASGI hot path reads."""

from __future__ import annotations

from collections.abc import Collection

from starlette.requests import Request
from starlette.types import Scope

from collector.enrich.netaddr import IPNetwork, client_ip


def client_ip_of(request: Request, trusted_proxies: tuple[IPNetwork, ...]) -> str | None:
    """The visitor's address of a framework request (X-Forwarded-For only from trusted peers)."""
    peer = request.client.host if request.client else None
    return client_ip(peer, request.headers.get("x-forwarded-for"), trusted_proxies)


def raw_headers(scope: Scope, wanted: Collection[bytes]) -> dict[bytes, str]:
    """The ``wanted`` headers (lower-case names) of a raw ASGI request, decoded, in one pass
    over the list, skipping the framework's request object."""
    found: dict[bytes, str] = {}
    for name, value in scope["headers"]:
        if name in wanted:
            found[name] = value.decode("latin-1")
    return found
