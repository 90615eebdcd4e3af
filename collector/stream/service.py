"""The stream request run on the store: the window and filters read (domain errors naming the
field), one page of clicks (``limit`` + 1, to tell whether more match), their rows."""

from __future__ import annotations

from collector.query.model import Query, TimeRange
from collector.storage.base import Store

from . import filters, rows, timezones
from .schema import StreamAnswer, StreamRequest
from .window import Window, cursor, window


def read_window(body: StreamRequest) -> tuple[int | None, str, Window]:
    """(Everflow's zone id, the IANA zone, the window) of a request."""
    zone_id, zone = timezones.resolve(body.timezone_id, body.timezone)
    return zone_id, zone.key, window(body.from_, body.to, zone, body.next_from)


def stream(store: Store, brand_id: int, body: StreamRequest) -> StreamAnswer:
    zone_id, zone, span = read_window(body)
    groups = filters.groups(body.query.filters)
    start = span.start if span.after is None else max(span.start, span.after[0])
    query = Query(time_range=TimeRange(start, span.end))
    found = store.stream_clicks(brand_id, query, groups, span.after, body.limit + 1)
    page = found[: body.limit]
    truncated = len(found) > body.limit
    history = []
    if page:
        visitors = [click.visitor_id for click in page]
        first, last = page[0].created_at, page[-1].created_at
        history = store.visitor_history(brand_id, visitors, first - rows.DAY_MS, last)
    unique = rows.unique_flags(page, history)
    link_ids = sorted({click.link_id for click in page if click.link_id})
    links = store.links_by_id(brand_id, link_ids) if link_ids else {}
    return StreamAnswer(
        table=[rows.row(c, u, links) for c, u in zip(page, unique, strict=True)],
        truncated=truncated,
        next_from=cursor(page[-1].created_at, page[-1].id) if truncated else None,
        timezone_id=zone_id,
        timezone=zone,
    )
