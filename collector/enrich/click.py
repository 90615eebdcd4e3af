"""Turns a decoded beacon plus what the request tells (IP, user agent) into stored rows."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import msgspec

from collector.enrich.behaviour import behaviour_reason
from collector.enrich.bots import bot_reason
from collector.enrich.clickdata import StoredClick, stored_click
from collector.enrich.frustration import RAGE_MIN_CLICKS, SIGNALS, rage_clicks, signal_data
from collector.enrich.geo import GeoInfo
from collector.enrich.netaddr import anonymize_ip
from collector.enrich.referrer import ReferrerInfo, ad_click, classify_referrer
from collector.enrich.useragent import UAInfo
from collector.ingest.wire import Beacon, has_data
from collector.storage.base import Brand, Click, Event

MAX_URL = 2048
MAX_QUERY_PARAMS = 50
MAX_QUERY_VALUE = 500
MAX_ACCEPT_LANGUAGE = 256
FUTURE_SKEW_MS = 60_000
PAST_SKEW_MS = 24 * 3600 * 1000

_SUBS = ("sub1", "sub2", "sub3", "sub4", "sub5")
_UTMS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")
_AFFILIATE_PARAMS = ("affiliate", "aff", "aff_id", "affiliate_id")


@dataclass(frozen=True, slots=True)
class HitContext:
    """What the request says about the visitor, resolved once per beacon."""

    brand: Brand
    visitor_id: str
    session_id: str
    ip: str | None
    user_agent: str | None
    ua: UAInfo
    geo: GeoInfo
    now_ms: int
    accept_language: str | None = None  # the raw header, as sent


@functools.lru_cache(maxsize=8192)
def page_url_parts(url: str) -> tuple[str | None, dict[str, str]]:
    """(lower-case host, first value of each query parameter, bounded). Cached, since every
    beacon of a page load carries the same URL: treat the dict as read-only."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return None, {}
    query: dict[str, str] = {}
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if len(query) >= MAX_QUERY_PARAMS:
            break
        query.setdefault(key[:100], value[:MAX_QUERY_VALUE])
    return host, query


def clock_offset(beacon: Beacon, now_ms: int) -> int:
    """How far to shift the browser's timestamps: zero unless its clock is clearly off."""
    newest = max(event.ts for event in beacon.e)
    if newest > now_ms + FUTURE_SKEW_MS or newest < now_ms - PAST_SKEW_MS:
        return now_ms - newest
    return 0


def _bounded(text: str | None, limit: int) -> str | None:
    """``text`` cut to ``limit`` characters; ``None`` when absent or empty."""
    return text[:limit] if text else None


def _funnel_id(value: int | None) -> int | None:
    return value if value is not None and 0 <= value < 2**53 else None


def _tracking_params(query: dict[str, str]) -> dict[str, Any]:
    """sub1..sub5 and utm_* from a URL's query (absent or empty: None)."""
    return {name: query.get(name) or None for name in _SUBS + _UTMS}


@dataclass(frozen=True, slots=True)
class _LandingFacts:
    """What a click's URL and referrer say, read once per (URL, referrer)."""

    host: str | None
    query: dict[str, str]  # page_url_parts' dict for the URL: read-only
    tracking: dict[str, Any]
    affiliate: str | None
    ad: tuple[str, str] | None
    referrer: ReferrerInfo


@functools.lru_cache(maxsize=8192)
def _landing_facts(url: str, referrer: str | None) -> _LandingFacts:
    """The URL's host and query, the query's tracking parameters, affiliate and ad click, and
    the referrer's class; cached, since the clicks of a link or a landing page carry the same
    URL and mostly the same referrer."""
    host, query = page_url_parts(url)
    return _LandingFacts(
        host=host,
        query=query,
        tracking=_tracking_params(query),
        affiliate=next((query[p] for p in _AFFILIATE_PARAMS if query.get(p)), None),
        ad=ad_click(query),
        referrer=classify_referrer(referrer, host, query),
    )


def build_click(
    beacon: Beacon,
    ctx: HitContext,
    domain_id: int | None,
    created_at: int,
    link_id: str | None = None,
) -> Click:
    """The click of a page view: the first beacon of a page session."""
    return make_click(
        ctx,
        click_id=beacon.p,
        trigger="pageview",
        url=beacon.u,
        domain_id=domain_id,
        referrer=beacon.r,
        created_at=created_at,
        funnel_id=_funnel_id(beacon.f),
        external_id=beacon.i,
        language=beacon.l,
        viewport=(beacon.w, beacon.h),
        link_id=link_id,
        behaviour=behaviour_reason(beacon),
    )


