"""ClickHouse: clicks and their events (ingest, sessions, the clicks list).

- ``clicks``: MergeTree, ``PARTITION BY toYYYYMM(created_at)`` (retention drops old months),
  ``ORDER BY (brand_id, created_at, id)``: the clicks list reads a brand's newest rows in key order
  and stops after a page; the trailing ``id`` is the list's tie-break, so even ties need no sort.
  Bloom-filter skip indexes on ``id``, ``session_id`` and ``visitor_id`` serve the click detail,
  the session detail, the visitor filter and ``last_session`` without a scan of the brand.
- ``events``: MergeTree ``ORDER BY (brand_id, session_id, timestamp, seq)``. A session's events
  are one contiguous key range already in display order, so the session detail is a primary-key
  read with no sort. Session ids are time-ordered, which keeps recent sessions together. A
  click's events lie inside its session's range, so the click detail (bloom filter on
  ``click_id``) touches only a granule or two.

The clicks list's conditions come from the query compiler (``collector/query/``); this module
keeps the late materialisation of a page and the one-row-per-session collapse.

Rows convert through the column declaration (``storage/columns.py``): the ``Click`` and ``Event``
fields in order; text is read as bytes and decoded leniently (``rows.text``).

Duplicate clicks ("a click whose id is already stored is ignored"): ClickHouse has no unique key,
so :meth:`ClicksMixin.write_batch` drops ids it wrote recently (a bounded in-process set) and,
for the rest, asks the table which ids already exist (a bloom-filter lookup) before inserting,
all under the store's write lock. Only two collectors writing the same new click id at the same
instant can still store it twice; reads that return rows stay exact anyway (``LIMIT 1 BY id``),
and only the list's ``total`` could count such a twin.

Atomicity: ClickHouse has no multi-table transaction. Each ``INSERT`` block is atomic, and a
batch's inserts go in the order that makes a retry safe: replay chunks, conversions and clicks
(all skipped when already stored) before events (not deduplicated), which go last: a batch that
fails part-way and is written again stores each row once. Durability: an insert returns once its
part is written; like SQLite's WAL with ``synchronous=NORMAL`` that survives a killed process (a
server's ``fsync_after_insert`` setting extends it to power loss).
"""

from __future__ import annotations

from typing import Any

from collector.query import clickhouse as compile_clickhouse
from collector.query.clicks import click_list_query

from ..columns import RowCodec
from ..inbox import InboxBatch
from ..model import SORT_COLUMNS, Click, ClickQuery, Conversion, Event, OutboxItem, ReplayChunk
from ..rows import EVENT_ROWS, event_data, text
from ..sqlite.outbox import items_of_new_rows, write_items
from .connection import ClickHouseBase, wants_replicated
from .conversions import write_conversions
from .outbox import LocalOutboxBase
from .replays import write_chunks

# Inserts of events remembered for deduplication by token (an enrichment batch written again).
INSERT_DEDUPE_WINDOW = 1000
RECENT_CLICK_IDS = 200_000  # ids remembered per process to skip re-sent clicks cheaply


def _text_map(value: dict[Any, Any]) -> dict[str | None, str | None]:
    return {text(k): text(v) for k, v in value.items()}


# A Map column takes the dict as it is; rows are read by ``_text_rows`` (text as bytes).
CLICK_ROWS: RowCodec[Click] = RowCodec(
    Click, encode={}, decode={"text": text, "map": _text_map, "json": event_data}
)
_CLICK_COLUMNS_SQL = ", ".join(f"`{name}`" for name in CLICK_ROWS.names)
_EVENT_COLUMNS_SQL = ", ".join(f"`{name}`" for name in EVENT_ROWS.names)


def rows_by_key(
    store: ClickHouseBase, table: str, columns_sql: str, brand_id: int, keys: list[tuple[Any, ...]]
) -> list[tuple[Any, ...]]:
    """Rows (``columns_sql``, the id first) of ``table`` for (id, created_at ms) pairs, in the
    order of ``keys``, each id once: the late materialisation of a page whose keys were found
    reading only the sort columns (10x faster than sorting whole rows)."""
    if not keys:
        return []
    rows = store._text_rows(
        f"SELECT {columns_sql} FROM {{db}}.{table}"
        " WHERE brand_id = {brand:UInt64} AND id IN {ids:Array(String)}"
        " AND created_at >= fromUnixTimestamp64Milli({first:Int64}, 'UTC')"
        " AND created_at <= fromUnixTimestamp64Milli({last:Int64}, 'UTC')"
        " LIMIT 1 BY id",
        {
            "brand": brand_id,
            "ids": [k[0] for k in keys],
            "first": min(k[1] for k in keys),
            "last": max(k[1] for k in keys),
        },
    )
    by_id = {text(row[0]): row for row in rows}
    return [by_id[k[0]] for k in keys if k[0] in by_id]


def clicks_by_key(store: ClickHouseBase, brand_id: int, keys: list[tuple[Any, ...]]) -> list[Click]:
    """The clicks of (id, created_at ms) pairs, in the order of ``keys``."""
    rows = rows_by_key(store, "clicks", _CLICK_COLUMNS_SQL, brand_id, keys)
    return [CLICK_ROWS.read(row) for row in rows]


