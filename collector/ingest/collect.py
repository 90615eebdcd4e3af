"""``POST /collect``: read, decode and check a beacon, answer once it is durable in the inbox;
enrich it behind the inbox (:meth:`Ingestor.enrich`, run by :mod:`collector.inbox.enricher`).

This is the hottest path of Clicktrail, so it is a plain ASGI callable: it reads the few
headers it needs in one pass over the raw list and skips the framework's request and response
objects. Everything that can be done once (brand look-ups, domain ids, user-agent parses, geo
look-ups, session state) is remembered between beacons. A refused beacon is answered in the
JSON error shape of :mod:`collector.http.errors`, domain errors by their kind's status, as the
framework's handlers answer them everywhere else.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, NamedTuple, Protocol, cast

import anyio
import msgspec
from starlette.types import Receive, Scope, Send

from collector.brands.cache import BrandCache, host_allowed
from collector.enrich.click import (
    HitContext,
    build_click,
    build_events,
    clock_offset,
    page_url_parts,
)
from collector.enrich.geo import GeoInfo, GeoResolver
from collector.enrich.netaddr import IPNetwork, client_ip
from collector.enrich.useragent import parse_user_agent
from collector.errors import DomainError, Forbidden, Invalid, Malformed, NotFound
from collector.http.body import receive_body
from collector.http.client import raw_headers
from collector.http.errors import ApiError, from_domain, send_error
from collector.inbox.log import InboxLog, InboxRecord
from collector.ingest.identity import LateIdentities
from collector.ingest.sessions import SESSION_TIMEOUT_MS, CookielessVisitors, SessionAssigner
from collector.ingest.wire import MAX_DATA_DEPTH, Beacon, beacon_problem, decode_beacon
from collector.ingest.writer import Writer
from collector.jsonbounds import decode_error_text
from collector.links.visits import LinkVisit, RecentLinkClicks, same_browser
from collector.ops.metrics import METRICS
from collector.ops.observe import note_brand
from collector.ratelimit.budgets import Budgets
from collector.storage.base import Brand, Click, Event, Store

log = logging.getLogger("clicktrail.ingest")

CORS_HEADERS = {"Access-Control-Allow-Origin": "*"}
_NO_CONTENT = {
    "type": "http.response.start",
    "status": 204,
    "headers": [(b"access-control-allow-origin", b"*")],
}
_EMPTY_BODY = {"type": "http.response.body", "body": b""}
_NO_GEO = GeoInfo()
_NO_STARTS: frozenset[str] = frozenset()
_WANTED_HEADERS = {
    b"content-length",
    b"user-agent",
    b"accept-language",
    b"origin",
    b"x-forwarded-for",
    b"dnt",
    b"sec-gpc",
}


def parse_beacon(body: bytes) -> Beacon:
    """A beacon that may be stored whole; :class:`~collector.errors.Malformed` when the body
    cannot be read, :class:`~collector.errors.Invalid` naming what is wrong with it."""
    if not body:
        raise Malformed("the body is empty; send a beacon as JSON (see docs/WIRE.md)")
    try:
        beacon = decode_beacon(body)
    except msgspec.ValidationError as exc:
        raise Invalid(f"invalid beacon: {exc}") from None
    except msgspec.DecodeError as exc:
        raise Malformed(f"the body is not valid JSON: {decode_error_text(body, exc)}") from None
    except RecursionError:
        raise Invalid(
            f"invalid beacon: the JSON nests too deep (`d` may nest {MAX_DATA_DEPTH} levels)"
        ) from None
    problem = beacon_problem(beacon)
    if problem is not None:
        path, what = problem
        raise Invalid(f"invalid beacon: `{path}` {what}", param=path)
    return beacon


def _origin_host(origin: str | None) -> str | None:
    if not origin or origin == "null":
        return None
    return page_url_parts(origin)[0]


def check_page_origin(brand: Brand, page_host: str | None, origin: str | None) -> None:
    """:class:`~collector.errors.Forbidden` unless the page's host, and the Origin header when
    sent, are the brand's domains."""
    origin_host = _origin_host(origin)
    if not host_allowed(page_host, brand.domains) or (
        origin_host is not None and not host_allowed(origin_host, brand.domains)
    ):
        raise Forbidden(f"the domain {origin_host or page_host!r} is not allowed for this site")


