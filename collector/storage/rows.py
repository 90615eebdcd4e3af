"""Value conversions both engines share, and the events' row codec (the same on both).

Reads are defensive: whatever a row holds (data of an older version, an import, another writer),
it converts. Text that is not valid UTF-8 reads with U+FFFD in place of the bad bytes; a custom
event's ``data`` that is not JSON, or nests deeper than :data:`MAX_DATA_DEPTH`, reads as None.
"""

from __future__ import annotations

from typing import Any

import msgspec

from collector.jsonbounds import within_depth
from collector.utf8 import clean_json

from .columns import RowCodec
from .model import Event

# Deeper custom data is not shown (JSON encoders and the browser's JSON.parse have limits too).
MAX_DATA_DEPTH = 64

_encode_json = msgspec.json.Encoder().encode
_decode_json = msgspec.json.Decoder().decode  # an object, as written (Event.data: Any)


def json_text(value: Any) -> str:
    """A value as JSON text (a msgspec.Raw is embedded as is)."""
    return _encode_json(value).decode()


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


# Events rows on both engines: ``data`` as JSON text, text columns read as str or bytes.
EVENT_ROWS: RowCodec[Event] = RowCodec(
    Event, encode={"json": json_text}, decode={"text": text, "json": event_data}
)
