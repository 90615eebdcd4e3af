"""Replay bodies in and out of zstd, the same for every storage engine.

- A live chunk is the events' JSON array as the recorder sent it, one zstd frame at level 3 with
  no dictionary (:func:`compress_chunk`): cheap enough for the ingest path.
- A compacted segment is one zstd frame at a high level (``collector/replay/compaction.py``);
  every segment but possibly the first starts at a seek point, an rrweb Meta event (type 4)
  directly followed by a FullSnapshot (type 2). Its ``codec`` says what the frame holds:

  - :data:`JSON` (0, every segment stored before codecs existed): the events' JSON array,
    compressed with the brand dictionary ``dict_id``, or with none when that is NULL;
  - :data:`PACKED` (1): that array packed by key (``collector/replay/packing.py``), compressed
    with the brand dictionary ``dict_id``, or with the built-in dictionary
    (``collector/replay/base_dictionary.py``) when that is NULL;
  - :data:`PACKED_AFTER_FIRST` (2, a segment after the first, whose first segment is
    :data:`PACKED`): packed, compressed with the first segment's packed bytes as a raw-content
    dictionary (a later checkout repeats most of the first full snapshot), ``dict_id`` NULL. The
    body is the CRC-32 of those packed bytes (4 bytes, big-endian), then the frame. Reading it
    reads the replay's first segment too (cached per replay, checked against the CRC, so a
    first segment replaced by a later compaction is never used: the part cannot be read).

:func:`read_events` turns a replay's stored parts back into one JSON array. Events are never
decoded on that path: each part's array is decompressed and the arrays are joined by slicing off
their brackets, so reading costs about one decompression pass (and one unpacking of a packed
segment, about 10 MB/s). Splitting (compaction only)
parses the stream once with msgspec, keeping every event's exact bytes (``msgspec.Raw``).

Dictionaries never change once stored, so they are cached by ``(store, dict_id)`` for the life
of the store object; zstd (de)compressors are not thread-safe and are kept per thread.
"""

from __future__ import annotations

import itertools
import threading
import weakref
import zlib
from collections import OrderedDict

import msgspec
import zstandard

from collector.replay.base_dictionary import base_dictionary
from collector.replay.packing import unpack
from collector.storage.base import ReplayPart, ReplayStore

CHUNK_LEVEL = 3
JSON, PACKED, PACKED_AFTER_FIRST = 0, 1, 2  # segment codecs, see above
FIRSTS_CACHED = 32  # replays whose first segment's packed bytes are kept, per store
META = 4  # rrweb EventType.Meta
FULL_SNAPSHOT = 2  # rrweb EventType.FullSnapshot


class _Head(msgspec.Struct):
    """The two fields of an rrweb event the codec looks at; the rest is skipped, not decoded."""

    type: int = -1
    timestamp: int | float = 0


class Piece(msgspec.Struct, kw_only=True):
    """A run of events: its JSON array and what the stores record about it."""

    json: bytes
    first_ts: int
    last_ts: int
    event_count: int


_decode_raw = msgspec.json.Decoder(list[msgspec.Raw]).decode
decode_head = msgspec.json.Decoder(_Head).decode  # an event's type and time only

# (store) -> {dict_id: ZstdCompressionDict}; a store going away takes its dictionaries along.
_dictionaries: weakref.WeakKeyDictionary[ReplayStore, dict[int, zstandard.ZstdCompressionDict]] = (
    weakref.WeakKeyDictionary()
)
_dictionaries_lock = threading.Lock()
_local = threading.local()


# --- compression ------------------------------------------------------------------------------


def compress_chunk(events_json: bytes) -> bytes:
    """A live chunk's body: one zstd frame (level 3, no dictionary) of the events' JSON array."""
    compressor = getattr(_local, "chunk_compressor", None)
    if compressor is None:
        compressor = _local.chunk_compressor = zstandard.ZstdCompressor(level=CHUNK_LEVEL)
    return compressor.compress(events_json)


def dictionary(store: ReplayStore, dict_id: int) -> zstandard.ZstdCompressionDict:
    """The store's dictionary ``dict_id``, loaded once per store object."""
    with _dictionaries_lock:
        cached = _dictionaries.setdefault(store, {}).get(dict_id)
    if cached is not None:
        return cached
    body = store.get_dictionary(dict_id)
    if body is None:
        raise LookupError(f"replay dictionary {dict_id} is missing")
    loaded = zstandard.ZstdCompressionDict(body)
    with _dictionaries_lock:
        _dictionaries.setdefault(store, {})[dict_id] = loaded
    return loaded


