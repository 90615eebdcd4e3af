"""The events and analytics API's parameters and answers (seed 02), named as the seed names them.

The query-string structs document every parameter in the spec and check the single-valued ones
(enums, bounds) when the query string is converted; the filter parameters are text in the
advanced syntax that ``filters.py`` reads (it also takes a parameter given several times).
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from collector.http.schema import AnyJson

EventKind = Literal["clicks", "leads", "sales"]
Interval = Literal["1h", "24h", "7d", "30d", "90d", "ytd", "1y", "all", "all_unfiltered"]
Granularity = Literal["hour", "day", "week", "month"]
Bots = Literal["exclude", "include", "only"]
Trigger = Literal["qr", "link", "pageview"]
SaleType = Literal["new", "recurring"]
MAX_LIMIT = 1000
MAX_METADATA_QUERY = 10_000
ADVANCED = (
    " Advanced filtering: `a` is, `a,b` any of, `-a` not, `-a,b` none of; quote a value that"
    ' holds a comma (`"a,b"`), or give the parameter again for another value.'
)


def _filter(description: str, example: str) -> msgspec.Meta:
    """A filter parameter's bounds and documentation."""
    return msgspec.Meta(max_length=4096, description=description + ADVANCED, examples=[example])


def _text(description: str, max_length: int = 64) -> msgspec.Meta:
    return msgspec.Meta(max_length=max_length, description=description)


