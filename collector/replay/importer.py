"""Bring an rrweb event array (what rrweb, PostHog and others export) in as a replay.

The events are cut into 5-second chunks, as the recorder would have sent them, stored, and the
replay is compacted at once (an imported recording has ended). It gets fresh session, page
session and visitor ids: it has no clicks of its own.
"""

from __future__ import annotations

import msgspec

from collector.errors import Invalid
from collector.ids import new_id
from collector.replay.codec import compress_chunk
from collector.replay.compaction import compact_replay
from collector.replay.wire import ChunkIds, check_events, chunk_row, import_window
from collector.storage.base import Store

CHUNK_MS = 5_000


class _Head(msgspec.Struct, forbid_unknown_fields=False):
    timestamp: int


_raw_events = msgspec.json.Decoder(list[msgspec.Raw])
_head = msgspec.json.Decoder(_Head)


def split_into_chunks(events_json: bytes, chunk_ms: int = CHUNK_MS) -> list[bytes]:
    """The event array cut where an event is ``chunk_ms`` or more after its chunk's first one
    (each piece a JSON array; events keep their order and bytes)."""
    try:
        events = _raw_events.decode(events_json)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise Invalid(f"not an rrweb event array: {exc}") from None
    except RecursionError:
        raise Invalid("not an rrweb event array: it nests too deep") from None
    chunks: list[list[msgspec.Raw]] = []
    chunk_start = None
    for raw in events:
        try:
            ts = _head.decode(raw).timestamp
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise Invalid(f"not an rrweb event: {exc}") from None
        except RecursionError:
            raise Invalid("not an rrweb event: it nests too deep") from None
        if chunk_start is None or ts - chunk_start >= chunk_ms:
            chunks.append([])
            chunk_start = ts
        chunks[-1].append(raw)
    return [b"[" + b",".join(bytes(r) for r in chunk) + b"]" for chunk in chunks]


def import_replay(store: Store, brand_id: int, events_json: bytes, now: int) -> str:
    """Store the events as a new, compacted replay of the brand; returns its id."""
    pieces = split_into_chunks(events_json)
    if not pieces:
        raise Invalid("the recording has no events")
    replay_id, page_session_id = new_id(now), new_id(now)
    session_id, visitor_id = new_id(now), new_id(now)
    window = import_window(now)
    facts = [check_events(piece, window) for piece in pieces]
    url = next((f.href for f in facts if f.href), "")
    rows = [
        chunk_row(
            ChunkIds(
                brand_id=brand_id,
                replay_id=replay_id,
                seq=seq,
                session_id=session_id,
                page_session_id=page_session_id,
                visitor_id=visitor_id,
            ),
            url,
            now,
            facts[seq],
            piece,
            compress_chunk(piece),
        )
        for seq, piece in enumerate(pieces)
    ]
    store.write_batch([], [], rows)
    replay = store.get_replay(brand_id, replay_id)
    assert replay is not None
    compact_replay(store, replay, now)
    return replay_id
