"""The recorder's replay chunk (see docs/REPLAY.md): unwrap, decode, and read the few facts the
collector keeps next to the events (time span, count, viewport, page URL).

The rrweb events themselves are kept as the raw JSON bytes the recorder sent: they are never
decoded into Python objects and re-encoded on the ingest path.
"""

from __future__ import annotations

import zlib
from typing import Annotated

import msgspec

from collector.errors import ApiError
from collector.storage.base import ReplayChunk

GZIP_MAGIC = b"\x1f\x8b"
META = 4  # rrweb EventType.Meta

_Id = Annotated[str, msgspec.Meta(min_length=26, max_length=26, pattern="^[0-9a-hjkmnp-tv-z]+$")]


class ReplayEnvelope(msgspec.Struct, forbid_unknown_fields=False):
    k: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    r: _Id
    p: _Id
    q: Annotated[int, msgspec.Meta(ge=0, le=1_000_000)]
    u: Annotated[str, msgspec.Meta(max_length=8192)]
    e: msgspec.Raw
    v: _Id | None = None
    s: _Id | None = None


class _EventHead(msgspec.Struct, forbid_unknown_fields=False):
    type: Annotated[int, msgspec.Meta(ge=0, le=64)]
    timestamp: Annotated[int, msgspec.Meta(ge=0)]
    data: msgspec.Raw = msgspec.Raw(b"")


class _MetaData(msgspec.Struct, forbid_unknown_fields=False):
    href: str | None = None
    width: int | None = None
    height: int | None = None


class ChunkFacts(msgspec.Struct):
    first_ts: int
    last_ts: int
    event_count: int
    href: str | None = None
    viewport_width: int | None = None
    viewport_height: int | None = None


_envelope = msgspec.json.Decoder(ReplayEnvelope)
_heads = msgspec.json.Decoder(list[_EventHead])
_meta = msgspec.json.Decoder(_MetaData)


def _too_large(limit: int) -> ApiError:
    return ApiError(413, f"the replay chunk is larger than {limit} bytes once decompressed")


def unwrap(body: bytes, limit: int) -> bytes:
    """The JSON of a body that may be gzip-compressed, never more than ``limit`` bytes of it:
    a decompression bomb stops at the limit with a 413."""
    if body[:2] != GZIP_MAGIC:
        if len(body) > limit:
            raise _too_large(limit)
        return body
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        data = inflater.decompress(body, limit + 1)
    except zlib.error as exc:
        raise ApiError(400, f"the body is not valid gzip: {exc}") from None
    if len(data) > limit or inflater.unconsumed_tail:
        raise _too_large(limit)
    if not inflater.eof:
        raise ApiError(400, "the gzip body is truncated")
    return data


def decode_envelope(body: bytes) -> ReplayEnvelope:
    if not body:
        raise ApiError(400, "the body is empty; send a replay chunk (see docs/REPLAY.md)")
    try:
        return _envelope.decode(body)
    except msgspec.ValidationError as exc:
        raise ApiError(422, f"invalid replay chunk: {exc}") from None
    except msgspec.DecodeError as exc:
        raise ApiError(400, f"the body is not valid JSON: {exc}") from None


def chunk_facts(events_json: bytes | msgspec.Raw) -> ChunkFacts:
    """Time span, count and (from a Meta event) page URL and viewport of an rrweb event array.
    Raises 422 when it is not a non-empty array of ``{type, timestamp}`` events."""
    try:
        heads = _heads.decode(events_json)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise ApiError(422, f"invalid replay chunk: `e` must be rrweb events: {exc}") from None
    if not heads:
        raise ApiError(422, "invalid replay chunk: `e` has no events")
    facts = ChunkFacts(
        first_ts=min(h.timestamp for h in heads),
        last_ts=max(h.timestamp for h in heads),
        event_count=len(heads),
    )
    for head in heads:
        if head.type == META and len(head.data):
            try:
                meta = _meta.decode(head.data)
            except (msgspec.ValidationError, msgspec.DecodeError):
                continue
            facts.href = meta.href
            facts.viewport_width = meta.width
            facts.viewport_height = meta.height
            break
    return facts


class ChunkIds(msgspec.Struct, kw_only=True):
    """Whose chunk it is: the ids a stored chunk carries."""

    brand_id: int
    replay_id: str
    seq: int
    session_id: str
    page_session_id: str
    visitor_id: str


def chunk_row(
    ids: ChunkIds, url: str, received_at: int, facts: ChunkFacts, events: bytes, body: bytes
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
