"""ClickHouse: clickstream destinations, their delivery log, the outbox and its cursors.

- ``webhook_destinations``: ``ReplacingMergeTree(version) ORDER BY (brand_id, id)``, read with
  ``FINAL``, as brands are: an update inserts a newer version (``_next_version``), under the
  store's lock after checking the destination exists. A delete removes every version with a
  lightweight ``DELETE`` that is waited for (the secret goes with it), as revoked API keys are.
- ``webhook_deliveries``: MergeTree ``ORDER BY (brand_id, dest_id, attempted_at, id)``, one row
  per attempt; a page newest first reads the destination's key range backwards.
- The outbox and the cursors are this collector's own, in its local SQLite file
  (``outbox.py``); ``write_batch`` (``clicks.py``) writes there after the batch's inserts.
"""

from __future__ import annotations

from typing import Any

import msgspec

from ..model import Click, Conversion, Delivery, OutboxItem, WebhookCursor, WebhookDestination
from ..sqlite import outbox as sql
from .clicks import CLICK_ROWS
from .conversions import CONVERSION_ROWS, read_conversion
from .outbox import LocalOutboxBase

_DEST_FIELDS: tuple[str, ...] = WebhookDestination.__struct_fields__
_DEST_SELECT = (
    f"SELECT {', '.join(f'`{f}`' for f in _DEST_FIELDS)} FROM {{db}}.webhook_destinations FINAL"
)
_DELIVERY_FIELDS: tuple[str, ...] = Delivery.__struct_fields__
_DELIVERY_COLUMNS = ", ".join(f"`{f}`" for f in _DELIVERY_FIELDS)
_CLICK_COLUMNS = ", ".join(f"`{name}`" for name in CLICK_ROWS.names)
_CONVERSION_COLUMNS = ", ".join(f"`{name}`" for name in CONVERSION_ROWS.names)
_TRIGGERS = {"click": ("link", "qr"), "pageview": ("pageview",)}
_RANGE = (
    " AND created_at >= fromUnixTimestamp64Milli({start:Int64}, 'UTC')"
    " AND created_at <= fromUnixTimestamp64Milli({end:Int64}, 'UTC')"
)


def _read_dest(row: tuple[Any, ...]) -> WebhookDestination:
    values = dict(zip(_DEST_FIELDS, row, strict=True))
    values["events"] = list(values["events"])
    values["enabled"] = bool(values["enabled"])
    return WebhookDestination(**values)


def _read_delivery(row: tuple[Any, ...]) -> Delivery:
    values = dict(zip(_DELIVERY_FIELDS, row, strict=True))
    values["kinds"] = list(values["kinds"])
    return Delivery(**values)


