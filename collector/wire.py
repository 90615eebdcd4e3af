"""The tracker's beacon as typed structs (see docs/WIRE.md), decoded with msgspec in one pass."""

from __future__ import annotations

from typing import Annotated

import msgspec

MAX_EVENTS = 100

_Name = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
_Url = str  # any length: the body limit bounds it, and enrich.py trims what it keeps
_Id = Annotated[str, msgspec.Meta(max_length=64)]
_Small = Annotated[int, msgspec.Meta(ge=0, le=100_000)]


class WireEvent(msgspec.Struct, forbid_unknown_fields=False):
    t: _Name
    ts: Annotated[int, msgspec.Meta(ge=0)]
    u: _Url | None = None
    # Kept as raw JSON: custom data is stored as sent, never decoded and re-encoded.
    # (msgspec.Raw cannot be in a union: "no data" is the empty Raw, or raw ``null``.)
    d: msgspec.Raw = msgspec.Raw(b"")


class Beacon(msgspec.Struct, forbid_unknown_fields=False):
    k: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    p: _Id
    u: _Url
    e: Annotated[list[WireEvent], msgspec.Meta(min_length=1, max_length=MAX_EVENTS)]
    v: _Id | None = None
    s: _Id | None = None
    n: int = 0
    r: _Url | None = None
    f: int | None = None
    l: Annotated[str, msgspec.Meta(max_length=35)] | None = None  # noqa: E741
    w: _Small | None = None
    h: _Small | None = None
    i: Annotated[str, msgspec.Meta(max_length=128)] | None = None


class ClickData(msgspec.Struct):
    """``d`` of a ``click`` event."""

    s: Annotated[str, msgspec.Meta(max_length=500)] | None = None
    x: float | None = None
    y: float | None = None
    tx: str | None = None


_decoder = msgspec.json.Decoder(Beacon)
_click_decoder = msgspec.json.Decoder(ClickData)


def has_data(raw: msgspec.Raw) -> bool:
    """False for an absent or ``null`` ``d``."""
    return len(raw) > 0 and memoryview(raw) != b"null"


def is_json_object(raw: msgspec.Raw) -> bool:
    """True when raw JSON (valid, as msgspec cut it: no leading space) is an object."""
    return memoryview(raw)[:1] == b"{"


def decode_click_data(raw: msgspec.Raw) -> ClickData:
    return _click_decoder.decode(raw)


def decode_beacon(body: bytes) -> Beacon:
    """Decode a beacon; raises msgspec.DecodeError (not JSON) or msgspec.ValidationError."""
    return _decoder.decode(body)
