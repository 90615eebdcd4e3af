"""Sends a plan's visits through the collector's own ingest path, each hit at its planned time.

The hits are ASGI requests handed to the same objects that serve the network: an
:class:`~collector.ingest.collect.Ingestor` (``POST /collect``: decoding, checks, sessions,
enrichment, the runtime's group-commit :class:`~collector.ingest.writer.Writer`), a
:class:`~collector.links.redirect.Redirector` (``/g/``, ``/q/``) and a
:class:`~collector.replay.collect.ReplayIngestor` (``POST /collect/replay``); leads and sales are
built by :mod:`collector.conversions.service` and stored through the same writer. Only the clock
differs: this ingestor's reads a context variable that each visit sets to its hit's time, so
visits run concurrently (their commits grouped) and every hit is stored at its own moment.
"""

from __future__ import annotations

import contextlib
import contextvars
import random
import zlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import msgspec
from starlette.requests import Request

from collector.conversions import service
from collector.conversions.schema import LeadRequest, SaleRequest
from collector.demo import catalog, recording
from collector.demo.plan import PageLoad, Visit, Visitor, seeded_id
from collector.errors import Conflict
from collector.ingest.collect import Ingestor
from collector.links.redirect import Redirector
from collector.links.schema import LinkCreate
from collector.links.service import create_link
from collector.replay.collect import ReplayIngestor
from collector.storage.base import Brand

if TYPE_CHECKING:
    from collector.runtime import Runtime

_NOW: contextvars.ContextVar[int] = contextvars.ContextVar("demo_now")


def _clock() -> int:
    return _NOW.get()


class HitFailed(RuntimeError):
    """The collector refused a sample hit: the sample data and the collector disagree."""


