"""Bodies of ``POST track/lead`` and ``POST track/sale``, in Dub's field names (seed 02's "Lead
Event" and "Sale Event"), and their answers."""

from __future__ import annotations

from typing import Annotated

import msgspec

from collector.http.schema import AnyJson, Time

MAX_METADATA = 10_000  # characters of the metadata object's JSON
MAX_AMOUNT = 10**15  # minor units: ten trillion in a two-decimal currency

ClickId = Annotated[
    str, msgspec.Meta(min_length=1, max_length=64, description="A click's `id` (click code).")
]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=255)]
CustomerId = Annotated[
    str,
    msgspec.Meta(min_length=1, max_length=255, description="The customer's id in your system."),
]
Email = Annotated[str, msgspec.Meta(max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")]
Metadata = Annotated[
    msgspec.Raw,
    msgspec.Meta(
        description=f"A JSON object, at most {MAX_METADATA:,} characters.",
        extra_json_schema={"type": "object", "additionalProperties": True},
    ),
]
Currency = Annotated[
    str,
    msgspec.Meta(
        pattern="^[A-Za-z]{3}$", description="ISO 4217 code, any case (stored upper case)."
    ),
]


class LeadRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    clickId: ClickId
    eventName: Name
    customerExternalId: CustomerId
    customerName: Name | None = None
    customerEmail: Email | None = None
    metadata: Metadata = msgspec.Raw(b"")  # absent, or raw JSON (null: none)


class SaleRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    customerExternalId: CustomerId
    amount: Annotated[
        int,
        msgspec.Meta(ge=0, le=MAX_AMOUNT, description="In the currency's minor unit (cents)."),
    ]
    currency: Currency = "usd"
    eventName: Name = "Purchase"
    paymentProcessor: Annotated[str, msgspec.Meta(min_length=1, max_length=64)] | None = None
    invoiceId: (
        Annotated[
            str,
            msgspec.Meta(
                min_length=1,
                max_length=255,
                description="Your invoice's id: a sale sent again with it is stored once.",
            ),
        ]
        | None
    ) = None
    metadata: Metadata = msgspec.Raw(b"")  # absent, or raw JSON (null: none)
    clickId: ClickId | None = None


class CustomerJson(msgspec.Struct):
    externalId: str
    name: str | None
    email: str | None


class ClickRef(msgspec.Struct):
    """The click a conversion is attributed to."""

    id: str
    sessionId: str
    linkId: str | None


class SaleJson(msgspec.Struct):
    amount: int | None
    currency: str | None
    paymentProcessor: str | None
    invoiceId: str | None
    type: str | None  # new | recurring


class LeadAnswer(msgspec.Struct, kw_only=True):
    """The stored lead. `duplicate` is true when the same customer and event name were stored
    before: nothing new was stored, and this is the first one."""

    eventId: str
    eventName: str
    timestamp: Time
    duplicate: bool
    click: ClickRef
    customer: CustomerJson
    metadata: AnyJson


class SaleAnswer(msgspec.Struct, kw_only=True):
    """The stored sale. `duplicate` is true when its `invoiceId` was stored before: nothing new
    was stored, and this is the first answer again."""

    eventId: str
    eventName: str
    timestamp: Time
    duplicate: bool
    click: ClickRef
    customer: CustomerJson
    sale: SaleJson
    metadata: AnyJson
