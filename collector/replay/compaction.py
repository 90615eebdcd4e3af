"""Compaction: an ended replay's live chunks rewritten as dictionary-compressed segments.

A replay has ended when no chunk has arrived for ``idle_ms`` (30 minutes). :func:`compact_ended`
finds such replays (``Store.ended_replays``), makes sure their brand has a current dictionary
(:func:`ensure_dictionary`) and compacts each (:func:`compact_replay`): the replay's parts are
joined in playback order (a chunk's events are never reordered), cut before every seek point
(rrweb Meta + FullSnapshot) and each segment is written as one zstd frame at level
:data:`SEGMENT_LEVEL` (:func:`encode_segment`): a brand with a dictionary gets the smaller of the
JSON and the packed JSON (``packing.py``) with it; a brand without one (its first replays) gets
the packed JSON with the built-in dictionary (``base_dictionary.py``). The segment's ``codec``
and ``dict_id`` say which (``codec.py``). Chunks that arrive after that with a higher seq stay
live and are folded into the segments by the next compaction.

First replays (issue 9; baseline = gzip level 6 of each 5-second chunk, what rrweb-based tools
store). Measured on recordings of pages the code was never tuned on (``bench/recordings``: eight
25 s visits of local Node.js, npm and Rust documentation pages, 9.3 MB of events) and on
``shared/testdata/recordings/demoit-react-hooks.json`` (81 s, one 49 KB full snapshot, 226
mutations), each the first replay of its brand:

=============================================  ================  ================
                                               bench/recordings  demoit
=============================================  ================  ================
before: JSON, zstd 19, no dictionary             0.563             0.592
packed, zstd 19, no dictionary                   0.282             0.452
**packed, zstd 19, built-in dictionary**         **0.277**         **0.408**
=============================================  ================  ================

Per recording 0.19-0.61: the long visits with much activity (rust-book, rust-reference) 0.19 and
0.24, the short snapshot-heavy ones (node, npm) 0.40-0.61. Packing does most of it: node ids and
times that count up become runs of small repeated numbers, and values of one key (class names,
styles, page text, stylesheets) sit together. The built-in dictionary (192 KiB, synthetic
corpus) adds 2-10 %; its size and COVER parameters hardly matter (128-256 KiB, k 512-2048:
within 0.5 %) because a synthetic corpus holds the scaffolding and the CSS vocabulary, not the
pages. Tried and not kept: node ids against the largest id seen (demoit +9 %), parent and sibling
ids against the last node id instead of their own previous value (-1 % on demoit, no better
unseen, and it needs Python per value on read), CSS property names as one-byte tokens (-1.8 %
demoit, -0.5 % unseen: not worth a second format), other zstd parameters (btultra2, min match 3
or 4, longer target length: within 0.3 %); xz and bz2 are within 5 % of zstd 19 on the same
bytes and have no dictionary. The goal of 0.35 holds for the unseen recordings overall, not for
demoit (0.41) nor for the short snapshot-heavy visits: what is left there is the page's own
stylesheet and text (demoit: 15 KB of CodeMirror CSS costs 2.7 KB of its 8.5 KB), which only a
dictionary that has seen that CSS removes. Compaction packs at about 8 MB/s of events (with its
round-trip check) on top of zstd 19; reading unpacks at 40-80 MB/s, about 20 ms per 10-minute
segment of demoit.

Later segments (a checkout every 10 minutes, a page load in a single-page app): each is also
tried against the replay's first segment, its packed bytes as a zstd raw-content dictionary
(``PACKED_AFTER_FIRST``), since a later full snapshot repeats most of the first. A 30-minute
replay of three segments stores 9 KB instead of 26 (demoit's activity repeated) and 28 KB
instead of 84 (node-url's); three page loads of demoit, 24.7 KB → 8.3 KB. Reading such a segment
reads the first too (once per replay, cached): the middle of those 30-minute replays in 28 and
52 ms in-process (5 ms as JSON segments). The first segment is the prefix rather than the one
just before, so that no segment needs more than one other to be read.

Why a large brand dictionary (measured before packing, on JSON segments): level 19 over a whole
replay without a dictionary is 0.58 of the baseline on demoit and about 0.8 on 12 s visits of the
test pages, where the full snapshot is nearly everything. What a brand's replays repeat is the
markup and CSS of its own pages, seen by every visitor, so the dictionary has to hold pages, not
just rrweb's JSON scaffolding. Second visits of the five test pages, dictionary trained on the
first visits (about 1 MB of samples): 64 KiB 0.70, 256 KiB 0.50, 512 KiB 0.33, **1 MiB 0.23**
(0.13 when trained on eight times as many samples), 2 MiB no better. Fixed COVER parameters
(``k=2048, d=8``) beat zstd's parameter search and train 8 MB of samples into 1 MiB in about
1.3 s. The dictionary is stored once per brand and version, and loaded once per process. It is
trained on JSON pieces; with it, compaction keeps whichever of JSON and packed JSON is smaller
per segment (repeat visits: see bench/README.md).

Dictionary rule (``ensure_dictionary``): a brand's first dictionary is trained once it has
:data:`MIN_REPLAYS` replays holding at least :data:`MIN_SAMPLE_BYTES` of events; it is retrained
when the brand's replay count has doubled since the current dictionary was stored (so training
runs log2(n) times as a brand grows), or when the dictionary is :data:`REFRESH_MS` old and
:data:`MIN_REPLAYS` replays have come since (the site may have changed). Samples are the newest
replays' segments (what the dictionary will compress), cut into pieces of about
:data:`SAMPLE_PIECE_BYTES` on event boundaries, as zstd's trainer wants many samples. Old
dictionaries are kept: segments name the one they used.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import NamedTuple, Protocol

import zstandard

from collector.ops import jobs as ops_jobs
from collector.periodic import PeriodicService
from collector.replay import codec as replay_codec
from collector.replay import packing
from collector.replay.base_dictionary import base_dictionary
from collector.replay.signals import store_signals
from collector.storage.base import ClickStore, Replay, ReplaySegment, ReplayStore

log = logging.getLogger(__name__)

SEGMENT_LEVEL = 19
DICT_SIZE = 1024 * 1024
DICT_K, DICT_D = 2048, 8  # COVER segment and d-mer sizes (measured, see above)
MIN_REPLAYS = 5
MIN_SAMPLE_BYTES = 256 * 1024
MAX_SAMPLE_BYTES = 8 * 1024 * 1024  # newest replays first; about a second of training
SAMPLE_REPLAYS = 200
SAMPLE_PIECE_BYTES = 8 * 1024
REFRESH_MS = 30 * 86_400_000
IDLE_MS = 30 * 60_000
MAX_BATCHES = 100  # per run of the Compactor, so that it always gets back to its timer


class CompactionStore(ReplayStore, ClickStore, Protocol):
    """What compaction uses: the replays, and the events its signals are stored as."""


# --- segments ---------------------------------------------------------------------------------


def _compressor(
    store: ReplayStore, dict_id: int | None, level: int = SEGMENT_LEVEL
) -> zstandard.ZstdCompressor:
    if dict_id is None:
        return zstandard.ZstdCompressor(level=level)
    return zstandard.ZstdCompressor(level=level, dict_data=replay_codec.dictionary(store, dict_id))


class Encoded(NamedTuple):
    """A segment's body and what it takes to read it back."""

    codec: int
    dict_id: int | None
    body: bytes