class Filters(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Time and filters, shared by ``events``, ``analytics`` and the sessions API."""

    interval: Annotated[
        Interval,
        msgspec.Meta(
            description="The range, ending now (default 24h). `ytd` starts on 1 January in "
            "`timezone`; `all` and `all_unfiltered` have no start. `start` and `end` take "
            "precedence."
        ),
    ] = "24h"
    start: (
        Annotated[
            str,
            _text(
                "ISO 8601 date or date-time; a time without an offset is in `timezone`. Takes "
                "precedence over `interval`.",
            ),
        ]
        | None
    ) = None
    end: (
        Annotated[
            str,
            _text(
                "ISO 8601 date (its whole day) or date-time; defaults to now. Not before `start`."
            ),
        ]
        | None
    ) = None
    timezone: Annotated[
        str, _text("IANA time zone of the buckets and of times without an offset.")
    ] = "UTC"
    bots: Annotated[
        Bots,
        msgspec.Meta(
            description="Bot traffic (flagged at ingest, never dropped): counted by default, as "
            "every stored event is; `exclude` counts human traffic only, `only` bots alone."
        ),
    ] = "include"
    domain: Annotated[str, _filter("The short link's domain.", "go.example.com")] | None = None
    key: Annotated[str, _text("The short link's code; only with `domain`.", 190)] | None = None
    linkId: Annotated[str, _filter("The short link's id.", "lnk_3xK9")] | None = None
    externalId: (
        Annotated[
            str, _filter("The short link's id in your system, prefixed with `ext_`.", "ext_123")
        ]
        | None
    ) = None
    tenantId: Annotated[str, _filter("The tenant that created the link.", "acme")] | None = None
    tagId: Annotated[str, _filter("A tag of the link.", "spring")] | None = None
    folderId: Annotated[str, _filter("The link's folder.", "campaigns")] | None = None
    groupId: Annotated[str, _filter("The link's group.", "group_1")] | None = None
    partnerId: Annotated[str, _filter("The link's partner.", "partner_1")] | None = None
    customerId: (
        Annotated[
            str,
            _filter(
                "The customer's id in your system (`customerExternalId` of a lead or sale); "
                "clicks: those that led to the customer's conversions.",
                "cus_42",
            ),
        ]
        | None
    ) = None
    country: Annotated[str, _filter("ISO 3166-1 alpha-2 country code.", "GB")] | None = None
    city: Annotated[str, _filter("City name.", "London")] | None = None
    region: Annotated[str, _filter("ISO 3166-2 region code.", "GB-ENG")] | None = None
    continent: Annotated[str, _filter("Continent code: AF AN AS EU NA OC SA.", "EU")] | None = None
    device: (
        Annotated[str, _filter("Device type: desktop, mobile, tablet, bot, other.", "mobile")]
        | None
    ) = None
    browser: Annotated[str, _filter("Browser name.", "Chrome")] | None = None
    os: Annotated[str, _filter("Operating system name.", "iOS")] | None = None
    trigger: Annotated[str, _filter("How the click happened: qr, link, pageview.", "qr")] | None = (
        None
    )
    referer: Annotated[str, _filter("The referrer's host name.", "news.ycombinator.com")] | None = (
        None
    )
    refererUrl: Annotated[str, _filter("The full referrer URL.", "https://t.co/abc")] | None = None
    utm_source: Annotated[str, _filter("UTM source.", "newsletter")] | None = None
    utm_medium: Annotated[str, _filter("UTM medium.", "email")] | None = None
    utm_campaign: Annotated[str, _filter("UTM campaign.", "spring")] | None = None
    utm_term: Annotated[str, _filter("UTM term.", "shoes")] | None = None
    utm_content: Annotated[str, _filter("UTM content.", "banner")] | None = None
    url: (
        Annotated[
            str,
            _filter(
                "The destination of a link click, or the page of a page view.",
                "https://shop.example/",
            ),
        ]
        | None
    ) = None
    root: (
        Annotated[
            bool,
            msgspec.Meta(
                description="`true`: only events that came through no short link (the site's own "
                "page views); `false`: only events through a short link."
            ),
        ]
        | None
    ) = None
    saleType: (
        Annotated[
            SaleType,
            msgspec.Meta(description="Sales: a customer's first (`new`) or a later (`recurring`)."),
        ]
        | None
    ) = None
    query: (
        Annotated[
            str,
            msgspec.Meta(
                max_length=MAX_METADATA_QUERY,
                description="Search the metadata of leads and sales: `plan:pro` (the key "
                '`plan` holds "pro"), `seats:5` (the number or the text 5), `plan:"pro plus"`, '
                'or a word or `"quoted phrase"` anywhere in the metadata. Terms separated by '
                "spaces must all match. Clicks: those that led to a matching conversion.",
                examples=["plan:pro"],
            ),
        ]
        | None
    ) = None


class FilterQuery(Filters, kw_only=True, forbid_unknown_fields=True):
    """Time and filters, and the kind of event: ``events`` and ``analytics``."""

    event: Annotated[
        EventKind, msgspec.Meta(description="The events to list or count: clicks, leads, sales.")
    ] = "clicks"


class EventsQuery(FilterQuery, kw_only=True, forbid_unknown_fields=True):
    page: Annotated[int, msgspec.Meta(ge=1, le=1_000_000, description="From 1.")] = 1
    limit: Annotated[
        int, msgspec.Meta(ge=1, le=MAX_LIMIT, description="Events a page (at most 1000).")
    ] = 100
    sortBy: Annotated[
        Literal["timestamp"], msgspec.Meta(description="The order of the events: their time.")
    ] = "timestamp"
    sortOrder: Annotated[
        Literal["asc", "desc"],
        msgspec.Meta(description="Newest first (`desc`) or oldest first; ties by id."),
    ] = "desc"


GroupBy = Literal[
    "count",
    "timeseries",
    "countries",
    "cities",
    "regions",
    "continents",
    "devices",
    "browsers",
    "os",
    "triggers",
    "referers",
    "referer_urls",
    "top_links",
    "top_urls",
    "utm_sources",
    "utm_mediums",
    "utm_campaigns",
    "utm_terms",
    "utm_contents",
]


class AnalyticsQuery(FilterQuery, kw_only=True, forbid_unknown_fields=True):
    groupBy: Annotated[
        GroupBy,
        msgspec.Meta(
            description="`count`: totals; `timeseries`: totals per bucket; any other: totals "
            "per value of that dimension, largest first."
        ),
    ] = "count"
    granularity: (
        Annotated[
            Granularity,
            msgspec.Meta(
                description="Timeseries buckets, aligned to `timezone`. Default: hours up to 2 "
                "days, days up to 93 days, months beyond."
            ),
        ]
        | None
    ) = None
    limit: Annotated[
        int, msgspec.Meta(ge=1, le=MAX_LIMIT, description="Rows of a breakdown (at most 1000).")
    ] = 100


# answers ----------------------------------------------------------------------------------


class ClickJson(msgspec.Struct, kw_only=True):
    """A click as the seed's event objects show it, then Clicktrail's own facts."""

    id: str
    timestamp: str | None
    url: str
    country: str | None
    city: str | None
    region: str | None  # ISO 3166-2
    continent: str | None
    device: str | None
    browser: str | None
    os: str | None
    referer: str | None
    refererUrl: str | None
    trigger: str
    qr: bool
    bot: bool
    ip: str | None  # as the brand's IP setting stored it
    sessionId: str
    visitorId: str


class LinkJson(msgspec.Struct, kw_only=True):
    id: str
    domain: str
    key: str
    url: str  # the destination
    shortLink: str
    externalId: str | None
    tenantId: str | None
    folderId: str | None
    groupId: str | None
    partnerId: str | None
    tagIds: list[str]
    createdAt: str | None


class CustomerJson(msgspec.Struct, kw_only=True):
    id: str
    externalId: str
    name: str | None
    email: str | None


class SaleJson(msgspec.Struct, kw_only=True):
    amount: int | None  # minor units of the currency (cents)
    currency: str | None
    paymentProcessor: str | None
    invoiceId: str | None
    type: str | None  # new | recurring


class ClickEvent(msgspec.Struct, kw_only=True, tag_field="event", tag="click"):
    timestamp: str | None
    click: ClickJson
    link: LinkJson | None


class LeadEvent(msgspec.Struct, kw_only=True, tag_field="event", tag="lead"):
    timestamp: str | None
    eventId: str
    eventName: str
    metadata: AnyJson
    click: ClickJson | None
    link: LinkJson | None
    customer: CustomerJson


class SaleEvent(msgspec.Struct, kw_only=True, tag_field="event", tag="sale"):
    timestamp: str | None
    eventId: str
    eventName: str
    sale: SaleJson
    metadata: AnyJson
    click: ClickJson | None
    link: LinkJson | None
    customer: CustomerJson


class Totals(msgspec.Struct, kw_only=True):
    """``groupBy=count``: clicks, leads, sales and the sales' amount (minor units)."""

    clicks: int
    leads: int
    sales: int
    saleAmount: int


class AnalyticsRow(msgspec.Struct, kw_only=True, omit_defaults=True):
    """A row of a time series (``start``) or of a breakdown (keyed by its dimension: country,
    city, region, continent, device, browser, os, trigger, referer, refererUrl, url, the utm
    fields, or a link: linkId, domain, key, shortLink, url). Documents the answer's shape."""

    start: str | None = None
    country: str | None = None
    city: str | None = None
    region: str | None = None
    continent: str | None = None
    device: str | None = None
    browser: str | None = None
    os: str | None = None
    trigger: str | None = None
    referer: str | None = None
    refererUrl: str | None = None
    url: str | None = None
    utm_source: str | None = None
    utm_medium: str | None = None
    utm_campaign: str | None = None
    utm_term: str | None = None
    utm_content: str | None = None
    linkId: str | None = None
    domain: str | None = None
    key: str | None = None
    shortLink: str | None = None
    clicks: int = 0
    leads: int = 0
    sales: int = 0
    saleAmount: int = 0


class TimeseriesRow(msgspec.Struct, kw_only=True):
    start: str | None  # the bucket's first instant, UTC
    clicks: int
    leads: int
    sales: int
    saleAmount: int
