"""The recorder's replay chunk (see docs/REPLAY.md): unwrap, decode, validate, and read the few
facts the collector keeps next to the events (time span, count, viewport, page URL).

The rrweb events themselves are kept as the raw JSON bytes the recorder sent: they are never
decoded into Python objects and re-encoded on the ingest path. So everything a later read
would trip over is checked here, at the door (docs/WIRE.md, "Replay chunks: what is refused"):
nesting depth, UTF-8 text, number literals, and every event's timestamp against a time window.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, NamedTuple

import msgspec

from collector.errors import Invalid, Malformed, TooLarge
from collector.jsonbounds import decode_error_text, json_problem
from collector.storage.base import ReplayChunk

GZIP_MAGIC = b"\x1f\x8b"
META = 4  # rrweb EventType.Meta
MAX_DEPTH = 256  # of one event; real pages reach 64 (rrweb nests two levels per DOM level)
MAX_DIGITS = 18  # digits before a number's point: below 2**63 (every store's integer)
MAX_VIEWPORT = 100_000
DAY_MS = 86_400_000
LIVE_MAX_AGE_MS = 30 * DAY_MS  # a live chunk's events: at most this old ...
AHEAD_MS = DAY_MS  # ... and at most this far ahead of the server's clock
LIVE_MAX_SPAN_MS = DAY_MS  # first to last event of one live chunk
IMPORT_EARLIEST_MS = 946_684_800_000  # 2000-01-01: an imported recording may be old

_Id = Annotated[str, msgspec.Meta(pattern="^[0-7][0-9a-hjkmnp-tv-z]{25}$")]  # ids.is_valid_id
_Pixels = Annotated[int, msgspec.Meta(ge=0, le=MAX_VIEWPORT)]
# A number literal too big for a store (or for msgspec, 1e400) outside strings: more than
# MAX_DIGITS digits before its point, or a 3-digit exponent. A translated copy (digits as 0)
# finds candidates at memchr speed; only then are strings blanked and the literal looked for
# (the look-behind keeps a fraction's digits, 0.000...1, from counting).
_DIGITS_AS_ZERO = bytes.maketrans(b"123456789E", b"000000000e")
_BIG_MARKS = (b"0" * (MAX_DIGITS + 1), b"0e000", b"0e+000", b"0e-000")
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_BIG_NUMBER = re.compile(rb"(?<![\d.])\d{%d,}|\d[eE][-+]?\d{3,}" % (MAX_DIGITS + 1))


class TimeWindow(NamedTuple):
    """The event timestamps (ms since the epoch) a chunk may carry."""

    earliest: int
    latest: int
    max_span: int

    def describe(self) -> str:
        return f"between {_iso(self.earliest)} and {_iso(self.latest)} (the server's clock)"


def live_window(now_ms: int) -> TimeWindow:
    """A chunk from the recorder: at most 30 days old, at most a day ahead, spanning a day."""
    return TimeWindow(now_ms - LIVE_MAX_AGE_MS, now_ms + AHEAD_MS, LIVE_MAX_SPAN_MS)


def import_window(now_ms: int) -> TimeWindow:
    """An imported recording: made since 2000, at most a day ahead, of any length."""
    return TimeWindow(IMPORT_EARLIEST_MS, now_ms + AHEAD_MS, now_ms + AHEAD_MS)


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class ReplayEnvelope(msgspec.Struct, forbid_unknown_fields=False):
    k: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    r: _Id
    p: _Id
    q: Annotated[int, msgspec.Meta(ge=0, le=1_000_000)]
    u: Annotated[str, msgspec.Meta(max_length=8192)]
    e: msgspec.Raw
    v: _Id | None = None
    s: _Id | None = None
    c: Annotated[str, msgspec.Meta(max_length=64)] | None = None  # the short-link click id


class _EventHead(msgspec.Struct, forbid_unknown_fields=False, gc=False):
    type: Annotated[int, msgspec.Meta(ge=0, le=64)]
    timestamp: int
    data: msgspec.Raw = msgspec.Raw(b"")


class _MetaData(msgspec.Struct, forbid_unknown_fields=False):
    href: str | None = None
    width: _Pixels | None = None
    height: _Pixels | None = None


class ChunkFacts(msgspec.Struct):
    first_ts: int
    last_ts: int
    event_count: int
    href: str | None = None
    viewport_width: int | None = None
    viewport_height: int | None = None


_envelope = msgspec.json.Decoder(ReplayEnvelope)
_heads = msgspec.json.Decoder(list[_EventHead])
_raw_list = msgspec.json.Decoder(list[msgspec.Raw])
_meta = msgspec.json.Decoder(_MetaData)


def invalid(message: str) -> Invalid:
    return Invalid(f"invalid replay chunk: {message}")


def _at(exc: msgspec.DecodeError, root: str) -> str:
    """msgspec's message with its path (`$.r`, `$[3].type`) named from ``root`` (``e``)."""
    text = str(exc)
    if root:
        return text.replace("`$", f"`{root}")
    return text.replace("`$.", "`").replace("`$[", "`[")