def encode_segment(
    store: ReplayStore, events_json: bytes, dict_id: int | None, first_packed: bytes | None = None
) -> tuple[Encoded, bytes | None]:
    """The smallest of the ways the codec reads (module docstring), and the packed bytes (None
    when the events do not pack). With the brand's dictionary ``dict_id``: the JSON or the packed
    JSON; without one, the packed JSON with the built-in dictionary. A later segment of a replay
    whose first segment is packed (``first_packed``, its packed bytes) may also be compressed
    against those. JSON (with the brand dictionary, if any) when the events do not pack."""
    packed = packing.pack(events_json)
    if packed is None:
        as_json = _compressor(store, dict_id).compress(events_json)
        return Encoded(replay_codec.JSON, dict_id, as_json), None
    candidates = []
    if dict_id is None:
        base = zstandard.ZstdCompressor(level=SEGMENT_LEVEL, dict_data=base_dictionary())
        candidates.append(Encoded(replay_codec.PACKED, None, base.compress(packed)))
    else:
        compressor = _compressor(store, dict_id)
        candidates.append(Encoded(replay_codec.JSON, dict_id, compressor.compress(events_json)))
        candidates.append(Encoded(replay_codec.PACKED, dict_id, compressor.compress(packed)))
    if first_packed is not None:
        prefixed = zstandard.ZstdCompressor(
            level=SEGMENT_LEVEL, dict_data=replay_codec.prefix_dictionary(first_packed)
        ).compress(packed)
        body = replay_codec.prefix_check(first_packed) + prefixed
        candidates.append(Encoded(replay_codec.PACKED_AFTER_FIRST, None, body))
    return min(candidates, key=lambda encoded: len(encoded.body)), packed


