"""Examples for the explorer's documentation, made by the same code as real answers from the
clicks API's example click and a sale of it."""

from __future__ import annotations

import msgspec

from collector.clicks import examples as clicks
from collector.storage.base import Conversion, Replay

from . import facts, service
from .facts import HitContext
from .schema import (
    ExplorerHitRequest,
    ExplorerHitResponse,
    ExplorerVisitorRequest,
    ExplorerVisitorResponse,
    VisitorInfo,
)

BRAND_ID = clicks.BRAND_ID
CLICK = msgspec.structs.replace(
    clicks.CLICK,
    connection_type="Cable/DSL",
    organization="Example Telecom",
    accept_language="en-US,en;q=0.9",
)
SALE = Conversion(
    id="01jeyg9x00c4d8m2q6t1w3z5ha",
    brand_id=BRAND_ID,
    kind="sale",
    dedupe_key='["invoice","inv_1042"]',
    event_name="Purchase",
    click_id=CLICK.id,
    session_id=CLICK.session_id,
    visitor_id=CLICK.visitor_id,
    customer_external_id="cus_1042",
    amount=4900,
    currency="EUR",
    invoice_id="inv_1042",
    sale_type="new",
    created_at=CLICK.created_at + 95_000,
)
REPLAY = Replay(
    id="01jeyg5v20s8f3k6n1q4t7w9yb",
    brand_id=BRAND_ID,
    session_id=CLICK.session_id,
    page_session_id=CLICK.id,
    visitor_id=CLICK.visitor_id,
    url=CLICK.url,
    started_at=CLICK.created_at + 200,
    ended_at=CLICK.created_at + 180_000,
)
_CTX = HitContext(
    domains=clicks.DOMAINS, conversions={CLICK.id: [SALE]}, replays={CLICK.id: REPLAY}
)

VISITOR_REQUEST = ExplorerVisitorRequest(
    visitorId=CLICK.visitor_id,
    timeStart="2024-12-10T00:00:00Z",
    timeEnd="2024-12-11T00:00:00Z",
    limit=100,
)
HIT_REQUEST = ExplorerHitRequest(hitId=CLICK.id)
VISITOR = ExplorerVisitorResponse(
    visitor=VisitorInfo(
        visitorId=CLICK.visitor_id,
        firstSeen="2024-12-10T09:00:00.000Z",
        lastSeen="2024-12-10T09:00:00.000Z",
        totalHits=1,
        **facts.device(CLICK),
    ),
    hits=[service.hit_row(CLICK, _CTX)],
    hasMore=False,
    nextCursor=None,
)
_TOTAL, _ = facts.sales_total([SALE])
HIT = ExplorerHitResponse(
    events=[
        service.event(CLICK, _CTX, CLICK.created_at, "pageview", facts.hit_money(CLICK, _CTX)),
        service.event(CLICK, _CTX, SALE.created_at, "sale", facts.conversion_money(SALE, _TOTAL)),
    ]
)
