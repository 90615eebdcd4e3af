"""Frustration signals as events on a page view's click (issue 15): ``rage_click`` found here at
ingest from a beacon's ``click`` events, ``dead_click`` and ``error_click`` as the tracker sends
them. Their data is typed: ``{s, x, y, src}`` (the click's selector and page coordinates) plus
``n`` (clicks in the burst) for a rage click and ``m`` (the error's message) for an error click;
``src`` is ``tracker`` for everything that came in a beacon."""

from __future__ import annotations

from operator import itemgetter
from typing import Any

import msgspec

from collector.enrich.clickdata import StoredClick
from collector.ingest.wire import TYPED_DATA
from collector.storage.base import Event

RAGE_MIN_CLICKS = 3
RAGE_WINDOW_MS = 1000  # from the burst's first click to its last
RAGE_RADIUS_PX = 30  # from the burst's first click, in page coordinates
SIGNALS = frozenset({"rage_click", "dead_click", "error_click"})
TRACKER = "tracker"


def signal_data(kind: str, raw: msgspec.Raw) -> dict[str, Any]:
    """A signal event's stored data: its typed fields (validated by ``wire``) and ``src``."""
    fields = msgspec.structs.asdict(TYPED_DATA[kind].decode(raw))
    for axis in ("x", "y"):
        fields[axis] = _number(fields[axis])
    fields["src"] = TRACKER
    return fields


def _number(value: float | None) -> int | float | None:
    return int(value) if value is not None and value.is_integer() else value


def _placed_clicks(events: list[Event]) -> list[tuple[int, float, float, Event]]:
    """(time, x, y, event) of the ``click`` events that have page coordinates, in time order
    (a stable sort: clicks of the same ms stay in beacon order)."""
    placed = []
    for event in events:
        data = event.data
        if type(data) is StoredClick and data.x is not None and data.y is not None:
            placed.append((event.timestamp, data.x, data.y, event))
    placed.sort(key=itemgetter(0))
    return placed


def _burst_length(placed: list[tuple[int, float, float, Event]], start: int) -> int:
    """How many clicks from ``start`` on are within the window and radius of the first."""
    t0, x0, y0, _ = placed[start]
    end = start + 1
    while end < len(placed):
        t, x, y, _ = placed[end]
        if t - t0 > RAGE_WINDOW_MS or (x - x0) ** 2 + (y - y0) ** 2 > RAGE_RADIUS_PX**2:
            break
        end += 1
    return end - start


def rage_clicks(events: list[Event]) -> list[Event]:
    """One ``rage_click`` per burst of the beacon's clicks: at least 3 in a row within 1 s and
    30 px of the burst's first, whose time, click and page session it takes. Its ``seq``
    follows the beacon's events, so that it sorts after the click it starts with."""
    if len(events) < RAGE_MIN_CLICKS:
        return []
    placed = _placed_clicks(events)
    if len(placed) < RAGE_MIN_CLICKS:
        return []
    found: list[Event] = []
    start = 0
    while start <= len(placed) - RAGE_MIN_CLICKS:
        length = _burst_length(placed, start)
        if length < RAGE_MIN_CLICKS:
            start += 1
            continue
        found.append(_rage_event(placed[start][3], length, len(events) + len(found)))
        start += length
    return found


def _rage_event(first: Event, clicks: int, seq: int) -> Event:
    data = first.data
    return Event(
        brand_id=first.brand_id,
        click_id=first.click_id,
        session_id=first.session_id,
        type="rage_click",
        url=first.url,
        timestamp=first.timestamp,
        seq=seq,
        data={
            "s": data.selector,
            "x": data.x,
            "y": data.y,
            "n": clicks,
            "src": TRACKER,
        },
    )
