"""The events and analytics API (seed 02) as compiler queries: the registries of clicks, leads
and sales and of the links they came through, named as the API names its parameters, and the
sources an analytics answer adds up.

Clicks and conversions share one set of dimensions: a conversion stores a copy of its click's
facts (``Conversion`` in ``storage/model.py``), so a lead is "in GB" exactly when its click is,
and both tables answer the same filters and group-bys without a join. The link attributes
(domain, tags, folder...) are :class:`~collector.query.model.Related` filters on ``linkId``;
conversion facts of a click (``customerId``, ``saleType``, ``query``) are related filters from
the click's ``id`` to the conversions' ``clickId``: "clicks that led to such a sale".
"""

from __future__ import annotations

from .fields import Field, Fields, Source
from .model import AnyOf, Count, Sum


def _text(name: str, column: str | None = None, nullable: bool = True) -> Field:
    return Field(name, column or name, "text", nullable)


LINKS = Fields(
    "links",
    None,
    [
        _text("id", nullable=False),
        # the short domain, or for a link made on the collector's own URL, that URL's host
        Field("domain", "domain", "text", False, host_of="base_url"),
        _text("key", "code", nullable=False),
        _text("tenantId", "tenant_id"),
        Field("tagId", "tags", "list", False),
        _text("folderId", "folder"),
        _text("groupId", "group_id"),
        _text("partnerId", "partner_id"),
        _text("externalId", "external_id"),
    ],
    final=True,
)
"""A short link's attributes, as the events API filters events by them."""

UTM = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")

# The facts of a click that its conversions copy: same names, same columns in both tables.
_SHARED = [
    _text("trigger", nullable=False),
    _text("url", nullable=False),
    _text("country"),
    _text("city"),
    Field("region", "", "text", True, joined=("country", "region")),  # ISO 3166-2: GB-ENG
    _text("continent"),
    _text("device", "device_type"),
    _text("browser"),
    _text("os"),
    _text("referer", "referrer_host"),
    _text("refererUrl", "referrer"),
    *(_text(name) for name in UTM),
    _text("linkId", "link_id"),
    Field("bot", "is_bot", "bool", False),
    Field("timestamp", "created_at", "time", False),
]

CONVERSION_EVENTS = Fields(
    "conversions",
    "timestamp",
    [
        *_SHARED,
        _text("id", nullable=False),
        _text("kind", nullable=False),
        _text("clickId", "click_id", nullable=False),
        _text("customerId", "customer_external_id", nullable=False),
        _text("saleType", "sale_type"),
        Field("metadata", "metadata", "json", False),
        Field("amount", "amount", "int", True),
    ],
    related={"links": LINKS},
)
"""Leads and sales (``kind``), with their click's facts."""

CLICK_EVENTS = Fields(
    "clicks",
    "timestamp",
    [*_SHARED, _text("id", nullable=False)],
    related={"links": LINKS, "conversions": CONVERSION_EVENTS},
)
"""Clicks: page views and short-link redirects."""

# Fields only conversions have: on clicks they filter through the click's conversions.
CONVERSION_ONLY = ("customerId", "saleType", "metadata")

MEASURES = ("clicks", "leads", "sales", "saleAmount")
_LEAD = AnyOf("kind", ("lead",))
_SALE = AnyOf("kind", ("sale",))
CLICK_SOURCE = Source(CLICK_EVENTS, (Count(), None, None, None))
CONVERSION_SOURCE = Source(
    CONVERSION_EVENTS, (None, Count(_LEAD), Count(_SALE), Sum("amount", _SALE))
)
"""What ``analytics`` adds up, one measure per name of :data:`MEASURES`, from each table."""
