"""A click as a row of the stream, and ``is_unique``.

``is_unique`` is 1 for the visitor's first click on that offer within 24 hours: no click of the
same visitor on the same offer in the 24 hours before it (a click in the same millisecond with
a smaller id counts as before). A click's offer is its short link, else its funnel, else none
(the brand's pages outside any link or funnel count as one offer).
"""

from __future__ import annotations

import bisect
import hashlib
from collections import defaultdict
from typing import Any

from collector.storage.base import Click, ShortLink

from .schema import (
    StreamDevice,
    StreamGeolocation,
    StreamOffer,
    StreamRelationship,
    StreamRow,
)

DAY_MS = 86_400_000
OfferKey = tuple[str, str | int | None]
# (visitor id, link id, funnel id, created_at ms, click id) of a visitor's click
History = list[tuple[str, str | None, int | None, int, str]]


def offer_key(link_id: str | None, funnel_id: int | None) -> OfferKey:
    return ("link", link_id) if link_id else ("funnel", funnel_id)


def unique_flags(clicks: list[Click], history: History) -> list[bool]:
    """For each click, whether no click of its visitor on its offer came in the 24 hours before
    it; ``history`` holds the visitors' clicks from 24 hours before the first click on."""
    seen: dict[tuple[str, OfferKey], list[tuple[int, str]]] = defaultdict(list)
    for visitor, link, funnel, at, click_id in history:
        seen[(visitor, offer_key(link, funnel))].append((int(at), click_id))
    for times in seen.values():
        times.sort()
    flags = []
    for click in clicks:
        times = seen.get((click.visitor_id, offer_key(click.link_id, click.funnel_id)), [])
        first = bisect.bisect_left(times, (click.created_at - DAY_MS, ""))
        flags.append(not (first < len(times) and times[first] < (click.created_at, click.id)))
    return flags


def row(click: Click, unique: bool, links: dict[str, ShortLink]) -> StreamRow:
    query = click.query or {}
    return StreamRow(
        transaction_id=click.id,
        is_unique=int(unique),
        unix_timestamp=click.created_at // 1000,
        tracking_url=click.url,
        source_id=click.utm_source,
        sub1=click.sub1,
        sub2=click.sub2,
        sub3=click.sub3,
        sub4=click.sub4,
        sub5=click.sub5,
        revenue_type=None,
        revenue=None,
        referer=click.referrer,
        error_code=None,
        user_ip=click.ip_address,
        error_message=None,
        currency_id=None,
        coupon_code=query.get("coupon_code") or query.get("coupon"),
        **_device_ids(query),
        relationship=StreamRelationship(
            offer=_offer(click, links),
            geolocation=_geolocation(click),
            device_information=_device(click),
            query_parameters=query,
        ),
    )


def _device_ids(query: dict[str, str]) -> dict[str, Any]:
    """``idfa``, ``google_ad_id``, ``android_id`` from the click's URL parameters, with their
    ``_md5`` / ``_sha1``: the parameter of that name, else the hash of the raw id."""
    if query.keys().isdisjoint(_ID_PARAMETERS):
        return _NO_IDS
    found: dict[str, Any] = {}
    for name in _DEVICE_IDS:
        raw = query.get(name) or None
        found[name] = raw
        for digest in ("md5", "sha1"):
            given = query.get(f"{name}_{digest}") or None
            if given is None and raw is not None:
                given = hashlib.new(digest, raw.encode(), usedforsecurity=False).hexdigest()
            found[f"{name}_{digest}"] = given
    return found


_DEVICE_IDS = ("idfa", "google_ad_id", "android_id")
_ID_PARAMETERS = frozenset(f"{n}{end}" for n in _DEVICE_IDS for end in ("", "_md5", "_sha1"))
_NO_IDS: dict[str, Any] = dict.fromkeys(sorted(_ID_PARAMETERS))


def _offer(click: Click, links: dict[str, ShortLink]) -> StreamOffer:
    link = links.get(click.link_id) if click.link_id else None
    offer_id: int | str | None = click.link_id or click.funnel_id
    status = None
    if link is not None:
        expired = link.expires_at is not None and link.expires_at <= click.created_at
        status = "deleted" if link.deleted else "expired" if expired else "active"
    return StreamOffer(
        network_offer_id=offer_id,
        network_id=click.brand_id,
        network_tracking_domain_id=click.domain_id,
        name=link.code if link else None,
        offer_status=status,
    )


def _carrier(value: str | None) -> tuple[str | None, str | None]:
    """``"NAME (mcc-mnc)"`` as (NAME, mcc-mnc)."""
    if not value:
        return None, None
    name, _, code = value.rpartition(" (")
    if not name or not code.endswith(")"):
        return value, None
    return name, code[:-1]


def _geolocation(click: Click) -> StreamGeolocation:
    carrier_name, carrier_code = _carrier(click.mobile_carrier)
    mobile = None
    if click.connection_type is not None or click.mobile_carrier is not None:
        mobile = click.connection_type == "Cellular" or click.mobile_carrier is not None
    return StreamGeolocation(
        country_code=click.country,
        country_name=None,
        region_code=click.region,
        region_name=None,
        city_name=click.city,
        dma=None,
        dma_name=None,
        carrier_name=carrier_name,
        carrier_code=carrier_code,
        isp_name=click.isp,
        organization=click.organization,
        postal_code=click.zip,
        timezone=click.time_zone,
        is_mobile=mobile,
        is_proxy=click.is_proxy,
    )


def _device(click: Click) -> StreamDevice:
    kind = click.device_type
    language = click.language
    if language is None and click.accept_language:
        language = click.accept_language.split(",")[0].split(";")[0].strip() or None
    return StreamDevice(
        is_mobile=None if kind is None else kind == "mobile",
        platform_name=click.os,
        os_version=click.os_version,
        brand=click.device_brand,
        model=click.device_model,
        is_tablet=None if kind is None else kind == "tablet",
        browser_name=click.browser,
        browser_version=click.browser_version,
        device_type=kind,
        language=language,
        http_accept_language=click.accept_language,
        is_robot=click.is_bot,
        is_filter=False,
    )
