"""Events and analytics (seed 02): a request's filters and range as compiler queries, run on the
store, shaped as the seed shows them. Runs in a worker thread; errors are domain errors.

What ``analytics`` adds up comes from two tables: clicks (``clicks``) and conversions (``leads``,
``sales``, ``saleAmount``), each with the request's filters (``query/events.py``); the store sums
them per group in one statement.
"""

from __future__ import annotations

from typing import Any

import msgspec

from collector.errors import Invalid
from collector.http.params import iso
from collector.links.service import link_url, shown_domain
from collector.query import buckets
from collector.query.events import CLICK_SOURCE, CONVERSION_SOURCE, MEASURES
from collector.query.fields import Source
from collector.query.model import AnyOf, BucketUnit, Filter, NoneOf, Query, QueryError, TimeRange
from collector.storage.base import Click, Conversion, ShortLink, Store

from .filters import Selection
from .schema import (
    ClickEvent,
    ClickJson,
    CustomerJson,
    LeadEvent,
    LinkJson,
    SaleEvent,
    SaleJson,
    TimeseriesRow,
    Totals,
)
from .timerange import DAY_MS, Window

# groupBy -> the fields a row is keyed by (also its keys in the answer)
GROUPS: dict[str, tuple[str, ...]] = {
    "countries": ("country",),
    "cities": ("city", "country"),
    "regions": ("region",),
    "continents": ("continent",),
    "devices": ("device",),
    "browsers": ("browser",),
    "os": ("os",),
    "triggers": ("trigger",),
    "referers": ("referer",),
    "referer_urls": ("refererUrl",),
    "top_links": ("linkId",),
    "top_urls": ("url",),
    **{f"{name}s": (name,) for name in ("utm_source", "utm_medium", "utm_campaign")},
    **{f"{name}s": (name,) for name in ("utm_term", "utm_content")},
}
# The measure a breakdown is sorted by, and the one that counts the events, for each `event`.
ORDER = {"clicks": 0, "leads": 1, "sales": 3}
COUNTED = {"clicks": 0, "leads": 1, "sales": 2}
KIND = {"leads": "lead", "sales": "sale"}
# Compiler parameter names as the API names them.
_PARAMS = {"time_zone": "timezone", "bucket": "granularity"}


def api_error(error: QueryError) -> Invalid:
    """A compiler error, naming the API's parameter."""
    param = _PARAMS.get(error.param or "", error.param)
    return Invalid(str(error.args[0]).replace("`bucket`", "`granularity`"), param=param)


def _query(filters: tuple[Filter, ...], window: Window, **parts: Any) -> Query:
    return Query(
        filters=filters,
        time_range=TimeRange(window.start, window.end),
        time_zone=window.zone,
        **parts,
    )


def _sources(selection: Selection) -> list[Source]:
    """Clicks and conversions, each narrowed by the filters only it takes."""
    return [
        CLICK_SOURCE._replace(filters=selection.clicks_only()),
        CONVERSION_SOURCE._replace(filters=selection.conversion),
    ]


# events -------------------------------------------------------------------------------------


def events_page(
    store: Store,
    brand_id: int,
    kind: str,
    selection: Selection,
    window: Window,
    page: tuple[bool, int, int],
) -> tuple[int, list[Any]]:
    """(events matching, one page of them as the seed shows them); ``page`` is (descending,
    limit, offset)."""
    descending, limit, offset = page
    if kind == "clicks":
        query = _query(selection.for_clicks(), window)
        total = _total(store, brand_id, query, [CLICK_SOURCE], 0)
        clicks = store.page_clicks(brand_id, query, descending, limit, offset) if total else []
        links = _links(store, brand_id, [c.link_id for c in clicks])
        return total, [_click_event(c, links) for c in clicks]
    filters = (*selection.for_conversions(), AnyOf("kind", (KIND[kind],)))
    query = _query(filters, window)
    total = _total(store, brand_id, query, [CONVERSION_SOURCE], COUNTED[kind])
    found = store.page_conversions(brand_id, query, descending, limit, offset) if total else []
    return total, _conversion_events(store, brand_id, found)


def _total(store: Store, brand_id: int, query: Query, sources: list[Source], measure: int) -> int:
    rows = store.aggregate(brand_id, query, sources, None, None)
    return int(rows[0][measure]) if rows else 0


def _links(store: Store, brand_id: int, ids: list[str | None]) -> dict[str, ShortLink]:
    wanted = sorted({link_id for link_id in ids if link_id})
    return store.links_by_id(brand_id, wanted) if wanted else {}


def _conversion_events(store: Store, brand_id: int, found: list[Conversion]) -> list[Any]:
    clicks = store.clicks_by_id(brand_id, sorted({c.click_id for c in found}))
    links = _links(store, brand_id, [c.link_id for c in found])
    return [conversion_event(c, clicks.get(c.click_id), links) for c in found]


def link_json(link: ShortLink | None) -> LinkJson | None:
    if link is None:
        return None
    return LinkJson(
        id=link.id,
        domain=shown_domain(link),
        key=link.code,
        url=link.destination_url,
        shortLink=link_url(link),
        externalId=link.external_id,
        tenantId=link.tenant_id,
        folderId=link.folder,
        groupId=link.group_id,
        partnerId=link.partner_id,
        tagIds=[str(tag) for tag in link.tags] if isinstance(link.tags, list) else [],
        createdAt=iso(link.created_at),
    )


def region_code(country: str | None, region: str | None) -> str | None:
    """ISO 3166-2 (``GB-ENG``) from the stored country and subdivision."""
    return f"{country}-{region}" if country and region else None


