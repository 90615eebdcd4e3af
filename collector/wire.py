"""The tracker's beacon as typed structs (see docs/WIRE.md), decoded with msgspec in one pass."""

from __future__ import annotations

from typing import Annotated, Any

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
    d: dict[str, Any] | None = None


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


_decoder = msgspec.json.Decoder(Beacon)


def decode_beacon(body: bytes) -> Beacon:
    """Decode a beacon; raises msgspec.DecodeError (not JSON) or msgspec.ValidationError."""
    return _decoder.decode(body)
