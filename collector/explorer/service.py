"""The explorer's answers: the request checked (each refusal a domain error naming its field),
the store read, the rows made by ``facts.py``.

Paging: hits come newest first by ``(created_at, id)``, and the cursor is the last row's key,
so the next page starts right after it: a hit stored meanwhile (newer, or into a page already
read) never shifts the pages, and no hit is shown twice or skipped.
"""

from __future__ import annotations

import base64
import binascii
import re
from datetime import datetime
from typing import Any

from collector.errors import Invalid, NotFound
from collector.http.params import iso
from collector.storage.base import Click, Conversion, Event, Store

from . import facts
from .facts import HitContext
from .schema import (
    ExplorerHitDetail,
    ExplorerHitRequest,
    ExplorerHitResponse,
    ExplorerHitRow,
    ExplorerVisitorRequest,
    ExplorerVisitorResponse,
    VisitorInfo,
)

_MILLIS = re.compile(r"-?[0-9]{1,19}")


def parse_time(value: str | None, name: str) -> int | None:
    """An RFC 3339 time (with its offset, or Z) as ms since the epoch; 422 naming ``name``."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is not None:
            return int(moment.timestamp() * 1000)
    except (ValueError, OverflowError):
        pass
    raise Invalid(
        f"{name} must be an RFC 3339 time with its offset, e.g. 2024-08-25T15:00:00Z",
        param=name,
    )


def encode_cursor(click: Click) -> str:
    raw = f"{click.created_at}.{click.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> tuple[int, str] | None:
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, click_id = raw.split(".", 1)
        if not click_id or not _MILLIS.fullmatch(at) or not -(2**63) <= int(at) < 2**63:
            raise ValueError(raw)
        return int(at), click_id
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise Invalid(
            "cursor is not one this endpoint gave: send nextCursor as it was received",
            param="cursor",
        ) from None


def _span(request: ExplorerVisitorRequest) -> tuple[int | None, int | None]:
    if request.visitorId is not None and request.hitId is not None:
        raise Invalid("send visitorId or hitId, not both", param="hitId")
    if request.visitorId is None and request.hitId is None:
        raise Invalid("send visitorId (with timeStart and timeEnd) or hitId", param="visitorId")
    if request.visitorId is not None:
        for name in ("timeStart", "timeEnd"):
            if getattr(request, name) is None:
                raise Invalid(f"{name} is required with visitorId (RFC 3339)", param=name)
    start = parse_time(request.timeStart, "timeStart")
    end = parse_time(request.timeEnd, "timeEnd")
    if start is not None and end is not None and end < start:
        raise Invalid("timeEnd is before timeStart", param="timeEnd")
    return start, end


def _hit(store: Store, brand_id: int, hit_id: str) -> Click:
    click = store.get_click(brand_id, hit_id)
    if click is None:
        raise NotFound(f"no hit {hit_id!r} in this brand", param="hitId")
    return click


def context(store: Store, brand_id: int, clicks: list[Click]) -> HitContext:
    """The links, domains, leads and sales, and replays of these hits. Leads and sales are read
    per session (an index range on SQLite, a bloom filter on ClickHouse): a conversion carries
    its click's session, and a visitor's page of hits spans few sessions."""
    ids = {click.id for click in clicks}
    links = sorted({click.link_id for click in clicks if click.link_id})
    domains = sorted({click.domain_id for click in clicks if click.domain_id is not None})
    conversions: dict[str, list[Conversion]] = {}
    for session_id in sorted({click.session_id for click in clicks}):
        for conversion in store.session_conversions(brand_id, session_id):
            if conversion.click_id in ids:
                conversions.setdefault(conversion.click_id, []).append(conversion)
    pages = sorted({click.session_id for click in clicks if click.trigger == "pageview"})
    replays = {
        replay.page_session_id: replay
        for session_id in pages
        for replay in store.replays_for_session(brand_id, session_id)
    }
    return HitContext(
        links=store.links_by_id(brand_id, links) if links else {},
        domains=store.domains_by_id(brand_id, domains) if domains else {},
        conversions=conversions,
        replays=replays,
    )


def hit_row(click: Click, ctx: HitContext) -> ExplorerHitRow:
    return ExplorerHitRow(
        hitId=click.id,
        eventType=click.trigger,
        eventTime=iso(click.created_at),
        **facts.tracking(click, ctx),
        **facts.hit_money(click, ctx),
        **facts.replay_at(click, ctx, click.created_at),
    )


def visitor(
    store: Store, brand_id: int, request: ExplorerVisitorRequest
) -> ExplorerVisitorResponse:
    span = _span(request)
    before = decode_cursor(request.cursor)
    if request.hitId is not None:
        visitor_id = _hit(store, brand_id, request.hitId).visitor_id
    else:
        visitor_id = request.visitorId or ""
    total, first, last = store.visitor_summary(brand_id, visitor_id, span)
    if first is None:
        raise NotFound(f"visitor {visitor_id!r} has no hits in that time range")
    clicks = store.visitor_hits(brand_id, visitor_id, span, before, request.limit + 1)
    more = len(clicks) > request.limit
    clicks = clicks[: request.limit]
    ctx = context(store, brand_id, clicks)
    info = VisitorInfo(
        visitorId=visitor_id,
        firstSeen=iso(first.created_at),
        lastSeen=iso(last) if last is not None else None,
        totalHits=total,
        **facts.device(first),
    )
    return ExplorerVisitorResponse(
        visitor=info,
        hits=[hit_row(click, ctx) for click in clicks],
        hasMore=more,
        nextCursor=encode_cursor(clicks[-1]) if more and clicks else None,
    )


def event(
    click: Click, ctx: HitContext, at: int, kind: str, money: dict[str, Any]
) -> ExplorerHitDetail:
    return ExplorerHitDetail(
        hitId=click.id,
        eventType=kind,
        eventTime=iso(at),
        **facts.tracking(click, ctx),
        **facts.device(click),
        **facts.event_place(click),
        **money,
        **facts.replay_at(click, ctx, at),
    )


def hit(store: Store, brand_id: int, request: ExplorerHitRequest) -> ExplorerHitResponse:
    """The hit, then its leads, sales and custom events, by time (the hit first on a tie)."""
    parse_time(request.timeStart, "timeStart")  # a hint only: the id says where the hit is
    click = _hit(store, brand_id, request.hitId)
    ctx = context(store, brand_id, [click])
    conversions = ctx.conversions.get(click.id, [])
    total, currency = facts.sales_total(conversions)
    events: list[tuple[int, int, ExplorerHitDetail]] = [
        (
            click.created_at,
            0,
            event(click, ctx, click.created_at, click.trigger, facts.hit_money(click, ctx)),
        )
    ]
    for conversion in conversions:
        money = facts.conversion_money(conversion, total)
        events.append(
            (
                conversion.created_at,
                1,
                event(click, ctx, conversion.created_at, conversion.kind, money),
            )
        )
    for custom in _custom_events(store, brand_id, click):
        money = facts.custom_money(custom, total, currency)
        events.append((custom.timestamp, 2, event(click, ctx, custom.timestamp, "custom", money)))
    events.sort(key=lambda entry: entry[:2])
    return ExplorerHitResponse(events=[event for _, _, event in events])


def _custom_events(store: Store, brand_id: int, click: Click) -> list[Event]:
    """The hit's custom events: its session's events (one key range on both engines) of it."""
    return [
        event
        for event in store.session_events(brand_id, click.session_id)
        if event.click_id == click.id and facts.is_custom(event)
    ]