def wall_clock_ms() -> int:
    """The current time in ms since the epoch: the ingest path's clock."""
    return time.time_ns() // 1_000_000


async def _send_error(send: Send, error: ApiError) -> int:
    """The JSON error shape (:func:`~collector.http.errors.send_error`), counted as refused;
    returns its status."""
    METRICS.beacon_refused(error.status)
    await send_error(send, error)
    return error.status


class Enriched(NamedTuple):
    """The rows of one beacon, and the ids of its clicks that opened their session."""

    clicks: list[Click]
    events: list[Event]
    session_starts: frozenset[str]


class Placement(NamedTuple):
    """Where a beacon's hit belongs: its visitor and session, whether it opened that session,
    and the short link it continues (:meth:`Ingestor.place`)."""

    visitor_id: str
    session_id: str
    opened: bool
    link_id: str | None


class Head(Protocol):
    """The fields of a beacon that place it (a :class:`Beacon` or a :class:`BeaconHead`)."""

    @property
    def v(self) -> str | None: ...
    @property
    def s(self) -> str | None: ...
    @property
    def c(self) -> str | None: ...


class Ingestor:
    """Everything ``/collect`` needs, built once by the :class:`~collector.runtime.Runtime`.

    ``clock`` gives the time a hit is stored at (ms): the wall clock, except for the demo's
    sample data (:mod:`collector.demo`), which replays 30 days of traffic through this path.
    The short-link redirector and the replay collector built on an ingestor read it too."""

    def __init__(
        self,
        store: Store,
        writer: Writer,
        brands: BrandCache,
        geo: GeoResolver,
        trusted_proxies: tuple[IPNetwork, ...],
        max_body_bytes: int,
        clock: Callable[[], int] = wall_clock_ms,
        budgets: Budgets | None = None,
        inbox: InboxLog | None = None,
    ) -> None:
        self.store = store
        self._inbox = inbox
        self.writer = writer
        self.brands = brands
        self.geo = geo
        self.trusted_proxies = trusted_proxies
        self.max_body_bytes = max_body_bytes
        self.clock = clock
        # A local engine (SQLite) has one writing process, this one, and answers a keyed read in
        # microseconds: cheaper inline than a thread hop.
        self._inline_reads = bool(getattr(store, "local_reads", False))
        self.sessions = SessionAssigner(
            store.last_session, sole_writer=self._inline_reads, now_ms=clock()
        )
        self.cookieless = CookielessVisitors(lambda: clock() / 1000)
        self.identities = LateIdentities()
        # Short-link clicks of this process, for the landing pages that follow them.
        self.link_clicks = RecentLinkClicks()
        self.budgets = budgets or Budgets()
        self._known_domains: dict[tuple[int, str], int] = {}

    @property
    def inbox(self) -> InboxLog:
        """Where the door appends beacons (set by the runtime before it serves)."""
        if self._inbox is None:
            raise RuntimeError("the ingestor has no inbox")
        return self._inbox

    @inbox.setter
    def inbox(self, inbox: InboxLog) -> None:
        self._inbox = inbox

    async def blocking(self, function: Any, *args: Any) -> Any:
        if self._inline_reads:
            return function(*args)
        return await anyio.to_thread.run_sync(function, *args)

    async def brand_for(self, site_key: str) -> Brand:
        """The brand of ``site_key``; :class:`~collector.errors.NotFound` (``k``) if none."""
        if self.brands.is_fresh(site_key):
            brand = self.brands.by_site_key(site_key)
        else:
            brand = await self.blocking(self.brands.by_site_key, site_key)
        if brand is None:
            raise NotFound("unknown site key", param="k")
        return brand

    async def domain_id(self, brand_id: int, host: str | None) -> int | None:
        if not host:
            return None
        key = (brand_id, host)
        found = self._known_domains.get(key)
        if found is None:
            found = await self.blocking(self.store.ensure_domain, brand_id, host)
            self._known_domains[key] = found
        return found

    async def open_session(
        self, brand_id: int, visitor_id: str, proposed: str | None, now_ms: int
    ) -> tuple[str, bool]:
        """(the hit's session, whether the hit opened it: not the visitor's current one)."""
        known = self.sessions.cached(brand_id, visitor_id, now_ms)
        if known is False:
            known = await self.blocking(self.sessions.stored, brand_id, visitor_id)
        session_id = self.sessions.assign(brand_id, visitor_id, proposed, now_ms, known)
        return session_id, known is None or known[0] != session_id

    async def page_session(
        self,
        brand: Brand,
        visitor_id: str,
        proposed: str | None,
        visit: LinkVisit | None,
        ip: str | None,
        user_agent: str | None,
        now_ms: int,
    ) -> tuple[str, str, bool]:
        """(visitor, session, whether the hit opened it) of a page's hit: a page view that
        continues a short-link click's ``visit`` (named by the ``c`` of a beacon or a replay
        chunk) takes that click's visitor and session."""
        if visit is not None and await self.joins_link_session(
            visit, brand, ip, user_agent, now_ms
        ):
            visitor_id, proposed = visit.visitor_id, None
        session_id, opened = await self.open_session(brand.id, visitor_id, proposed, now_ms)
        return visitor_id, session_id, opened

    async def link_visit(self, brand_id: int, click_id: str | None) -> LinkVisit | None:
        """The short-link click a landing page's beacon names (``c``), if the brand has it."""
        if click_id is None:
            return None
        visit = self.link_clicks.get(brand_id, click_id)
        if visit is not None:
            return visit
        click = await self.blocking(self.store.get_click, brand_id, click_id)
        if click is None or click.trigger not in ("link", "qr"):
            return None
        visit = LinkVisit.of(click)
        self.link_clicks.remember(visit)
        return visit

    async def joins_link_session(
        self, visit: LinkVisit, brand: Brand, ip: str | None, user_agent: str | None, now_ms: int
    ) -> bool:
        """True when a page view continues the link click's session: the same browser could
        have made the click, and that session was active in the last 30 minutes."""
        if visit.session_over or not same_browser(visit, ip, user_agent, brand.settings.ip_mode):
            return False
        known = self.sessions.cached(brand.id, visit.visitor_id, now_ms)
        if known is False:
            known = await self.blocking(self.sessions.stored, brand.id, visit.visitor_id)
        if known is None:
            active = now_ms - visit.created_at <= SESSION_TIMEOUT_MS
        else:
            active = known[0] == visit.session_id and now_ms - known[1] <= SESSION_TIMEOUT_MS
        if not active:
            self.link_clicks.end_session(visit)
        return active

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> int:
        """The ASGI endpoint: 204 once stored, or the JSON error shape (500 only for an error
        that is neither an :class:`ApiError` nor a domain error). Returns the status sent."""
        try:
            await self.collect(scope, receive)
        except ApiError as error:
            return await _send_error(send, error)
        except DomainError as error:
            return await _send_error(send, from_domain(error))
        except Exception:
            log.exception("a beacon could not be stored")
            return await _send_error(send, ApiError(500, "internal error; see the collector log"))
        await send(_NO_CONTENT)
        await send(_EMPTY_BODY)
        return 204

    async def collect(self, scope: Scope, receive: Receive) -> None:
        """The door: read and check one beacon and append it to the inbox; returns once it is
        durable there (or at once when the brand honours the visitor's DNT). Enrichment
        happens behind the inbox (:meth:`enrich`)."""
        headers = raw_headers(scope, _WANTED_HEADERS)
        body = await receive_body(receive, headers.get(b"content-length"), self.max_body_bytes)
        beacon = parse_beacon(body)
        brand = await self.brand_for(beacon.k)
        note_brand(scope, brand.id)
        check_page_origin(brand, page_url_parts(beacon.u)[0], headers.get(b"origin"))
        if brand.settings.respect_dnt and (
            headers.get(b"dnt") == "1" or headers.get(b"sec-gpc") == "1"
        ):
            return
        peer = scope.get("client")
        ip = client_ip(
            peer[0] if peer else None, headers.get(b"x-forwarded-for"), self.trusted_proxies
        )
        self.budgets.check_ingest(brand, ip)  # 429 past the brand's budgets, nothing stored
        await self.inbox.append_row(
            (self.clock(), ip, headers.get(b"user-agent"), headers.get(b"accept-language"), body)
        )
        METRICS.beacon_stored(len(beacon.e))

    async def enrich(self, record: InboxRecord) -> Enriched | None:
        """The rows of one answered beacon (``None`` when its brand is gone): sessions, geo,
        user agent, referrer, bots, as at the time it was received."""
        beacon = decode_beacon(record.body)  # checked at the door
        brand = await self.enriching_brand(beacon.k)
        if brand is None:
            return None
        placement = await self.place(record, brand, beacon)
        return await self.build(record, beacon, brand, placement)

    async def enriching_brand(self, site_key: str) -> Brand | None:
        """The brand of a beacon the door took (``None`` when it is gone since)."""
        if self.brands.is_fresh(site_key):
            return self.brands.by_site_key(site_key)
        return cast("Brand | None", await self.blocking(self.brands.by_site_key, site_key))

    async def place(self, record: InboxRecord, brand: Brand, head: Head) -> Placement:
        """The visitor and session of a beacon's hit (the first half of :meth:`enrich`: it
        reads and moves this process's session state, so it runs where the door runs)."""
        ip, user_agent = record.ip, record.user_agent
        if brand.settings.cookieless or not head.v:
            visitor_id = self.cookieless.visitor_id(brand.id, ip, user_agent)
        else:
            visitor_id = head.v
        visit = await self.link_visit(brand.id, head.c)
        visitor_id, session_id, opened = await self.page_session(
            brand, visitor_id, head.s, visit, ip, user_agent, record.received_at
        )
        link_id = visit.link_id if visit is not None else None
        return Placement(visitor_id, session_id, opened, link_id)

    async def build(
        self, record: InboxRecord, beacon: Beacon, brand: Brand, placement: Placement
    ) -> Enriched:
        """The rows of a placed beacon (the second half of :meth:`enrich`: geo, user agent,
        referrer, bots; it may run in an enrichment process of its own)."""
        now_ms, ip, user_agent = record.received_at, record.ip, record.user_agent
        ctx = HitContext(
            brand=brand,
            visitor_id=placement.visitor_id,
            session_id=placement.session_id,
            ip=ip,
            user_agent=user_agent,
            ua=parse_user_agent(user_agent),
            geo=self.geo.lookup(ip) if beacon.n else _NO_GEO,
            now_ms=now_ms,
            accept_language=record.accept_language,
        )
        offset = clock_offset(beacon, now_ms)
        clicks: list[Click] = []
        if beacon.n:
            created_at = min(min(e.ts for e in beacon.e) + offset, now_ms)
            domain_id = await self.domain_id(brand.id, page_url_parts(beacon.u)[0])
            clicks.append(build_click(beacon, ctx, domain_id, created_at, placement.link_id))
        events = build_events(beacon, ctx, offset)
        self.identities.apply(brand.id, beacon, events, now_ms)
        starts = frozenset((clicks[0].id,)) if placement.opened and clicks else _NO_STARTS
        return Enriched(clicks, events, starts)


class CollectEndpoint:
    """Routes ``POST /collect`` to the app's :class:`Ingestor` (an ASGI app for the router)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await scope["app"].state.runtime.ingestor(scope, receive, send)