def _decompressor(store: ReplayStore, dict_id: int | None) -> zstandard.ZstdDecompressor:
    cache: (
        weakref.WeakKeyDictionary[ReplayStore, dict[int | None, zstandard.ZstdDecompressor]] | None
    )
    cache = getattr(_local, "decompressors", None)
    if cache is None:
        cache = _local.decompressors = weakref.WeakKeyDictionary()
    per_store = cache.setdefault(store, {})
    found = per_store.get(dict_id)
    if found is None:
        if dict_id is None:
            found = zstandard.ZstdDecompressor()
        else:
            found = zstandard.ZstdDecompressor(dict_data=dictionary(store, dict_id))
        per_store[dict_id] = found
    return found


def _base_decompressor() -> zstandard.ZstdDecompressor:
    found = getattr(_local, "base_decompressor", None)
    if found is None:
        found = _local.base_decompressor = zstandard.ZstdDecompressor(dict_data=base_dictionary())
    return found


def _decompress(decompressor: zstandard.ZstdDecompressor, body: bytes) -> bytes:
    try:
        return decompressor.decompress(body)
    except zstandard.ZstdError:
        # a frame written by a streaming compressor has no content size in its header
        return decompressor.decompressobj().decompress(body)


def decompress_part(store: ReplayStore, part: ReplayPart) -> bytes:
    """A stored part's JSON array of events. Raises ``zstandard.ZstdError`` when the part cannot
    be decompressed or unpacked, LookupError when its dictionary or codec is unknown."""
    if part.codec == JSON:
        return _decompress(_decompressor(store, part.dict_id), part.body)
    if part.codec == PACKED:
        packed = packed_bytes(store, part)
        if part.kind == "segment" and part.number == 0 and part.replay_id:
            _remember_first(store, (part.brand_id, part.replay_id), packed)
    elif part.codec == PACKED_AFTER_FIRST:
        packed = _decompress(_after_first_decompressor(store, part), part.body[4:])
    else:
        raise LookupError(f"replay segment codec {part.codec} is unknown")
    try:
        return unpack(packed)
    except ValueError as exc:
        raise zstandard.ZstdError(f"packed replay segment does not unpack: {exc}") from None


def packed_bytes(store: ReplayStore, part: ReplayPart) -> bytes:
    """A :data:`PACKED` segment's packed bytes (its frame decompressed)."""
    if part.dict_id is None:
        return _decompress(_base_decompressor(), part.body)
    return _decompress(_decompressor(store, part.dict_id), part.body)


def prefix_dictionary(first_packed: bytes) -> zstandard.ZstdCompressionDict:
    """The dictionary a :data:`PACKED_AFTER_FIRST` segment is compressed with."""
    return zstandard.ZstdCompressionDict(first_packed, dict_type=zstandard.DICT_TYPE_RAWCONTENT)


def prefix_check(first_packed: bytes) -> bytes:
    """What a :data:`PACKED_AFTER_FIRST` body starts with."""
    return zlib.crc32(first_packed).to_bytes(4, "big")


_firsts: weakref.WeakKeyDictionary[ReplayStore, OrderedDict[tuple[int, str], tuple[bytes, bytes]]]
_firsts = weakref.WeakKeyDictionary()


def _first_packed(store: ReplayStore, brand_id: int, replay_id: str) -> tuple[bytes, bytes]:
    """(CRC, packed bytes) of the replay's first segment, read once while it stays the same."""
    key = (brand_id, replay_id)
    with _dictionaries_lock:
        found = _firsts.setdefault(store, OrderedDict()).get(key)
    if found is not None:
        return found
    first = next((p for p in store.replay_parts(brand_id, replay_id) if p.kind == "segment"), None)
    if first is None or first.number != 0 or first.codec != PACKED:
        raise zstandard.ZstdError(f"replay {replay_id}: its first segment is not packed")
    return _remember_first(store, key, packed_bytes(store, first))


def _remember_first(store: ReplayStore, key: tuple[int, str], packed: bytes) -> tuple[bytes, bytes]:
    found = (prefix_check(packed), packed)
    with _dictionaries_lock:
        cache = _firsts.setdefault(store, OrderedDict())
        cache[key] = found
        cache.move_to_end(key)
        while len(cache) > FIRSTS_CACHED:
            cache.popitem(last=False)
    return found


