"""A stored replay's rrweb stream read back defensively: whatever the store holds (data of an
older version, an import, another writer), the answer is one JSON array of valid UTF-8.

Per stored part (segment or live chunk), after decompression: invalid UTF-8 becomes U+FFFD, a
lone UTF-16 surrogate escape (``\\ud800`` without its pair, which JSON.stringify writes for a
lone surrogate in the page) becomes ``\\ufffd``, and a part that still is not a JSON array (or
cannot be decompressed) is left out and logged. The checks cost a few ms per MB: ``isascii``
and a regex search settle most parts at C speed, and only a part that needs it is rewritten.

A read can ask for a window of the replay (:class:`Window`), so the viewer opens a long replay
with its first seconds and fetches the rest while it plays: only the parts that overlap the
window are decompressed, and only their events inside it are sent. Times are ms after the
replay's first event, the same clock as ``since_ms`` and the viewer's timeline.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import msgspec
import zstandard

from collector.replay.codec import decode_head, decompress_part, join_arrays, parts_from
from collector.storage.base import ReplayPart, ReplayStore
from collector.utf8 import clean_json

log = logging.getLogger("clicktrail")

_validate_array = msgspec.json.Decoder(list[msgspec.Raw]).decode


@dataclass(frozen=True)
class Window:
    """Events from ``from_ms`` to ``until_ms`` (both included; None: unbounded) after the
    replay's first event, exactly: no seek point is added before ``from_ms``."""

    from_ms: int | None = None
    until_ms: int | None = None


@dataclass(frozen=True)
class ReplayIndex:
    """What a player needs before any event: the stream's first and last event times (epoch
    ms) and the seek points, in ms after the first event (0 always first)."""

    first_ts: int
    last_ts: int
    seek_points_ms: list[int]


def readable_part(store: ReplayStore, part: ReplayPart) -> bytes | None:
    """The part's events as a clean JSON array, or None when it cannot be read."""
    try:
        array = clean_json(decompress_part(store, part))
        _validate_array(array)
    except (zstandard.ZstdError, LookupError, msgspec.DecodeError, RecursionError) as exc:
        log.warning("replay %s %s %s left out: %s", part.kind, part.number, part.first_ts, exc)
        return None
    return array


def read_stream(
    store: ReplayStore,
    brand_id: int,
    replay_id: str,
    since_ms: int | None = None,
    window: Window | None = None,
) -> bytes | None:
    """As :func:`collector.replay.codec.read_events` (None if the brand has no such replay),
    but always a valid JSON array: unreadable parts are left out. With ``window``, only the
    events inside it."""
    parts = store.replay_parts(brand_id, replay_id)
    if not parts:
        return None
    start = min(p.first_ts for p in parts)
    if since_ms is not None:
        parts = parts_from(parts, since_ms)
    if window is not None:
        parts = _overlapping(parts, start, window)
    arrays = [array for array in (readable_part(store, p) for p in parts) if array is not None]
    if window is None:
        return join_arrays(arrays)
    return _cut(join_arrays(arrays), start, window)


def _bounds(start: int, window: Window) -> tuple[float, float]:
    low = -math.inf if window.from_ms is None else start + window.from_ms
    high = math.inf if window.until_ms is None else start + window.until_ms
    return low, high


def _overlapping(parts: list[ReplayPart], start: int, window: Window) -> list[ReplayPart]:
    low, high = _bounds(start, window)
    return [p for p in parts if p.last_ts >= low and p.first_ts <= high]


def _cut(events_json: bytes, start: int, window: Window) -> bytes:
    """The events of the array whose timestamp is inside the window, exact bytes kept."""
    low, high = _bounds(start, window)
    kept = []
    for raw in _validate_array(events_json):
        try:
            at = decode_head(raw).timestamp
        except msgspec.DecodeError:
            continue  # not an event object: a player could not place it in time either
        if low <= at <= high:
            kept.append(raw)
    return b"[" + b",".join(kept) + b"]"


def replay_index(store: ReplayStore, brand_id: int, replay_id: str) -> ReplayIndex | None:
    """The replay's :class:`ReplayIndex` from its parts' rows (no event is decoded); None if
    the brand has no such replay. A replay still in live chunks has one seek point, its start
    (its later ones are not known until compaction)."""
    parts = store.replay_parts(brand_id, replay_id)
    if not parts:
        return None
    first = min(p.first_ts for p in parts)
    last = max(p.last_ts for p in parts)
    points = [0]
    if not any(p.kind == "chunk" for p in parts):
        # every segment after the first starts at a seek point (collector/replay/codec.py)
        points += sorted({p.first_ts - first for p in parts if p.number > 0 and p.first_ts > first})
    return ReplayIndex(first, last, points)
