"""The replay part of the storage contract (ReplayStore in collector/storage/base.py, and the
SecretStore that signs share links), run on every engine through the ``store`` fixture
(tests/storage_fixtures.py)."""

from __future__ import annotations

import msgspec
import pytest
import zstandard

from collector.replay.codec import JSON, compress_chunk, read_events
from collector.storage import open_store
from collector.storage.base import BrandSettings, Click, ReplayChunk, ReplaySegment, Store
from collector.storage.clickhouse import replays as clickhouse_replays
from collector.storage.sqlite import SQLiteStore

T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z


def new_brand(store: Store, name: str = "Acme") -> int:
    return store.create_brand(
        name, f"site-{name.lower()}", [f"{name.lower()}.example"], BrandSettings(), T0
    ).id


def events_json(seq: int, n: int = 2, start: int | None = None) -> bytes:
    start = T0 + seq * 5_000 if start is None else start
    return msgspec.json.encode(
        [
            {"type": 3, "data": {"source": 1, "seq": seq, "i": i}, "timestamp": start + i}
            for i in range(n)
        ]
    )


def chunk(brand_id: int, replay_id: str, seq: int, **fields) -> ReplayChunk:
    body = fields.pop("events", None) or events_json(seq)
    events = msgspec.json.decode(body)
    values = {
        "session_id": "sess-1",
        "page_session_id": f"page-{replay_id}",
        "visitor_id": "vis-1",
        "url": f"https://acme.example/{seq}",
        "received_at": T0 + seq * 5_000 + 100,
        "first_ts": events[0]["timestamp"],
        "last_ts": events[-1]["timestamp"],
        "event_count": len(events),
        "raw_bytes": len(body),
        **fields,
    }
    return ReplayChunk(
        brand_id=brand_id, replay_id=replay_id, seq=seq, body=compress_chunk(body), **values
    )


def write(store: Store, *chunks: ReplayChunk) -> None:
    store.write_batch([], [], list(chunks))


def events_of(store: Store, brand_id: int, replay_id: str) -> list[dict]:
    found = read_events(store, brand_id, replay_id)
    assert found is not None
    return msgspec.json.decode(found)


def seqs(store: Store, brand_id: int, replay_id: str) -> list[int]:
    return [e["data"]["seq"] for e in events_of(store, brand_id, replay_id)[::2]]


def segment(brand_id: int, replay_id: str, idx: int, *chunk_seqs: int) -> ReplaySegment:
    """One segment holding the events of those chunks (as events_json made them)."""
    events = [e for q in chunk_seqs for e in msgspec.json.decode(events_json(q))]
    body = msgspec.json.encode(events)
    return ReplaySegment(
        brand_id=brand_id,
        replay_id=replay_id,
        idx=idx,
        first_ts=events[0]["timestamp"],
        last_ts=events[-1]["timestamp"],
        event_count=len(events),
        raw_bytes=len(body),
        dict_id=None,
        body=zstandard.ZstdCompressor(level=19).compress(body),
    )


def test_a_chunk_sent_twice_is_stored_once(store):
    brand = new_brand(store)
    write(store, chunk(brand, "r1", 0), chunk(brand, "r1", 1))
    write(store, chunk(brand, "r1", 1), chunk(brand, "r1", 1))
    replay = store.get_replay(brand, "r1")
    assert replay is not None
    assert (replay.live_chunks, replay.event_count) == (2, 4)
    assert [p.number for p in store.replay_parts(brand, "r1")] == [0, 1]
    assert seqs(store, brand, "r1") == [0, 1]


def test_chunks_arriving_out_of_order_are_read_in_seq_order(store):
    brand = new_brand(store)
    write(store, chunk(brand, "r1", 2))
    write(store, chunk(brand, "r1", 0), chunk(brand, "r1", 3))
    write(store, chunk(brand, "r1", 1))
    assert seqs(store, brand, "r1") == [0, 1, 2, 3]
    replay = store.get_replay(brand, "r1")
    assert replay is not None
    # the header comes from the first chunk, whenever it arrived
    assert replay.url == "https://acme.example/0"
    assert (replay.started_at, replay.ended_at) == (T0, T0 + 15_001)


