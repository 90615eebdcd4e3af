"""ClickHouse: leads and sales.

``conversions``: MergeTree ``PARTITION BY toYYYYMM(created_at) ORDER BY (brand_id, created_at,
id)`` like ``clicks``, with bloom-filter skip indexes on ``dedupe_key``, ``session_id``,
``customer_external_id`` and ``click_id`` for the keyed reads.

The first row per ``(brand_id, dedupe_key)`` wins, without a unique key: :func:`write_conversions`
runs under the store's write lock (inside ``write_batch``) and skips a conversion whose key is
stored already or came earlier in the same batch, so one collector stores each key once, however
often a lead or a sale is retried. Two collector processes writing the same new key at the same
instant could both store it; every read therefore takes one row per key, the earliest by
``(created_at, id)``, so such a twin counts once and every retry is answered with the same
conversion. (Both twins of a sale might then say ``new``.)

A sale's ``sale_type`` is set in the same pass: ``new`` when the customer has no stored sale and
none earlier in the batch, else ``recurring``.
"""

from __future__ import annotations

from typing import Any

import msgspec

from ..columns import RowCodec
from ..model import Conversion
from ..rows import event_data, json_text, text
from .connection import ClickHouseBase

CONVERSION_ROWS: RowCodec[Conversion] = RowCodec(
    Conversion, encode={"json": json_text}, decode={"text": text, "json": event_data}
)
_COLUMNS = ", ".join(f"`{name}`" for name in CONVERSION_ROWS.names)
_SELECT = f"SELECT {_COLUMNS} FROM {{db}}.conversions"
_EARLIEST = "ORDER BY created_at, id"


def read_conversion(row: Any) -> Conversion:
    conversion = CONVERSION_ROWS.read(row)
    if not isinstance(conversion.metadata, dict):
        conversion.metadata = {}
    return conversion


def _stored_keys(store: ClickHouseBase, conversions: list[Conversion]) -> set[tuple[int, str]]:
    """(brand_id, dedupe_key) of the batch's conversions already stored."""
    rows = store._rows(
        "SELECT DISTINCT brand_id, dedupe_key FROM {db}.conversions"
        " WHERE brand_id IN {brands:Array(UInt64)} AND dedupe_key IN {keys:Array(String)}",
        {
            "brands": sorted({c.brand_id for c in conversions}),
            "keys": sorted({c.dedupe_key for c in conversions}),
        },
    )
    return {(int(brand), key) for brand, key in rows}


def _customers_with_sales(store: ClickHouseBase, sales: list[Conversion]) -> set[tuple[int, str]]:
    """(brand_id, customer_external_id) of the sales' customers with a stored sale."""
    if not sales:
        return set()
    rows = store._rows(
        "SELECT DISTINCT brand_id, customer_external_id FROM {db}.conversions"
        " WHERE brand_id IN {brands:Array(UInt64)} AND kind = 'sale'"
        " AND customer_external_id IN {customers:Array(String)}",
        {
            "brands": sorted({c.brand_id for c in sales}),
            "customers": sorted({c.customer_external_id for c in sales}),
        },
    )
    return {(int(brand), customer) for brand, customer in rows}


def write_conversions(store: ClickHouseBase, conversions: list[Conversion]) -> list[Conversion]:
    """Insert the conversions whose dedupe key is new, in order, with each sale's type (one
    insert, before the batch's events; see clicks.py). Called under the store's lock. Returns
    the conversions stored."""
    seen = _stored_keys(store, conversions)
    sold = _customers_with_sales(store, [c for c in conversions if c.kind == "sale"])
    stored: list[Conversion] = []
    for conversion in conversions:
        key = (conversion.brand_id, conversion.dedupe_key)
        if key in seen:
            continue
        seen.add(key)
        if conversion.kind == "sale":
            customer = (conversion.brand_id, conversion.customer_external_id)
            sale_type = "recurring" if customer in sold else "new"
            sold.add(customer)
            conversion = msgspec.structs.replace(conversion, sale_type=sale_type)
        stored.append(conversion)
    if stored:
        store._insert(
            "conversions", CONVERSION_ROWS.names, [CONVERSION_ROWS.row(c) for c in stored]
        )
    return stored


class ConversionsMixin(ClickHouseBase):
    """:class:`~collector.storage.base.ConversionStore` on ClickHouse."""

    def conversion_by_key(self, brand_id: int, dedupe_key: str) -> Conversion | None:
        rows = self._text_rows(
            f"{_SELECT} WHERE brand_id = {{brand:UInt64}} AND dedupe_key = {{key:String}}"
            f" {_EARLIEST} LIMIT 1",
            {"brand": brand_id, "key": dedupe_key},
        )
        return read_conversion(rows[0]) if rows else None

    def first_lead(self, brand_id: int, customer_external_id: str) -> Conversion | None:
        # The earliest lead of all: a twin of it (see above) is the same lead.
        rows = self._text_rows(
            f"{_SELECT} WHERE brand_id = {{brand:UInt64}}"
            " AND customer_external_id = {customer:String} AND kind = 'lead'"
            f" {_EARLIEST} LIMIT 1",
            {"brand": brand_id, "customer": customer_external_id},
        )
        return read_conversion(rows[0]) if rows else None

    def session_conversions(self, brand_id: int, session_id: str) -> list[Conversion]:
        # The earliest row of each of the session's keys, wherever it is; then only those of
        # this session (a twin stored first in another session belongs there).
        rows = self._text_rows(
            f"{_SELECT} WHERE brand_id = {{brand:UInt64}} AND dedupe_key IN ("
            " SELECT dedupe_key FROM {db}.conversions"
            " WHERE brand_id = {brand:UInt64} AND session_id = {session:String})"
            f" {_EARLIEST} LIMIT 1 BY dedupe_key",
            {"brand": brand_id, "session": session_id},
        )
        found = [read_conversion(row) for row in rows]
        return [c for c in found if c.session_id == session_id]
