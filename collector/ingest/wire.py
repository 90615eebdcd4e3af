"""The tracker's beacon as typed structs (see docs/WIRE.md), decoded with msgspec in one pass."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

from collector.ids import is_valid_id
from collector.jsonbounds import json_problem

MAX_EVENTS = 100
# Browser clocks are ms since the epoch; 2**53 keeps every sum of a time and an offset in int64
# (the collector corrects a wrong clock: see enrich.click.clock_offset).
MAX_TIMESTAMP = 2**53 - 1
MAX_SPAN_MS = 24 * 3600 * 1000  # the events of one beacon lie within a day of each other
MAX_DATA_BYTES = 16 * 1024  # one event's `d`
MAX_DATA_DEPTH = 32  # arrays and objects inside one event's `d`
MAX_ERROR_MESSAGE = 200  # characters of an error click's message
INT64 = (-(2**63), 2**63 - 1)

_Name = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
_Url = str  # any length: the body limit bounds it, and enrich.click trims what it keeps
_Id = Annotated[str, msgspec.Meta(max_length=64)]
_Small = Annotated[int, msgspec.Meta(ge=0, le=100_000)]
_Coordinate = Annotated[float, msgspec.Meta(ge=-(2.0**31), le=2.0**31)]


class WireEvent(msgspec.Struct, forbid_unknown_fields=False, gc=False):
    t: _Name
    ts: Annotated[int, msgspec.Meta(ge=0, le=MAX_TIMESTAMP)]
    u: _Url | None = None
    # Kept as raw JSON: custom data is stored as sent, never decoded and re-encoded.
    # (msgspec.Raw cannot be in a union: "no data" is the empty Raw, or raw ``null``.)
    d: msgspec.Raw = msgspec.Raw(b"")


class Beacon(msgspec.Struct, forbid_unknown_fields=False, gc=False):
    k: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    p: _Id
    u: _Url
    e: Annotated[list[WireEvent], msgspec.Meta(min_length=1, max_length=MAX_EVENTS)]
    v: _Id | None = None
    s: _Id | None = None
    n: Annotated[int, msgspec.Meta(ge=0, le=1)] = 0
    r: _Url | None = None
    f: Annotated[int, msgspec.Meta(ge=INT64[0], le=INT64[1])] | None = None
    l: Annotated[str, msgspec.Meta(max_length=35)] | None = None  # noqa: E741
    w: _Small | None = None
    h: _Small | None = None
    i: Annotated[str, msgspec.Meta(max_length=128)] | None = None
    # The short-link click id the landing URL carried (``ct_id``), kept by the tracker for the
    # brand's attribution window: joins the link click's session, attributes the visit.
    c: _Id | None = None
    # 1 when the tracker found ``navigator.webdriver`` true (absent otherwise): automation.
    b: Annotated[int, msgspec.Meta(ge=0, le=1)] = 0


class ClickData(msgspec.Struct, gc=False):
    """``d`` of a ``click`` event."""

    s: Annotated[str, msgspec.Meta(max_length=500)] | None = None
    x: _Coordinate | None = None
    y: _Coordinate | None = None
    tx: Annotated[str, msgspec.Meta(max_length=1000)] | None = None


class DeadClickData(msgspec.Struct):
    """``d`` of a ``dead_click`` event: the click's selector and page coordinates."""

    s: Annotated[str, msgspec.Meta(max_length=500)] | None = None
    x: _Coordinate | None = None
    y: _Coordinate | None = None


class ErrorClickData(DeadClickData):
    """``d`` of an ``error_click`` event: the click's, and the error's message."""

    m: Annotated[str, msgspec.Meta(max_length=MAX_ERROR_MESSAGE)] | None = None


class RageClickData(DeadClickData):
    """``d`` of a ``rage_click`` event: the burst's first click's, and how many clicks."""

    n: Annotated[int, msgspec.Meta(ge=0, le=MAX_EVENTS)] | None = None


