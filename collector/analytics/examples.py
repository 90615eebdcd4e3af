"""Examples for the documentation, shown by the same code that shows real events."""

from __future__ import annotations

from collector.clicks import examples as clicks
from collector.links import examples as links
from collector.storage.base import Conversion

from . import service
from .schema import ClickEvent, SaleEvent, Totals

BRAND_ID = clicks.BRAND_ID

_CLICK = service.click_json(clicks.CLICK)
_LINK = service.link_json(links.LINK)
_SALE = Conversion(
    id="01jexamplesale000000000000",
    brand_id=BRAND_ID,
    kind="sale",
    dedupe_key='["sale","inv_1"]',
    event_name="Invoice paid",
    click_id=clicks.CLICK.id,
    session_id=clicks.CLICK.session_id,
    visitor_id=clicks.CLICK.visitor_id,
    link_id=links.LINK.id,
    customer_external_id="cus_42",
    customer_name="Ada",
    customer_email="ada@example.com",
    amount=4900,
    currency="EUR",
    payment_processor="stripe",
    invoice_id="inv_1",
    sale_type="new",
    metadata={"plan": "pro"},
    created_at=clicks.CLICK.created_at + 600_000,
)

EVENTS = [
    ClickEvent(timestamp=_CLICK.timestamp, click=_CLICK, link=_LINK),
    service.conversion_event(_SALE, clicks.CLICK, {links.LINK.id: links.LINK}),
]
TOTALS = Totals(clicks=1280, leads=64, sales=12, saleAmount=58800)
SALE_EVENT = EVENTS[1]
assert isinstance(SALE_EVENT, SaleEvent)
