"""Clicks and sessions API (seed 01): ``/api/brands/{brand}/clicks...``."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import anyio
from starlette.requests import Request
from starlette.routing import Route

from collector.http import params
from collector.http.auth import Access
from collector.http.errors import ApiError
from collector.http.params import JSON, iso
from collector.storage.base import SORT_COLUMNS, Click, ClickQuery, Event, Store

PAGE_SIZE = 30
MAX_PAGE = 10_000_000  # 300 million clicks deep; the offset stays far inside int64


def _store(request: Request) -> Store:
    return request.app.state.store


def brand_id(request: Request) -> int:
    """The brand of the path: ASCII digits within int64, else 404."""
    raw = request.path_params["brand"]
    number = params.parse_int(raw, minimum=1)
    if number is None:
        raise ApiError(404, f"no brand {raw[:40]!r}")
    return number


def authorize(request: Request, scope: str = "read") -> int:
    brand = brand_id(request)
    request.app.state.keys.authorize(request, brand, scope)
    return brand


def authorize_shared(request: Request) -> Access:
    """Read access by an API key, or by a share link (then limited to its session)."""
    return request.app.state.keys.authorize(request, brand_id(request), "read", shared=True)


def event_json(event: Event) -> dict[str, Any]:
    return {
        "type": event.type,
        "url": event.url,
        "timestamp": iso(event.timestamp),
        "data": event.data,  # None when the stored data cannot be shown (storage/rows.py)
    }


def click_json(click: Click, domains: dict[int, str], events: list[Event]) -> dict[str, Any]:
    """A click as the seed shows it, then Clicktrail's enrichment."""
    domain = None
    if click.domain_id is not None and click.domain_id in domains:
        domain = {"id": click.domain_id, "domain": domains[click.domain_id]}
    return {
        "id": click.id,
        "session_id": click.session_id,
        "ip_address": click.ip_address,
        "url": click.url,
        "funnel_id": click.funnel_id,
        "domain": domain,
        "affiliate": click.affiliate,
        "merchant": None,
        "events": [event_json(event) for event in events],
        "created_at": iso(click.created_at),
        "visitor_id": click.visitor_id,
        "trigger": click.trigger,
        "external_id": click.external_id,
        "sub1": click.sub1,
        "sub2": click.sub2,
        "sub3": click.sub3,
        "sub4": click.sub4,
        "sub5": click.sub5,
        "utm": {
            "source": click.utm_source,
            "medium": click.utm_medium,
            "campaign": click.utm_campaign,
            "term": click.utm_term,
            "content": click.utm_content,
        },
        "ad_click": {"network": click.ad_network, "id": click.ad_click_id}
        if click.ad_click_id
        else None,
        "query": click.query,
        "referrer": {
            "url": click.referrer,
            "host": click.referrer_host,
            "type": click.referrer_type,
            "name": click.referrer_name,
        },
        "geo": {
            "country": click.country,
            "region": click.region,
            "city": click.city,
            "zip": click.zip,
            "lat": click.lat,
            "lon": click.lon,
            "time_zone": click.time_zone,
            "continent": click.continent,
            "asn": click.asn,
            "isp": click.isp,
        },
        "device": {
            "type": click.device_type,
            "brand": click.device_brand,
            "model": click.device_model,
        },
        "os": {"name": click.os, "version": click.os_version},
        "browser": {"name": click.browser, "version": click.browser_version},
        "language": click.language,
        "viewport": {"width": click.viewport_width, "height": click.viewport_height},
        "is_bot": click.is_bot,
    }


def click_query(request: Request) -> tuple[ClickQuery, int]:
    """The list filters (seed 01) and the page number, from the query string."""
    q = request.query_params
    page = params.integer(q, "page", minimum=1, maximum=MAX_PAGE) or 1
    params.integer(q, "per_page", minimum=0)  # ignored (always 30), but a number
    query = ClickQuery(
        funnel_id=params.integer(q, "funnel_id"),
        url=params.text(q, "url"),
        sub1=params.text(q, "sub1"),
        visitor_id=params.text(q, "visit_id"),
        click_or_session=params.text(q, "click_id"),
        exclude_bots=params.boolean(q, "exclude_bots"),
        start=params.timestamp_ms(q, "start"),
        end=params.timestamp_ms(q, "end", end_of_day=True),
        sort=params.choice(q, "sort", SORT_COLUMNS, "created_at"),  # type: ignore[arg-type]
        direction=params.choice(q, "direction", ("asc", "desc"), "desc"),  # type: ignore[arg-type]
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
    )
    if query.start is not None and query.end is not None and query.start > query.end:
        raise ApiError(422, "`start` is after `end`", param="start")
    return query, page


