"""ClickHouse: retention (``collector/retention/``) deletes what is older than each brand's
``retention_days``, with lightweight ``DELETE`` per brand.

Why not a table TTL: a TTL is one expression for the whole table, and the retention is per
brand and can change. A TTL on a column computed at insert (``expires_at = created_at +
retention``) would keep the retention a row was written with (shortening it would not shorten
what is stored), and needs that column in every table and every writer. A lightweight delete per
brand and table (``DELETE FROM clicks WHERE brand_id = b AND created_at < cutoff``) applies the
retention of the day, reads only the brand's parts of the months concerned (the tables are
ordered by brand and partitioned by month), and hides the rows at once; the rows leave the disk
when their parts next merge (``OPTIMIZE ... FINAL`` forces it). Each delete is issued only when
a count says there is something to delete, because a delete rewrites the masks of the parts it
touches. The deletes wait for their mutation (``lightweight_deletes_sync`` default), so a pass
reports what it removed and a second pass finds nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from .connection import ClickHouseBase

BATCH_REPLAYS = 1_000  # replay ids per DELETE
_BEFORE = "fromUnixTimestamp64Milli({cutoff:Int64}, 'UTC')"
_REPLAY_TABLES = ("replay_chunks", "replay_segments", "replay_assets")


class ClickHousePurge:
    """:class:`~collector.retention.purger.PurgeEngine` on a ClickHouse store."""

    def __init__(self, store: ClickHouseBase, stopping: Callable[[], bool] = lambda: False) -> None:
        self.store = store
        self.stopping = stopping  # checked between brands: a stopping collector ends the pass

    def purge_rows(self, cutoffs: Mapping[int, int]) -> dict[str, int]:
        """Delete each brand's clicks, events, conversions and replays older than its cutoff
        (ms, exclusive); how many of each went."""
        counts = {"clicks": 0, "events": 0, "conversions": 0, "replays": 0}
        for brand_id, cutoff in cutoffs.items():
            if self.stopping():
                break
            params = {"brand": brand_id, "cutoff": cutoff}
            for table, column in (
                ("clicks", "created_at"),
                ("events", "timestamp"),
                ("conversions", "created_at"),
            ):
                counts[table] += self._delete_where(
                    table, f"brand_id = {{brand:UInt64}} AND {column} < {_BEFORE}", params
                )
            counts["replays"] += self._purge_replays(params)
        return counts

    def _delete_where(self, table: str, where: str, params: dict[str, Any]) -> int:
        found = int(
            self.store._rows(f"SELECT count() FROM {{db}}.{table} WHERE {where}", params)[0][0]
        )
        if found:
            self.store._command(f"DELETE FROM {{db}}.{table} WHERE {where}", params)
        return found

    def _purge_replays(self, params: dict[str, Any]) -> int:
        """Replays whose newest chunk arrived before the cutoff (a replay's time is the newest
        of its chunks' ``received_at`` and its segments' ``updated_at``)."""
        rows = self.store._rows(
            "SELECT replay_id FROM (SELECT replay_id, max(t) AS updated FROM ("
            " SELECT replay_id, received_at AS t FROM {db}.replay_chunks"
            "  WHERE brand_id = {brand:UInt64}"
            " UNION ALL SELECT replay_id, updated_at FROM {db}.replay_segments"
            "  WHERE brand_id = {brand:UInt64}) GROUP BY replay_id)"
            f" WHERE updated < {_BEFORE} ORDER BY replay_id",
            params,
        )
        ids = [r[0] for r in rows]
        for start in range(0, len(ids), BATCH_REPLAYS):
            batch = {**params, "ids": ids[start : start + BATCH_REPLAYS]}
            for table in _REPLAY_TABLES:
                self._delete_where(
                    table, "brand_id = {brand:UInt64} AND replay_id IN {ids:Array(String)}", batch
                )
        return len(ids)

    def purge_dictionaries(self, brand_ids: Iterable[int]) -> int:
        """Delete the brands' replay dictionaries that no segment names. A brand's newest
        dictionary (what its next compaction uses) stays while the brand has any replay."""
        deleted = 0
        for brand_id in brand_ids:
            params: dict[str, Any] = {"brand": brand_id}
            dicts = self.store._rows(
                "SELECT id FROM {db}.replay_dicts WHERE brand_id = {brand:UInt64}"
                " ORDER BY created_at DESC, id DESC",
                params,
            )
            if not dicts:
                continue
            used = {
                int(r[0])
                for r in self.store._rows(
                    "SELECT DISTINCT dict_id FROM {db}.replay_segments"
                    " WHERE brand_id = {brand:UInt64} AND dict_id IS NOT NULL",
                    params,
                )
            }
            if self._has_replays(params):
                used.add(int(dicts[0][0]))
            unused = [int(r[0]) for r in dicts if int(r[0]) not in used]
            if unused:
                deleted += self._delete_where(
                    "replay_dicts",
                    "brand_id = {brand:UInt64} AND id IN {ids:Array(UInt64)}",
                    {**params, "ids": unused},
                )
        return deleted

    def _has_replays(self, params: dict[str, Any]) -> bool:
        rows = self.store._rows(
            "SELECT (SELECT count() FROM {db}.replay_chunks WHERE brand_id = {brand:UInt64})"
            " + (SELECT count() FROM {db}.replay_segments WHERE brand_id = {brand:UInt64})",
            params,
        )
        return int(rows[0][0]) > 0

    def asset_hashes_in_use(self) -> set[str]:
        """The sha256 of every stored asset a replay of any brand links."""
        return {r[0] for r in self.store._rows("SELECT DISTINCT sha256 FROM {db}.replay_assets")}
