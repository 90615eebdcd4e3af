"""ClickHouse: deleting a visitor on request (``storage/deletion.py``'s contract).

ClickHouse has no transaction over several tables, so a deletion is ordered to be safe to
retry: it first finds the ids (the visitor's clicks, conversions and replays, counted then),
then deletes the rows that are found through those ids (outbox items in this collector's
local file, events, replay asset links), then the replays' chunks and segments, the
conversions, and the clicks last. A failure part way leaves the clicks (and whatever the
remaining steps would have deleted), so the same request, sent again, finds the rest and
finishes; what the first attempt removed is simply not counted twice.

Each table's rows go by a lightweight ``DELETE`` (hidden from every read when it returns), then
``ALTER TABLE ... APPLY DELETED MASK`` with ``mutations_sync = 2`` rewrites the parts that hold
deleted rows without them (this also drops replay chunks that compaction deleted before), so
the rows are out of the active parts when the request is answered. The parts they were in stay
on disk as inactive parts until ClickHouse removes them (``old_parts_lifetime``, 8 minutes by
default); docs/PRIVACY.md says so, and what else keeps a copy (the mutation log, backups).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..deletion import DeletedRows
from ..rows import json_text, text
from .outbox import LocalOutboxBase

# The steps of a deletion: (table, which rows), in the order they go. The clicks go last but
# for the external id's identify events left on no click: until then a retry finds the
# visitor through them.
STEPS = (
    ("events", "of_clicks"),
    ("replay_assets", "of_replays"),
    ("replay_chunks", "of_replays"),
    ("replay_segments", "of_replays"),
    ("conversions", "conversions"),
    ("clicks", "clicks"),
    ("events", "identify_left"),
)


def _texts(rows: list[tuple[Any, ...]]) -> list[str]:
    return [text(row[0]) or "" for row in rows]


class DeletionMixin(LocalOutboxBase):
    """:class:`~collector.storage.deletion.DeletionStore` on ClickHouse."""

    def visitors_by_external_id(self, brand_id: int, external_id: str, limit: int) -> list[str]:
        return _texts(
            self._rows(
                "SELECT DISTINCT visitor_id FROM {db}.clicks WHERE brand_id = {brand:UInt64}"
                " AND (external_id = {id:String} OR id IN (SELECT click_id FROM {db}.events"
                "  WHERE brand_id = {brand:UInt64} AND type = 'identify' AND data = {data:String}))"
                " LIMIT {limit:UInt64}",
                {
                    "brand": brand_id,
                    "id": external_id,
                    "data": json_text({"external_id": external_id}),
                    "limit": limit,
                },
            )
        )

    def visitors_of_customer(self, brand_id: int, customer_id: str, limit: int) -> list[str]:
        return _texts(
            self._rows(
                "SELECT DISTINCT visitor_id FROM {db}.conversions WHERE brand_id = {brand:UInt64}"
                " AND customer_external_id = {customer:String} LIMIT {limit:UInt64}",
                {"brand": brand_id, "customer": customer_id, "limit": limit},
            )
        )

    def delete_visitors(
        self,
        brand_id: int,
        visitor_ids: list[str],
        external_id: str | None = None,
        customer_id: str | None = None,
    ) -> DeletedRows:
        params: dict[str, Any] = {
            "brand": brand_id,
            "visitors": sorted(set(visitor_ids)),
            "customer": customer_id if customer_id is not None else "",
            "by_customer": customer_id is not None,
            "identify": json_text({"external_id": external_id}) if external_id else "",
        }
        params.update(self._found(params))
        rows = self._counts(params)
        rows.outbox_items = self._delete_outbox(brand_id, [*params["clicks"], *params["conv"]])
        touched = {
            table for table, rows_of in STEPS if self._delete(table, _WHERE[rows_of], params)
        }
        for table in sorted(touched):
            self._command(
                f"ALTER TABLE {{db}}.{table} APPLY DELETED MASK SETTINGS mutations_sync = 2"
            )
        return rows

    # finding ----------------------------------------------------------------------------
    def _found(self, params: dict[str, Any]) -> dict[str, list[str]]:
        """The ids of the visitor's clicks, conversions and replays."""
        visitor = "brand_id = {brand:UInt64} AND visitor_id IN {visitors:Array(String)}"
        conversion = (
            f"{visitor} OR (brand_id = {{brand:UInt64}} AND {{by_customer:Bool}}"
            " AND customer_external_id = {customer:String})"
        )
        return {
            "clicks": _texts(
                self._rows(f"SELECT DISTINCT id FROM {{db}}.clicks WHERE {visitor}", params)
            ),
            "conv": _texts(
                self._rows(f"SELECT DISTINCT id FROM {{db}}.conversions WHERE {conversion}", params)
            ),
            "replays": _texts(
                self._rows(
                    f"SELECT replay_id FROM {{db}}.replay_chunks WHERE {visitor}"
                    f" UNION DISTINCT SELECT replay_id FROM {{db}}.replay_segments WHERE {visitor}",
                    params,
                )
            ),
        }

    def _counts(self, params: dict[str, Any]) -> DeletedRows:
        """What will go, counted before it does (a lightweight DELETE counts nothing)."""
        row = self._rows(
            "SELECT"
            " (SELECT uniqExact(visitor_id, x) FROM (SELECT visitor_id, 1 AS x FROM {db}.clicks"
            "   WHERE brand_id = {brand:UInt64} AND id IN {clicks:Array(String)}"
            "  UNION ALL SELECT visitor_id, 1 FROM {db}.conversions"
            "   WHERE brand_id = {brand:UInt64} AND id IN {conv:Array(String)})),"
            f" (SELECT count() FROM {{db}}.events WHERE {_EVENTS}),"
            " (SELECT uniqExact(url, replay_id) FROM {db}.replay_assets"
            "  WHERE brand_id = {brand:UInt64} AND replay_id IN {replays:Array(String)}),"
            " (SELECT uniqExact(replay_id, seq) FROM {db}.replay_chunks"
            "  WHERE brand_id = {brand:UInt64} AND replay_id IN {replays:Array(String)}),"
            " (SELECT count() FROM {db}.replay_segments"
            "  WHERE brand_id = {brand:UInt64} AND replay_id IN {replays:Array(String)}),"
            " (SELECT min(t) FROM (SELECT created_at AS t FROM {db}.clicks"
            "   WHERE brand_id = {brand:UInt64} AND id IN {clicks:Array(String)}"
            "  UNION ALL SELECT created_at FROM {db}.conversions"
            "   WHERE brand_id = {brand:UInt64} AND id IN {conv:Array(String)}))",
            params,
        )[0]
        unused = self._rows(
            "SELECT DISTINCT sha256 FROM {db}.replay_assets WHERE brand_id = {brand:UInt64}"
            " AND replay_id IN {replays:Array(String)} AND sha256 NOT IN (SELECT sha256"
            "  FROM {db}.replay_assets WHERE NOT (brand_id = {brand:UInt64}"
            "  AND replay_id IN {replays:Array(String)}))",
            params,
        )
        found = bool(params["clicks"] or params["conv"] or params["replays"])
        return DeletedRows(
            visitors=int(row[0]) if found else 0,
            clicks=len(params["clicks"]),
            conversions=len(params["conv"]),
            replays=len(params["replays"]),
            events=int(row[1]),
            replay_assets=int(row[2]),
            replay_chunks=int(row[3]),
            replay_segments=int(row[4]),
            first_seen=int(row[5]) if params["clicks"] or params["conv"] else None,
            unused_assets=_texts(unused),
        )

    # deleting ---------------------------------------------------------------------------
    def _delete(self, table: str, where: str, params: dict[str, Any]) -> bool:
        """A lightweight DELETE of ``table``'s rows ``where`` says; whether it had any to."""
        present = self._rows(f"SELECT count() FROM {{db}}.{table} WHERE {where}", params)
        if not int(present[0][0]):
            return False
        self._command(f"DELETE FROM {{db}}.{table} WHERE {where}", params)
        return True

    def _delete_outbox(self, brand_id: int, item_ids: list[str]) -> int:
        """This collector's outbox items of the deleted clicks and conversions (another
        collector's local file is its own: docs/PRIVACY.md)."""
        if not item_ids or not (self._outbox is not None or Path(self.outbox_path).exists()):
            return 0  # never made: nothing to delete, and no file to create for it

        def delete(conn: Any) -> int:
            conn.execute("PRAGMA secure_delete = ON")  # the items' bytes are zeroed
            marks = ", ".join("?" * len(item_ids))
            cursor = conn.execute(
                f"DELETE FROM webhook_outbox WHERE brand_id = ? AND item_id IN ({marks})",
                (brand_id, *item_ids),
            )
            return int(cursor.rowcount)

        outbox = self.local_outbox()
        deleted: int = outbox.write(delete)
        outbox.read(lambda conn: conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall())
        return deleted


_IDENTIFY = "type = 'identify' AND data = {identify:String} AND {identify:String} != ''"
_IDENTIFY_LEFT = (
    f"brand_id = {{brand:UInt64}} AND {_IDENTIFY}"
    " AND click_id NOT IN (SELECT id FROM {db}.clicks WHERE brand_id = {brand:UInt64})"
)
_OF_CLICKS = "brand_id = {brand:UInt64} AND click_id IN {clicks:Array(String)}"
_EVENTS = f"({_OF_CLICKS}) OR ({_IDENTIFY_LEFT})"
_WHERE = {
    "of_clicks": f"{_OF_CLICKS} AND NOT ({_IDENTIFY})",
    "of_replays": "brand_id = {brand:UInt64} AND replay_id IN {replays:Array(String)}",
    "conversions": "brand_id = {brand:UInt64} AND id IN {conv:Array(String)}",
    "clicks": "brand_id = {brand:UInt64} AND id IN {clicks:Array(String)}",
    "identify_left": _IDENTIFY_LEFT,
}