class WebhooksMixin(LocalOutboxBase):
    """:class:`~collector.storage.base.WebhookStore` on ClickHouse."""

    # destinations ------------------------------------------------------------------------
    def _save_webhook(self, destination: WebhookDestination) -> None:
        values = msgspec.structs.asdict(destination)
        row = (*(values[f] for f in _DEST_FIELDS), self._next_version())
        self._insert("webhook_destinations", (*_DEST_FIELDS, "version"), [row])

    def add_webhook(self, destination: WebhookDestination) -> None:
        with self._lock:
            self._save_webhook(destination)

    def _webhooks(self, where: str, params: dict[str, Any]) -> list[WebhookDestination]:
        rows = self._rows(f"{_DEST_SELECT} {where} ORDER BY created_at, id", params)
        return [_read_dest(r) for r in rows]

    def get_webhook(self, brand_id: int, dest_id: str) -> WebhookDestination | None:
        found = self._webhooks(
            "WHERE brand_id = {brand:UInt64} AND id = {id:String}",
            {"brand": brand_id, "id": dest_id},
        )
        return found[0] if found else None

    def list_webhooks(self, brand_id: int | None = None) -> list[WebhookDestination]:
        if brand_id is None:
            return self._webhooks("", {})
        return self._webhooks("WHERE brand_id = {brand:UInt64}", {"brand": brand_id})

    def update_webhook(self, destination: WebhookDestination) -> None:
        with self._lock:
            if self.get_webhook(destination.brand_id, destination.id) is None:
                raise KeyError(destination.id)
            self._save_webhook(destination)

    def delete_webhook(self, brand_id: int, dest_id: str) -> bool:
        params = {"brand": brand_id, "id": dest_id}
        with self._lock:
            if self.get_webhook(brand_id, dest_id) is None:
                return False
            self._command(
                "DELETE FROM {db}.webhook_destinations"
                " WHERE brand_id = {brand:UInt64} AND id = {id:String}",
                params,
            )
            where = " WHERE brand_id = {brand:UInt64} AND dest_id = {id:String}"
            logged = self._rows("SELECT count() FROM {db}.webhook_deliveries" + where, params)
            if logged and logged[0][0]:  # a DELETE rewrites parts: only when there are rows
                self._command("DELETE FROM {db}.webhook_deliveries" + where, params)
        self.local_outbox().write(lambda conn: sql.forget_destination(conn, dest_id))
        return True

    # the delivery log --------------------------------------------------------------------
    def add_deliveries(self, deliveries: list[Delivery]) -> None:
        if not deliveries:
            return
        rows = [tuple(msgspec.structs.astuple(d)) for d in deliveries]
        self._insert("webhook_deliveries", _DELIVERY_FIELDS, rows)

    def list_deliveries(
        self, brand_id: int, dest_id: str, limit: int, offset: int
    ) -> tuple[int, list[Delivery]]:
        where = " WHERE brand_id = {brand:UInt64} AND dest_id = {dest:String}"
        params: dict[str, Any] = {"brand": brand_id, "dest": dest_id}
        total = int(self._rows("SELECT count() FROM {db}.webhook_deliveries" + where, params)[0][0])
        if total == 0 or limit <= 0:
            return total, []
        rows = self._rows(
            f"SELECT {_DELIVERY_COLUMNS} FROM {{db}}.webhook_deliveries{where}"
            " ORDER BY attempted_at DESC, id DESC LIMIT {limit:UInt64} OFFSET {offset:UInt64}",
            {**params, "limit": int(limit), "offset": max(0, int(offset))},
        )
        return total, [_read_delivery(r) for r in rows]

    # the outbox (the local file) -----------------------------------------------------------
    def append_outbox(self, items: list[OutboxItem]) -> int:
        if not items:
            return 0
        return self.local_outbox().write(lambda conn: sql.write_items(conn, items))

    def outbox_items(
        self,
        brand_id: int,
        dest_id: str,
        kinds: list[str],
        after_seq: int,
        limit: int,
        through_seq: int | None = None,
    ) -> list[OutboxItem]:
        return self.local_outbox().read(
            lambda conn: sql.read_items(
                conn, brand_id, dest_id, kinds, after_seq, limit, through_seq
            )
        )

    def outbox_end(self) -> int:
        return self.local_outbox().read(sql.outbox_end)

    def outbox_written_at(self, seq: int) -> int | None:
        return self.local_outbox().read(lambda conn: sql.written_at(conn, seq))

    def webhook_cursors(self) -> dict[str, WebhookCursor]:
        return self.local_outbox().read(sql.read_cursors)

    def save_webhook_cursor(self, cursor: WebhookCursor) -> None:
        self.local_outbox().write(lambda conn: sql.save_cursor(conn, cursor))

    def delete_webhook_cursor(self, dest_id: str) -> None:
        self.local_outbox().write(
            lambda conn: conn.execute("DELETE FROM webhook_cursors WHERE dest_id = ?", (dest_id,))
        )

    def prune_outbox(self, keep: dict[int, int]) -> int:
        return self.local_outbox().write(lambda conn: sql.prune(conn, keep))

    # a replay's sources --------------------------------------------------------------------
    def webhook_sources(
        self, brand_id: int, start: int, end: int, kinds: list[str], limit: int
    ) -> tuple[list[Click], list[Conversion], set[str]]:
        most = max(0, int(limit)) + 1
        params: dict[str, Any] = {"brand": brand_id, "start": start, "end": end, "most": most}
        clicks: list[Click] = []
        triggers = [t for kind in kinds for t in _TRIGGERS.get(kind, ())]
        if triggers:
            rows = self._text_rows(
                f"SELECT {_CLICK_COLUMNS} FROM {{db}}.clicks WHERE brand_id = {{brand:UInt64}}"
                f"{_RANGE} AND `trigger` IN {{triggers:Array(String)}}"
                " ORDER BY created_at, id LIMIT 1 BY id LIMIT {most:UInt64}",
                {**params, "triggers": triggers},
            )
            clicks = [CLICK_ROWS.read(r) for r in rows]
        conversions: list[Conversion] = []
        conversion_kinds = [k for k in kinds if k in ("lead", "sale")]
        if conversion_kinds:
            rows = self._text_rows(
                f"SELECT {_CONVERSION_COLUMNS} FROM {{db}}.conversions"
                f" WHERE brand_id = {{brand:UInt64}}{_RANGE} AND kind IN {{kinds:Array(String)}}"
                " ORDER BY created_at, id LIMIT 1 BY id LIMIT {most:UInt64}",
                {**params, "kinds": conversion_kinds},
            )
            conversions = [read_conversion(r) for r in rows]
        clicks, conversions = sql.oldest_sources(clicks, conversions, most)
        return clicks, conversions, self._session_openers(brand_id, clicks)

    def _session_openers(self, brand_id: int, clicks: list[Click]) -> set[str]:
        """Ids of the clicks that are their session's first (by created_at, then id)."""
        if not clicks:
            return set()
        rows = self._rows(
            "SELECT argMin(id, (created_at, id)) FROM {db}.clicks"
            " WHERE brand_id = {brand:UInt64} AND session_id IN {sessions:Array(String)}"
            " GROUP BY session_id",
            {"brand": brand_id, "sessions": sorted({c.session_id for c in clicks})},
        )
        ids = {c.id for c in clicks}
        return {row[0] for row in rows if row[0] in ids}
