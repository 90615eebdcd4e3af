"""ClickHouse: replays (chunks, compacted segments, dictionaries, asset links).

Tables: ``replay_chunks`` (one row per live chunk, ``ORDER BY (brand_id, replay_id, seq)``),
``replay_segments`` (compacted segments, ``ORDER BY (brand_id, replay_id, generation, idx)``),
``replay_dicts`` and ``replay_assets``. There is no summary row: a replay's summary adds up its
chunk heads and its segment generation (never the bodies: both tables keep ``stored_bytes``), a
few rows per replay.

Replay chunks: write_batch (through :func:`write_chunks`) skips a chunk whose (brand, replay,
seq) is stored or whose seq is at or below the replay's highest segment ``upto_seq`` (one query
each, under the write lock). As for clicks, only two collectors writing the same chunk at the
same instant can store it twice; reads take one row per seq (``LIMIT 1 BY``).

Compaction without transactions: the segments of one compaction are a *generation* (a
``_next_version`` number); every row carries the generation, its ``upto_seq`` and its
``segment_count``. A generation is complete when it has ``segment_count`` distinct idx, and
readers use the complete generation with the highest ``(upto_seq, generation)``, plus the
chunks with ``seq > upto_seq``. :meth:`ReplaysMixin.compact_replay` (1) inserts the new
generation (an insert may land as several parts; until the last one is there the generation is
incomplete and invisible), then (2) deletes older generations and the chunks it covers with
lightweight ``DELETE`` (not waited for: readers already skip them). A reader therefore sees the
old parts or the new ones, never a mix; :meth:`ReplaysMixin.replay_parts` reads the
generation again after its reads and starts over if a compaction switched it meanwhile (the
chunks it read might have been deleted). A compaction with a lower ``upto_seq`` than the current
one is ignored, so a slow compactor cannot bring back fewer chunks.
"""

from __future__ import annotations

import secrets as _random
import time
from typing import Any

from ..model import Replay, ReplayChunk, ReplayPart, ReplaySegment
from .connection import ClickHouseBase

_CHUNK_COLUMNS = (
    "brand_id",
    "replay_id",
    "seq",
    "session_id",
    "page_session_id",
    "visitor_id",
    "url",
    "received_at",
    "first_ts",
    "last_ts",
    "event_count",
    "viewport_width",
    "viewport_height",
    "raw_bytes",
    "stored_bytes",
    "body",
)
_SEGMENT_COLUMNS = (
    "brand_id",
    "replay_id",
    "generation",
    "upto_seq",
    "segment_count",
    "idx",
    "first_ts",
    "last_ts",
    "event_count",
    "raw_bytes",
    "stored_bytes",
    "dict_id",
    "body",
    "session_id",
    "page_session_id",
    "visitor_id",
    "url",
    "started_at",
    "ended_at",
    "viewport_width",
    "viewport_height",
    "updated_at",
    "codec",
)
_BYTES = {"body": "bytes"}
# The newest complete generation of each replay's segments, with the totals of that generation
# and the replay header it carries. ``{ids}``: the replays asked for.
_GENERATIONS_SQL = (
    "SELECT replay_id, generation, upto_seq, sum(event_count), sum(raw_bytes),"
    " sum(stored_bytes), any(session_id), any(page_session_id), any(visitor_id),"
    " toValidUTF8(any(url)),"
    " any(started_at), any(ended_at), any(viewport_width), any(viewport_height), any(updated_at)"
    " FROM (SELECT * EXCEPT body FROM {db}.replay_segments"
    "  WHERE brand_id = {brand:UInt64} AND replay_id IN {ids:Array(String)}"
    "  LIMIT 1 BY replay_id, generation, idx)"
    " GROUP BY replay_id, generation, upto_seq HAVING count() = any(segment_count)"
    " ORDER BY replay_id, upto_seq DESC, generation DESC LIMIT 1 BY replay_id"
)
_CHUNK_HEADS_SQL = (
    "SELECT replay_id, seq, session_id, page_session_id, visitor_id, toValidUTF8(url), received_at,"
    " first_ts, last_ts, event_count, viewport_width, viewport_height, raw_bytes, stored_bytes"
    " FROM {db}.replay_chunks"
    " WHERE brand_id = {brand:UInt64} AND replay_id IN {ids:Array(String)}"
    " ORDER BY replay_id, seq LIMIT 1 BY replay_id, seq"
)

