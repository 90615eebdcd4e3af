"""Compaction and reading of replays (collector/replay/compaction.py, collector/replay/codec.py)
on a real rrweb recording (shared/testdata/recordings/), on every storage engine."""

from __future__ import annotations

import gzip
import time
from pathlib import Path

import msgspec
import pytest
import zstandard

from collector.replay import codec, compaction
from collector.replay.base_dictionary import base_dictionary
from collector.replay.codec import (
    JSON,
    PACKED,
    PACKED_AFTER_FIRST,
    compress_chunk,
    decompress_part,
    read_events,
    split_at_seek_points,
)
from collector.replay.read import read_stream
from collector.storage.base import BrandSettings, ReplayChunk, ReplaySegment, Store

T0 = 1_767_225_600_000  # collector clock of the tests: 2026-01-01T00:00:00Z
HOUR = 3_600_000


@pytest.fixture(scope="module")
def recording(testdata_dir: Path) -> list[bytes]:
    """The recording's events, each as its exact compact JSON (what a recorder sends)."""
    path = testdata_dir / "recordings" / "demoit-react-hooks.json"
    return [msgspec.json.encode(e) for e in msgspec.json.decode(path.read_bytes())]


def array(events: list[bytes]) -> bytes:
    return b"[" + b",".join(events) + b"]"


def ts(event: bytes) -> int:
    return msgspec.json.decode(event)["timestamp"]


def shifted(events: list[bytes], ms: int) -> list[bytes]:
    """The events as if recorded ``ms`` later (another page load of the same page)."""
    out = []
    for raw in events:
        event = msgspec.json.decode(raw)
        event["timestamp"] += ms
        out.append(msgspec.json.encode(event))
    return out