def _events_by_click(events: list[Event]) -> dict[str, list[Event]]:
    grouped: dict[str, list[Event]] = {}
    for event in events:
        grouped.setdefault(event.click_id, []).append(event)
    return grouped


def _domains(store: Store, brand: int, clicks: list[Click]) -> dict[int, str]:
    """Host names of the domains these clicks came from, by domain id (one read)."""
    ids = sorted({c.domain_id for c in clicks if c.domain_id is not None})
    return store.domains_by_id(brand, ids) if ids else {}


def _page_of_clicks(store: Store, brand: int, query: ClickQuery):
    total, clicks = store.list_clicks(brand, query)
    ids = [click.id for click in clicks]
    events = _events_by_click(store.events_for_clicks(brand, ids)) if ids else {}
    domains = _domains(store, brand, clicks)
    return total, [click_json(c, domains, events.get(c.id, [])) for c in clicks]


def _next_page_url(request: Request, page: int, last_page: int) -> str | None:
    if page >= last_page:
        return None
    return str(request.url.include_query_params(page=page + 1))


async def list_clicks(request: Request) -> JSON:
    access = authorize_shared(request)
    brand = access.brand_id
    query, page = click_query(request)
    if access.session_id is not None:
        access.check_session(query.click_or_session or "")
    total, rows = await anyio.to_thread.run_sync(_page_of_clicks, _store(request), brand, query)
    last_page = max(1, -(-total // PAGE_SIZE))
    return JSON(
        {
            "total": total,
            "last_page": last_page,
            "current_page": page,
            "per_page": PAGE_SIZE,
            "next_page_url": _next_page_url(request, page, last_page),
            "data": rows,
        }
    )


def _click_detail(store: Store, brand: int, click_id: str) -> dict[str, Any] | None:
    click = store.get_click(brand, click_id)
    if click is None:
        return None
    events = store.events_for_clicks(brand, [click.id])
    return click_json(click, _domains(store, brand, [click]), events)


async def get_click(request: Request) -> JSON:
    brand = authorize(request)
    click_id = request.path_params["click_code"]
    found = await anyio.to_thread.run_sync(_click_detail, _store(request), brand, click_id)
    if found is None:
        raise ApiError(404, f"no click {click_id!r}")
    return JSON(found)


def _session_detail(store: Store, brand: int, session_id: str) -> dict[str, Any] | None:
    clicks = store.session_clicks(brand, session_id)
    if not clicks:
        return None
    first = clicks[0]
    events = store.session_events(brand, session_id)
    domains = _domains(store, brand, clicks)
    schemes = {c.domain_id: urlsplit(c.url).scheme or "https" for c in clicks if c.domain_id}
    return {
        "geoData": {
            "lat": first.lat,
            "lon": first.lon,
            "city": first.city,
            "region": first.region,
            "country": first.country,
            "zip": first.zip,
            "ip_address": first.ip_address,
        },
        # click_id after the seed's fields: which page (click) of the session each event is of
        "events": [{**event_json(event), "click_id": event.click_id} for event in events],
        "domains": {str(i): f"{schemes.get(i, 'https')}://{host}" for i, host in domains.items()},
    }


async def get_session(request: Request) -> JSON:
    access = authorize_shared(request)
    brand = access.brand_id
    session_id = request.path_params["session_id"]
    access.check_session(session_id)
    found = await anyio.to_thread.run_sync(_session_detail, _store(request), brand, session_id)
    if found is None:
        raise ApiError(404, f"no session {session_id!r}")
    return JSON(found)


routes = [
    Route("/api/brands/{brand}/clicks", list_clicks, methods=["GET"]),
    Route("/api/brands/{brand}/clicks/session/{session_id}", get_session, methods=["GET"]),
    Route("/api/brands/{brand}/clicks/{click_code}", get_click, methods=["GET"]),
]