# (replay_id, updated_at) of every replay of ``{brand}``
_BRAND_REPLAYS_SQL = (
    "SELECT replay_id, max(t) AS updated FROM ("
    " SELECT replay_id, received_at AS t FROM {db}.replay_chunks WHERE brand_id = {brand:UInt64}"
    " UNION ALL SELECT replay_id, updated_at FROM {db}.replay_segments"
    "  WHERE brand_id = {brand:UInt64}) GROUP BY replay_id"
)


def _summarise(
    brand_id: int,
    replay_id: str,
    generation: tuple[Any, ...] | None,
    chunks: list[tuple[Any, ...]],
) -> Replay | None:
    """A Replay from its newest complete segment generation (a row of _GENERATIONS_SQL) and its
    chunk heads (rows of _CHUNK_HEADS_SQL in seq order); compacted chunks are skipped."""
    upto = generation[2] if generation else -1
    live = [c for c in chunks if c[1] > upto]
    if generation is None and not live:
        return None
    replay = Replay(
        id=replay_id,
        brand_id=brand_id,
        session_id="",
        page_session_id="",
        visitor_id="",
        url="",
        started_at=2**62,
        ended_at=-(2**62),
        compacted_seq=upto,
    )
    if generation is not None:
        (_, _, _, n, raw, stored, session, page, visitor, url, start, end, vw, vh, updated) = (
            generation
        )
        replay.session_id, replay.page_session_id, replay.visitor_id, replay.url = (
            session,
            page,
            visitor,
            url,
        )
        replay.started_at, replay.ended_at = start, end
        replay.viewport_width, replay.viewport_height = vw, vh
        replay.event_count, replay.raw_bytes, replay.stored_bytes = int(n), int(raw), int(stored)
        replay.updated_at = updated
    elif live:
        replay.session_id, replay.page_session_id, replay.visitor_id, replay.url = live[0][2:6]
    for c in live:
        (_, _, _, _, _, _, received, first, last, n, vw, vh, raw, stored) = c
        if replay.viewport_width is None and vw is not None:
            replay.viewport_width, replay.viewport_height = vw, vh
        replay.started_at = min(replay.started_at, first)
        replay.ended_at = max(replay.ended_at, last)
        replay.event_count += n
        replay.raw_bytes += raw
        replay.stored_bytes += stored
        replay.live_chunks += 1
        replay.updated_at = max(replay.updated_at, received)
    return replay


# --- the store -------------------------------------------------------------------------------


def write_chunks(store: ClickHouseBase, chunks: list[ReplayChunk]) -> None:
    """Insert the chunks not stored yet and above their replay's compacted seq (one insert,
    before the batch's clicks and events; see clicks.py). Called under the store's lock."""
    params = {
        "brands": sorted({c.brand_id for c in chunks}),
        "ids": sorted({c.replay_id for c in chunks}),
    }
    stored = {
        (b, r, q)
        for b, r, q in store._rows(
            "SELECT brand_id, replay_id, seq FROM {db}.replay_chunks"
            " WHERE brand_id IN {brands:Array(UInt64)} AND replay_id IN {ids:Array(String)}"
            " AND seq IN {seqs:Array(Int64)}",
            {**params, "seqs": sorted({c.seq for c in chunks})},
        )
    }
    compacted = {
        (b, r): upto
        for b, r, upto in store._rows(
            "SELECT brand_id, replay_id, max(upto_seq) FROM {db}.replay_segments"
            " WHERE brand_id IN {brands:Array(UInt64)} AND replay_id IN {ids:Array(String)}"
            " GROUP BY brand_id, replay_id",
            params,
        )
    }
    rows = []
    for c in chunks:
        key = (c.brand_id, c.replay_id, c.seq)
        if key in stored or c.seq <= compacted.get(key[:2], -1):
            continue
        stored.add(key)
        rows.append(
            (
                c.brand_id,
                c.replay_id,
                c.seq,
                c.session_id,
                c.page_session_id,
                c.visitor_id,
                c.url,
                c.received_at,
                c.first_ts,
                c.last_ts,
                c.event_count,
                c.viewport_width,
                c.viewport_height,
                c.raw_bytes,
                len(c.body),
                c.body,
            )
        )
    if rows:
        store._insert("replay_chunks", _CHUNK_COLUMNS, rows)


