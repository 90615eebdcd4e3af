"""A stored replay's rrweb stream read back defensively: whatever the store holds (data of an
older version, an import, another writer), the answer is one JSON array of valid UTF-8.

Per stored part (segment or live chunk), after decompression: invalid UTF-8 becomes U+FFFD, a
lone UTF-16 surrogate escape (``\\ud800`` without its pair, which JSON.stringify writes for a
lone surrogate in the page) becomes ``\\ufffd``, and a part that still is not a JSON array (or
cannot be decompressed) is left out and logged. The checks cost a few ms per MB: ``isascii``
and a regex search settle most parts at C speed, and only a part that needs it is rewritten.
"""

from __future__ import annotations

import logging

import msgspec
import zstandard

from collector.replay.codec import decompress_part, join_arrays, parts_from
from collector.storage.base import ReplayPart, ReplayStore
from collector.utf8 import clean_json

log = logging.getLogger("clicktrail")

_validate_array = msgspec.json.Decoder(list[msgspec.Raw]).decode


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
    store: ReplayStore, brand_id: int, replay_id: str, since_ms: int | None = None
) -> bytes | None:
    """As :func:`collector.replay.codec.read_events` (None if the brand has no such replay),
    but always a valid JSON array: unreadable parts are left out."""
    parts = store.replay_parts(brand_id, replay_id)
    if not parts:
        return None
    if since_ms is not None:
        parts = parts_from(parts, since_ms)
    arrays = [array for array in (readable_part(store, p) for p in parts) if array is not None]
    return join_arrays(arrays)