class Driver:
    """The ingest path of one runtime, on the demo's clock, for one brand."""

    def __init__(self, runtime: Runtime, brand: Brand, base_url: str, start: int) -> None:
        self.brand = brand
        self.base = base_url.rstrip("/")
        self.host = urlsplit(self.base).netloc
        self.geo_addresses = _addresses(runtime.geo.lookup)
        self.enricher = runtime.enricher
        self.kept_clicks: dict[str, str | None] = {}  # visitor -> the ct_id their tracker keeps
        token = _NOW.set(start)
        try:
            self.ingestor = Ingestor(
                store=runtime.store,
                writer=runtime.writer,
                brands=runtime.brands,
                geo=runtime.geo,
                trusted_proxies=(),
                max_body_bytes=runtime.settings.max_body_bytes,
                clock=_clock,
                inbox=runtime.inbox,  # enriched by the runtime's enricher, at the demo's times
            )
        finally:
            _NOW.reset(token)
        self.redirector = Redirector(self.ingestor, runtime.link_misses)
        self.replays = ReplayIngestor(
            self.ingestor,
            runtime.replay_budget,
            max_body_bytes=runtime.settings.replay_max_body_bytes,
            max_chunk_bytes=runtime.settings.replay_max_chunk_bytes,
        )

    def create_links(self, at: int) -> None:
        """The demo's short links (skipped when their keys are taken)."""
        for link in catalog.DEMO_LINKS:
            body = LinkCreate(
                destination_url=f"{self.base}{link.path}?{link.query}",
                key=link.key,
                tags=list(link.tags),
            )
            with contextlib.suppress(Conflict):  # made before, or the key is taken
                create_link(self.ingestor.store, self.brand, body, self.base, at)

    async def visit(self, visit: Visit) -> None:
        """Every hit of ``visit``, in order, each at its time."""
        address = self.address(visit.visitor)
        visitor_id = visit.visitor.id
        if visit.link is not None:
            self.kept_clicks[visitor_id] = await self.follow_link(visit, address)
        # The tracker keeps a short link's click id (ct_id) and sends it on every later page.
        click_id = self.kept_clicks.get(visitor_id)
        rng = random.Random(visit.session_id)
        for load in visit.pages:
            beacon = self.beacon(visit, load, click_id)
            await self.collect(beacon, address, visit.visitor.device.user_agent, load.sent_at)
            if visit.recorded:
                await self.record(visit, load, address, rng)
        if visit.conversion is not None:
            link_click = click_id if visit.link is not None else None
            await self.convert(visit, link_click or visit.conversion.page_id)

    def address(self, visitor: Visitor) -> str:
        """The visitor's address: one of its country's /24 (every address of it resolves to the
        same city in DB-IP), or the test database's address as it is."""
        address = self.geo_addresses[visitor.country]
        if address != catalog.COUNTRY_ADDRESSES[visitor.country][1]:
            return address
        return f"{address.rsplit('.', 1)[0]}.{2 + zlib.crc32(visitor.id.encode()) % 250}"

    async def follow_link(self, visit: Visit, address: str) -> str | None:
        """The redirect of the visit's short link (``/q/`` for a QR scan): its click id."""
        assert visit.link is not None
        prefix = "/q/" if visit.trigger == "qr" else "/g/"
        headers = {"host": self.host, "user-agent": visit.visitor.device.user_agent}
        if visit.source == "link":
            headers["referer"] = "https://www.instagram.com/"
        headers["accept-language"] = visit.visitor.language
        status, answer = await _call(
            self.redirector,
            _scope("GET", prefix + visit.link.key, headers, address),
            b"",
            visit.start,
        )
        if status != 302:
            raise HitFailed(f"the short link {visit.link.key} answered {status}")
        location = answer.get("location", "")
        return parse_qs(urlsplit(location).query).get("ct_id", [None])[0]

    def beacon(self, visit: Visit, load: PageLoad, click_id: str | None) -> bytes:
        visitor = visit.visitor
        width, height = visitor.device.viewport
        body: dict[str, Any] = {
            "k": self.brand.site_key,
            "v": visitor.id,
            "s": visit.session_id,
            "p": load.page_id,
            "n": 1,
            "u": self.base + load.url,
            "r": load.referrer
            if load.referrer is None or "://" in load.referrer
            else self.base + load.referrer,
            "l": visitor.language,
            "w": width,
            "h": height,
            "e": load.events,
        }
        if load.external_id:
            body["i"] = load.external_id
        if click_id:
            body["c"] = click_id
        return msgspec.json.encode(body)

    async def collect(self, body: bytes, address: str, user_agent: str, at: int) -> None:
        headers = {"user-agent": user_agent, "content-length": str(len(body))}
        status, _ = await _call(
            self.ingestor, _scope("POST", "/collect", headers, address), body, at
        )
        if status != 204:
            raise HitFailed(f"a sample beacon was answered {status}")

    async def record(self, visit: Visit, load: PageLoad, address: str, rng: random.Random) -> None:
        """The page load's replay, sent as one chunk once the page is left."""
        url = self.base + load.url
        events = recording.recording(rng, url, visit.visitor.device.viewport, load.events)
        envelope = {
            "k": self.brand.site_key,
            "r": seeded_id(rng, load.events[0]["ts"]),
            "p": load.page_id,
            "q": 0,
            "u": url,
            "v": visit.visitor.id,
            "s": visit.session_id,
            "e": events,
        }
        body = msgspec.json.encode(envelope)
        headers = {"user-agent": visit.visitor.device.user_agent, "content-length": str(len(body))}
        scope = _scope("POST", "/collect/replay", headers, address)
        token = _NOW.set(load.sent_at)
        try:
            response = await self.replays(Request(scope, _receiver(body)))
        finally:
            _NOW.reset(token)
        if response.status_code != 204:
            raise HitFailed(f"a sample replay chunk was answered {response.status_code}")

    async def convert(self, visit: Visit, click_id: str) -> None:
        """The visit's lead, attributed to ``click_id`` (the short link's click, else the
        landing page's), then its sale, as the brand's server would report them."""
        customer = visit.conversion
        assert customer is not None
        await self.enricher.settled(timeout=60)  # the click is stored once it is enriched
        store, brand_id = self.ingestor.store, self.brand.id
        lead = LeadRequest(
            clickId=click_id,
            eventName="Sign up",
            customerExternalId=customer.customer_id,
            customerName=customer.name,
            customerEmail=customer.email,
        )
        row = await self.ingestor.blocking(
            service.new_lead, store, brand_id, lead, customer.lead_at
        )
        await self.ingestor.writer.submit([], [], conversions=[row])
        if customer.sale_amount is None:
            return
        sale = SaleRequest(
            customerExternalId=customer.customer_id,
            amount=customer.sale_amount,
            currency="eur",
            eventName="Subscription",
            paymentProcessor="stripe",
            invoiceId=f"in_{customer.customer_id}",
        )
        row = await self.ingestor.blocking(
            service.new_sale, store, brand_id, sale, customer.sale_at
        )
        await self.ingestor.writer.submit([], [], conversions=[row])


def _addresses(lookup: Callable[[str], Any]) -> list[str]:
    """An address per catalog country: its own when the configured geo database resolves it,
    else one the database does resolve (MaxMind's test database), else its own (no database)."""
    own = [address for _, address, _ in catalog.COUNTRY_ADDRESSES]
    if any(lookup(address).country for address in own):
        return own
    known = [a for a in catalog.TEST_DB_ADDRESSES if lookup(a).country]
    if not known:
        return own
    return [known[index % len(known)] for index in range(len(own))]


def _scope(method: str, path: str, headers: dict[str, str], address: str) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()],
        "client": (address, 40000),
        "server": ("127.0.0.1", 80),
    }


def _receiver(body: bytes) -> Callable[[], Any]:
    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


async def _call(
    app: Any, scope: dict[str, Any], body: bytes, at: int
) -> tuple[int, dict[str, str]]:
    """(status, headers) of ``app``'s answer to one request, made at ``at``."""
    answer: dict[str, Any] = {"status": 0, "headers": {}}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            answer["status"] = message["status"]
            answer["headers"] = {k.decode(): v.decode("latin-1") for k, v in message["headers"]}

    token = _NOW.set(at)
    try:
        await app(scope, _receiver(body), send)
    finally:
        _NOW.reset(token)
    return answer["status"], answer["headers"]