def click_json(click: Click) -> ClickJson:
    return ClickJson(
        id=click.id,
        timestamp=iso(click.created_at),
        url=click.url,
        country=click.country,
        city=click.city,
        region=region_code(click.country, click.region),
        continent=click.continent,
        device=click.device_type,
        browser=click.browser,
        os=click.os,
        referer=click.referrer_host,
        refererUrl=click.referrer,
        trigger=click.trigger,
        qr=click.trigger == "qr",
        bot=click.is_bot,
        ip=click.ip_address,
        sessionId=click.session_id,
        visitorId=click.visitor_id,
    )


def _click_event(click: Click, links: dict[str, ShortLink]) -> ClickEvent:
    link = links.get(click.link_id) if click.link_id else None
    return ClickEvent(
        timestamp=iso(click.created_at), click=click_json(click), link=link_json(link)
    )


def conversion_event(
    conversion: Conversion, click: Click | None, links: dict[str, ShortLink]
) -> LeadEvent | SaleEvent:
    link = links.get(conversion.link_id) if conversion.link_id else None
    common: dict[str, Any] = {
        "timestamp": iso(conversion.created_at),
        "eventId": conversion.id,
        "eventName": conversion.event_name,
        "metadata": conversion.metadata,
        "click": click_json(click) if click is not None else None,
        "link": link_json(link),
        "customer": CustomerJson(
            id=conversion.customer_external_id,
            externalId=conversion.customer_external_id,
            name=conversion.customer_name,
            email=conversion.customer_email,
        ),
    }
    if conversion.kind != "sale":
        return LeadEvent(**common)
    sale = SaleJson(
        amount=conversion.amount,
        currency=conversion.currency,
        paymentProcessor=conversion.payment_processor,
        invoiceId=conversion.invoice_id,
        type=conversion.sale_type,
    )
    return SaleEvent(sale=sale, **common)


# analytics ----------------------------------------------------------------------------------


def totals(store: Store, brand_id: int, selection: Selection, window: Window) -> Totals:
    query = _query(selection.shared, window)
    rows = store.aggregate(brand_id, query, _sources(selection), None, None)
    return Totals(**_measures(rows[0] if rows else (0, 0, 0, 0)))


def breakdown(
    store: Store,
    brand_id: int,
    selection: Selection,
    window: Window,
    group: str,
    order: int,
    limit: int,
) -> list[dict[str, Any]]:
    """Totals per value of the groupBy's fields, largest first."""
    keys = GROUPS[group]
    filters = selection.shared
    if group == "top_links":  # links only, not the page views that came through none
        filters = (*filters, NoneOf("linkId", (None,)))
    query = _query(filters, window, group_by=keys)
    rows = store.aggregate(brand_id, query, _sources(selection), order, limit)
    found = [
        {**dict(zip(keys, row[: len(keys)], strict=True)), **_measures(row[len(keys) :])}
        for row in rows
    ]
    if group == "top_links":
        links = _links(store, brand_id, [row["linkId"] for row in found])
        found = [_link_row(row, links.get(row["linkId"])) for row in found]
    return found


def _measures(values: tuple[Any, ...] | list[Any]) -> dict[str, int]:
    return dict(zip(MEASURES, (int(v) for v in values), strict=True))


def _link_row(row: dict[str, Any], link: ShortLink | None) -> dict[str, Any]:
    shown = link_json(link)
    facts = {
        "domain": shown.domain if shown else None,
        "key": shown.key if shown else None,
        "shortLink": shown.shortLink if shown else None,
        "url": shown.url if shown else None,
    }
    return {"linkId": row["linkId"], **facts, **_measures([row[m] for m in MEASURES])}


def default_granularity(start: int, end: int) -> BucketUnit:
    """Hours up to 2 days, days up to 93 days, months beyond."""
    span = end - start
    if span <= 2 * DAY_MS:
        return "hour"
    return "day" if span <= 93 * DAY_MS else "month"


def timeseries(
    store: Store,
    brand_id: int,
    selection: Selection,
    window: Window,
    granularity: BucketUnit | None,
) -> list[TimeseriesRow]:
    """Totals per bucket of local time, every bucket of the range (empty ones as zeros)."""
    start = (
        window.start
        if window.start is not None
        else first_event(store, brand_id, selection, window)
    )
    if start is None:
        return []
    window = msgspec.structs.replace(window, start=start)
    unit = granularity or default_granularity(start, window.end)
    query = _query(selection.shared, window, bucket=unit)
    try:
        buckets.check_range(start, window.end, unit)
    except QueryError as error:
        raise api_error(error) from None
    rows = store.aggregate(brand_id, query, _sources(selection), None, None)
    found = {int(row[0]): row[1:] for row in rows if row[0] is not None}
    zero = (0, 0, 0, 0)
    edges = buckets.edges(start, window.end, unit, buckets.zone(window.zone))
    return [TimeseriesRow(start=iso(edge), **_measures(found.get(edge, zero))) for edge in edges]


def first_event(store: Store, brand_id: int, selection: Selection, window: Window) -> int | None:
    """The time of the earliest matching click or conversion (the start of ``all``)."""
    query = _query(selection.for_clicks(), window)
    firsts = [c.created_at for c in store.page_clicks(brand_id, query, False, 1, 0)]
    query = _query(selection.for_conversions(), window)
    firsts += [c.created_at for c in store.page_conversions(brand_id, query, False, 1, 0)]
    return min(firsts) if firsts else None
