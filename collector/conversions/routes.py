"""``POST /api/brands/{brand}/track/lead`` and ``.../track/sale`` (seed 02's lead and sale
events, in Dub's field names): conversions attributed to a click, stored once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anyio
import msgspec
from starlette.requests import Request

from collector.conversions import service
from collector.conversions.schema import LeadAnswer, LeadRequest, SaleAnswer, SaleRequest
from collector.http.auth import authorize
from collector.http.body import decode_body
from collector.http.params import JSON
from collector.http.routing import Endpoint, Example, Reply, routes_of
from collector.http.schema import BrandPath
from collector.http.state import runtime
from collector.storage.base import Conversion, Store

MAX_BODY = 65_536
_lead = msgspec.json.Decoder(LeadRequest)
_sale = msgspec.json.Decoder(SaleRequest)


async def _track(
    request: Request,
    decoder: msgspec.json.Decoder,
    what: str,
    build: Callable[[Store, int, Any, int], Conversion],
) -> tuple[Conversion, bool]:
    """Store the conversion ``build`` makes of the body through the writer (durable on return),
    then read back the one the store keeps under its key: (it, whether it is an earlier one)."""
    brand_id = authorize(request, "write")
    body = await decode_body(request, decoder, what, MAX_BODY)
    rt = runtime(request)
    conversion = await anyio.to_thread.run_sync(build, rt.store, brand_id, body, service.now_ms())
    await rt.writer.submit([], [], conversions=[conversion])
    stored = await anyio.to_thread.run_sync(
        rt.store.conversion_by_key, brand_id, conversion.dedupe_key
    )
    if stored is None:  # cannot happen: the write committed
        raise RuntimeError("a stored conversion could not be read back")
    return stored, stored.id != conversion.id


async def track_lead(request: Request) -> JSON:
    stored, duplicate = await _track(request, _lead, "lead", service.new_lead)
    return JSON(service.lead_answer(stored, duplicate))


async def track_sale(request: Request) -> JSON:
    stored, duplicate = await _track(request, _sale, "sale", service.new_sale)
    return JSON(service.sale_answer(stored, duplicate))


_PATH = {"brand": 1}
# Request examples as JSON objects (a body's ``metadata`` is raw JSON, which has no builtin form).
_LEAD_EXAMPLE = {
    "clickId": "01jf0c3m7a9k2x5v8b4n6q1w3e",
    "eventName": "Sign up",
    "customerExternalId": "cus_123",
    "customerName": "Jane Doe",
    "customerEmail": "jane@example.com",
    "metadata": {"plan": "pro"},
}
_SALE_EXAMPLE = {
    "customerExternalId": "cus_123",
    "amount": 4900,
    "currency": "eur",
    "paymentProcessor": "stripe",
    "invoiceId": "in_1QX2",
}
_EXAMPLE_CONVERSION = Conversion(
    id="01jf0c4q2w8e5r7t9y1u3i6o0p",
    brand_id=1,
    kind="sale",
    dedupe_key='["sale","in_1QX2"]',
    event_name="Purchase",
    click_id="01jf0c3m7a9k2x5v8b4n6q1w3e",
    session_id="01jf0c3m7a7d3f5g8h1j4k6l9z",
    visitor_id="01jf0c3m6z2x4c6v8b0n2m4q6s",
    link_id="01jexample0000000000000000",
    customer_external_id="cus_123",
    customer_name="Jane Doe",
    customer_email="jane@example.com",
    amount=4900,
    currency="EUR",
    payment_processor="stripe",
    invoice_id="in_1QX2",
    sale_type="new",
    created_at=1_733_821_290_000,
)
_EXAMPLE_LEAD = msgspec.structs.replace(
    _EXAMPLE_CONVERSION,
    kind="lead",
    event_name="Sign up",
    amount=None,
    currency=None,
    payment_processor=None,
    invoice_id=None,
    sale_type=None,
)
endpoints = [
    Endpoint(
        "POST",
        "/api/brands/{brand}/track/lead",
        track_lead,
        summary="Track a lead",
        area="Conversions",
        auth="write",
        description="Attributed to `clickId` (a page view's click, or a short link's). The same "
        "customer and event name again is stored once: the answer is the first lead, with "
        "`duplicate: true`. Answered once stored durably.",
        path_params=BrandPath,
        body=LeadRequest,
        replies=(
            Reply(200, "The lead", LeadAnswer, example=service.lead_answer(_EXAMPLE_LEAD, False)),
        ),
        errors=(400, 401, 403, 404, 413, 422),
        example=Example(path=_PATH, body=_LEAD_EXAMPLE),
    ),
    Endpoint(
        "POST",
        "/api/brands/{brand}/track/sale",
        track_sale,
        summary="Track a sale",
        area="Conversions",
        auth="write",
        description="Attributed to the customer's first lead, else to `clickId`; with neither, "
        "404 says so. `invoiceId` makes it idempotent: sent again (even at the same moment), it "
        "is stored once and answers the first sale with `duplicate: true`. A customer's first "
        "sale is `new`, later ones `recurring`. Answered once stored durably.",
        path_params=BrandPath,
        body=SaleRequest,
        replies=(
            Reply(
                200, "The sale", SaleAnswer, example=service.sale_answer(_EXAMPLE_CONVERSION, False)
            ),
        ),
        errors=(400, 401, 403, 404, 413, 422),
        example=Example(path=_PATH, body=_SALE_EXAMPLE),
    ),
]
routes = routes_of(endpoints)
