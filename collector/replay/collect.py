"""``POST /collect/replay``: a replay chunk from the recorder, stored before it is answered.

Validation follows ``/collect`` (site key, allowed domain, DNT when the brand honours it); the
session is the one the page's click got, so replays and clicks always agree. The events stay the
bytes the recorder sent, checked whole before anything is stored (:mod:`collector.replay.wire`);
once accepted they are compressed (zstd, fast level) off the event loop. What a chunk costs in
memory is reserved from the runtime's one :class:`~collector.replay.budget.InflightBudget`
before it is inflated: past it, :class:`~collector.errors.Busy` (503 with ``Retry-After``).
Stylesheets and fonts the page used are fetched afterwards, in the background
(:class:`~collector.replay.assets.AssetCollector`).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import TYPE_CHECKING, NamedTuple

import anyio
import msgspec
from starlette.requests import Request
from starlette.responses import Response

from collector.enrich.click import page_url_parts
from collector.http.body import arriving_bytes, read_body
from collector.http.client import client_ip_of
from collector.ingest.collect import CORS_HEADERS, Ingestor, check_page_origin
from collector.ops.metrics import METRICS
from collector.ops.observe import note_brand
from collector.replay.budget import InflightBudget
from collector.replay.codec import compress_chunk
from collector.replay.wire import (
    ChunkFacts,
    ChunkIds,
    ReplayEnvelope,
    check_events,
    chunk_row,
    claimed_size,
    decode_envelope,
    live_window,
    unwrap,
)
from collector.storage.base import Brand, ReplayChunk

if TYPE_CHECKING:
    from collector.replay.assets import AssetCollector

_PAGES_REMEMBERED = 50_000


class Prepared(NamedTuple):
    """A decoded chunk: the envelope, its events' JSON array and what was read from it."""

    envelope: ReplayEnvelope
    events: bytes
    facts: ChunkFacts


_NO_EVENTS = msgspec.Raw(b"[]")


def prepare(body: bytes, max_chunk_bytes: int, now_ms: int) -> Prepared:
    """Unwrap, decode and check a chunk (CPU work: runs in a worker thread). Compression waits
    until the chunk is accepted."""
    envelope = decode_envelope(unwrap(body, max_chunk_bytes))
    events = bytes(envelope.e)
    envelope.e = _NO_EVENTS  # the decompressed body goes: one copy of the events is kept
    return Prepared(envelope, events, check_events(events, live_window(now_ms)))


class ReplayIngestor:
    """The ``/collect/replay`` endpoint: builds on the beacon :class:`Ingestor` (brands,
    sessions, the writer) and reserves memory from ``budget``, shared by every request."""

    def __init__(
        self,
        ingestor: Ingestor,
        budget: InflightBudget,
        max_body_bytes: int,
        max_chunk_bytes: int,
        assets: AssetCollector | None = None,
    ) -> None:
        self.ingestor = ingestor
        self.budget = budget
        self.max_body_bytes = max_body_bytes
        self.max_chunk_bytes = max_chunk_bytes
        self.assets = assets
        # (brand, page session) -> (session, visitor): a page sends a chunk every few seconds,
        # and every chunk of it belongs to the same session.
        self._pages: OrderedDict[tuple[int, str], tuple[str, str]] = OrderedDict()

    async def __call__(self, request: Request) -> Response:
        """204 once stored (or dropped for DNT); past the memory budget,
        :class:`~collector.errors.Busy`, which the HTTP layer answers 503 with ``Retry-After``."""
        with self.budget.reserve(arriving_bytes(request, self.max_body_bytes), copies=1):
            body = await read_body(request, self.max_body_bytes)
        with self.budget.reserve(claimed_size(body, self.max_chunk_bytes)):
            return await self._ingest(request, body)

    async def _ingest(self, request: Request, body: bytes) -> Response:
        now_ms = self.ingestor.clock()
        chunk = await anyio.to_thread.run_sync(prepare, body, self.max_chunk_bytes, now_ms)
        brand = await self.ingestor.brand_for(chunk.envelope.k)
        note_brand(request.scope, brand.id)
        page_host = page_url_parts(chunk.envelope.u)[0]
        check_page_origin(brand, page_host, request.headers.get("origin"))
        if brand.settings.respect_dnt and (
            request.headers.get("dnt") == "1" or request.headers.get("sec-gpc") == "1"
        ):
            return Response(status_code=204, headers=CORS_HEADERS)
        ip = client_ip_of(request, self.ingestor.trusted_proxies)
        self.ingestor.budgets.check_ingest(brand, ip)  # 429 past the brand's budgets
        session_id, visitor_id = await self._session(request, brand, chunk.envelope, now_ms)
        compressed = await anyio.to_thread.run_sync(compress_chunk, chunk.events)
        stored = self._row(brand, chunk, compressed, session_id, visitor_id, now_ms)
        await self.ingestor.writer.submit([], [], [stored])
        METRICS.replay_chunk(len(body), len(compressed))
        if self.assets is not None:
            self.assets.submit(brand.id, stored.replay_id, chunk.events, stored.url)
        return Response(status_code=204, headers=CORS_HEADERS)

    async def _session(
        self, request: Request, brand: Brand, envelope: ReplayEnvelope, now_ms: int
    ) -> tuple[str, str]:
        """(session id, visitor id): the page's click's, or assigned as /collect would; the
        same for every chunk of a page."""
        key = (brand.id, envelope.p)
        known = self._pages.get(key)
        if known is not None:
            self._pages.move_to_end(key)
            return known
        found = await self._lookup(request, brand, envelope, now_ms)
        self._pages[key] = found
        if len(self._pages) > _PAGES_REMEMBERED:
            self._pages.popitem(last=False)
        return found

    async def _lookup(
        self, request: Request, brand: Brand, envelope: ReplayEnvelope, now_ms: int
    ) -> tuple[str, str]:
        ingestor = self.ingestor
        click = await ingestor.blocking(ingestor.store.get_click, brand.id, envelope.p)
        if click is not None:
            return click.session_id, click.visitor_id
        ip = client_ip_of(request, ingestor.trusted_proxies)
        agent = request.headers.get("user-agent")
        if brand.settings.cookieless or not envelope.v:
            visitor_id = ingestor.cookieless.visitor_id(brand.id, ip, agent)
        else:
            visitor_id = envelope.v
        # The recorder's first chunk can beat the page view's beacon (it is answered after the
        # beacon went, but may be stored first): a short-link landing must still join the
        # link click's session, as the page view will.
        visit = await ingestor.link_visit(brand.id, envelope.c)
        visitor_id, session_id, _ = await ingestor.page_session(
            brand, visitor_id, envelope.s, visit, ip, agent, now_ms
        )
        return session_id, visitor_id

    @staticmethod
    def _row(
        brand: Brand, chunk: Prepared, body: bytes, session_id: str, visitor_id: str, now_ms: int
    ) -> ReplayChunk:
        envelope = chunk.envelope
        ids = ChunkIds(
            brand_id=brand.id,
            replay_id=envelope.r,
            seq=envelope.q,
            session_id=session_id,
            page_session_id=envelope.p,
            visitor_id=visitor_id,
        )
        return chunk_row(ids, envelope.u, now_ms, chunk.facts, chunk.events, body)
