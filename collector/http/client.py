"""Who sent a request: the visitor's address behind the collector's trusted proxies."""

from __future__ import annotations

from starlette.requests import Request

from collector.enrich.netaddr import IPNetwork, client_ip


def client_ip_of(request: Request, trusted_proxies: tuple[IPNetwork, ...]) -> str | None:
    """The visitor's address of a framework request (X-Forwarded-For only from trusted peers)."""
    peer = request.client.host if request.client else None
    return client_ip(peer, request.headers.get("x-forwarded-for"), trusted_proxies)