def _after_first_decompressor(store: ReplayStore, part: ReplayPart) -> zstandard.ZstdDecompressor:
    check, packed = _first_packed(store, part.brand_id, part.replay_id)
    if check != part.body[:4]:
        with _dictionaries_lock:  # maybe compacted again since it was cached: read it anew
            _firsts.setdefault(store, OrderedDict()).pop((part.brand_id, part.replay_id), None)
        check, packed = _first_packed(store, part.brand_id, part.replay_id)
        if check != part.body[:4]:
            raise zstandard.ZstdError(
                "the replay's first segment is not the one it was packed with"
            )
    return zstandard.ZstdDecompressor(dict_data=prefix_dictionary(packed))


# --- JSON arrays --------------------------------------------------------------------------------


def join_arrays(arrays: list[bytes]) -> bytes:
    """Concatenate JSON arrays into one, without decoding their elements."""
    inners: list[bytes] = []
    for array in arrays:
        stripped = array.strip()
        if stripped[:1] == b"[" and stripped[-1:] == b"]":
            inner = stripped[1:-1].strip()
        else:  # not a plain array: let msgspec say what is wrong with it
            inner = b",".join(_decode_raw(array))
        if inner:
            inners.append(inner)
    return b"[" + b",".join(inners) + b"]"


def _heads(raws: list[msgspec.Raw]) -> list[_Head]:
    return [decode_head(raw) for raw in raws]


def _piece(raws: list[msgspec.Raw], heads: list[_Head]) -> Piece:
    return Piece(
        json=b"[" + b",".join(raws) + b"]",
        first_ts=int(heads[0].timestamp),
        last_ts=int(heads[-1].timestamp),
        event_count=len(raws),
    )


def seek_points(heads: list[_Head]) -> list[int]:
    """Indexes of the events that start a seek point (a Meta directly followed by a
    FullSnapshot)."""
    return [
        i
        for i in range(len(heads) - 1)
        if heads[i].type == META and heads[i + 1].type == FULL_SNAPSHOT
    ]


def split_segments(events_json: bytes) -> list[Piece]:
    """The events of a JSON array cut before every seek point (but the first event). Each
    event keeps its exact bytes; only the whitespace between events is dropped."""
    raws = _decode_raw(events_json)
    if not raws:
        return []
    heads = _heads(raws)
    cuts = [0, *(i for i in seek_points(heads) if i > 0), len(raws)]
    return [_piece(raws[a:b], heads[a:b]) for a, b in itertools.pairwise(cuts)]


def split_at_seek_points(events_json: bytes) -> list[bytes]:
    """The JSON arrays of :func:`split_segments`."""
    return [piece.json for piece in split_segments(events_json)]


def split_pieces(events_json: bytes, target_bytes: int) -> list[bytes]:
    """The events cut into JSON arrays of about ``target_bytes`` each (an event is never cut;
    a larger event is a piece of its own). Used as dictionary training samples."""
    pieces: list[bytes] = []
    run: list[msgspec.Raw] = []
    size = 0
    for raw in _decode_raw(events_json):
        run.append(raw)
        size += len(raw) + 1
        if size >= target_bytes:
            pieces.append(b"[" + b",".join(run) + b"]")
            run, size = [], 0
    if run:
        pieces.append(b"[" + b",".join(run) + b"]")
    return pieces


# --- reading --------------------------------------------------------------------------------------


def parts_from(parts: list[ReplayPart], since_ms: int) -> list[ReplayPart]:
    """The parts to play from ``since_ms`` after the start: from the last segment that starts at
    a seek point at or before that time. Everything while the replay still has live chunks
    (its seek points are not known without decoding them) or when no seek point fits."""
    if not parts or any(p.kind == "chunk" for p in parts):
        return parts
    target = min(p.first_ts for p in parts) + since_ms
    start = 0
    for i, part in enumerate(parts):
        # a segment after the first always starts at a seek point
        if part.number > 0 and part.first_ts <= target:
            start = i
    return parts[start:]


def read_events(
    store: ReplayStore, brand_id: int, replay_id: str, since_ms: int | None = None
) -> bytes | None:
    """The replay's rrweb events as one JSON array, in playback order (segments by idx, then
    live chunks by seq); with ``since_ms``, from the last seek point at or before that many ms
    after the start (see :func:`parts_from`). None if the brand has no such replay."""
    parts = store.replay_parts(brand_id, replay_id)
    if not parts:
        return None
    if since_ms is not None:
        parts = parts_from(parts, since_ms)
    return join_arrays([decompress_part(store, p) for p in parts])
