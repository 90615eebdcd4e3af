"""SQLite: clickstream destinations, their delivery log, the outbox and its cursors.

Everything lives in the main database. ``webhook_destinations`` holds one row per destination
(``events`` a JSON list of kinds); ``webhook_deliveries`` one row per attempt, read newest first
through ``(brand_id, dest_id, attempted_at)``. The outbox and the cursors are ``outbox.py``'s
tables: ``write_batch`` (``clicks.py``) writes a batch's items in the batch's own transaction,
so an answered click's item is as durable as the click.
"""

from __future__ import annotations

from typing import Any

import msgspec

from ..model import Click, Conversion, Delivery, OutboxItem, WebhookCursor, WebhookDestination
from ..rows import json_text
from . import outbox
from .clicks import CLICK_ROWS
from .connection import SQLiteBase
from .conversions import CONVERSION_ROWS, read_conversion

_decode_kinds = msgspec.json.Decoder(list[str]).decode

_DEST_FIELDS: tuple[str, ...] = WebhookDestination.__struct_fields__
_DEST_COLUMNS = ", ".join(_DEST_FIELDS)
_DELIVERY_FIELDS: tuple[str, ...] = Delivery.__struct_fields__
_DELIVERY_COLUMNS = ", ".join(_DELIVERY_FIELDS)
_CLICK_COLUMNS = ", ".join(f'"{name}"' for name in CLICK_ROWS.names)
_CONVERSION_COLUMNS = ", ".join(f'"{name}"' for name in CONVERSION_ROWS.names)
_TRIGGERS = {"click": ("link", "qr"), "pageview": ("pageview",)}


def _dest_row(dest: WebhookDestination) -> tuple[Any, ...]:
    values = msgspec.structs.asdict(dest)
    values["events"] = json_text(list(dest.events))
    values["enabled"] = int(dest.enabled)
    return tuple(values[f] for f in _DEST_FIELDS)


def _read_dest(row: tuple[Any, ...]) -> WebhookDestination:
    values = dict(zip(_DEST_FIELDS, row, strict=True))
    values["events"] = _decode_kinds(values["events"])
    values["enabled"] = bool(values["enabled"])
    return WebhookDestination(**values)


def _delivery_row(delivery: Delivery) -> tuple[Any, ...]:
    values = msgspec.structs.asdict(delivery)
    values["kinds"] = json_text(list(delivery.kinds))
    return tuple(values[f] for f in _DELIVERY_FIELDS)


def _read_delivery(row: tuple[Any, ...]) -> Delivery:
    values = dict(zip(_DELIVERY_FIELDS, row, strict=True))
    values["kinds"] = _decode_kinds(values["kinds"])
    return Delivery(**values)


def _placeholders(n: int) -> str:
    return ", ".join("?" * n)


