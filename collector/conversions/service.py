"""Leads and sales: attribution to a click, the dedupe key that makes a retry count once, and
the answers: synchronous helpers the routes run in a thread. The routes store a conversion
through the group-commit writer (answered only once durable) and read the answer back from the
store, so a retry (at once or later, by any process) gets the first one."""

from __future__ import annotations

import time
from typing import Any

import msgspec

from collector.conversions.schema import (
    MAX_METADATA,
    ClickRef,
    CustomerJson,
    LeadAnswer,
    LeadRequest,
    SaleAnswer,
    SaleJson,
    SaleRequest,
)
from collector.errors import Invalid, NotFound
from collector.http.params import iso
from collector.ids import new_id
from collector.ingest.wire import has_data, is_json_object
from collector.jsonbounds import json_problem
from collector.storage.base import Click, Conversion, Store
from collector.storage.model import CLICK_FACTS
from collector.storage.rows import json_text

MAX_METADATA_DEPTH = 32


def check_metadata(raw: msgspec.Raw) -> dict[str, Any]:
    """The metadata as stored (``{}`` when absent or null); :class:`Invalid` naming
    ``metadata`` unless it is a JSON object within the bounds. It is decoded, so that it is
    stored in one canonical form (``\\u00fc`` as ``ü``, ``5.0`` and ``1e2`` as numbers) that
    the events API's metadata search reads the same on both engines."""
    if not has_data(raw):
        return {}
    if not is_json_object(raw):
        raise Invalid("`metadata` must be a JSON object", param="metadata")
    text = bytes(raw).decode("utf-8", "replace")
    if len(text) > MAX_METADATA:
        raise Invalid(
            f"`metadata` is {len(text):,} characters of JSON; at most {MAX_METADATA:,} are kept",
            param="metadata",
        )
    problem = json_problem(raw, MAX_METADATA_DEPTH)
    if problem is not None:
        raise Invalid(f"`metadata` {problem}", param="metadata")
    decoded: dict[str, Any] = msgspec.json.decode(raw)
    return decoded


def lead_key(customer: str, event_name: str) -> str:
    return json_text(["lead", customer, event_name])


def sale_key(invoice_id: str | None, conversion_id: str) -> str:
    if invoice_id is None:
        return json_text(["sale", None, conversion_id])
    return json_text(["sale", invoice_id])


def click_of(store: Store, brand_id: int, click_id: str) -> Click:
    click = store.get_click(brand_id, click_id)
    if click is None:
        raise NotFound(f"no click {click_id[:64]!r} in this brand", param="clickId")
    return click


def attribution(source: Click | Conversion) -> dict[str, Any]:
    """The fields a conversion copies from the click it is attributed to: the click's id,
    session, visitor and link, and its analytic facts (:data:`CLICK_FACTS`). ``source`` is that
    click, or a lead attributed to it (which holds the same copy)."""
    copied = {name: getattr(source, name) for name in ("session_id", "visitor_id", "link_id")}
    copied["click_id"] = source.click_id if isinstance(source, Conversion) else source.id
    copied.update((name, getattr(source, name)) for name in CLICK_FACTS)
    return copied


def new_lead(store: Store, brand_id: int, body: LeadRequest, now_ms: int) -> Conversion:
    """The lead to store, attributed to ``clickId`` (a page view or a short-link click)."""
    metadata = check_metadata(body.metadata)
    click = click_of(store, brand_id, body.clickId)
    return Conversion(
        id=new_id(now_ms),
        brand_id=brand_id,
        kind="lead",
        dedupe_key=lead_key(body.customerExternalId, body.eventName),
        event_name=body.eventName,
        **attribution(click),
        customer_external_id=body.customerExternalId,
        customer_name=body.customerName,
        customer_email=body.customerEmail,
        metadata=metadata,
        created_at=now_ms,
    )


def new_sale(store: Store, brand_id: int, body: SaleRequest, now_ms: int) -> Conversion:
    """The sale to store, attributed to the customer's first lead, or to ``clickId`` for a
    customer with no lead; neither is :class:`NotFound` with the reason. Through a lead, the
    sale copies the lead's copy of its click's facts (the lead's click is the sale's)."""
    metadata = check_metadata(body.metadata)
    lead = store.first_lead(brand_id, body.customerExternalId)
    attributed: Click | Conversion
    if lead is not None:
        attributed = lead
    elif body.clickId is not None:
        attributed = click_of(store, brand_id, body.clickId)
    else:
        raise NotFound(
            f"customer {body.customerExternalId[:64]!r} has no lead to attribute the sale to; "
            "track a lead first, or send the sale's `clickId`",
            param="customerExternalId",
        )
    conversion_id = new_id(now_ms)
    return Conversion(
        id=conversion_id,
        brand_id=brand_id,
        kind="sale",
        dedupe_key=sale_key(body.invoiceId, conversion_id),
        event_name=body.eventName,
        **attribution(attributed),
        customer_external_id=body.customerExternalId,
        customer_name=lead.customer_name if lead else None,
        customer_email=lead.customer_email if lead else None,
        amount=body.amount,
        currency=body.currency.upper(),
        payment_processor=body.paymentProcessor,
        invoice_id=body.invoiceId,
        metadata=metadata,
        created_at=now_ms,
    )


def _click_ref(conversion: Conversion) -> ClickRef:
    return ClickRef(conversion.click_id, conversion.session_id, conversion.link_id)


def _customer(conversion: Conversion) -> CustomerJson:
    return CustomerJson(
        conversion.customer_external_id, conversion.customer_name, conversion.customer_email
    )


def lead_answer(conversion: Conversion, duplicate: bool) -> LeadAnswer:
    return LeadAnswer(
        eventId=conversion.id,
        eventName=conversion.event_name,
        timestamp=iso(conversion.created_at),
        duplicate=duplicate,
        click=_click_ref(conversion),
        customer=_customer(conversion),
        metadata=conversion.metadata,
    )


def sale_answer(conversion: Conversion, duplicate: bool) -> SaleAnswer:
    return SaleAnswer(
        eventId=conversion.id,
        eventName=conversion.event_name,
        timestamp=iso(conversion.created_at),
        duplicate=duplicate,
        click=_click_ref(conversion),
        customer=_customer(conversion),
        sale=SaleJson(
            conversion.amount,
            conversion.currency,
            conversion.payment_processor,
            conversion.invoice_id,
            conversion.sale_type,
        ),
        metadata=conversion.metadata,
    )


def now_ms() -> int:
    return time.time_ns() // 1_000_000
