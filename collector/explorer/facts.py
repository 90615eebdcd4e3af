"""Clicktrail's facts in FunnelFlux's vocabulary: one function per part of a seed 03 row. The
table in ``docs/API.md`` ("Visitor and hit explorer") says the same, row by row.

A hit is a click: a page view (``trigger`` ``pageview``, a FunnelFlux page node) or a short-link
redirect (``link`` / ``qr``, a node that redirects). Amounts are stored in minor units and shown,
as FunnelFlux shows them, in the currency's major unit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import msgspec

from collector.http.params import iso
from collector.links.service import shown_domain
from collector.query.funnel import TRACKER_EVENTS
from collector.storage.base import Click, Conversion, Event, Replay, ShortLink

# ISO 4217 currencies whose minor unit is not a hundredth (the rest have two decimals).
_DECIMALS = {
    **dict.fromkeys(
        ("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI"), 0
    ),
    **dict.fromkeys(("VND", "VUV", "XAF", "XOF", "XPF"), 0),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
}
_NODE_TYPES = {"pageview": "page", "link": "link", "qr": "qr"}
_SUBS = ("sub1", "sub2", "sub3", "sub4", "sub5")
_UTM = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")
# t1..t13 in order; t14..t20 have no Clicktrail field
_T_FIELDS = (*_SUBS, *_UTM, "affiliate", "ad_network", "ad_click_id")
_EMPTY_T = {f"t{n}": None for n in range(len(_T_FIELDS) + 1, 21)}


@dataclass
class HitContext:
    """What the rows of some hits need besides the clicks: their short links (by id), domains
    (by id), leads and sales (by click id, oldest first) and replays (by page, the click id)."""

    links: dict[str, ShortLink] = field(default_factory=dict)
    domains: dict[int, str] = field(default_factory=dict)
    conversions: dict[str, list[Conversion]] = field(default_factory=dict)
    replays: dict[str, Replay] = field(default_factory=dict)


def is_custom(event: Event) -> bool:
    """A custom event (``clicktrail.track``), not one the tracker records itself."""
    return event.type not in TRACKER_EVENTS


def major(amount: int | None, currency: str | None) -> float | None:
    """Minor units as the currency's major unit (4900 EUR cents: 49.0)."""
    if amount is None:
        return None
    return amount / 10 ** _DECIMALS.get((currency or "").upper(), 2)


def sales_total(conversions: list[Conversion]) -> tuple[float | None, str | None]:
    """(the sum of the sales, their currency): 0.0 without sales, null when currencies mix."""
    sales = [c for c in conversions if c.kind == "sale" and c.amount is not None]
    currencies = {c.currency for c in sales}
    if not sales:
        return 0.0, None
    if len(currencies) > 1:
        return None, None
    currency = currencies.pop()
    return major(sum(c.amount or 0 for c in sales), currency), currency


def _page(click: Click) -> tuple[str | None, str | None]:
    """(the page's URL without query and fragment, its path) of a page view."""
    if click.trigger != "pageview" or not click.url:
        return None, None
    parts = urlsplit(click.url)
    path = parts.path or "/"
    return f"{parts.scheme}://{parts.netloc}{path}", path


def _link_host(link: ShortLink | None) -> str | None:
    """The domain a short link shows (as the links and events APIs show it)."""
    return shown_domain(link) if link is not None else None


def _node(click: Click, link: ShortLink | None) -> dict[str, Any]:
    page_id, path = _page(click)
    redirect = click.trigger != "pageview"
    return {
        "nodeType": _NODE_TYPES.get(click.trigger, click.trigger),
        "nodeId": click.link_id if redirect else page_id,
        "nodeName": (link.code if link else None) if redirect else path,
        "pageId": page_id,
        "pageName": path,
    }