class ScrollDepthData(msgspec.Struct, forbid_unknown_fields=True):
    """``d`` of a ``scroll_depth`` event (t/x.js): the deepest tenth of the page seen so far in
    the page session, 1..10. Nothing else: the data is stored as sent."""

    d: Annotated[int, msgspec.Meta(ge=1, le=10)]


_decoder = msgspec.json.Decoder(Beacon)
_click_decoder = msgspec.json.Decoder(ClickData)
# Events whose ``d`` has typed fields, checked by msgspec: only those fields are kept.
TYPED_DATA: dict[str, msgspec.json.Decoder[Any]] = {
    "click": _click_decoder,
    "dead_click": msgspec.json.Decoder(DeadClickData),
    "error_click": msgspec.json.Decoder(ErrorClickData),
    "rage_click": msgspec.json.Decoder(RageClickData),
    "scroll_depth": msgspec.json.Decoder(ScrollDepthData),
}


_NULL = msgspec.Raw(b"null")
_NOT_OBJECT = "must be an object"


def has_data(raw: msgspec.Raw) -> bool:
    """False for an absent or ``null`` ``d``."""
    return len(raw) > 0 and raw != _NULL


def is_json_object(raw: msgspec.Raw) -> bool:
    """True when raw JSON (valid, as msgspec cut it: no leading space) is an object."""
    return memoryview(raw)[:1] == b"{"


def decode_click_data(raw: msgspec.Raw) -> ClickData:
    return _click_decoder.decode(raw)


def decode_beacon(body: bytes) -> Beacon:
    """Decode a beacon; raises msgspec.DecodeError (not JSON) or msgspec.ValidationError."""
    return _decoder.decode(body)


class BeaconHead(msgspec.Struct, gc=False):
    """What places a beacon checked at the door in its session (:meth:`Ingestor.place`), read
    without its events: the enrichment process builds the rest (collector/inbox/process.py)."""

    k: str
    v: str | None = None
    s: str | None = None
    c: str | None = None


_head_decoder = msgspec.json.Decoder(BeaconHead)


def decode_head(body: bytes) -> BeaconHead:
    """The head of a beacon the door has checked (its events are skipped, not built)."""
    return _head_decoder.decode(body)


def _span_problem(events: list[WireEvent]) -> tuple[str, str] | None:
    times = [event.ts for event in events]
    oldest, newest = min(times), max(times)
    if newest - oldest <= MAX_SPAN_MS:
        return None
    return (
        f"e[{times.index(newest)}].ts",
        f"is {(newest - oldest) // 3_600_000} hours after `e[{times.index(oldest)}].ts`; "
        f"the events of one beacon must lie within {MAX_SPAN_MS // 3_600_000} hours",
    )


def _data_problem(event: WireEvent) -> str | None:
    data = event.d
    if not has_data(data):
        return None
    if len(data) > MAX_DATA_BYTES:
        return f"is {len(data)} bytes; at most {MAX_DATA_BYTES} are kept"
    decoder = TYPED_DATA.get(event.t)
    if decoder is None:
        return json_problem(data, MAX_DATA_DEPTH) if is_json_object(data) else _NOT_OBJECT
    try:  # only the typed fields are kept, and msgspec checks those (an object first)
        decoder.decode(data)
    except msgspec.ValidationError as exc:
        return _NOT_OBJECT if not is_json_object(data) else f"is not {event.t} data: {exc}"
    except (msgspec.DecodeError, RecursionError):
        return f"is not {event.t} data: " + (json_problem(data, MAX_DATA_DEPTH) or "malformed")
    return None


def beacon_problem(beacon: Beacon) -> tuple[str, str] | None:
    """The first field of a decoded beacon that breaks a bound its types cannot express, as
    (path, what is wrong with it); None when the whole beacon may be stored."""
    if not is_valid_id(beacon.p):
        return "p", "must be a 26-character page-session id (see docs/WIRE.md)"
    span = _span_problem(beacon.e)
    if span is not None:
        return span
    for index, event in enumerate(beacon.e):
        problem = _data_problem(event)
        if problem is not None:
            return f"e[{index}].d", problem
    return None
