"""Clicks and sessions API (seed 01): ``/api/brands/{brand}/clicks...``."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import anyio
import msgspec
from starlette.datastructures import QueryParams
from starlette.requests import Request

from collector.clicks import examples
from collector.clicks.schema import (
    CLICK_SHAPE,
    MAX_PAGE,
    PAGE_SIZE,
    SESSION_GEO,
    ClickDomain,
    ClickJson,
    ClickListQuery,
    ClickPage,
    ClickPath,
    EventJson,
    Session,
    SessionEvent,
    SessionGeo,
    SessionPath,
)
from collector.http import params
from collector.http.auth import authorize, authorize_shared
from collector.http.errors import ApiError
from collector.http.params import JSON, iso
from collector.http.routing import Endpoint, Example, Reply, routes_of
from collector.http.schema import BrandPath
from collector.http.state import runtime
from collector.ingest.identity import IDENTIFY, identify_data
from collector.replay.routes import replay_summary
from collector.storage.base import SORT_COLUMNS, Click, ClickQuery, Conversion, Event, Replay, Store
from collector.storage.rows import json_text

IDENTIFIED_LIMIT = 100  # clicks an external id filter matches (the newest)


def _store(request: Request) -> Store:
    return runtime(request).store


def event_json(event: Event) -> EventJson:
    # data: None when the stored data cannot be shown (storage/rows.py)
    return EventJson(event.type, event.url, iso(event.timestamp), event.data)


def session_event_json(event: Event) -> SessionEvent:
    return SessionEvent(event.type, event.url, iso(event.timestamp), event.data, event.click_id)


def _identified(click: Click, events: list[Event]) -> Click:
    """The click with the external id its newest ``identify`` event gave it, if any (an id given
    after the page's first beacon: ``ingest/identity.py``)."""
    for event in reversed(events):
        if event.type == IDENTIFY and isinstance(event.data, dict):
            external_id = event.data.get("external_id")
            if isinstance(external_id, str) and external_id != click.external_id:
                return msgspec.structs.replace(click, external_id=external_id)
            break
    return click


def click_json(click: Click, domains: dict[int, str], events: list[Event]) -> Any:
    """A click as the seed shows it, then Clicktrail's enrichment (see ``schema.py``)."""
    click = _identified(click, events)
    domain = None
    if click.domain_id is not None and click.domain_id in domains:
        domain = ClickDomain(click.domain_id, domains[click.domain_id])
    return CLICK_SHAPE.build(click, domain, [event_json(event) for event in events])


def click_query(request: Request) -> tuple[ClickQuery, int]:
    """The list filters (seed 01) and the page number, from the query string."""
    return click_query_of(request.query_params)


def click_query_of(q: QueryParams) -> tuple[ClickQuery, int]:
    """The list filters and the page number from query parameters (also an export's
    ``filters``); each bad value a 422 naming its parameter."""
    page = params.integer(q, "page", minimum=1, maximum=MAX_PAGE) or 1
    params.integer(q, "per_page", minimum=0)  # ignored (always 30), but a number
    query = ClickQuery(
        funnel_id=params.integer(q, "funnel_id"),
        url=params.text(q, "url"),
        sub1=params.text(q, "sub1"),
        visitor_id=params.text(q, "visit_id"),
        click_or_session=params.text(q, "click_id"),
        exclude_bots=params.boolean(q, "exclude_bots"),
        click_ids=None,
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


def _page_of_clicks(store: Store, brand: int, query: ClickQuery) -> tuple[int, list[Any]]:
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
    external_id = params.text(request.query_params, "external_id", max_length=128)
    if external_id is not None:
        ids = await anyio.to_thread.run_sync(
            _store(request).identified_clicks,
            brand,
            json_text(identify_data(external_id)),
            IDENTIFIED_LIMIT,
        )
        query = msgspec.structs.replace(query, click_ids=tuple(ids))
    total, rows = await anyio.to_thread.run_sync(_page_of_clicks, _store(request), brand, query)
    last_page = max(1, -(-total // PAGE_SIZE))
    next_page_url = _next_page_url(request, page, last_page)
    return JSON(ClickPage(total, last_page, page, PAGE_SIZE, next_page_url, rows))


def _click_detail(store: Store, brand: int, click_id: str) -> Any:
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


def _link_events(clicks: list[Click]) -> list[Event]:
    """A ``link_click`` or ``qr_scan`` event for each short-link redirect among ``clicks``."""
    return [
        Event(
            brand_id=c.brand_id,
            click_id=c.id,
            session_id=c.session_id,
            type="qr_scan" if c.trigger == "qr" else "link_click",
            url=c.url,
            timestamp=c.created_at,
            data={"link_id": c.link_id, "trigger": c.trigger, "is_repeat": c.is_repeat},
        )
        for c in clicks
        if c.trigger in ("link", "qr")
    ]


def conversion_event(conversion: Conversion) -> Event:
    """A lead or a sale as an event of its click's session."""
    data: dict[str, Any] = {
        "eventId": conversion.id,
        "eventName": conversion.event_name,
        "customerExternalId": conversion.customer_external_id,
    }
    if conversion.kind == "sale":
        data |= {
            "amount": conversion.amount,
            "currency": conversion.currency,
            "saleType": conversion.sale_type,
            "invoiceId": conversion.invoice_id,
            "paymentProcessor": conversion.payment_processor,
        }
    data["metadata"] = conversion.metadata
    return Event(
        brand_id=conversion.brand_id,
        click_id=conversion.click_id,
        session_id=conversion.session_id,
        type=conversion.kind,
        url=None,
        timestamp=conversion.created_at,
        data=data,
    )


def session_json(
    clicks: list[Click],
    events: list[Event],
    domains: dict[int, str],
    replays: list[Replay] | None = None,
) -> Session:
    """A session from its clicks (first first), its events in order (short-link redirects and
    conversions among them), its domains' hosts and its replays."""
    first = clicks[0]
    schemes = {c.domain_id: urlsplit(c.url).scheme or "https" for c in clicks if c.domain_id}
    ordered = sorted([*_link_events(clicks), *events], key=lambda e: e.timestamp)
    return Session(
        SessionGeo(*[getattr(first, name) for name in SESSION_GEO]),
        # click_id after the seed's fields: which page (click) of the session each event is of
        [session_event_json(event) for event in ordered],
        {str(i): f"{schemes.get(i, 'https')}://{host}" for i, host in domains.items()},
        [replay_summary(replay) for replay in replays or []],
    )


def _session_detail(store: Store, brand: int, session_id: str) -> Session | None:
    clicks = store.session_clicks(brand, session_id)
    if not clicks:
        return None
    events = store.session_events(brand, session_id)
    conversions = [conversion_event(c) for c in store.session_conversions(brand, session_id)]
    replays = store.replays_for_session(brand, session_id)
    return session_json(clicks, events + conversions, _domains(store, brand, clicks), replays)


async def get_session(request: Request) -> JSON:
    access = authorize_shared(request)
    brand = access.brand_id
    session_id = request.path_params["session_id"]
    access.check_session(session_id)
    found = await anyio.to_thread.run_sync(_session_detail, _store(request), brand, session_id)
    if found is None:
        raise ApiError(404, f"no session {session_id!r}")
    return JSON(found)


_EXAMPLE_CLICK = click_json(examples.CLICK, examples.DOMAINS, examples.EVENTS)
_SHARE_NOTE = "A share link reads this too, for its own session only (another session is 404)."

endpoints = [
    Endpoint(
        "GET",
        "/api/brands/{brand}/clicks",
        list_clicks,
        summary=f"List clicks, {PAGE_SIZE} a page",
        area="Clicks",
        auth="read_or_share",
        description="Filters combine; `next_page_url` is the URL of the next page. A share link "
        "lists only its own session (`click_id` set to it).",
        path_params=BrandPath,
        query=ClickListQuery,
        replies=(
            Reply(
                200,
                "One page of clicks",
                ClickPage,
                example=ClickPage(1, 1, 1, PAGE_SIZE, None, [_EXAMPLE_CLICK]),
            ),
        ),
        errors=(401, 403, 404, 422),
        example=Example(path={"brand": examples.BRAND_ID}, query={"funnel_id": 5, "page": 1}),
    ),
    Endpoint(
        "GET",
        "/api/brands/{brand}/clicks/session/{session_id}",
        get_session,
        summary="A session: geo data, its events in order, its domains",
        area="Clicks",
        auth="read_or_share",
        description=_SHARE_NOTE,
        path_params=SessionPath,
        replies=(
            Reply(
                200,
                "The session",
                Session,
                example=session_json([examples.CLICK], examples.EVENTS, examples.DOMAINS),
            ),
        ),
        errors=(401, 403, 404),
        example=Example(path={"brand": examples.BRAND_ID, "session_id": examples.SESSION_ID}),
    ),
    Endpoint(
        "GET",
        "/api/brands/{brand}/clicks/{click_code}",
        get_click,
        summary="One click with its events",
        area="Clicks",
        auth="read",
        description="The same object as a row of the list.",
        path_params=ClickPath,
        replies=(Reply(200, "The click", ClickJson, example=_EXAMPLE_CLICK),),
        errors=(401, 403, 404),
        example=Example(path={"brand": examples.BRAND_ID, "click_code": examples.CLICK_CODE}),
    ),
]
routes = routes_of(endpoints)