def test_replay_summary_adds_up_its_chunks(store):
    brand = new_brand(store)
    first, second, third = (
        chunk(brand, "r1", 0),
        chunk(brand, "r1", 1, viewport_width=1280, viewport_height=720, received_at=T0 + 9_000),
        chunk(brand, "r1", 2, viewport_width=390, viewport_height=844, received_at=T0 + 7_000),
    )
    write(store, third, first)
    write(store, second)
    replay = store.get_replay(brand, "r1")
    assert replay is not None
    assert replay.id == "r1" and replay.brand_id == brand
    assert (replay.session_id, replay.page_session_id, replay.visitor_id) == (
        "sess-1",
        "page-r1",
        "vis-1",
    )
    assert (replay.viewport_width, replay.viewport_height) == (1280, 720)  # the first known
    assert replay.started_at == first.first_ts and replay.ended_at == third.last_ts
    assert replay.event_count == 6
    assert replay.raw_bytes == first.raw_bytes + second.raw_bytes + third.raw_bytes
    assert replay.stored_bytes == len(first.body) + len(second.body) + len(third.body)
    assert (replay.live_chunks, replay.compacted_seq) == (3, -1)
    assert replay.updated_at == T0 + 9_000


def test_an_unknown_replay_is_none_everywhere(store):
    brand = new_brand(store)
    assert store.get_replay(brand, "nope") is None
    assert store.replay_parts(brand, "nope") == []
    assert read_events(store, brand, "nope") is None
    assert store.replays_for_session(brand, "sess-1") == []


def test_compaction_replaces_chunks_up_to_its_seq_and_keeps_later_ones_live(store):
    brand = new_brand(store)
    write(store, *(chunk(brand, "r1", q) for q in range(4)))
    store.compact_replay(
        brand, "r1", [segment(brand, "r1", 0, 0, 1), segment(brand, "r1", 1, 2)], upto_seq=2
    )
    parts = store.replay_parts(brand, "r1")
    assert [(p.kind, p.number) for p in parts] == [("segment", 0), ("segment", 1), ("chunk", 3)]
    assert seqs(store, brand, "r1") == [0, 1, 2, 3]
    replay = store.get_replay(brand, "r1")
    assert replay is not None
    assert (replay.live_chunks, replay.compacted_seq, replay.event_count) == (1, 2, 8)
    assert replay.stored_bytes == sum(len(p.body) for p in parts)


def test_a_chunk_at_or_below_the_compacted_seq_is_ignored(store):
    brand = new_brand(store)
    write(store, chunk(brand, "r1", 0), chunk(brand, "r1", 2))
    store.compact_replay(brand, "r1", [segment(brand, "r1", 0, 0, 2)], upto_seq=2)
    write(store, chunk(brand, "r1", 1), chunk(brand, "r1", 2), chunk(brand, "r1", 3))
    assert [(p.kind, p.number) for p in store.replay_parts(brand, "r1")] == [
        ("segment", 0),
        ("chunk", 3),
    ]
    assert seqs(store, brand, "r1") == [0, 2, 3]
    replay = store.get_replay(brand, "r1")
    assert replay is not None and replay.live_chunks == 1


def test_compacting_again_replaces_the_old_segments(store):
    brand = new_brand(store)
    write(store, chunk(brand, "r1", 0), chunk(brand, "r1", 1))
    store.compact_replay(brand, "r1", [segment(brand, "r1", 0, 0)], upto_seq=0)
    store.compact_replay(
        brand, "r1", [segment(brand, "r1", 0, 0), segment(brand, "r1", 1, 1)], upto_seq=1
    )
    # an older compaction finishing late does not bring back fewer chunks
    store.compact_replay(brand, "r1", [segment(brand, "r1", 0, 0)], upto_seq=0)
    assert [(p.kind, p.number) for p in store.replay_parts(brand, "r1")] == [
        ("segment", 0),
        ("segment", 1),
    ]
    assert seqs(store, brand, "r1") == [0, 1]
    replay = store.get_replay(brand, "r1")
    assert replay is not None
    assert (replay.live_chunks, replay.compacted_seq, replay.event_count) == (0, 1, 4)
    assert replay.url == "https://acme.example/0" and replay.session_id == "sess-1"


