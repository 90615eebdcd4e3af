"""Row conversions both engines share: they read events back in the same column order."""

from __future__ import annotations

from typing import Any

import msgspec

from .base import Event

EVENT_COLUMNS = ("brand_id", "click_id", "session_id", "type", "url", "timestamp", "seq", "data")

_decode_data = msgspec.json.Decoder().decode  # an object, as written (Event.data: Any)


def event_from_row(row: tuple[Any, ...]) -> Event:
    """An :class:`Event` from a row in :data:`EVENT_COLUMNS` order (``data`` as JSON text)."""
    brand_id, click_id, session_id, type_, url, timestamp, seq, data = row
    return Event(
        brand_id=brand_id,
        click_id=click_id,
        session_id=session_id,
        type=type_,
        url=url,
        timestamp=timestamp,
        seq=seq,
        data=_decode_data(data) if data else {},
    )