class WebhooksMixin(SQLiteBase):
    """:class:`~collector.storage.base.WebhookStore` on SQLite."""

    # destinations ------------------------------------------------------------------------
    def add_webhook(self, destination: WebhookDestination) -> None:
        with self._write() as conn:
            conn.execute(
                f"INSERT INTO webhook_destinations ({_DEST_COLUMNS})"
                f" VALUES ({_placeholders(len(_DEST_FIELDS))})",
                _dest_row(destination),
            )

    def get_webhook(self, brand_id: int, dest_id: str) -> WebhookDestination | None:
        row = self._one(
            f"SELECT {_DEST_COLUMNS} FROM webhook_destinations WHERE id = ? AND brand_id = ?",
            (dest_id, brand_id),
        )
        return _read_dest(row) if row else None

    def list_webhooks(self, brand_id: int | None = None) -> list[WebhookDestination]:
        where, params = ("", ()) if brand_id is None else ("WHERE brand_id = ?", (brand_id,))
        rows = self._all(
            f"SELECT {_DEST_COLUMNS} FROM webhook_destinations {where} ORDER BY created_at, id",
            params,
        )
        return [_read_dest(r) for r in rows]

    def update_webhook(self, destination: WebhookDestination) -> None:
        assignments = ", ".join(f"{f} = ?" for f in _DEST_FIELDS)
        with self._write() as conn:
            changed = conn.execute(
                f"UPDATE webhook_destinations SET {assignments} WHERE id = ? AND brand_id = ?",
                (*_dest_row(destination), destination.id, destination.brand_id),
            ).rowcount
        if not changed:
            raise KeyError(destination.id)

    def delete_webhook(self, brand_id: int, dest_id: str) -> bool:
        with self._write() as conn:
            gone = conn.execute(
                "DELETE FROM webhook_destinations WHERE id = ? AND brand_id = ?",
                (dest_id, brand_id),
            ).rowcount
            if gone:
                conn.execute(
                    "DELETE FROM webhook_deliveries WHERE brand_id = ? AND dest_id = ?",
                    (brand_id, dest_id),
                )
                outbox.forget_destination(conn, dest_id)
        return bool(gone)

    # the delivery log --------------------------------------------------------------------
    def add_deliveries(self, deliveries: list[Delivery]) -> None:
        if not deliveries:
            return
        with self._write() as conn:
            conn.executemany(
                f"INSERT OR REPLACE INTO webhook_deliveries ({_DELIVERY_COLUMNS})"
                f" VALUES ({_placeholders(len(_DELIVERY_FIELDS))})",
                [_delivery_row(d) for d in deliveries],
            )

    def list_deliveries(
        self, brand_id: int, dest_id: str, limit: int, offset: int
    ) -> tuple[int, list[Delivery]]:
        params = (brand_id, dest_id)
        where = "WHERE brand_id = ? AND dest_id = ?"
        total = self._one(f"SELECT count(*) FROM webhook_deliveries {where}", params)[0]
        if total == 0 or limit <= 0:
            return total, []
        rows = self._all(
            f"SELECT {_DELIVERY_COLUMNS} FROM webhook_deliveries {where}"
            " ORDER BY attempted_at DESC, id DESC LIMIT ? OFFSET ?",
            (*params, int(limit), max(0, int(offset))),
        )
        return total, [_read_delivery(r) for r in rows]

    # the outbox ----------------------------------------------------------------------------
    def append_outbox(self, items: list[OutboxItem]) -> int:
        if not items:
            return 0
        with self._write() as conn:
            return outbox.write_items(conn, items)

    def outbox_items(
        self,
        brand_id: int,
        dest_id: str,
        kinds: list[str],
        after_seq: int,
        limit: int,
        through_seq: int | None = None,
    ) -> list[OutboxItem]:
        return outbox.read_items(
            self._conn(), brand_id, dest_id, kinds, after_seq, limit, through_seq
        )

    def outbox_end(self) -> int:
        return outbox.outbox_end(self._conn())

    def outbox_written_at(self, seq: int) -> int | None:
        return outbox.written_at(self._conn(), seq)

    def webhook_cursors(self) -> dict[str, WebhookCursor]:
        return outbox.read_cursors(self._conn())

    def save_webhook_cursor(self, cursor: WebhookCursor) -> None:
        with self._write() as conn:
            outbox.save_cursor(conn, cursor)

    def delete_webhook_cursor(self, dest_id: str) -> None:
        with self._write() as conn:
            conn.execute("DELETE FROM webhook_cursors WHERE dest_id = ?", (dest_id,))

    def prune_outbox(self, keep: dict[int, int]) -> int:
        with self._write() as conn:
            return outbox.prune(conn, keep)

    # a replay's sources --------------------------------------------------------------------
    def webhook_sources(
        self, brand_id: int, start: int, end: int, kinds: list[str], limit: int
    ) -> tuple[list[Click], list[Conversion], set[str]]:
        most = max(0, int(limit)) + 1
        triggers = [t for kind in kinds for t in _TRIGGERS.get(kind, ())]
        conversion_kinds = [k for k in kinds if k in ("lead", "sale")]
        clicks = self._source_clicks(brand_id, start, end, triggers, most)
        conversions = self._source_conversions(brand_id, start, end, conversion_kinds, most)
        merged = sorted(
            [(c.created_at, c.id, c) for c in clicks]
            + [(v.created_at, v.id, v) for v in conversions],
            key=lambda entry: (entry[0], entry[1]),
        )[:most]
        kept_clicks = [e[2] for e in merged if isinstance(e[2], Click)]
        kept_conversions = [e[2] for e in merged if isinstance(e[2], Conversion)]
        return kept_clicks, kept_conversions, self._session_openers(brand_id, kept_clicks)

    def _source_clicks(
        self, brand_id: int, start: int, end: int, triggers: list[str], most: int
    ) -> list[Click]:
        if not triggers:
            return []
        rows = self._all(
            f"SELECT {_CLICK_COLUMNS} FROM clicks WHERE brand_id = ?"
            " AND created_at >= ? AND created_at <= ?"
            ' AND "trigger" IN (SELECT value FROM json_each(?))'
            " ORDER BY created_at, id LIMIT ?",
            (brand_id, start, end, json_text(triggers), most),
        )
        return [CLICK_ROWS.read(r) for r in rows]

    def _source_conversions(
        self, brand_id: int, start: int, end: int, kinds: list[str], most: int
    ) -> list[Conversion]:
        if not kinds:
            return []
        rows = self._all(
            f"SELECT {_CONVERSION_COLUMNS} FROM conversions WHERE brand_id = ?"
            " AND kind IN (SELECT value FROM json_each(?))"
            " AND created_at >= ? AND created_at <= ?"
            " ORDER BY created_at, id LIMIT ?",
            (brand_id, json_text(kinds), start, end, most),
        )
        return [read_conversion(r) for r in rows]

    def _session_openers(self, brand_id: int, clicks: list[Click]) -> set[str]:
        """Ids of the clicks that are their session's first (by created_at, then id)."""
        if not clicks:
            return set()
        rows = self._all(
            "SELECT id FROM (SELECT id, row_number() OVER"
            " (PARTITION BY session_id ORDER BY created_at, id) AS rn"
            " FROM clicks WHERE brand_id = ? AND session_id IN (SELECT value FROM json_each(?)))"
            " WHERE rn = 1",
            (brand_id, json_text(sorted({c.session_id for c in clicks}))),
        )
        ids = {c.id for c in clicks}
        return {row[0] for row in rows if row[0] in ids}
