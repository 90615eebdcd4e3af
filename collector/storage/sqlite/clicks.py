"""SQLite: clicks and their events (ingest, sessions, the clicks list).

Ingest speed: :meth:`ClicksMixin.write_batch` binds prepared tuples with plain ``executemany``
inside one ``BEGIN IMMEDIATE`` transaction (sqlite-utils' ``insert_all`` is far slower). Rows
convert through the column declaration (``storage/columns.py``): the ``Click`` and ``Event``
fields in order, ``query`` and ``data`` as JSON text, ``is_bot`` as 0 or 1.

Counting: the total is the slow part of the clicks page on a large brand (a million-row COUNT
takes ~50-100 ms even on a covering index). ``click_days`` holds clicks (and bots) per brand and UTC
day: write_batch adds what it inserts, triggers subtract what other code deletes or moves. A list
filtered by nothing but dates and "exclude bots" adds up at most a few hundred day rows plus the
two partial edge days, read from the ``(brand_id, created_at, is_bot)`` index. Insert clicks only
through write_batch (or add to ``click_days`` too). Other filters count through their index.

Filters: the clicks list's conditions come from the query compiler (``collector/query/``); this
module keeps the day-summary count and the one-row-per-session collapse of ``click_or_session``.

Every query starts with ``brand_id = ?`` and every index with ``brand_id``: a brand never sees
another's rows, and a small brand's queries stay fast next to a big one.
"""

from __future__ import annotations

import functools
import sqlite3
from typing import Any

import msgspec

from collector.query import sqlite as compile_sqlite
from collector.query.clicks import click_list_query, only_time_and_bots
from collector.utf8 import clean_json

from ..columns import RowCodec
from ..inbox import InboxBatch, InboxMarkMoved
from ..model import SORT_COLUMNS, Click, ClickQuery, Conversion, Event, OutboxItem, ReplayChunk
from ..rows import EVENT_ROWS, event_data, json_text
from . import outbox as webhook_outbox
from . import rollups
from .connection import SQLiteBase
from .conversions import write_conversions
from .replays import write_chunks
from .schema import DAY_MS

_decode_query = msgspec.json.Decoder(dict[str, str]).decode


def _query_params(stored: str | None) -> dict[str, str]:
    """The click's ``query`` column; {} when it is not a JSON object of strings."""
    if not stored:
        return {}
    try:
        return _decode_query(clean_json(stored.encode()))
    except (msgspec.DecodeError, msgspec.ValidationError, RecursionError):
        return {}


# Text reads as str already (the connection's text factory).
CLICK_ROWS: RowCodec[Click] = RowCodec(
    Click,
    encode={"map": json_text, "json": json_text},
    decode={"map": _query_params, "bool": bool, "json": event_data},
)
_CLICK_COLUMNS_SQL = ", ".join(f'"{name}"' for name in CLICK_ROWS.names)
_CLICK_COLUMNS_SQL_C = ", ".join(f'c."{name}"' for name in CLICK_ROWS.names)
_INSERT_CLICKS = f"INSERT OR IGNORE INTO clicks ({_CLICK_COLUMNS_SQL})"
_EVENT_COLUMNS_SQL = ", ".join(f'"{name}"' for name in EVENT_ROWS.names)
_INSERT_EVENTS = f"INSERT INTO events ({_EVENT_COLUMNS_SQL})"
# Rows per INSERT statement: a batch goes in as few statements of these sizes as add up to it,
# each with at most STATEMENT_PARAMS parameters. Python's sqlite3 binds a statement's parameters
# holding the GIL, so a larger statement keeps the event loop waiting longer (16,384 event rows:
# tens of ms, the door's p99 36.7 ms against 16.2); smaller ones make the writer's thread ask for
# the GIL back more often, which the short switch interval of a served process makes cheap
# (cli/serve.py). An enrichment process of its own serves no request: it takes larger statements
# (:attr:`ClicksMixin.statement_params`), so its writer asks for the GIL back less often.
_STATEMENT_ROWS = (2048, 1024, 512, 256, 128, 64, 32, 16, 8, 4, 2, 1)
STATEMENT_PARAMS = 4096


@functools.cache
def _values_sql(head: str, width: int, rows: int) -> str:
    """``head VALUES (?, ...), ...``: ``rows`` rows of ``width`` parameters."""
    row = f"({', '.join('?' * width)})"
    return f"{head} VALUES {', '.join([row] * rows)}"