def build_segments(
    store: ReplayStore, replay: Replay, events_json: bytes, dict_id: int | None
) -> list[ReplaySegment]:
    """The replay's events cut at its seek points, each piece one zstd frame
    (:func:`encode_segment`)."""
    segments = []
    first_packed: bytes | None = None
    for idx, piece in enumerate(replay_codec.split_segments(events_json)):
        encoded, packed = encode_segment(store, piece.json, dict_id, first_packed)
        if idx == 0 and encoded.codec == replay_codec.PACKED:
            first_packed = packed
        segments.append(
            ReplaySegment(
                brand_id=replay.brand_id,
                replay_id=replay.id,
                idx=idx,
                first_ts=piece.first_ts,
                last_ts=piece.last_ts,
                event_count=piece.event_count,
                raw_bytes=len(piece.json),
                dict_id=encoded.dict_id,
                body=encoded.body,
                codec=encoded.codec,
            )
        )
    return segments


def compact_replay(
    store: CompactionStore, replay: Replay, now: int, *, train: bool = True
) -> tuple[int, int]:
    """Rewrite the replay's parts as segments; (stored bytes before, after). With ``train``,
    first make sure the brand's dictionary is current (:func:`ensure_dictionary`, at ``now``);
    :func:`compact_ended` does that once per brand instead. A replay without live chunks is
    left as it is. The frustration signals of the whole stream are stored first
    (``signals.py``, idempotent): a crash in between finds them again, not twice."""
    if train:
        ensure_dictionary(store, replay.brand_id, now)
    parts = store.replay_parts(replay.brand_id, replay.id)
    before = sum(len(p.body) for p in parts)
    chunk_seqs = [p.number for p in parts if p.kind == "chunk"]
    if not chunk_seqs:
        return before, before
    events_json = replay_codec.join_arrays([replay_codec.decompress_part(store, p) for p in parts])
    store_signals(store, replay, events_json)
    current = store.brand_dictionary(replay.brand_id)
    segments = build_segments(store, replay, events_json, current[0] if current else None)
    store.compact_replay(replay.brand_id, replay.id, segments, max(chunk_seqs))
    return before, sum(len(s.body) for s in segments)


# --- dictionaries -------------------------------------------------------------------------------


def _needs_dictionary(store: ReplayStore, brand_id: int, now: int) -> bool:
    current = store.brand_dictionary(brand_id)
    total = store.count_replays(brand_id)
    if current is None:
        return total >= MIN_REPLAYS
    created_at = store.dictionary_created_at(brand_id, current[0])
    if created_at is None:
        return False
    known = store.count_replays(brand_id, before=created_at)
    grown = total - known
    return grown >= max(known, MIN_REPLAYS) or (
        now - created_at >= REFRESH_MS and grown >= MIN_REPLAYS
    )