def test_brand_b_never_sees_brand_a_replays(store):
    a, b = new_brand(store, "A"), new_brand(store, "B")
    write(store, chunk(a, "r1", 0), chunk(b, "r1", 0, events=events_json(7, n=3)))
    store.link_replay_assets(a, "r1", {"https://cdn.example/a.css": "aa" * 32})
    assert store.get_replay(a, "r1").event_count == 2  # type: ignore[union-attr]
    assert store.get_replay(b, "r1").event_count == 3  # type: ignore[union-attr]
    assert seqs(store, b, "r1") == [7, 7]
    assert store.replay_assets(b, "r1") == {}
    assert [r.brand_id for r in store.replays_for_session(b, "sess-1")] == [b]
    store.compact_replay(a, "r1", [segment(a, "r1", 0, 0)], upto_seq=0)
    assert [p.kind for p in store.replay_parts(b, "r1")] == ["chunk"]


def test_replays_for_session_are_ordered_by_start(store):
    brand = new_brand(store)
    write(
        store,
        chunk(brand, "late", 0, events=events_json(0, start=T0 + 60_000)),
        chunk(brand, "early", 0, events=events_json(0, start=T0)),
        chunk(brand, "other", 0, session_id="sess-2"),
    )
    store.compact_replay(brand, "early", [segment(brand, "early", 0, 0)], upto_seq=0)
    found = store.replays_for_session(brand, "sess-1")
    assert [r.id for r in found] == ["early", "late"]
    assert [r.page_session_id for r in found] == ["page-early", "page-late"]


def test_ended_replays_are_idle_ones_with_live_chunks_oldest_first(store):
    a, b = new_brand(store, "A"), new_brand(store, "B")
    write(
        store,
        chunk(a, "old", 0, received_at=T0),
        chunk(b, "older", 0, received_at=T0 - 5_000),
        chunk(a, "busy", 0, received_at=T0),
        chunk(a, "busy", 1, received_at=T0 + 60_000),
        chunk(a, "done", 0, received_at=T0 - 9_000),
    )
    store.compact_replay(a, "done", [segment(a, "done", 0, 0)], upto_seq=0)
    ended = store.ended_replays(idle_since=T0 + 30_000, limit=10)
    assert [(r.brand_id, r.id) for r in ended] == [(b, "older"), (a, "old")]
    assert ended[0].live_chunks == 1 and ended[0].updated_at == T0 - 5_000
    assert [r.id for r in store.ended_replays(idle_since=T0 + 30_000, limit=1)] == ["older"]
    assert store.ended_replays(idle_since=T0 - 5_000, limit=10) == []


def test_dictionaries_are_per_brand_with_ids_unique_across_brands(store):
    a, b = new_brand(store, "A"), new_brand(store, "B")
    assert store.brand_dictionary(a) is None
    first = store.add_dictionary(a, b"dict-a-1", T0)
    other = store.add_dictionary(b, b"dict-b-1", T0 + 1)
    newest = store.add_dictionary(a, b"dict-a-2", T0 + 2)
    assert len({first, other, newest}) == 3
    assert store.brand_dictionary(a) == (newest, b"dict-a-2")
    assert store.brand_dictionary(b) == (other, b"dict-b-1")
    assert store.get_dictionary(first) == b"dict-a-1"
    assert store.get_dictionary(max(first, other, newest) + 12345) is None


def test_an_asset_url_linked_again_keeps_its_first_hash(store):
    brand = new_brand(store)
    store.link_replay_assets(brand, "r1", {"https://cdn.example/a.css": "a" * 64})
    store.link_replay_assets(
        brand,
        "r1",
        {"https://cdn.example/a.css": "b" * 64, "https://cdn.example/f.woff2": "c" * 64},
    )
    store.link_replay_assets(brand, "r2", {"https://cdn.example/a.css": "d" * 64})
    assert store.replay_assets(brand, "r1") == {
        "https://cdn.example/a.css": "a" * 64,
        "https://cdn.example/f.woff2": "c" * 64,
    }
    assert store.replay_assets(brand, "r2") == {"https://cdn.example/a.css": "d" * 64}
    assert store.replay_assets(brand, "r3") == {}