def tracking(click: Click, ctx: HitContext) -> dict[str, Any]:
    """The funnel, node, page, source and tracking fields of a hit (every :class:`Tracking`
    key but money, conversion, event data and replay)."""
    link = ctx.links.get(click.link_id or "")
    source = click.utm_source or click.ad_network or click.referrer_host
    group = ctx.domains.get(click.domain_id) if click.domain_id is not None else None
    page_view = click.trigger == "pageview"
    return {
        "funnelId": str(click.funnel_id) if click.funnel_id is not None else None,
        "funnelName": None,
        **_node(click, link),
        "trafficSourceId": source,
        "trafficSourceName": source,
        "pageGroupId": str(click.domain_id) if page_view and group else None,
        "pageGroupName": group if page_view else None,
        "funnelGroupId": None,
        "funnelGroupName": None,
        "offerSourceId": click.affiliate,
        "offerSourceName": click.affiliate,
        "categoryId": None,
        "categoryName": None,
        "cost": None,
        "clickId": click.ad_click_id,
        "trackingDomain": _link_host(link),
        "externalId": click.external_id,
        "subCampaign": click.utm_campaign,
        **{f"t{n}": getattr(click, name) for n, name in enumerate(_T_FIELDS, 1)},
        **_EMPTY_T,
        "sessionId": click.session_id,
    }


def replay_at(click: Click, ctx: HitContext, at_ms: int) -> dict[str, Any]:
    """The replay of the hit's page and where ``at_ms`` falls in it (within its length)."""
    replay = ctx.replays.get(click.id)
    if replay is None:
        return {"replayId": None, "replayOffsetMs": None}
    length = max(0, replay.ended_at - replay.started_at)
    return {"replayId": replay.id, "replayOffsetMs": min(max(0, at_ms - replay.started_at), length)}


def hit_money(click: Click, ctx: HitContext) -> dict[str, Any]:
    """A hit's revenue (its sales), its first lead or sale and that sale's invoice."""
    conversions = ctx.conversions.get(click.id, [])
    total, currency = sales_total(conversions)
    sales = [c for c in conversions if c.kind == "sale"]
    return {
        "revenue": total,
        "totalRevenue": total,
        "currency": currency,
        "conversionId": conversions[0].id if conversions else None,
        "conversionTransaction": sales[0].invoice_id if sales else None,
        "eventData1": None,
        "eventData2": None,
    }


def _json_text(data: Any) -> str | None:
    if not data:
        return None
    return msgspec.json.encode(data).decode()


def conversion_money(conversion: Conversion, hit_total: float | None) -> dict[str, Any]:
    sale = conversion.kind == "sale"
    return {
        "revenue": major(conversion.amount, conversion.currency) if sale else 0.0,
        "totalRevenue": hit_total,
        "currency": conversion.currency,
        "conversionId": conversion.id,
        "conversionTransaction": conversion.invoice_id if sale else None,
        "eventData1": conversion.event_name,
        "eventData2": _json_text(conversion.metadata),
    }


def custom_money(event: Event, hit_total: float | None, currency: str | None) -> dict[str, Any]:
    return {
        "revenue": 0.0,
        "totalRevenue": hit_total,
        "currency": currency,
        "conversionId": None,
        "conversionTransaction": None,
        "eventData1": event.type,
        "eventData2": _json_text(event.data),
    }


def device(click: Click) -> dict[str, Any]:
    """Address, place, network and device of a hit (the :class:`Device` keys)."""
    return {
        "ip": click.ip_address,
        "country": click.country,
        "region": click.region,
        "city": click.city,
        "isp": click.isp,
        "connectionType": click.connection_type,
        "mobileCarrier": click.mobile_carrier,
        "deviceType": click.device_type,
        "deviceBrand": click.device_brand,
        "deviceModel": click.device_model,
        "deviceModelName": None,
        "deviceOS": click.os,
        "deviceOSVersion": click.os_version,
        "browser": click.browser,
        "browserVersion": click.browser_version,
        "language": click.language,
        "userAgent": click.user_agent,
        "organization": click.organization,
        "isProxy": bool(click.is_proxy),
        "proxyType": click.proxy_type,
        "asn": click.asn,
        "acceptLanguage": click.accept_language,
    }


def event_place(click: Click) -> dict[str, Any]:
    """The keys only a hit event has beside :func:`device`'s."""
    referrer = urlsplit(click.referrer) if click.referrer else None
    return {
        "visitorId": click.visitor_id,
        "hitTime": iso(click.created_at),
        "ipv6": click.ip_address if click.ip_address and ":" in click.ip_address else None,
        "continent": click.continent,
        "referrerDomain": click.referrer_host,
        "referrerPath": (referrer.path or "/") if referrer and referrer.netloc else None,
        "url": click.url or None,
    }
