"""Row conversions both engines share: they read events back in the same column order.

Reads are defensive: whatever a row holds (data of an older version, an import, another writer),
it converts. Text that is not valid UTF-8 reads with U+FFFD in place of the bad bytes; a custom
event's ``data`` that is not JSON, or nests deeper than :data:`MAX_DATA_DEPTH`, reads as None.
"""

from __future__ import annotations

from typing import Any

import msgspec

from collector.jsonbounds import within_depth
from collector.utf8 import clean_json

from .base import Event

EVENT_COLUMNS = ("brand_id", "click_id", "session_id", "type", "url", "timestamp", "seq", "data")
# Deeper custom data is not shown (JSON encoders and the browser's JSON.parse have limits too).
MAX_DATA_DEPTH = 64

_decode_json = msgspec.json.Decoder().decode  # an object, as written (Event.data: Any)


def text(value: str | bytes | None) -> str | None:
    """A text column as str; bytes (ClickHouse reads text as bytes) decode with U+FFFD."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value


def event_data(data: str | bytes | None) -> Any:
    """A stored ``data`` column as shown: the JSON value, {} when empty, None when it cannot be
    shown (nested too deep, or not JSON even after the UTF-8 clean-up)."""
    if not data:
        return {}
    raw = data.encode("utf-8", "replace") if isinstance(data, str) else data
    if not within_depth(raw, MAX_DATA_DEPTH):
        return None
    try:
        return _decode_json(raw)
    except msgspec.DecodeError:
        try:
            return _decode_json(clean_json(raw))
        except msgspec.DecodeError:
            return None


def event_from_row(row: tuple[Any, ...]) -> Event:
    """An :class:`Event` from a row in :data:`EVENT_COLUMNS` order (``data`` as JSON text)."""
    brand_id, click_id, session_id, type_, url, timestamp, seq, data = row
    return Event(
        brand_id=brand_id,
        click_id=text(click_id),
        session_id=text(session_id),
        type=text(type_),
        url=text(url),
        timestamp=timestamp,
        seq=seq,
        data=event_data(data),
    )