class ClicksMixin(LocalOutboxBase):
    """:class:`~collector.storage.base.ClickStore` on ClickHouse."""

    # ingest ------------------------------------------------------------------------------
    def _remember(self, ids: list[str]) -> None:
        recent = self._recent
        for click_id in ids:
            recent[click_id] = None
        while len(recent) > RECENT_CLICK_IDS:
            recent.popitem(last=False)

    def write_batch(
        self,
        clicks: list[Click],
        events: list[Event],
        chunks: list[ReplayChunk] | None = None,
        conversions: list[Conversion] | None = None,
        outbox: list[OutboxItem] | None = None,
        inbox_batch: InboxBatch | None = None,
        event_rows: list[tuple[Any, ...]] | None = None,
    ) -> None:
        if not clicks and not events and not chunks and not conversions:
            return
        # An enrichment batch written again (after a crash) is dropped by its token.
        dedupe = {"insert_deduplication_token": inbox_batch.token} if inbox_batch else None
        if event_rows is None:  # a row that cannot be encoded fails first
            event_rows = [EVENT_ROWS.row(e) for e in events]
        with self._lock:
            if chunks:
                write_chunks(self, chunks)
            stored_conversions = write_conversions(self, conversions) if conversions else []
            fresh: dict[str, Click] = {}
            for click in clicks:
                if click.id not in self._recent and click.id not in fresh:
                    fresh[click.id] = click
            if fresh:
                stored = self._rows(
                    "SELECT DISTINCT id FROM {db}.clicks"
                    " WHERE brand_id IN {brands:Array(UInt64)} AND id IN {ids:Array(String)}",
                    {
                        "brands": sorted({c.brand_id for c in fresh.values()}),
                        "ids": list(fresh),
                    },
                )
                for (click_id,) in stored:
                    fresh.pop(click_id, None)
            if fresh:
                self._insert(
                    "clicks",
                    CLICK_ROWS.names,
                    [CLICK_ROWS.row(c) for c in fresh.values()],
                )
            self._remember([c.id for c in clicks])
            if event_rows:
                self._insert("events", EVENT_ROWS.names, event_rows, dedupe)
        if outbox:  # after the rows are stored, before the batch is answered
            # Every click of the batch, not only the fresh ones: a collector killed between the
            # rows and this write answered nothing, and the beacon sent again finds its click
            # stored; its item must still be written (the outbox ignores one it has).
            items = items_of_new_rows(outbox, (c.id for c in clicks), stored_conversions)
            if items:
                self.local_outbox().write(lambda conn: write_items(conn, items))

    marks_inbox_in_batch = False  # the inbox claims each batch; inserts carry its token

    def inbox_done(self, inbox_id: str) -> int:
        if not wants_replicated(self.url):  # a replicated table deduplicates inserts already
            with self._lock:
                self._command(
                    "ALTER TABLE {db}.events MODIFY SETTING"
                    f" non_replicated_deduplication_window = {INSERT_DEDUPE_WINDOW}"
                )
        return 0

    def last_session(self, brand_id: int, visitor_id: str) -> tuple[str, int] | None:
        params = {"brand": brand_id, "visitor": visitor_id}
        rows = self._rows(
            "SELECT session_id FROM {db}.clicks"
            " WHERE brand_id = {brand:UInt64} AND visitor_id = {visitor:String}"
            " ORDER BY created_at DESC, id DESC LIMIT 1",
            params,
        )
        if not rows:
            return None
        session_id = rows[0][0]
        params = {"brand": brand_id, "session": session_id}
        (last_click, last_event) = self._rows(
            "SELECT"
            " (SELECT max(toUnixTimestamp64Milli(created_at)) FROM {db}.clicks"
            "  WHERE brand_id = {brand:UInt64} AND session_id = {session:String}),"
            " (SELECT max(toUnixTimestamp64Milli(timestamp)) FROM {db}.events"
            "  WHERE brand_id = {brand:UInt64} AND session_id = {session:String})",
            params,
        )[0]
        return session_id, max(int(last_click or 0), int(last_event or 0))

    # queries -----------------------------------------------------------------------------
    def list_clicks(self, brand_id: int, query: ClickQuery) -> tuple[int, list[Click]]:
        if query.sort not in SORT_COLUMNS:
            raise ValueError(f"cannot sort by {query.sort!r}")
        direction = "ASC" if query.direction == "asc" else "DESC"
        # SQLite's order: NULL is the smallest value
        nulls = "NULLS FIRST" if direction == "ASC" else "NULLS LAST"
        limit = max(0, int(query.limit))
        offset = max(0, int(query.offset))

        compiled = compile_clickhouse.where(click_list_query(query), prefix="q")
        where = ["brand_id = {brand:UInt64}", *compiled.parts]
        params: dict[str, Any] = {
            "brand": brand_id,
            "limit": limit,
            "offset": offset,
            **compiled.params,
        }
        where_sql = " AND ".join(where)
        # The sort column comes from the whitelist above, never from the request as such.
        order = f"`{query.sort}` {direction} {nulls}, id {direction}"

        if query.click_or_session is None:
            total = self._rows(f"SELECT count() FROM {{db}}.clicks WHERE {where_sql}", params)
            total_n = int(total[0][0])
            if total_n == 0 or limit == 0:
                return total_n, []
            # Late materialisation: find the page's ids reading only the sort columns, then read
            # the ~60 columns of those rows alone (10x faster than sorting whole rows).
            keys = self._rows(
                f"SELECT id, created_at FROM {{db}}.clicks WHERE {where_sql}"
                f" ORDER BY {order} LIMIT 1 BY id"
                " LIMIT {limit:UInt64} OFFSET {offset:UInt64}",
                params,
            )
            return total_n, clicks_by_key(self, brand_id, keys)

        # One row per session: its first matching click. Two lookups (each with its own skip
        # index) rather than an OR, which no single skip index could serve.
        params["value"] = query.click_or_session
        matching = (
            f"SELECT {_CLICK_COLUMNS_SQL} FROM {{db}}.clicks"
            f" WHERE {where_sql} AND id = {{value:String}}"
            f" UNION ALL SELECT {_CLICK_COLUMNS_SQL} FROM {{db}}.clicks"
            f" WHERE {where_sql} AND session_id = {{value:String}}"
        )
        firsts = (
            f"SELECT * FROM ({matching}) ORDER BY session_id, created_at, id LIMIT 1 BY session_id"
        )
        total = self._rows(f"SELECT count() FROM ({firsts})", params)
        total_n = int(total[0][0])
        if total_n == 0 or limit == 0:
            return total_n, []
        rows = self._text_rows(
            f"SELECT {_CLICK_COLUMNS_SQL} FROM ({firsts}) ORDER BY {order}"
            " LIMIT {limit:UInt64} OFFSET {offset:UInt64}",
            params,
        )
        return total_n, [CLICK_ROWS.read(r) for r in rows]

    def get_click(self, brand_id: int, click_id: str) -> Click | None:
        rows = self._text_rows(
            f"SELECT {_CLICK_COLUMNS_SQL} FROM {{db}}.clicks"
            " WHERE brand_id = {brand:UInt64} AND id = {id:String} LIMIT 1",
            {"brand": brand_id, "id": click_id},
        )
        return CLICK_ROWS.read(rows[0]) if rows else None

    def clicks_by_id(self, brand_id: int, click_ids: list[str]) -> dict[str, Click]:
        if not click_ids:
            return {}
        rows = self._text_rows(
            f"SELECT {_CLICK_COLUMNS_SQL} FROM {{db}}.clicks"
            " WHERE brand_id = {brand:UInt64} AND id IN {ids:Array(String)} LIMIT 1 BY id",
            {"brand": brand_id, "ids": sorted(set(click_ids))},
        )
        return {click.id: click for click in map(CLICK_ROWS.read, rows)}

    def identified_clicks(self, brand_id: int, identify_data: str, limit: int) -> list[str]:
        rows = self._rows(
            "SELECT id FROM {db}.clicks WHERE brand_id = {brand:UInt64} AND ("
            " JSONExtractString({data:String}, 'external_id') = external_id"
            " OR id IN (SELECT click_id FROM {db}.events WHERE brand_id = {brand:UInt64}"
            "  AND type = 'identify' AND data = {data:String}))"
            " ORDER BY created_at DESC, id DESC LIMIT 1 BY id LIMIT {limit:UInt32}",
            {"brand": brand_id, "data": identify_data, "limit": limit},
        )
        return [text(row[0]) or "" for row in rows]

    def events_for_clicks(self, brand_id: int, click_ids: list[str]) -> list[Event]:
        if not click_ids:
            return []
        rows = self._text_rows(
            f"SELECT {_EVENT_COLUMNS_SQL} FROM {{db}}.events"
            " WHERE brand_id = {brand:UInt64} AND click_id IN {ids:Array(String)}"
            " ORDER BY timestamp, seq",
            {"brand": brand_id, "ids": list(click_ids)},
        )
        return [EVENT_ROWS.read(r) for r in rows]

    def session_clicks(self, brand_id: int, session_id: str) -> list[Click]:
        rows = self._text_rows(
            f"SELECT {_CLICK_COLUMNS_SQL} FROM {{db}}.clicks"
            " WHERE brand_id = {brand:UInt64} AND session_id = {session:String}"
            " ORDER BY created_at, id LIMIT 1 BY id",
            {"brand": brand_id, "session": session_id},
        )
        return [CLICK_ROWS.read(r) for r in rows]

    def session_events(self, brand_id: int, session_id: str) -> list[Event]:
        rows = self._text_rows(
            f"SELECT {_EVENT_COLUMNS_SQL} FROM {{db}}.events"
            " WHERE brand_id = {brand:UInt64} AND session_id = {session:String}"
            " ORDER BY timestamp, seq",
            {"brand": brand_id, "session": session_id},
        )
        return [EVENT_ROWS.read(r) for r in rows]
