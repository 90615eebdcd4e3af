"""``POST /collect``: read, decode, validate, enrich, and answer once the rows are durable."""

from __future__ import annotations

import time

import anyio
import msgspec
from starlette.requests import Request
from starlette.responses import Response

from collector.brands import BrandCache, host_allowed
from collector.enrich import HitContext, build_click, build_events, clock_offset, page_url_parts
from collector.errors import ApiError
from collector.geo import GeoInfo, GeoResolver
from collector.ids import is_valid_id
from collector.netaddr import client_ip
from collector.sessions import CookielessVisitors, SessionAssigner
from collector.storage.base import Brand, Click, Store
from collector.useragent import parse_user_agent
from collector.wire import Beacon, decode_beacon
from collector.writer import Writer

CORS_HEADERS = {"Access-Control-Allow-Origin": "*"}


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, or 413 as soon as it passes ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise ApiError(413, f"the body is larger than {limit} bytes")
    chunks = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError(413, f"the body is larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def parse_beacon(body: bytes) -> Beacon:
    if not body:
        raise ApiError(400, "the body is empty; send a beacon as JSON (see docs/WIRE.md)")
    try:
        beacon = decode_beacon(body)
    except msgspec.ValidationError as exc:
        raise ApiError(422, f"invalid beacon: {exc}") from None
    except msgspec.DecodeError as exc:
        raise ApiError(400, f"the body is not valid JSON: {exc}") from None
    if not is_valid_id(beacon.p):
        raise ApiError(422, "invalid beacon: `p` must be a 26-character page-session id")
    return beacon


def _origin_host(request: Request) -> str | None:
    origin = request.headers.get("origin")
    if not origin or origin == "null":
        return None
    return page_url_parts(origin)[0]


def _asks_not_to_track(request: Request) -> bool:
    headers = request.headers
    return headers.get("dnt") == "1" or headers.get("sec-gpc") == "1"


class Ingestor:
    """Everything ``/collect`` needs, built once per app."""

    def __init__(
        self,
        store: Store,
        writer: Writer,
        brands: BrandCache,
        geo: GeoResolver,
        trusted_proxies: tuple,
        max_body_bytes: int,
    ) -> None:
        self.store = store
        self.writer = writer
        self.brands = brands
        self.geo = geo
        self.trusted_proxies = trusted_proxies
        self.max_body_bytes = max_body_bytes
        self.sessions = SessionAssigner(store.last_session)
        self.cookieless = CookielessVisitors()
        self._known_domains: dict[tuple[int, str], int] = {}

    async def brand_for(self, site_key: str) -> Brand:
        if self.brands.is_fresh(site_key):
            brand = self.brands.by_site_key(site_key)
        else:
            brand = await anyio.to_thread.run_sync(self.brands.by_site_key, site_key)
        if brand is None:
            raise ApiError(404, "unknown site key", param="k")
        return brand

    async def domain_id(self, brand_id: int, host: str | None) -> int | None:
        if not host:
            return None
        key = (brand_id, host)
        found = self._known_domains.get(key)
        if found is None:
            found = await anyio.to_thread.run_sync(self.store.ensure_domain, brand_id, host)
            self._known_domains[key] = found
        return found

    async def session_for(
        self, brand_id: int, visitor_id: str, proposed: str | None, now_ms: int
    ) -> str:
        if not self.sessions.is_cached(brand_id, visitor_id):
            await anyio.to_thread.run_sync(self.sessions.known, brand_id, visitor_id)
        return self.sessions.assign(brand_id, visitor_id, proposed, now_ms)

    async def collect(self, request: Request) -> Response:
        body = await read_body(request, self.max_body_bytes)
        beacon = parse_beacon(body)
        brand = await self.brand_for(beacon.k)
        host, query = page_url_parts(beacon.u)
        origin_host = _origin_host(request)
        if not host_allowed(host, brand.domains) or (
            origin_host is not None and not host_allowed(origin_host, brand.domains)
        ):
            raise ApiError(403, f"the domain {origin_host or host!r} is not allowed for this site")
        if brand.settings.respect_dnt and _asks_not_to_track(request):
            return Response(status_code=204, headers=CORS_HEADERS)

        now_ms = time.time_ns() // 1_000_000
        ip = client_ip(
            request.client.host if request.client else None,
            request.headers.get("x-forwarded-for"),
            self.trusted_proxies,
        )
        user_agent = request.headers.get("user-agent")
        if brand.settings.cookieless or not beacon.v:
            visitor_id = self.cookieless.visitor_id(brand.id, ip, user_agent)
        else:
            visitor_id = beacon.v
        session_id = await self.session_for(brand.id, visitor_id, beacon.s, now_ms)
        ctx = HitContext(
            brand=brand,
            visitor_id=visitor_id,
            session_id=session_id,
            ip=ip,
            user_agent=user_agent,
            ua=parse_user_agent(user_agent),
            geo=self.geo.lookup(ip) if beacon.n else _NO_GEO,
            now_ms=now_ms,
        )
        offset = clock_offset(beacon, now_ms)
        clicks: list[Click] = []
        if beacon.n:
            created_at = min(min(e.ts for e in beacon.e) + offset, now_ms)
            domain_id = await self.domain_id(brand.id, host)
            clicks.append(build_click(beacon, ctx, host, domain_id, query, created_at))
        await self.writer.submit(clicks, build_events(beacon, ctx, offset))
        return Response(status_code=204, headers=CORS_HEADERS)


_NO_GEO = GeoInfo()