class ReplaysMixin(ClickHouseBase):
    """:class:`~collector.storage.base.ReplayStore` on ClickHouse."""

    def _summaries(self, brand_id: int, replay_ids: list[str]) -> dict[str, Replay]:
        if not replay_ids:
            return {}
        ids = sorted(set(replay_ids))
        params = {"brand": brand_id, "ids": ids}
        generations = {r[0]: r for r in self._rows(_GENERATIONS_SQL, params)}
        chunks: dict[str, list[tuple[Any, ...]]] = {}
        for row in self._rows(_CHUNK_HEADS_SQL, params):
            chunks.setdefault(row[0], []).append(row)
        found = {}
        for replay_id in ids:
            replay = _summarise(
                brand_id, replay_id, generations.get(replay_id), chunks.get(replay_id, [])
            )
            if replay is not None:
                found[replay_id] = replay
        return found

    def replays_for_session(self, brand_id: int, session_id: str) -> list[Replay]:
        params = {"brand": brand_id, "session": session_id}
        ids = self._rows(
            "SELECT DISTINCT replay_id FROM {db}.replay_chunks"
            " WHERE brand_id = {brand:UInt64} AND session_id = {session:String}"
            " UNION DISTINCT SELECT DISTINCT replay_id FROM {db}.replay_segments"
            " WHERE brand_id = {brand:UInt64} AND session_id = {session:String}",
            params,
        )
        found = self._summaries(brand_id, [r[0] for r in ids])
        return sorted(found.values(), key=lambda r: (r.started_at, r.id))

    def get_replay(self, brand_id: int, replay_id: str) -> Replay | None:
        return self._summaries(brand_id, [replay_id]).get(replay_id)

    def _generation(self, brand_id: int, replay_id: str) -> tuple[int, int, int] | None:
        """(generation, upto_seq, segment_count) of the replay's newest complete segments."""
        rows = self._rows(
            "SELECT generation, upto_seq, any(segment_count) FROM"
            " (SELECT generation, upto_seq, segment_count, idx FROM {db}.replay_segments"
            "  WHERE brand_id = {brand:UInt64} AND replay_id = {replay:String}"
            "  LIMIT 1 BY generation, idx)"
            " GROUP BY generation, upto_seq HAVING count() = any(segment_count)"
            " ORDER BY upto_seq DESC, generation DESC LIMIT 1",
            {"brand": brand_id, "replay": replay_id},
        )
        return (int(rows[0][0]), int(rows[0][1]), int(rows[0][2])) if rows else None

    def replay_parts(self, brand_id: int, replay_id: str) -> list[ReplayPart]:
        # Three reads: the generation, its segments, the chunks above it. A compaction
        # finishing in between changes the generation (and may delete what was read against
        # the old one), so read again until the generation held still.
        params: dict[str, Any] = {"brand": brand_id, "replay": replay_id}
        for _ in range(5):
            generation = self._generation(brand_id, replay_id)
            segments: list[tuple[Any, ...]] = []
            if generation is not None:
                segments = self._rows(
                    "SELECT idx, first_ts, last_ts, dict_id, body, codec FROM {db}.replay_segments"
                    " WHERE brand_id = {brand:UInt64} AND replay_id = {replay:String}"
                    " AND generation = {generation:UInt64} ORDER BY idx LIMIT 1 BY idx",
                    {**params, "generation": generation[0]},
                    _BYTES,
                )
                if len(segments) != generation[2]:
                    continue  # the generation was replaced and deleted meanwhile
            chunks = self._rows(
                "SELECT seq, first_ts, last_ts, body FROM {db}.replay_chunks"
                " WHERE brand_id = {brand:UInt64} AND replay_id = {replay:String}"
                " AND seq > {upto:Int64} ORDER BY seq LIMIT 1 BY seq",
                {**params, "upto": generation[1] if generation else -1},
                _BYTES,
            )
            if self._generation(brand_id, replay_id) == generation:
                break
        else:
            raise RuntimeError(f"replay {replay_id!r} keeps changing while being read")
        return [
            ReplayPart(
                kind="segment",
                number=i,
                first_ts=f,
                last_ts=la,
                dict_id=d,
                body=b,
                codec=int(codec),
                brand_id=brand_id,
                replay_id=replay_id,
            )
            for i, f, la, d, b, codec in segments
        ] + [
            ReplayPart(kind="chunk", number=q, first_ts=f, last_ts=la, dict_id=None, body=b)
            for q, f, la, b in chunks
        ]

    def ended_replays(self, idle_since: int, limit: int) -> list[Replay]:
        # Live chunks: above the highest upto_seq of the replay's segments.
        rows = self._rows(
            "SELECT c.brand_id, c.replay_id, max(c.received_at) AS last"
            " FROM {db}.replay_chunks AS c LEFT JOIN"
            " (SELECT brand_id, replay_id, max(upto_seq) AS upto FROM {db}.replay_segments"
            "  GROUP BY brand_id, replay_id) AS s"
            " ON c.brand_id = s.brand_id AND c.replay_id = s.replay_id"
            " WHERE c.seq > coalesce(s.upto, -1)"
            " GROUP BY c.brand_id, c.replay_id"
            " HAVING last < fromUnixTimestamp64Milli({idle:Int64}, 'UTC')"
            " ORDER BY last, c.brand_id, c.replay_id LIMIT {limit:UInt64}"
            " SETTINGS join_use_nulls = 1",
            {"idle": idle_since, "limit": max(0, int(limit))},
        )
        by_brand: dict[int, list[str]] = {}
        for brand_id, replay_id, _ in rows:
            by_brand.setdefault(brand_id, []).append(replay_id)
        found = {
            (b, r.id): r for b, ids in by_brand.items() for r in self._summaries(b, ids).values()
        }
        return [found[(b, r)] for b, r, _ in rows if (b, r) in found]

    def brand_replays(self, brand_id: int, limit: int) -> list[Replay]:
        rows = self._rows(
            f"{_BRAND_REPLAYS_SQL} ORDER BY updated DESC, replay_id DESC LIMIT {{limit:UInt64}}",
            {"brand": brand_id, "limit": max(0, int(limit))},
        )
        found = self._summaries(brand_id, [r[0] for r in rows])
        return [found[r[0]] for r in rows if r[0] in found]

    def count_replays(self, brand_id: int, before: int | None = None) -> int:
        where = (
            ""
            if before is None
            else " WHERE updated < fromUnixTimestamp64Milli({before:Int64}, 'UTC')"
        )
        rows = self._rows(
            f"SELECT count() FROM ({_BRAND_REPLAYS_SQL}){where}",
            {"brand": brand_id, "before": before or 0},
        )
        return int(rows[0][0])

    def compact_replay(
        self, brand_id: int, replay_id: str, segments: list[ReplaySegment], upto_seq: int
    ) -> None:
        if not segments:
            raise ValueError("a compacted replay needs at least one segment")
        with self._lock:
            current = self.get_replay(brand_id, replay_id)
            if current is None:
                raise KeyError(f"no replay {replay_id!r} in brand {brand_id}")
            if upto_seq < current.compacted_seq:
                return  # a newer compaction already covers more chunks
            generation = self._next_version()
            # 1. the new generation; invisible to readers until all its rows are there
            self._insert(
                "replay_segments",
                _SEGMENT_COLUMNS,
                [
                    (
                        brand_id,
                        replay_id,
                        generation,
                        upto_seq,
                        len(segments),
                        s.idx,
                        s.first_ts,
                        s.last_ts,
                        s.event_count,
                        s.raw_bytes,
                        len(s.body),
                        s.dict_id,
                        s.body,
                        current.session_id,
                        current.page_session_id,
                        current.visitor_id,
                        current.url,
                        current.started_at,
                        current.ended_at,
                        current.viewport_width,
                        current.viewport_height,
                        current.updated_at,
                        s.codec,
                    )
                    for s in segments
                ],
            )
            # 2. what it replaces; readers already skip it, so the deletes need not wait
            params = {
                "brand": brand_id,
                "replay": replay_id,
                "upto": upto_seq,
                "generation": generation,
            }
            self._command(
                "DELETE FROM {db}.replay_segments"
                " WHERE brand_id = {brand:UInt64} AND replay_id = {replay:String}"
                " AND (upto_seq < {upto:Int64}"
                "  OR (upto_seq = {upto:Int64} AND generation < {generation:UInt64}))"
                " SETTINGS lightweight_deletes_sync = 0",
                params,
            )
            self._command(
                "DELETE FROM {db}.replay_chunks"
                " WHERE brand_id = {brand:UInt64} AND replay_id = {replay:String}"
                " AND seq <= {upto:Int64} SETTINGS lightweight_deletes_sync = 0",
                params,
            )

    def brand_dictionary(self, brand_id: int) -> tuple[int, bytes] | None:
        rows = self._rows(
            "SELECT id, body FROM {db}.replay_dicts WHERE brand_id = {brand:UInt64}"
            " ORDER BY created_at DESC, id DESC LIMIT 1",
            {"brand": brand_id},
            _BYTES,
        )
        return (int(rows[0][0]), rows[0][1]) if rows else None

    def dictionary_created_at(self, brand_id: int, dict_id: int) -> int | None:
        rows = self._rows(
            "SELECT created_at FROM {db}.replay_dicts"
            " WHERE brand_id = {brand:UInt64} AND id = {id:UInt64} LIMIT 1",
            {"brand": brand_id, "id": dict_id},
        )
        return rows[0][0] if rows else None

    def get_dictionary(self, dict_id: int) -> bytes | None:
        rows = self._rows(
            "SELECT body FROM {db}.replay_dicts WHERE id = {id:UInt64} LIMIT 1",
            {"id": dict_id},
            _BYTES,
        )
        return rows[0][0] if rows else None

    def add_dictionary(self, brand_id: int, body: bytes, now: int) -> int:
        # 52 random bits: unique without coordination, exact in JavaScript numbers.
        dict_id = _random.randbits(52) or 1
        self._insert(
            "replay_dicts",
            ("id", "brand_id", "created_at", "body"),
            [(dict_id, brand_id, now, body)],
        )
        return dict_id

    def link_replay_assets(self, brand_id: int, replay_id: str, links: dict[str, str]) -> None:
        if not links:
            return
        known = self.replay_assets(brand_id, replay_id)
        now = time.time_ns() // 1_000_000
        rows = [(brand_id, replay_id, u, h, now) for u, h in links.items() if u not in known]
        if rows:
            self._insert(
                "replay_assets", ("brand_id", "replay_id", "url", "sha256", "linked_at"), rows
            )

    def replay_assets(self, brand_id: int, replay_id: str) -> dict[str, str]:
        # the first link of a URL wins, also if two collectors linked it at once
        rows = self._rows(
            "SELECT url, argMin(sha256, (linked_at, sha256)) FROM {db}.replay_assets"
            " WHERE brand_id = {brand:UInt64} AND replay_id = {replay:String} GROUP BY url",
            {"brand": brand_id, "replay": replay_id},
        )
        return dict(rows)