def test_a_secret_is_the_same_for_every_store_on_the_database(store_url):
    one = open_store(store_url)
    two = open_store(store_url)
    try:
        shared = one.secret("share-links")
        assert len(shared) == 32
        assert two.secret("share-links") == shared
        assert one.secret("share-links") == shared
        assert two.secret("other") != shared
    finally:
        one.close()
        two.close()
    again = open_store(store_url)
    try:
        assert again.secret("share-links") == shared
    finally:
        again.close()


def test_chunks_are_written_with_the_clicks_of_the_same_batch(store):
    brand = new_brand(store)
    click = Click(id="c1", brand_id=brand, session_id="sess-1", visitor_id="vis-1", created_at=T0)
    store.write_batch([click], [], [chunk(brand, "r1", 0)])
    assert store.get_click(brand, "c1") is not None
    assert store.get_replay(brand, "r1") is not None
    store.write_batch([], [], [])  # nothing at all is fine


def _store_before_codecs(store_url: str, monkeypatch) -> Store:
    """A database at schema version 2, before replay_segments had a codec column."""
    from collector.storage.clickhouse import connection as clickhouse_connection
    from collector.storage.sqlite import connection as sqlite_connection

    with monkeypatch.context() as patch:
        patch.setattr(sqlite_connection, "SCHEMA_VERSION", 2)
        patch.setattr(clickhouse_connection, "SCHEMA_VERSION", 2)
        return open_store(store_url)


def _insert_segment_as_before(store: Store, s: ReplaySegment) -> None:
    """The row compaction wrote before migration 3 (no codec column), as each engine kept it."""
    old = (s.brand_id, s.replay_id, s.idx, s.first_ts, s.last_ts, s.event_count, s.raw_bytes)
    if isinstance(store, SQLiteStore):
        with store._write() as conn:
            conn.execute(
                "INSERT INTO replay_segments (brand_id, replay_id, idx, first_ts, last_ts,"
                " event_count, raw_bytes, dict_id, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (*old, s.dict_id, s.body),
            )
            conn.execute(
                "UPDATE replays SET compacted_seq = 1, live_chunks = 0"
                " WHERE brand_id = ? AND id = ?",
                (s.brand_id, s.replay_id),
            )
        return
    replay = store.get_replay(s.brand_id, s.replay_id)
    assert replay is not None
    columns = tuple(c for c in clickhouse_replays._SEGMENT_COLUMNS if c != "codec")
    row = {"brand_id": s.brand_id, "replay_id": s.replay_id, "idx": s.idx}
    row.update(
        first_ts=s.first_ts, last_ts=s.last_ts, event_count=s.event_count, raw_bytes=s.raw_bytes,
        generation=1, upto_seq=1, segment_count=1, stored_bytes=len(s.body), dict_id=s.dict_id,
        body=s.body, session_id=replay.session_id, page_session_id=replay.page_session_id,
        visitor_id=replay.visitor_id, url=replay.url, started_at=replay.started_at,
        ended_at=replay.ended_at, viewport_width=None, viewport_height=None,
        updated_at=replay.updated_at,
    )  # fmt: skip
    store._insert("replay_segments", columns, [tuple(row[c] for c in columns)])


def test_segments_stored_before_migration_3_read_after_it(store_url, monkeypatch):
    old = _store_before_codecs(store_url, monkeypatch)
    brand = new_brand(old)
    write(old, chunk(brand, "r1", 0), chunk(brand, "r1", 1))
    _insert_segment_as_before(old, segment(brand, "r1", 0, 0, 1))
    with pytest.raises(Exception, match="codec"):  # this code reads a column not there yet
        old.replay_parts(brand, "r1")
    old.close()

    migrated = open_store(store_url)  # migration 3: codec 0 for the rows already there
    try:
        parts = migrated.replay_parts(brand, "r1")
        assert [(p.kind, p.codec, p.dict_id) for p in parts] == [("segment", JSON, None)]
        assert seqs(migrated, brand, "r1") == [0, 1]
        assert read_events(migrated, brand, "r1", since_ms=0) == events_of_chunks(0, 1)
    finally:
        migrated.close()


def events_of_chunks(*seqs: int) -> bytes:
    return msgspec.json.encode([e for q in seqs for e in msgspec.json.decode(events_json(q))])
