"""Row conversions both engines share: they read events back in the same column order.

Reads are defensive: whatever a row holds (data of an older version, an import, another writer),
it converts. Text that is not valid UTF-8 reads with U+FFFD in place of the bad bytes; a custom
event's ``data`` that is not JSON, or nests deeper than :data:`MAX_DATA_DEPTH`, reads as None.
"""

from __future__ import annotations

from typing import Any

import msgspec

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


def _too_deep(data: Any, limit: int) -> bool:
    """Whether ``data`` nests lists and dicts more than ``limit`` levels (iterative)."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        children = value.values() if isinstance(value, dict) else value
        if isinstance(value, dict | list):
            if depth > limit:
                return True
            stack.extend((child, depth + 1) for child in children)
    return False


def _clean_json_text(data: str | bytes) -> bytes:
    raw = data.encode("utf-8", "replace") if isinstance(data, str) else data
    return clean_json(raw)


def _may_be_too_deep(data: str | bytes) -> bool:
    """Cheap pre-check: JSON text with fewer brackets than the limit cannot nest deeper."""
    if isinstance(data, str):
        return data.count("{") + data.count("[") > MAX_DATA_DEPTH
    return data.count(b"{") + data.count(b"[") > MAX_DATA_DEPTH


def event_data(data: str | bytes | None) -> Any:
    """A stored ``data`` column as shown: the JSON value, {} when empty, None when it cannot be
    shown (not JSON even after the UTF-8 clean-up, or nested too deep)."""
    if not data:
        return {}
    try:
        value = _decode_json(data)
    except (msgspec.DecodeError, RecursionError):
        try:
            value = _decode_json(_clean_json_text(data))
        except (msgspec.DecodeError, RecursionError):
            return None
    if _may_be_too_deep(data) and _too_deep(value, MAX_DATA_DEPTH):
        return None
    return value


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