# -- the body -------------------------------------------------------------------------------


def _too_large(limit: int) -> TooLarge:
    return TooLarge(f"the replay chunk is larger than {limit} bytes once decompressed")


def claimed_size(body: bytes, limit: int) -> int:
    """How many bytes the body says it holds once decompressed: a gzip member ends with its
    size (ISIZE). :class:`TooLarge` at once when that is over ``limit``; :func:`unwrap` holds
    it to it."""
    if body[:2] != GZIP_MAGIC:
        if len(body) > limit:
            raise _too_large(limit)
        return len(body)
    if len(body) < 18:
        raise Malformed("the gzip body is truncated")
    claim = int.from_bytes(body[-4:], "little")
    if claim > limit:
        raise _too_large(limit)
    return claim


def unwrap(body: bytes, limit: int) -> bytes:
    """The JSON of a body that may be gzip-compressed: one gzip member that inflates to exactly
    the size it claims (at most ``limit``), so a decompression bomb never inflates."""
    claim = claimed_size(body, limit)
    if body[:2] != GZIP_MAGIC:
        return body
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        data = inflater.decompress(body, claim + 1)
    except zlib.error as exc:
        raise Malformed(f"the body is not valid gzip: {exc}") from None
    if len(data) > claim or inflater.unconsumed_tail:
        raise Malformed(f"the gzip body inflates to more than the {claim} bytes it claims")
    if not inflater.eof:
        raise Malformed("the gzip body is truncated")
    if inflater.unused_data:
        raise Malformed("the body holds more than one gzip member; send one")
    if len(data) != claim:
        raise Malformed(f"the gzip body inflates to {len(data)} bytes, not the {claim} it says")
    return data


def decode_envelope(body: bytes) -> ReplayEnvelope:
    """The envelope of a chunk's JSON (msgspec checks its strings; the events are kept as
    sent and checked by :func:`check_events`)."""
    if not body:
        raise Malformed("the body is empty; send a replay chunk (see docs/REPLAY.md)")
    try:
        return _envelope.decode(body)
    except msgspec.ValidationError as exc:
        raise invalid(_at(exc, "")) from None
    except msgspec.DecodeError as exc:
        raise Malformed(f"the body is not valid JSON: {decode_error_text(body, exc)}") from None
    except RecursionError:
        raise invalid(f"the body nests deeper than {MAX_DEPTH} levels") from None


# -- the events -----------------------------------------------------------------------------


def check_events(events_json: bytes | msgspec.Raw, window: TimeWindow) -> ChunkFacts:
    """Check a chunk's rrweb event array and read its facts: text, depth and numbers every
    read can handle, every timestamp within ``window``. :class:`Invalid` naming the field
    otherwise."""
    problem = json_problem(events_json, MAX_DEPTH + 1)
    if problem is not None:
        raise _located_event(events_json, lambda event: json_problem(event, MAX_DEPTH), problem)
    facts = chunk_facts(events_json, window)
    if _big_number_at(events_json):
        raise _located_event(events_json, _number_problem, "holds a number too big")
    return facts


def _big_number_at(events_json: bytes | msgspec.Raw) -> bool:
    """Whether a number literal outside strings is too big (see ``_BIG_MARKS``)."""
    data = bytes(events_json)
    if not _has_big_mark(data):
        return False
    outside = _STRING.sub(b'""', data)
    return _has_big_mark(outside) and _BIG_NUMBER.search(outside) is not None