def insert_rows(
    conn: sqlite3.Connection,
    head: str,
    rows: list[tuple[Any, ...]],
    statement_params: int = STATEMENT_PARAMS,
) -> None:
    """``rows`` inserted in order by multi-row ``INSERT`` statements (``head`` names the table
    and its columns): the rows ``executemany`` would insert, in a few statements. Python's
    sqlite3 lets go of the GIL for every step, so a row at a time made the writer thread trade
    the GIL with the event loop's after every row (10 % of the writer's time a click at 16
    clicks a commit, more under load)."""
    if not rows:
        return
    limit = min(conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER), statement_params)
    most = max(1, limit // len(rows[0]))
    start = 0
    while start < len(rows):
        size = next(n for n in _STATEMENT_ROWS if n <= min(len(rows) - start, most))
        chunk = rows[start : start + size]
        conn.execute(_values_sql(head, len(chunk[0]), size), [v for row in chunk for v in row])
        start += size


# Created at first use (the enricher reads its mark before it writes a batch).
_INBOX_MARKS_DDL = (
    "CREATE TABLE IF NOT EXISTS inbox_marks (inbox_id TEXT PRIMARY KEY, done INTEGER NOT NULL)"
)


def write_inbox_mark(conn: sqlite3.Connection, batch: InboxBatch) -> bool:
    """The batch's done mark, in its own transaction (``storage/inbox.py``); False when the
    store's mark is already at or past it (the batch is stored), :class:`InboxMarkMoved` when
    it is inside the batch's range (part of it is stored)."""
    conn.execute(_INBOX_MARKS_DDL)
    row = conn.execute(
        "SELECT done FROM inbox_marks WHERE inbox_id = ?", (batch.inbox_id,)
    ).fetchone()
    if row is not None and int(row[0]) >= batch.upto:
        return False
    if row is not None and int(row[0]) > batch.after:
        raise InboxMarkMoved(f"inbox {batch.inbox_id} is stored up to {row[0]}, inside {batch}")
    conn.execute(
        "INSERT INTO inbox_marks (inbox_id, done) VALUES (?, ?)"
        " ON CONFLICT (inbox_id) DO UPDATE SET done = max(done, excluded.done)",
        (batch.inbox_id, batch.upto),
    )
    return True


def _fresh_clicks(conn: sqlite3.Connection, clicks: list[Click]) -> list[Click]:
    """The clicks whose id is not stored yet (each id once). Inside the write transaction nobody
    else can insert: these are exactly the rows INSERT OR IGNORE stores, so rollups stay exact."""
    stored = {
        row[0]
        for row in conn.execute(
            "SELECT id FROM clicks WHERE id IN (SELECT value FROM json_each(?))",
            (json_text([c.id for c in clicks]),),
        )
    }
    fresh: dict[str, Click] = {}
    for click in clicks:
        if click.id not in stored and click.id not in fresh:
            fresh[click.id] = click
    return list(fresh.values())


def clicks_by_id(store: SQLiteBase, brand_id: int, click_ids: list[str]) -> dict[str, Click]:
    """The brand's clicks with these ids. ``+brand_id``: SQLite then looks each id up, where it
    would otherwise walk the brand's rows through an index starting with ``brand_id``."""
    if not click_ids:
        return {}
    rows = store._all(
        f"SELECT {_CLICK_COLUMNS_SQL} FROM clicks WHERE +brand_id = ?"
        " AND id IN (SELECT value FROM json_each(?))",
        (brand_id, json_text(sorted(set(click_ids)))),
    )
    return {click.id: click for click in map(CLICK_ROWS.read, rows)}


class ClicksMixin(SQLiteBase):
    """:class:`~collector.storage.base.ClickStore` on SQLite."""

    statement_params = STATEMENT_PARAMS  # the most parameters of one INSERT (see above)

    # ingest ------------------------------------------------------------------------------
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
        if not clicks and not events and not chunks and not conversions and not inbox_batch:
            return
        if event_rows is None:
            event_rows = [EVENT_ROWS.row(e) for e in events]
        with self._write() as conn:
            if inbox_batch is not None and not write_inbox_mark(conn, inbox_batch):
                return  # this batch is stored already: written again after a failure
            if chunks:
                write_chunks(conn, chunks)
            stored = write_conversions(conn, conversions) if conversions else []
            fresh = _fresh_clicks(conn, clicks) if clicks else []
            if fresh:
                click_rows = [CLICK_ROWS.row(c) for c in fresh]
                insert_rows(conn, _INSERT_CLICKS, click_rows, self.statement_params)
            if fresh or stored:
                rollups.add(conn, rollups.ALL, fresh, stored)
            if event_rows:
                insert_rows(conn, _INSERT_EVENTS, event_rows, self.statement_params)
            if outbox:
                items = webhook_outbox.items_of_new_rows(outbox, (c.id for c in fresh), stored)
                webhook_outbox.write_items(conn, items)

    marks_inbox_in_batch = True

    def inbox_done(self, inbox_id: str) -> int:
        with self._write() as conn:
            conn.execute(_INBOX_MARKS_DDL)
            row = conn.execute(
                "SELECT done FROM inbox_marks WHERE inbox_id = ?", (inbox_id,)
            ).fetchone()
        return 0 if row is None else int(row[0])

    def last_session(self, brand_id: int, visitor_id: str) -> tuple[str, int] | None:
        row = self._one(
            "SELECT session_id FROM clicks WHERE brand_id = ? AND visitor_id = ?"
            " ORDER BY created_at DESC, id DESC LIMIT 1",
            (brand_id, visitor_id),
        )
        if row is None:
            return None
        session_id = row[0]
        last_click, last_event = self._one(
            "SELECT (SELECT max(created_at) FROM clicks WHERE brand_id = ?1 AND session_id = ?2),"
            " (SELECT max(timestamp) FROM events WHERE brand_id = ?1 AND session_id = ?2)",
            (brand_id, session_id),
        )
        return session_id, max(last_click, last_event or 0)

    # queries -----------------------------------------------------------------------------
    def _count_range(
        self, brand_id: int, start: int | None, end: int | None, exclude_bots: bool
    ) -> int:
        """Clicks of a brand in [start, end] (either end may be open): whole days from
        ``click_days``, the partial days at the edges from the ``(brand_id, created_at, is_bot)``
        index."""
        bots = " AND is_bot = 0" if exclude_bots else ""
        edge_sql = (
            "SELECT count(*) FROM clicks WHERE brand_id = ? AND created_at >= ?"
            f" AND created_at <= ?{bots}"
        )
        first_day = None if start is None else -(-start // DAY_MS)  # first whole day
        last_day = None if end is None else (end + 1) // DAY_MS - 1  # last whole day
        if first_day is not None and last_day is not None and first_day > last_day:
            return self._one(edge_sql, (brand_id, start, end))[0]
        sql = "SELECT coalesce(sum(n - bots), 0)" if exclude_bots else "SELECT coalesce(sum(n), 0)"
        sql += " FROM click_days WHERE brand_id = ? AND day >= ? AND day <= ?"
        total = self._one(
            sql,
            (
                brand_id,
                -(2**62) if first_day is None else first_day,
                2**62 if last_day is None else last_day,
            ),
        )[0]
        if start is not None and first_day is not None and start < first_day * DAY_MS:
            total += self._one(edge_sql, (brand_id, start, first_day * DAY_MS - 1))[0]
        if end is not None and last_day is not None and end >= (last_day + 1) * DAY_MS:
            total += self._one(edge_sql, (brand_id, (last_day + 1) * DAY_MS, end))[0]
        return total

    def list_clicks(self, brand_id: int, query: ClickQuery) -> tuple[int, list[Click]]:
        if query.sort not in SORT_COLUMNS:
            raise ValueError(f"cannot sort by {query.sort!r}")
        direction = "ASC" if query.direction == "asc" else "DESC"
        limit = max(0, int(query.limit))
        offset = max(0, int(query.offset))

        filters = click_list_query(query)
        compiled = compile_sqlite.where(filters, alias="c")
        where = ["c.brand_id = ?", *compiled.parts]
        params: list[Any] = [brand_id, *compiled.params]
        # The sort column comes from the whitelist above, never from the request as such.
        order = f'"{query.sort}" {direction}, id {direction}'

        if query.click_or_session is not None:
            return self._list_sessions(query, where, params, order, limit, offset)

        where_sql = " AND ".join(where)
        if only_time_and_bots(filters):
            # add up day summaries instead of counting rows
            total = self._count_range(brand_id, query.start, query.end, query.exclude_bots)
        else:
            total = self._one(f"SELECT count(*) FROM clicks AS c WHERE {where_sql}", params)[0]
        if total == 0 or limit == 0:
            return total, []
        rows = self._all(
            f"SELECT {_CLICK_COLUMNS_SQL_C} FROM clicks AS c WHERE {where_sql}"
            f" ORDER BY {order} LIMIT ? OFFSET ?",
            [*params, limit, offset],
        )
        return total, [CLICK_ROWS.read(r) for r in rows]

    def _list_sessions(
        self,
        query: ClickQuery,
        where: list[str],
        params: list[Any],
        order: str,
        limit: int,
        offset: int,
    ) -> tuple[int, list[Click]]:
        """Clicks whose id or session id is ``click_or_session``, one row per session (its first
        matching click), ``total`` counting sessions."""
        value = query.click_or_session
        brand_id = params[0]
        where_sql = " AND ".join(where)
        # Driven by two index lookups (the id, then (brand_id, session_id)); CROSS JOIN keeps
        # SQLite from walking the brand's index instead.
        matching = (
            "WITH k AS ("
            " SELECT rowid AS rid FROM clicks WHERE id = ? AND brand_id = ?"
            " UNION SELECT rowid FROM clicks WHERE brand_id = ? AND session_id = ?),"
            f" m AS (SELECT c.* FROM k CROSS JOIN clicks AS c ON c.rowid = k.rid"
            f" WHERE {where_sql}),"
            " firsts AS (SELECT m.*, row_number() OVER"
            " (PARTITION BY session_id ORDER BY created_at, id) AS rn FROM m)"
        )
        m_params = [value, brand_id, brand_id, value, *params]
        total = self._one(f"{matching} SELECT count(*) FROM firsts WHERE rn = 1", m_params)[0]
        if total == 0 or limit == 0:
            return total, []
        rows = self._all(
            f"{matching} SELECT {_CLICK_COLUMNS_SQL} FROM firsts WHERE rn = 1"
            f" ORDER BY {order} LIMIT ? OFFSET ?",
            [*m_params, limit, offset],
        )
        return total, [CLICK_ROWS.read(r) for r in rows]

    def get_click(self, brand_id: int, click_id: str) -> Click | None:
        row = self._one(
            f"SELECT {_CLICK_COLUMNS_SQL} FROM clicks WHERE id = ? AND brand_id = ?",
            (click_id, brand_id),
        )
        return CLICK_ROWS.read(row) if row else None

    def clicks_by_id(self, brand_id: int, click_ids: list[str]) -> dict[str, Click]:
        return clicks_by_id(self, brand_id, click_ids)

    def identified_clicks(self, brand_id: int, identify_data: str, limit: int) -> list[str]:
        external_id = _decode_query(identify_data)["external_id"]
        rows = self._all(
            "SELECT id FROM ("
            " SELECT id, created_at FROM clicks WHERE brand_id = ?1 AND external_id = ?2"
            " UNION SELECT c.id, c.created_at FROM events e JOIN clicks c"
            "  ON c.id = e.click_id AND c.brand_id = e.brand_id"
            "  WHERE e.brand_id = ?1 AND e.type = 'identify' AND e.data = ?3"
            ") ORDER BY created_at DESC, id DESC LIMIT ?4",
            (brand_id, external_id, identify_data, limit),
        )
        return [row[0] for row in rows]

    def events_for_clicks(self, brand_id: int, click_ids: list[str]) -> list[Event]:
        if not click_ids:
            return []
        rows = self._all(
            f"SELECT {_EVENT_COLUMNS_SQL} FROM events WHERE brand_id = ?"
            " AND click_id IN (SELECT value FROM json_each(?))"
            " ORDER BY timestamp, seq, rowid",
            (brand_id, json_text(list(click_ids))),
        )
        return [EVENT_ROWS.read(r) for r in rows]

    def session_clicks(self, brand_id: int, session_id: str) -> list[Click]:
        rows = self._all(
            f"SELECT {_CLICK_COLUMNS_SQL} FROM clicks WHERE brand_id = ? AND session_id = ?"
            " ORDER BY created_at, id",
            (brand_id, session_id),
        )
        return [CLICK_ROWS.read(r) for r in rows]

    def session_events(self, brand_id: int, session_id: str) -> list[Event]:
        rows = self._all(
            f"SELECT {_EVENT_COLUMNS_SQL} FROM events WHERE brand_id = ? AND session_id = ?"
            " ORDER BY timestamp, seq, rowid",
            (brand_id, session_id),
        )
        return [EVENT_ROWS.read(r) for r in rows]
