"""The clickstream outbox and its cursors, on a sqlite3 connection: SQLite's own database (the
``webhooks.py`` mixin, inside the main file, written in write_batch's transaction) and the local
outbox file of a ClickHouse collector (``clickhouse/outbox.py``) run the same statements.

``webhook_outbox``: one row per rendered item. ``seq`` is ``AUTOINCREMENT``, so a seq is never
handed out twice, even after pruning, and ``sqlite_sequence`` keeps the highest ever given
(:func:`outbox_end`). Seqs become visible in order: every writer holds the database's write lock
from the seq's allocation to its commit. ``(item_id, dest_id)`` is unique: a second write of an
item is ignored. ``dest_id`` "" fans an item out to every destination of its brand that takes its
kind; a replay's items name their destination. ``written_at`` is the wall clock (ms) of the write
(the dispatcher waits up to a second after the first item of a batch).

``webhook_cursors``: one row per destination this process delivers to (``WebhookCursor``).

Every function takes the connection and runs its statements as they are: the caller owns the
transaction (BEGIN ... COMMIT) and the locking.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable

from ..model import Click, Conversion, OutboxItem, WebhookCursor
from ..rows import json_text

OUTBOX_DDL: tuple[str, ...] = (
    "CREATE TABLE IF NOT EXISTS webhook_outbox ("
    " seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    " item_id TEXT NOT NULL,"
    " dest_id TEXT NOT NULL DEFAULT '',"
    " brand_id INTEGER NOT NULL,"
    " kind TEXT NOT NULL,"
    " created_at INTEGER NOT NULL,"
    " written_at INTEGER NOT NULL,"
    " body BLOB NOT NULL,"
    " UNIQUE (item_id, dest_id))",
    # A destination's items after its cursor: the brand's rows in seq order.
    "CREATE INDEX IF NOT EXISTS webhook_outbox_brand ON webhook_outbox (brand_id, seq)",
    # Pruning addressed items by their destination's cursor (few rows: replays only).
    "CREATE INDEX IF NOT EXISTS webhook_outbox_addressed ON webhook_outbox (dest_id, seq)"
    " WHERE dest_id <> ''",
    "CREATE TABLE IF NOT EXISTS webhook_cursors ("
    " dest_id TEXT PRIMARY KEY,"
    " seq INTEGER NOT NULL,"
    " batch_id TEXT,"
    " batch_end INTEGER,"
    " attempt INTEGER NOT NULL DEFAULT 0,"
    " next_attempt_at INTEGER) WITHOUT ROWID",
)
_INSERT = (
    "INSERT OR IGNORE INTO webhook_outbox"
    " (item_id, dest_id, brand_id, kind, created_at, written_at, body)"
    " VALUES (?, ?, ?, ?, ?, ?, ?)"
)
_ITEM_COLUMNS = "seq, item_id, dest_id, brand_id, kind, created_at, body"
_CURSOR_COLUMNS = "dest_id, seq, batch_id, batch_end, attempt, next_attempt_at"
CLICK_KINDS = frozenset({"click", "pageview"})


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def items_of_new_rows(
    items: list[OutboxItem], click_ids: Iterable[str], conversions: Iterable[Conversion]
) -> list[OutboxItem]:
    """The items whose source was stored by this batch: a click item of a fresh click, a lead or
    sale item of a conversion stored (not deduplicated)."""
    clicks = set(click_ids)
    stored = {c.id for c in conversions}
    return [
        i for i in items if (i.item_id in clicks if i.kind in CLICK_KINDS else i.item_id in stored)
    ]


def oldest_sources(
    clicks: list[Click], conversions: list[Conversion], most: int
) -> tuple[list[Click], list[Conversion]]:
    """The ``most`` oldest of both (by created_at, then id), each list kept in that order."""
    merged: list[tuple[int, str, Click | Conversion]] = [(c.created_at, c.id, c) for c in clicks]
    merged += [(v.created_at, v.id, v) for v in conversions]
    merged = sorted(merged, key=lambda entry: (entry[0], entry[1]))[:most]
    return (
        [e[2] for e in merged if isinstance(e[2], Click)],
        [e[2] for e in merged if isinstance(e[2], Conversion)],
    )


def write_items(conn: sqlite3.Connection, items: list[OutboxItem]) -> int:
    """Insert the items (a repeated (item_id, dest_id) is ignored); how many were new."""
    if not items:
        return 0
    written_at = now_ms()
    before = conn.total_changes
    conn.executemany(
        _INSERT,
        [
            (i.item_id, i.dest_id, i.brand_id, i.kind, i.created_at, written_at, i.body)
            for i in items
        ],
    )
    return conn.total_changes - before


def read_items(
    conn: sqlite3.Connection,
    brand_id: int,
    dest_id: str,
    kinds: list[str],
    after_seq: int,
    limit: int,
    through_seq: int | None = None,
) -> list[OutboxItem]:
    """The brand's items after ``after_seq`` (up to ``through_seq``) going to ``dest_id``:
    fanned-out ones of ``kinds`` and those addressed to it, by seq."""
    rows = conn.execute(
        f"SELECT {_ITEM_COLUMNS} FROM webhook_outbox"
        " WHERE brand_id = ? AND seq > ? AND seq <= ?"
        " AND ((dest_id = '' AND kind IN (SELECT value FROM json_each(?))) OR dest_id = ?)"
        " ORDER BY seq LIMIT ?",
        (
            brand_id,
            after_seq,
            2**62 if through_seq is None else through_seq,
            json_text(list(kinds)),
            dest_id,
            max(0, int(limit)),
        ),
    ).fetchall()
    return [
        OutboxItem(
            seq=seq,
            item_id=item_id,
            dest_id=dest,
            brand_id=brand,
            kind=kind,
            created_at=created_at,
            body=bytes(body),
        )
        for seq, item_id, dest, brand, kind, created_at, body in rows
    ]


def outbox_end(conn: sqlite3.Connection) -> int:
    """The highest seq ever given (pruned items included), 0 before the first item."""
    row = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'webhook_outbox'").fetchone()
    return int(row[0]) if row else 0


def written_at(conn: sqlite3.Connection, seq: int) -> int | None:
    row = conn.execute("SELECT written_at FROM webhook_outbox WHERE seq = ?", (seq,)).fetchone()
    return int(row[0]) if row else None


def read_cursors(conn: sqlite3.Connection) -> dict[str, WebhookCursor]:
    rows = conn.execute(f"SELECT {_CURSOR_COLUMNS} FROM webhook_cursors").fetchall()
    return {
        row[0]: WebhookCursor(
            dest_id=row[0],
            seq=row[1],
            batch_id=row[2],
            batch_end=row[3],
            attempt=row[4],
            next_attempt_at=row[5],
        )
        for row in rows
    }


def save_cursor(conn: sqlite3.Connection, cursor: WebhookCursor) -> None:
    conn.execute(
        f"INSERT OR REPLACE INTO webhook_cursors ({_CURSOR_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
        (
            cursor.dest_id,
            cursor.seq,
            cursor.batch_id,
            cursor.batch_end,
            cursor.attempt,
            cursor.next_attempt_at,
        ),
    )


def forget_destination(conn: sqlite3.Connection, dest_id: str) -> None:
    """A destination is gone: its cursor and the items addressed to it too."""
    conn.execute("DELETE FROM webhook_cursors WHERE dest_id = ?", (dest_id,))
    if dest_id:
        conn.execute("DELETE FROM webhook_outbox WHERE dest_id = ?", (dest_id,))


def prune(conn: sqlite3.Connection, keep: dict[int, int]) -> int:
    """Delete fanned-out items of each brand in ``keep`` up to its seq, every item of a brand
    not in ``keep``, and addressed items at or below their destination's cursor (or of a
    destination without one); how many went."""
    before = conn.total_changes
    conn.execute(
        "DELETE FROM webhook_outbox WHERE brand_id NOT IN (SELECT value FROM json_each(?))",
        (json_text(sorted(keep)),),
    )
    conn.executemany(
        "DELETE FROM webhook_outbox WHERE brand_id = ? AND dest_id = '' AND seq <= ?",
        sorted(keep.items()),
    )
    conn.execute(
        "DELETE FROM webhook_outbox WHERE dest_id <> '' AND seq <= coalesce("
        " (SELECT c.seq FROM webhook_cursors AS c WHERE c.dest_id = webhook_outbox.dest_id),"
        " 9223372036854775807)"
    )
    return conn.total_changes - before