def _has_big_mark(data: bytes) -> bool:
    marked = data.translate(_DIGITS_AS_ZERO)
    return any(mark in marked for mark in _BIG_MARKS)


def _number_problem(event: msgspec.Raw) -> str | None:
    if not _big_number_at(event):
        return None
    return (
        f"holds a number with more than {MAX_DIGITS} digits or a 3-digit exponent;"
        " send numbers a 64-bit integer or double holds"
    )


def _located_event(
    events_json: bytes | msgspec.Raw,
    problem_of: Callable[[msgspec.Raw], str | None],
    fallback: str,
) -> Invalid:
    try:
        events = _raw_list.decode(events_json)
    except (msgspec.DecodeError, msgspec.ValidationError, RecursionError):
        return invalid(f"`e` {fallback}")
    for index, event in enumerate(events):
        found = problem_of(event)
        if found is not None:
            return invalid(f"`e[{index}]` {found}")
    return invalid(f"`e` {fallback}")


def chunk_facts(events_json: bytes | msgspec.Raw, window: TimeWindow) -> ChunkFacts:
    """Time span, count and (from a Meta event) page URL and viewport of an rrweb event array.
    Raises :class:`Invalid` when it is not a non-empty array of ``{type, timestamp}`` events, or a
    timestamp is outside ``window``."""
    try:
        heads = _heads.decode(events_json)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise invalid(f"`e` must be rrweb events: {_at(exc, 'e')}") from None
    except RecursionError:
        raise invalid(f"`e` nests deeper than {MAX_DEPTH} levels") from None
    if not heads:
        raise invalid("`e` has no events")
    first_ts, last_ts = _checked_span(heads, window)
    facts = ChunkFacts(first_ts=first_ts, last_ts=last_ts, event_count=len(heads))
    _read_meta(heads, facts)
    return facts


def _checked_span(heads: list[_EventHead], window: TimeWindow) -> tuple[int, int]:
    """The first and last timestamps; :class:`Invalid` when one is outside ``window`` or they
    span more."""
    for index, head in enumerate(heads):
        if not window.earliest <= head.timestamp <= window.latest:
            raise invalid(
                f"`e[{index}].timestamp` is {head.timestamp}; send milliseconds since the epoch"
                f" {window.describe()}"
            )
    first_ts = min(h.timestamp for h in heads)
    last_ts = max(h.timestamp for h in heads)
    if last_ts - first_ts > window.max_span:
        raise invalid(
            f"`e` spans {last_ts - first_ts} ms from its first event to its last; send at most"
            f" {window.max_span} ms in one chunk"
        )
    return first_ts, last_ts


def _read_meta(heads: list[_EventHead], facts: ChunkFacts) -> None:
    """Page URL and viewport from the first Meta event (:class:`Invalid` for a viewport out of
    range)."""
    for index, head in enumerate(heads):
        if head.type != META or not len(head.data):
            continue
        try:
            meta = _meta.decode(head.data)
        except msgspec.ValidationError as exc:
            raise invalid(_at(exc, f"e[{index}].data")) from None
        except msgspec.DecodeError:
            continue
        facts.href = meta.href
        facts.viewport_width = meta.width
        facts.viewport_height = meta.height
        return


class ChunkIds(msgspec.Struct, kw_only=True):
    """Whose chunk it is: the ids a stored chunk carries."""

    brand_id: int
    replay_id: str
    seq: int
    session_id: str
    page_session_id: str
    visitor_id: str


def chunk_row(
    ids: ChunkIds,
    url: str,
    received_at: int,
    facts: ChunkFacts,
    events: bytes | memoryview,
    body: bytes,
) -> ReplayChunk:
    """The stored row of a chunk: its ids, what was read from its events, their zstd body."""
    return ReplayChunk(
        brand_id=ids.brand_id,
        replay_id=ids.replay_id,
        seq=ids.seq,
        session_id=ids.session_id,
        page_session_id=ids.page_session_id,
        visitor_id=ids.visitor_id,
        url=url[:2048],
        received_at=received_at,
        first_ts=facts.first_ts,
        last_ts=facts.last_ts,
        event_count=facts.event_count,
        viewport_width=facts.viewport_width,
        viewport_height=facts.viewport_height,
        raw_bytes=len(events),
        body=body,
    )