def make_click(
    ctx: HitContext,
    *,
    click_id: str,
    trigger: str,
    url: str,
    domain_id: int | None,
    referrer: str | None,
    created_at: int,
    funnel_id: int | None = None,
    external_id: str | None = None,
    language: str | None = None,
    viewport: tuple[int | None, int | None] = (None, None),
    link_id: str | None = None,
    is_repeat: bool = False,
    behaviour: str | None = None,
) -> Click:
    """A click with every enrichment: what the URL's query says (subs, utm, affiliate, ad
    click), the referrer's class, geo and network facts, device, the bot flag and its reason
    (the user agent's, else ``behaviour``: what the page's beacon showed, see
    :mod:`collector.enrich.behaviour`) and the Accept-Language header. A page view and a
    short-link redirect are both built here."""
    facts = _landing_facts(url, referrer)
    classified, ad = facts.referrer, facts.ad
    geo, ua = ctx.geo, ctx.ua
    why_bot = bot_reason(ctx.user_agent, ua) or behaviour
    return Click(
        id=click_id,
        brand_id=ctx.brand.id,
        session_id=ctx.session_id,
        visitor_id=ctx.visitor_id,
        created_at=created_at,
        trigger=trigger,
        ip_address=anonymize_ip(ctx.ip, ctx.brand.settings.ip_mode),
        url=url[:MAX_URL],
        domain_id=domain_id,
        funnel_id=funnel_id,
        **facts.tracking,
        affiliate=facts.affiliate,
        external_id=external_id,
        ad_network=ad[0] if ad else None,
        ad_click_id=ad[1] if ad else None,
        query=facts.query,
        referrer=referrer[:MAX_URL] if referrer else None,
        referrer_host=classified.host,
        referrer_type=classified.type,
        referrer_name=classified.name,
        country=geo.country,
        region=geo.region,
        city=geo.city,
        zip=geo.zip,
        lat=geo.lat,
        lon=geo.lon,
        time_zone=geo.time_zone,
        continent=geo.continent,
        asn=geo.asn,
        isp=geo.isp,
        device_type=ua.device_type,
        device_brand=ua.device_brand,
        device_model=ua.device_model,
        os=ua.os,
        os_version=ua.os_version,
        browser=ua.browser,
        browser_version=ua.browser_version,
        user_agent=ctx.user_agent,
        language=language,
        viewport_width=viewport[0],
        viewport_height=viewport[1],
        is_bot=why_bot is not None,
        link_id=link_id,
        is_repeat=is_repeat,
        accept_language=_bounded(ctx.accept_language, MAX_ACCEPT_LANGUAGE),
        organization=geo.organization,
        connection_type=geo.connection_type,
        mobile_carrier=geo.mobile_carrier,
        is_proxy=geo.is_proxy,
        proxy_type=geo.proxy_type,
        bot_reason=why_bot,
    )


def _event_data(kind: str, data: msgspec.Raw) -> StoredClick | dict[str, Any] | msgspec.Raw:
    """What is stored as the event's data: a click's fields under their API names, or a
    custom event's JSON object exactly as sent (validated, never decoded)."""
    if not has_data(data):
        return {}
    if kind == "click":
        return stored_click(data)
    return signal_data(kind, data) if kind in SIGNALS else data


def build_events(beacon: Beacon, ctx: HitContext, offset: int) -> list[Event]:
    """The beacon's events as rows, and a ``rage_click`` for each burst of its clicks."""
    brand_id, click_id, session_id = ctx.brand.id, beacon.p, ctx.session_id
    page_url = beacon.u[:MAX_URL]
    events = [
        Event(
            brand_id=brand_id,
            click_id=click_id,
            session_id=session_id,
            type=event.t,
            timestamp=event.ts + offset,
            url=event.u[:MAX_URL] if event.u else page_url,
            data=_event_data(event.t, event.d),
            seq=index,
        )
        for index, event in enumerate(beacon.e)
    ]
    if len(events) >= RAGE_MIN_CLICKS:
        events += rage_clicks(events)
    return events
