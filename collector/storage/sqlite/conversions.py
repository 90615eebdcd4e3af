"""SQLite: leads and sales.

``(brand_id, dedupe_key)`` is a unique index, and conversions are written by ``write_batch``
inside the one writer's transaction, so a lead or a sale retried any number of times, at once or
later, is stored once and every retry finds the first (``conversion_by_key``).
"""

from __future__ import annotations

import sqlite3
from typing import Any

import msgspec

from ..columns import RowCodec
from ..model import Conversion
from ..rows import event_data, json_text
from .connection import SQLiteBase

CONVERSION_ROWS: RowCodec[Conversion] = RowCodec(
    Conversion, encode={"json": json_text}, decode={"json": event_data, "bool": bool}
)
_COLUMNS = ", ".join(f'"{name}"' for name in CONVERSION_ROWS.names)
_SELECT = f"SELECT {_COLUMNS} FROM conversions"
_INSERT = (
    f"INSERT OR IGNORE INTO conversions ({_COLUMNS})"
    f" VALUES ({', '.join('?' for _ in CONVERSION_ROWS.names)})"
)


def read_conversion(row: Any) -> Conversion:
    conversion = CONVERSION_ROWS.read(row)
    if not isinstance(conversion.metadata, dict):
        conversion.metadata = {}
    return conversion


def write_conversions(conn: sqlite3.Connection, conversions: list[Conversion]) -> list[Conversion]:
    """Store the conversions whose dedupe key is new, in order (inside write_batch's
    transaction); a sale's type comes from the customer's sales stored before it. Returns the
    conversions stored (the rollups count them)."""
    stored: list[Conversion] = []
    for conversion in conversions:
        if conversion.kind == "sale":
            earlier = conn.execute(
                "SELECT 1 FROM conversions WHERE brand_id = ? AND customer_external_id = ?"
                " AND kind = 'sale' LIMIT 1",
                (conversion.brand_id, conversion.customer_external_id),
            ).fetchone()
            sale_type = "recurring" if earlier else "new"
            conversion = msgspec.structs.replace(conversion, sale_type=sale_type)
        if conn.execute(_INSERT, CONVERSION_ROWS.row(conversion)).rowcount:
            stored.append(conversion)
    return stored


class ConversionsMixin(SQLiteBase):
    """:class:`~collector.storage.base.ConversionStore` on SQLite."""

    def conversion_by_key(self, brand_id: int, dedupe_key: str) -> Conversion | None:
        row = self._one(f"{_SELECT} WHERE brand_id = ? AND dedupe_key = ?", (brand_id, dedupe_key))
        return read_conversion(row) if row else None

    def first_lead(self, brand_id: int, customer_external_id: str) -> Conversion | None:
        row = self._one(
            f"{_SELECT} WHERE brand_id = ? AND customer_external_id = ? AND kind = 'lead'"
            " ORDER BY created_at, id LIMIT 1",
            (brand_id, customer_external_id),
        )
        return read_conversion(row) if row else None

    def session_conversions(self, brand_id: int, session_id: str) -> list[Conversion]:
        rows = self._all(
            f"{_SELECT} WHERE brand_id = ? AND session_id = ? ORDER BY created_at, id",
            (brand_id, session_id),
        )
        return [read_conversion(row) for row in rows]
