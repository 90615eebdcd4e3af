"""Where a request comes from, for the dashboard's cookie: is it https, is it same-origin.

A change made with the session cookie must come from the dashboard's own pages: a
``Sec-Fetch-Site`` other than ``same-origin`` (or ``none``, typed by the user) is refused, and
so is an ``Origin`` whose host is not the collector's (the request's ``Host``, or the host of
``--public-url``). The cookie is Secure when the request is https: its own scheme, or
``X-Forwarded-Proto: https`` from a trusted proxy, or a ``--public-url`` that is https.
"""

from __future__ import annotations

import hmac
import ipaddress
from functools import lru_cache
from urllib.parse import urlsplit

from starlette.requests import Request

from collector.config import Settings
from collector.enrich.netaddr import IPNetwork, client_ip, parse_trusted_proxies

_SAFE_SITES = ("same-origin", "none")


@lru_cache(maxsize=8)
def trusted_networks(spec: str) -> tuple[IPNetwork, ...]:
    return parse_trusted_proxies(spec)


def from_trusted_proxy(request: Request, settings: Settings) -> bool:
    """Whether the TCP peer is one of ``--trusted-proxies`` (which may set X-Forwarded-*)."""
    networks = trusted_networks(settings.trusted_proxies)
    if not networks or request.client is None:
        return False
    try:
        peer = ipaddress.ip_address(request.client.host)
    except ValueError:
        return False
    if isinstance(peer, ipaddress.IPv6Address) and peer.ipv4_mapped:
        peer = peer.ipv4_mapped
    return any(peer in network for network in networks)


def client_address(request: Request, settings: Settings) -> str | None:
    """The visitor's address (X-Forwarded-For only from trusted proxies)."""
    peer = request.client.host if request.client else None
    forwarded = request.headers.get("x-forwarded-for")
    return client_ip(peer, forwarded, trusted_networks(settings.trusted_proxies))


def is_https(request: Request, settings: Settings) -> bool:
    if request.url.scheme == "https" or settings.public_url.lower().startswith("https://"):
        return True
    proto = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return proto == "https" and from_trusted_proxy(request, settings)


def _own_hosts(request: Request, settings: Settings) -> set[str]:
    hosts = {request.headers.get("host", "").lower()}
    if settings.public_url:
        hosts.add(urlsplit(settings.public_url).netloc.lower())
    if from_trusted_proxy(request, settings):
        hosts.add(request.headers.get("x-forwarded-host", "").split(",")[0].strip().lower())
    hosts.discard("")
    return hosts


def cross_site_problem(request: Request, settings: Settings) -> str | None:
    """Why a change may not be made by this request with the cookie, or None."""
    site = request.headers.get("sec-fetch-site")
    if site is not None and site.lower() not in _SAFE_SITES:
        return f"a {site[:20]} request may not change anything here (Sec-Fetch-Site)"
    origin = request.headers.get("origin")
    if origin is None:
        return None
    try:
        host = urlsplit(origin).netloc.lower()
    except ValueError:
        host = ""
    if not host or host not in _own_hosts(request, settings):
        return f"a request from {origin[:100]!r} may not change anything here (Origin)"
    return None


def tokens_match(given: str | None, expected: str) -> bool:
    """Constant-time comparison of a CSRF token sent back with the one expected."""
    return bool(given) and hmac.compare_digest(str(given).encode(), expected.encode())