def training_samples(store: ReplayStore, replays: list[Replay]) -> list[bytes]:
    """Pieces of the replays' segments (newest replays first, up to MAX_SAMPLE_BYTES)."""
    samples: list[bytes] = []
    size = 0
    for replay in replays:
        events_json = replay_codec.read_events(store, replay.brand_id, replay.id)
        if events_json is None:
            continue
        for segment in replay_codec.split_at_seek_points(events_json):
            for piece in replay_codec.split_pieces(segment, SAMPLE_PIECE_BYTES):
                samples.append(piece)
                size += len(piece)
        if size >= MAX_SAMPLE_BYTES:
            break
    return samples


def train(samples: list[bytes], dict_size: int = DICT_SIZE) -> bytes | None:
    """A zstd dictionary trained on the samples, or None when zstd cannot train one (too few
    or too small samples)."""
    if sum(len(s) for s in samples) < MIN_SAMPLE_BYTES:
        return None
    pieces: list[bytes | bytearray | memoryview] = list(samples)  # as zstandard's stub says
    try:
        trained = zstandard.train_dictionary(
            dict_size, pieces, k=DICT_K, d=DICT_D, level=SEGMENT_LEVEL
        )
    except zstandard.ZstdError as exc:
        log.info("replay dictionary not trained: %s", exc)
        return None
    return trained.as_bytes()


def ensure_dictionary(store: ReplayStore, brand_id: int, now: int) -> int | None:
    """Train and store a new dictionary for the brand when the rule in the module docstring
    asks for one. Returns the id of the dictionary stored, None if none was."""
    if not _needs_dictionary(store, brand_id, now):
        return None
    replays = store.brand_replays(brand_id, SAMPLE_REPLAYS)
    if len(replays) < MIN_REPLAYS:
        return None
    body = train(training_samples(store, replays))
    if body is None:
        return None
    dict_id = store.add_dictionary(brand_id, body, now)
    log.info(
        "brand %s: trained replay dictionary %s from %d replays", brand_id, dict_id, len(replays)
    )
    return dict_id


# --- the background job ---------------------------------------------------------------------------


def compact_ended(
    store: CompactionStore, now: int, idle_ms: int = IDLE_MS, limit: int = 100
) -> int:
    """Compact up to ``limit`` replays that have had no chunk for ``idle_ms``; returns how many
    were compacted. A replay that fails is logged and skipped."""
    done = 0
    trained: set[int] = set()
    for replay in store.ended_replays(now - idle_ms, limit):
        try:
            if replay.brand_id not in trained:
                trained.add(replay.brand_id)
                ensure_dictionary(store, replay.brand_id, now)
            compact_replay(store, replay, now, train=False)
            done += 1
        except Exception:
            log.exception("compacting replay %s of brand %s failed", replay.id, replay.brand_id)
    return done


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


class Compactor(PeriodicService):
    """Runs :func:`compact_ended` every ``interval_s`` seconds in a daemon thread."""

    def __init__(
        self,
        store: CompactionStore,
        interval_s: float = 300.0,
        idle_ms: int = IDLE_MS,
        limit: int = 100,
        clock: Callable[[], int] = _now_ms,
    ) -> None:
        super().__init__("replay-compactor", interval_s)
        self.store = store
        self.idle_ms = idle_ms
        self.limit = limit
        self.clock = clock

    def run_once(self) -> int:
        """Compact until no ended replay is left (batches of ``limit``); never raises."""
        total, started = 0, time.perf_counter()
        try:
            for _ in range(MAX_BATCHES):
                done = compact_ended(self.store, self.clock(), self.idle_ms, self.limit)
                total += done
                if done < self.limit or self.stopping():
                    break
        except Exception:
            log.exception("replay compaction failed")
        ops_jobs.compaction_run(total, time.perf_counter() - started)
        return total