def five_second_chunks(events: list[bytes]) -> list[list[bytes]]:
    runs: dict[int, list[bytes]] = {}
    start = ts(events[0])
    for raw in events:
        runs.setdefault((ts(raw) - start) // 5_000, []).append(raw)
    return list(runs.values())


def ingest(
    store: Store,
    brand_id: int,
    replay_id: str,
    events: list[bytes],
    seq0: int = 0,
    received_at: int = T0,
) -> int:
    """Send the events as the recorder would (5-second chunks, the first received at
    ``received_at``); returns the next seq."""
    chunks = []
    for seq, run in enumerate(five_second_chunks(events), start=seq0):
        body = array(run)
        chunks.append(
            ReplayChunk(
                brand_id=brand_id,
                replay_id=replay_id,
                seq=seq,
                session_id=f"s-{replay_id}",
                page_session_id=f"p-{replay_id}",
                visitor_id="v1",
                url="https://demoit.app/e/react",
                received_at=received_at + seq * 5_000,
                first_ts=ts(run[0]),
                last_ts=ts(run[-1]),
                event_count=len(run),
                raw_bytes=len(body),
                body=compress_chunk(body),
            )
        )
    store.write_batch([], [], chunks)
    return seq0 + len(chunks)


def gzip_baseline(events: list[bytes]) -> int:
    return sum(len(gzip.compress(array(run), 6)) for run in five_second_chunks(events))


def new_brand(store: Store) -> int:
    return store.create_brand("Demo", "site-demo", ["demoit.app"], BrandSettings(), T0).id


@pytest.fixture
def brand(store: Store) -> int:
    return new_brand(store)


def test_compaction_round_trips_the_exact_events_and_shrinks(store, brand, recording):
    ingest(store, brand, "r1", recording)
    replay = store.get_replay(brand, "r1")
    assert replay is not None and replay.live_chunks == 17
    assert read_events(store, brand, "r1") == array(recording)

    before, after = compaction.compact_replay(store, replay, T0 + HOUR)

    assert read_events(store, brand, "r1") == array(recording)
    assert after < before
    # no brand dictionary yet (one replay): packed, with the built-in dictionary, measured 0.40
    # of the gzip baseline (0.58 as JSON at level 19 without a dictionary)
    assert after <= 0.45 * gzip_baseline(recording)
    assert [(p.codec, p.dict_id) for p in store.replay_parts(brand, "r1")] == [(PACKED, None)]
    compacted = store.get_replay(brand, "r1")
    assert compacted is not None
    assert (compacted.live_chunks, compacted.compacted_seq) == (0, 16)
    assert compacted.stored_bytes == after
    assert compacted.event_count == len(recording)


def test_segments_start_at_the_seek_points(store, brand, recording):
    three_loads = recording + shifted(recording, 100_000) + shifted(recording, 200_000)
    ingest(store, brand, "r1", three_loads)
    compaction.compact_replay(store, store.get_replay(brand, "r1"), T0 + HOUR)  # type: ignore[arg-type]

    parts = store.replay_parts(brand, "r1")
    assert [(p.kind, p.number) for p in parts] == [("segment", 0), ("segment", 1), ("segment", 2)]
    assert [p.first_ts for p in parts] == [ts(recording[0]) + k * 100_000 for k in range(3)]
    assert read_events(store, brand, "r1") == array(three_loads)
    pieces = split_at_seek_points(array(three_loads))
    assert [[e["type"] for e in msgspec.json.decode(p)[:2]] for p in pieces] == [[4, 2]] * 3


def test_since_ms_starts_at_the_last_seek_point_at_or_before_it(store, brand, recording):
    second, third = shifted(recording, 100_000), shifted(recording, 200_000)
    ingest(store, brand, "r1", recording + second + third)
    replay = store.get_replay(brand, "r1")
    assert replay is not None

    # live chunks only: the seek points are not known yet, everything comes back
    assert read_events(store, brand, "r1", since_ms=150_000) == array(recording + second + third)

    compaction.compact_replay(store, replay, T0 + HOUR)
    assert read_events(store, brand, "r1", since_ms=150_000) == array(second + third)
    assert read_events(store, brand, "r1", since_ms=100_000) == array(second + third)
    assert read_events(store, brand, "r1", since_ms=99_999) == array(recording + second + third)
    assert read_events(store, brand, "r1", since_ms=10**9) == array(third)
    suffix = msgspec.json.decode(read_events(store, brand, "r1", since_ms=250_000) or b"")
    assert [e["type"] for e in suffix[:2]] == [4, 2]  # a Meta, then its FullSnapshot


def test_chunks_arriving_after_compaction_stay_live_then_join_the_segments(store, brand, recording):
    half = len(recording) // 2
    next_seq = ingest(store, brand, "r1", recording[:half])
    compaction.compact_replay(store, store.get_replay(brand, "r1"), T0 + HOUR)  # type: ignore[arg-type]

    ingest(store, brand, "r1", recording[half:], seq0=next_seq)
    ingest(store, brand, "r1", recording[:3], seq0=0)  # a late copy of an old chunk: ignored
    replay = store.get_replay(brand, "r1")
    assert replay is not None and replay.live_chunks > 0
    assert read_events(store, brand, "r1") == array(recording)

    compaction.compact_replay(store, replay, T0 + 2 * HOUR)
    assert [p.kind for p in store.replay_parts(brand, "r1")] == ["segment"]
    assert read_events(store, brand, "r1") == array(recording)


def test_compact_ended_compacts_only_replays_idle_long_enough(store, brand, recording):
    ingest(store, brand, "r1", recording)  # last chunk received at T0 + 80 s
    assert compaction.compact_ended(store, now=T0 + 10 * 60_000) == 0
    assert compaction.compact_ended(store, now=T0 + HOUR) == 1
    assert store.get_replay(brand, "r1").live_chunks == 0  # type: ignore[union-attr]
    assert compaction.compact_ended(store, now=T0 + 2 * HOUR) == 0


def test_a_dictionary_trained_on_the_brand_gets_a_new_visit_under_04_of_gzip(
    store, brand, recording
):
    """The brand's earlier visits (the page's first 40 s) train the dictionary; a later visit
    (the same page's snapshot, then events the dictionary never saw) is compacted with it."""
    first_40s = [e for e in recording if ts(e) < ts(recording[0]) + 40_000]
    later_visit = recording[:2] + [e for e in recording if ts(e) >= ts(recording[0]) + 40_000]
    for n in range(compaction.MIN_REPLAYS):
        ingest(store, brand, f"old{n}", shifted(first_40s, n * HOUR))
    assert compaction.ensure_dictionary(store, brand, T0 + HOUR) is not None
    assert compaction.ensure_dictionary(store, brand, T0 + HOUR) is None  # not grown since
    ingest(store, brand, "new", later_visit)
    dict_id, _ = store.brand_dictionary(brand)  # type: ignore[misc]

    before, after = compaction.compact_replay(store, store.get_replay(brand, "new"), T0 + HOUR)  # type: ignore[arg-type]

    assert {p.dict_id for p in store.replay_parts(brand, "new")} == {dict_id}
    assert read_events(store, brand, "new") == array(later_visit)
    assert after <= 0.4 * gzip_baseline(later_visit)
    assert after < before / 2


def test_the_dictionary_is_retrained_once_the_brand_has_doubled(store, brand, recording):
    for n in range(compaction.MIN_REPLAYS):
        ingest(store, brand, f"a{n}", shifted(recording, n * HOUR))
    first = compaction.ensure_dictionary(store, brand, T0 + HOUR)
    assert first is not None
    assert compaction.compact_ended(store, now=T0 + HOUR) == compaction.MIN_REPLAYS
    later = T0 + 2 * HOUR
    for n in range(compaction.MIN_REPLAYS - 1):
        ingest(store, brand, f"b{n}", shifted(recording, n * HOUR), received_at=later)
    assert compaction.ensure_dictionary(store, brand, later + HOUR) is None

    ingest(store, brand, "b-last", recording, received_at=later)
    second = compaction.ensure_dictionary(store, brand, later + HOUR)

    assert second is not None and second != first
    assert store.brand_dictionary(brand)[0] == second  # type: ignore[index]
    compaction.compact_ended(store, now=later + HOUR)
    assert {p.dict_id for p in store.replay_parts(brand, "a0")} == {first}  # old one kept
    assert {p.dict_id for p in store.replay_parts(brand, "b0")} == {second}
    assert read_events(store, brand, "a0") == array(recording)
    assert read_events(store, brand, "b-last") == array(recording)


def test_seeking_into_a_long_replay_is_fast(store, brand, recording):
    loads = 30  # 30 page loads: ~4.8 MB of events, 30 segments
    events = [e for k in range(loads) for e in shifted(recording, k * 100_000)]
    ingest(store, brand, "long", events)
    compaction.compact_replay(store, store.get_replay(brand, "long"), T0 + HOUR)  # type: ignore[arg-type]
    read_events(store, brand, "long", since_ms=0)  # warm caches

    started = time.perf_counter()
    middle = read_events(store, brand, "long", since_ms=loads // 2 * 100_000 + 5_000)
    elapsed = time.perf_counter() - started

    assert middle == array(events[len(recording) * (loads // 2) :])
    assert elapsed < 0.3


def test_the_compactor_compacts_in_the_background(store, brand, recording):
    ingest(store, brand, "r1", recording)
    compactor = compaction.Compactor(store, interval_s=0.05, clock=lambda: T0 + HOUR)
    compactor.start()
    try:
        deadline = time.monotonic() + 20
        while store.get_replay(brand, "r1").live_chunks and time.monotonic() < deadline:  # type: ignore[union-attr]
            time.sleep(0.05)
    finally:
        compactor.stop()
    assert store.get_replay(brand, "r1").live_chunks == 0  # type: ignore[union-attr]
    assert read_events(store, brand, "r1") == array(recording)


def json_segments(
    store: Store, brand: int, replay_id: str, pieces: list[bytes], dict_id: int | None
) -> list[ReplaySegment]:
    """Segments as compaction wrote them before codecs: zstd 19 of the JSON, codec left out."""
    compressor = compaction._compressor(store, dict_id)
    return [
        ReplaySegment(
            brand_id=brand,
            replay_id=replay_id,
            idx=idx,
            first_ts=ts(msgspec.json.decode(piece, type=list[msgspec.Raw])[0]),
            last_ts=ts(msgspec.json.decode(piece, type=list[msgspec.Raw])[-1]),
            event_count=len(msgspec.json.decode(piece)),
            raw_bytes=len(piece),
            dict_id=dict_id,
            body=compressor.compress(piece),
        )
        for idx, piece in enumerate(pieces)
    ]


def test_segments_stored_as_json_before_codecs_still_read(store, brand, recording):
    two_loads = recording + shifted(recording, 100_000)
    for n in range(compaction.MIN_REPLAYS):
        ingest(store, brand, f"old{n}", shifted(recording, n * HOUR))
    dict_id = compaction.ensure_dictionary(store, brand, T0 + HOUR)
    assert dict_id is not None
    pieces = split_at_seek_points(array(two_loads))
    for replay_id, used in (("plain", None), ("with-dict", dict_id)):
        ingest(store, brand, replay_id, two_loads)
        store.compact_replay(
            brand, replay_id, json_segments(store, brand, replay_id, pieces, used), 99
        )

        parts = store.replay_parts(brand, replay_id)
        assert [(p.codec, p.dict_id) for p in parts] == [(JSON, used), (JSON, used)]
        assert read_events(store, brand, replay_id) == array(two_loads)
        assert read_events(store, brand, replay_id, since_ms=100_000) == array(
            two_loads[len(recording) :]
        )
        assert read_stream(store, brand, replay_id) == array(two_loads)


def test_with_a_brand_dictionary_each_segment_keeps_its_smaller_encoding(store, brand, recording):
    for n in range(compaction.MIN_REPLAYS):
        ingest(store, brand, f"old{n}", shifted(recording, n * HOUR))
    dict_id = compaction.ensure_dictionary(store, brand, T0 + HOUR)
    two_loads = recording + shifted(recording, 100_000)
    ingest(store, brand, "new", two_loads)

    compaction.compact_replay(store, store.get_replay(brand, "new"), T0 + HOUR)  # type: ignore[arg-type]

    parts = store.replay_parts(brand, "new")
    assert {p.dict_id for p in parts} == {dict_id}
    for part, piece in zip(parts, split_at_seek_points(array(two_loads)), strict=True):
        as_json = compaction._compressor(store, dict_id).compress(piece)
        assert len(part.body) <= len(as_json)
        assert decompress_part(store, part) == piece
    assert read_events(store, brand, "new", since_ms=100_000) == array(two_loads[len(recording) :])


def test_a_packed_segment_that_does_not_unpack_is_left_out_of_the_stream(store, brand, recording):
    ingest(store, brand, "r1", recording + shifted(recording, 100_000))
    compaction.compact_replay(store, store.get_replay(brand, "r1"), T0 + HOUR)  # type: ignore[arg-type]
    good, _ = store.replay_parts(brand, "r1")
    broken = zstandard.ZstdCompressor(level=3, dict_data=base_dictionary()).compress(b"[\x01\x05]")
    segments = [
        ReplaySegment(
            brand_id=brand, replay_id="r1", idx=i, first_ts=p.first_ts, last_ts=p.last_ts,
            event_count=1, raw_bytes=1, dict_id=None, body=body, codec=PACKED,
        )
        for i, (p, body) in enumerate(((good, good.body), (good, broken)))
    ]  # fmt: skip
    store.compact_replay(brand, "r1", segments, 999)

    assert read_stream(store, brand, "r1") == array(recording)
    with pytest.raises(zstandard.ZstdError):
        read_events(store, brand, "r1")


def test_the_built_in_dictionary_is_loaded_once_per_process(store, brand, recording):
    ingest(store, brand, "r1", recording)
    compaction.compact_replay(store, store.get_replay(brand, "r1"), T0 + HOUR)  # type: ignore[arg-type]
    base_dictionary()
    loads = base_dictionary.cache_info().misses
    for _ in range(3):
        assert read_events(store, brand, "r1") == array(recording)
    assert base_dictionary.cache_info().misses == loads == 1


def test_later_segments_of_a_first_replay_are_compressed_against_the_first(store, brand, recording):
    loads = recording + shifted(recording, 100_000) + shifted(recording, 200_000)
    ingest(store, brand, "r1", loads)
    compaction.compact_replay(store, store.get_replay(brand, "r1"), T0 + HOUR)  # type: ignore[arg-type]

    parts = store.replay_parts(brand, "r1")
    assert [(p.codec, p.dict_id) for p in parts] == [
        (PACKED, None),
        (PACKED_AFTER_FIRST, None),
        (PACKED_AFTER_FIRST, None),
    ]
    assert sum(len(p.body) for p in parts[1:]) < len(parts[0].body) / 4  # the same page twice
    assert read_events(store, brand, "r1") == array(loads)
    codec._firsts.clear()  # a reader that has not seen the first segment yet
    assert read_events(store, brand, "r1", since_ms=150_000) == array(loads[len(recording) :])
    assert read_stream(store, brand, "r1", since_ms=250_000) == array(loads[2 * len(recording) :])


def test_a_segment_whose_first_segment_was_replaced_is_left_out(store, brand, recording):
    ingest(store, brand, "r1", recording + shifted(recording, 100_000))
    compaction.compact_replay(store, store.get_replay(brand, "r1"), T0 + HOUR)  # type: ignore[arg-type]
    _, second = store.replay_parts(brand, "r1")
    assert second.codec == PACKED_AFTER_FIRST
    assert read_events(store, brand, "r1") is not None  # caches the first segment
    other = compaction.build_segments(
        store,
        store.get_replay(brand, "r1"),
        array(recording[:100]),
        None,  # type: ignore[arg-type]
    )[0]
    kept = msgspec.structs.replace(other, idx=1, body=second.body, codec=second.codec)
    store.compact_replay(brand, "r1", [other, kept], 999)

    assert read_stream(store, brand, "r1") == array(recording[:100])
    with pytest.raises(zstandard.ZstdError):
        read_events(store, brand, "r1")
