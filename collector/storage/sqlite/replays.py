"""SQLite: replays (chunks, compacted segments, dictionaries, asset links).

``replays`` holds one summary row per replay, kept exact by write_batch (in the same transaction
as the chunk rows and the clicks, through :func:`write_chunks`) and by compact_replay, so listing
a session's replays or finding ended ones never adds up chunks. ``replay_chunks`` holds live
chunks, ``replay_segments`` compacted ones; compact_replay swaps them in one transaction, and
replay_parts reads both in one read transaction, so readers see the old parts or the new ones.
``replay_dicts`` has AUTOINCREMENT ids (never reused); a URL linked again to a replay keeps its
first asset hash (INSERT OR IGNORE).
"""

from __future__ import annotations

import sqlite3
from typing import Any

from ..model import Replay, ReplayChunk, ReplayPart, ReplaySegment
from .connection import SQLiteBase

REPLAY_FIELDS: tuple[str, ...] = Replay.__struct_fields__
_REPLAY_COLUMNS_SQL = ", ".join(REPLAY_FIELDS)
# A replays row as write_batch keeps it: the Replay fields, then the seqs its header came from.
_REPLAY_STATE_COLUMNS = (*REPLAY_FIELDS, "first_seq", "viewport_seq")
_UPSERT_REPLAY_SQL = (
    f"INSERT INTO replays ({', '.join(_REPLAY_STATE_COLUMNS)})"
    f" VALUES ({', '.join('?' for _ in _REPLAY_STATE_COLUMNS)})"
    " ON CONFLICT (brand_id, id) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in _REPLAY_STATE_COLUMNS if c not in ("brand_id", "id"))
)
_INSERT_CHUNK_SQL = (
    "INSERT OR IGNORE INTO replay_chunks (brand_id, replay_id, seq, received_at, first_ts,"
    " last_ts, event_count, raw_bytes, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def _to_replay(row: tuple[Any, ...]) -> Replay:
    return Replay(**dict(zip(REPLAY_FIELDS, row, strict=True)))


def _new_replay_state(chunk: ReplayChunk) -> dict[str, Any]:
    return {
        "id": chunk.replay_id,
        "brand_id": chunk.brand_id,
        "session_id": chunk.session_id,
        "page_session_id": chunk.page_session_id,
        "visitor_id": chunk.visitor_id,
        "url": chunk.url,
        "started_at": chunk.first_ts,
        "ended_at": chunk.last_ts,
        "viewport_width": None,
        "viewport_height": None,
        "event_count": 0,
        "raw_bytes": 0,
        "stored_bytes": 0,
        "live_chunks": 0,
        "compacted_seq": -1,
        "updated_at": chunk.received_at,
        "first_seq": chunk.seq,
        "viewport_seq": None,
    }


def _add_chunk(state: dict[str, Any], chunk: ReplayChunk) -> None:
    """Fold a newly stored chunk into its replay's summary row."""
    if chunk.seq < state["first_seq"]:
        state["first_seq"] = chunk.seq
        for name in ("session_id", "page_session_id", "visitor_id", "url"):
            state[name] = getattr(chunk, name)
    if chunk.viewport_width is not None and (
        state["viewport_seq"] is None or chunk.seq < state["viewport_seq"]
    ):
        state["viewport_seq"] = chunk.seq
        state["viewport_width"] = chunk.viewport_width
        state["viewport_height"] = chunk.viewport_height
    state["started_at"] = min(state["started_at"], chunk.first_ts)
    state["ended_at"] = max(state["ended_at"], chunk.last_ts)
    state["event_count"] += chunk.event_count
    state["raw_bytes"] += chunk.raw_bytes
    state["stored_bytes"] += len(chunk.body)
    state["live_chunks"] += 1
    state["updated_at"] = max(state["updated_at"], chunk.received_at)


def write_chunks(conn: sqlite3.Connection, chunks: list[ReplayChunk]) -> None:
    """Store new chunks and fold them into their replays' rows (inside write_batch's
    transaction). A stored (brand, replay, seq) or a seq at or below compacted_seq is
    skipped."""
    states: dict[tuple[int, str], dict[str, Any] | None] = {}
    changed: set[tuple[int, str]] = set()
    for chunk in sorted(chunks, key=lambda c: c.seq):
        key = (chunk.brand_id, chunk.replay_id)
        if key not in states:
            row = conn.execute(
                f"SELECT {', '.join(_REPLAY_STATE_COLUMNS)} FROM replays"
                " WHERE brand_id = ? AND id = ?",
                key,
            ).fetchone()
            states[key] = dict(zip(_REPLAY_STATE_COLUMNS, row, strict=True)) if row else None
        state = states[key]
        if state is not None and chunk.seq <= state["compacted_seq"]:
            continue
        cursor = conn.execute(
            _INSERT_CHUNK_SQL,
            (
                chunk.brand_id,
                chunk.replay_id,
                chunk.seq,
                chunk.received_at,
                chunk.first_ts,
                chunk.last_ts,
                chunk.event_count,
                chunk.raw_bytes,
                chunk.body,
            ),
        )
        if cursor.rowcount == 0:
            continue  # sent twice
        if state is None:
            state = states[key] = _new_replay_state(chunk)
        _add_chunk(state, chunk)
        changed.add(key)
    if changed:
        conn.executemany(
            _UPSERT_REPLAY_SQL,
            [tuple(states[k][c] for c in _REPLAY_STATE_COLUMNS) for k in changed],  # type: ignore[index]
        )


class ReplaysMixin(SQLiteBase):
    """:class:`~collector.storage.base.ReplayStore` on SQLite."""

    def replays_for_session(self, brand_id: int, session_id: str) -> list[Replay]:
        rows = self._all(
            f"SELECT {_REPLAY_COLUMNS_SQL} FROM replays WHERE brand_id = ? AND session_id = ?"
            " ORDER BY started_at, id",
            (brand_id, session_id),
        )
        return [_to_replay(r) for r in rows]

    def get_replay(self, brand_id: int, replay_id: str) -> Replay | None:
        row = self._one(
            f"SELECT {_REPLAY_COLUMNS_SQL} FROM replays WHERE brand_id = ? AND id = ?",
            (brand_id, replay_id),
        )
        return _to_replay(row) if row else None

    def replay_parts(self, brand_id: int, replay_id: str) -> list[ReplayPart]:
        # One read transaction, so a compaction committing in between cannot show both halves.
        conn = self._conn()
        own = not conn.in_transaction
        if own:
            conn.execute("BEGIN")
        try:
            segments = conn.execute(
                "SELECT idx, first_ts, last_ts, dict_id, body, codec FROM replay_segments"
                " WHERE brand_id = ? AND replay_id = ? ORDER BY idx",
                (brand_id, replay_id),
            ).fetchall()
            chunks = conn.execute(
                "SELECT seq, first_ts, last_ts, body FROM replay_chunks"
                " WHERE brand_id = ?1 AND replay_id = ?2 AND seq > coalesce("
                "  (SELECT compacted_seq FROM replays WHERE brand_id = ?1 AND id = ?2), -1)"
                " ORDER BY seq",
                (brand_id, replay_id),
            ).fetchall()
        finally:
            if own:
                conn.execute("COMMIT")
        return [
            ReplayPart(
                kind="segment",
                number=i,
                first_ts=f,
                last_ts=la,
                dict_id=d,
                body=bytes(b),
                codec=codec,
                brand_id=brand_id,
                replay_id=replay_id,
            )
            for i, f, la, d, b, codec in segments
        ] + [
            ReplayPart(kind="chunk", number=q, first_ts=f, last_ts=la, dict_id=None, body=bytes(b))
            for q, f, la, b in chunks
        ]

    def ended_replays(self, idle_since: int, limit: int) -> list[Replay]:
        rows = self._all(
            f"SELECT {_REPLAY_COLUMNS_SQL} FROM replays"
            " WHERE live_chunks > 0 AND updated_at < ? ORDER BY updated_at, brand_id, id LIMIT ?",
            (idle_since, max(0, int(limit))),
        )
        return [_to_replay(r) for r in rows]

    def brand_replays(self, brand_id: int, limit: int) -> list[Replay]:
        rows = self._all(
            f"SELECT {_REPLAY_COLUMNS_SQL} FROM replays WHERE brand_id = ?"
            " ORDER BY updated_at DESC, id DESC LIMIT ?",
            (brand_id, max(0, int(limit))),
        )
        return [_to_replay(r) for r in rows]

    def count_replays(self, brand_id: int, before: int | None = None) -> int:
        return self._one(
            "SELECT count(*) FROM replays WHERE brand_id = ? AND updated_at < ?",
            (brand_id, 2**62 if before is None else before),
        )[0]

    def compact_replay(
        self, brand_id: int, replay_id: str, segments: list[ReplaySegment], upto_seq: int
    ) -> None:
        if not segments:
            raise ValueError("a compacted replay needs at least one segment")
        key = (brand_id, replay_id)
        with self._write() as conn:  # one transaction: readers see the old parts or the new
            row = conn.execute(
                "SELECT compacted_seq FROM replays WHERE brand_id = ? AND id = ?", key
            ).fetchone()
            if row is None:
                raise KeyError(f"no replay {replay_id!r} in brand {brand_id}")
            if upto_seq < row[0]:
                return  # a newer compaction already covers more chunks
            conn.execute("DELETE FROM replay_segments WHERE brand_id = ? AND replay_id = ?", key)
            conn.execute(
                "DELETE FROM replay_chunks WHERE brand_id = ? AND replay_id = ? AND seq <= ?",
                (*key, upto_seq),
            )
            conn.executemany(
                "INSERT INTO replay_segments (brand_id, replay_id, idx, first_ts, last_ts,"
                " event_count, raw_bytes, dict_id, body, codec)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        brand_id,
                        replay_id,
                        s.idx,
                        s.first_ts,
                        s.last_ts,
                        s.event_count,
                        s.raw_bytes,
                        s.dict_id,
                        s.body,
                        s.codec,
                    )
                    for s in segments
                ],
            )
            conn.execute(
                "UPDATE replays SET"
                " event_count = s.n + c.n, raw_bytes = s.raw + c.raw,"
                " stored_bytes = s.stored + c.stored, live_chunks = c.live, compacted_seq = ?3"
                " FROM (SELECT coalesce(sum(event_count), 0) AS n,"
                "  coalesce(sum(raw_bytes), 0) AS raw, coalesce(sum(length(body)), 0) AS stored"
                "  FROM replay_segments WHERE brand_id = ?1 AND replay_id = ?2) AS s,"
                " (SELECT coalesce(sum(event_count), 0) AS n,"
                "  coalesce(sum(raw_bytes), 0) AS raw, coalesce(sum(length(body)), 0) AS stored,"
                "  count(*) AS live"
                "  FROM replay_chunks WHERE brand_id = ?1 AND replay_id = ?2) AS c"
                " WHERE replays.brand_id = ?1 AND replays.id = ?2",
                (*key, upto_seq),
            )

    def brand_dictionary(self, brand_id: int) -> tuple[int, bytes] | None:
        row = self._one(
            "SELECT id, body FROM replay_dicts WHERE brand_id = ? ORDER BY id DESC LIMIT 1",
            (brand_id,),
        )
        return (row[0], bytes(row[1])) if row else None

    def dictionary_created_at(self, brand_id: int, dict_id: int) -> int | None:
        row = self._one(
            "SELECT created_at FROM replay_dicts WHERE brand_id = ? AND id = ?", (brand_id, dict_id)
        )
        return row[0] if row else None

    def get_dictionary(self, dict_id: int) -> bytes | None:
        row = self._one("SELECT body FROM replay_dicts WHERE id = ?", (dict_id,))
        return bytes(row[0]) if row else None

    def add_dictionary(self, brand_id: int, body: bytes, now: int) -> int:
        with self._write() as conn:
            cursor = conn.execute(
                "INSERT INTO replay_dicts (brand_id, created_at, body) VALUES (?, ?, ?)",
                (brand_id, now, body),
            )
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def link_replay_assets(self, brand_id: int, replay_id: str, links: dict[str, str]) -> None:
        if not links:
            return
        with self._write() as conn:
            conn.executemany(
                "INSERT OR IGNORE INTO replay_assets (brand_id, replay_id, url, sha256)"
                " VALUES (?, ?, ?, ?)",
                [(brand_id, replay_id, url, sha) for url, sha in links.items()],
            )

    def replay_assets(self, brand_id: int, replay_id: str) -> dict[str, str]:
        return dict(
            self._all(
                "SELECT url, sha256 FROM replay_assets WHERE brand_id = ? AND replay_id = ?",
                (brand_id, replay_id),
            )
        )
