"""SQLite: retention (``collector/retention/``) deletes what is older than each brand's
``retention_days``, in short write transactions.

Every delete goes through the store's writer lock (``SQLiteBase._write``) a batch at a time
(:data:`BATCH_ROWS` rows, :data:`BATCH_REPLAYS` replays), so ingest waits at most one batch
behind the purger, never a whole pass. The rows to delete are found by indexes where the schema
has them (``clicks_brand_created``, ``conversions_brand``, ``replays_brand_updated``). ``events``
has no index by time, and one would cost every beacon a b-tree insert: the purger walks the
table by rowid windows of :data:`EVENT_WINDOW` rows instead, reading outside the writer lock
(readers never block the writer in WAL mode) and deleting what it found by rowid. An hourly pass
over 10 million events reads the table once (a few seconds of one core).

Deleting clicks and conversions fires the triggers that keep ``click_days`` and the analytics
rollups (``rollups.py``) exact, as any other delete does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from .connection import SQLiteBase

BATCH_ROWS = 2_000  # rows deleted per write transaction
BATCH_REPLAYS = 50  # replays (summary, chunks, segments, asset links) per write transaction
EVENT_WINDOW = 20_000  # rowids of events read per step


def _placeholders(count: int) -> str:
    return ",".join("?" * count)


class SQLitePurge:
    """:class:`~collector.retention.purger.PurgeEngine` on an SQLite store."""

    def __init__(
        self,
        store: SQLiteBase,
        batch_rows: int = BATCH_ROWS,
        stopping: Callable[[], bool] = lambda: False,
    ) -> None:
        self.store = store
        self.batch_rows = batch_rows
        self.stopping = stopping  # checked between batches: a stopping collector ends the pass

    # --- rows -----------------------------------------------------------------------------

    def purge_rows(self, cutoffs: Mapping[int, int]) -> dict[str, int]:
        """Delete each brand's clicks, events, conversions and replays older than its cutoff
        (ms, exclusive); how many of each went."""
        counts = {"clicks": 0, "events": 0, "conversions": 0, "replays": 0}
        for brand_id, cutoff in cutoffs.items():
            counts["clicks"] += self._purge_indexed("clicks", "created_at", brand_id, cutoff)
            counts["conversions"] += self._purge_indexed(
                "conversions", "created_at", brand_id, cutoff
            )
            counts["replays"] += self._purge_replays(brand_id, cutoff)
        counts["events"] = self._purge_events(cutoffs)
        return counts

    def _purge_indexed(self, table: str, column: str, brand_id: int, cutoff: int) -> int:
        """Batches of ``table``'s rows of the brand with ``column`` < cutoff (an index on
        (brand_id, column) finds them)."""
        deleted = 0
        while True:
            with self.store._write() as conn:
                cursor = conn.execute(
                    f"DELETE FROM {table} WHERE rowid IN (SELECT rowid FROM {table}"
                    f" WHERE brand_id = ? AND {column} < ? LIMIT ?)",
                    (brand_id, cutoff, self.batch_rows),
                )
            deleted += cursor.rowcount
            if cursor.rowcount < self.batch_rows or self.stopping():
                return deleted

    def _purge_events(self, cutoffs: Mapping[int, int]) -> int:
        """Events older than their brand's cutoff, found by windows of rowids (module
        docstring) and deleted in batches."""
        if not cutoffs:
            return 0
        top = self.store._one("SELECT max(rowid) FROM events")[0]
        if top is None:
            return 0
        case = " ".join("WHEN ? THEN ?" for _ in cutoffs)
        params = [value for pair in cutoffs.items() for value in pair]
        sql = (
            "SELECT rowid FROM events WHERE rowid BETWEEN ? AND ?"
            f" AND timestamp < (CASE brand_id {case} ELSE NULL END)"
        )
        deleted = 0
        found: list[int] = []
        for low in range(0, top + 1, EVENT_WINDOW):
            if self.stopping():
                break
            found += [r[0] for r in self.store._all(sql, [low, low + EVENT_WINDOW - 1, *params])]
            while len(found) >= self.batch_rows:
                deleted += self._delete_rowids("events", found[: self.batch_rows])
                found = found[self.batch_rows :]
        if found:
            deleted += self._delete_rowids("events", found)
        return deleted

    def _delete_rowids(self, table: str, rowids: list[int]) -> int:
        with self.store._write() as conn:
            cursor = conn.execute(
                f"DELETE FROM {table} WHERE rowid IN ({_placeholders(len(rowids))})", rowids
            )
        return cursor.rowcount

    def _purge_replays(self, brand_id: int, cutoff: int) -> int:
        """Replays whose newest chunk arrived before the cutoff: summary, chunks, segments and
        asset links, a batch of replays per transaction."""
        deleted = 0
        while True:
            ids = [
                r[0]
                for r in self.store._all(
                    "SELECT id FROM replays WHERE brand_id = ? AND updated_at < ? LIMIT ?",
                    (brand_id, cutoff, BATCH_REPLAYS),
                )
            ]
            if not ids or self.stopping():
                return deleted
            with self.store._write() as conn:
                marks = _placeholders(len(ids))
                for table, column in (
                    ("replay_chunks", "replay_id"),
                    ("replay_segments", "replay_id"),
                    ("replay_assets", "replay_id"),
                    ("replays", "id"),
                ):
                    conn.execute(
                        f"DELETE FROM {table} WHERE brand_id = ? AND {column} IN ({marks})"
                        + (" AND updated_at < ?" if table == "replays" else ""),
                        [brand_id, *ids, *([cutoff] if table == "replays" else [])],
                    )
            deleted += len(ids)

    # --- what replays no longer use --------------------------------------------------------

    def purge_dictionaries(self, brand_ids: Iterable[int]) -> int:
        """Delete the brands' replay dictionaries that no segment names. A brand's newest
        dictionary is what its next compaction compresses with: it stays while the brand has
        any replay."""
        deleted = 0
        for brand_id in brand_ids:
            with self.store._write() as conn:
                cursor = conn.execute(
                    "DELETE FROM replay_dicts WHERE brand_id = ?1"
                    " AND id NOT IN (SELECT DISTINCT dict_id FROM replay_segments"
                    "  WHERE brand_id = ?1 AND dict_id IS NOT NULL)"
                    " AND (id <> (SELECT max(id) FROM replay_dicts WHERE brand_id = ?1)"
                    "  OR NOT EXISTS (SELECT 1 FROM replays WHERE brand_id = ?1))",
                    (brand_id,),
                )
            deleted += cursor.rowcount
        return deleted

    def asset_hashes_in_use(self) -> set[str]:
        """The sha256 of every stored asset a replay of any brand links."""
        return {r[0] for r in self.store._all("SELECT DISTINCT sha256 FROM replay_assets")}
