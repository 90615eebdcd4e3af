"""SQLite: deleting a visitor on request (``storage/deletion.py``'s contract).

One write transaction deletes the visitor's outbox items, events, replay asset links, chunks,
segments and summaries, conversions and clicks; the rollups follow through their delete
triggers (``rollups.py``), so no count of the brand changes but the visitor's. Nothing is
half-deleted: an error rolls all of it back.

Deleted content must not linger in the file's bytes: every connection runs with
``PRAGMA secure_delete = ON`` (``connection.py``), so SQLite overwrites the cells it frees and
the pages it puts on the freelist with zeros, here and on every update and delete before (a
replay's summary row, rewritten at each chunk, leaves no old copy behind). The WAL still holds
the pages as they were before the deletion until a checkpoint copies the new ones over them;
:meth:`DeletionMixin.delete_visitors` then checkpoints with ``TRUNCATE``, which empties the WAL
file, under the write lock (no writer of this process runs meanwhile; a reader of another
process can delay it, then it is retried a few times). DECISIONS.md (issue 16) has the numbers
behind secure_delete rather than a VACUUM after each deletion.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from typing import Any

from ..deletion import DeletedRows
from ..rows import json_text
from .connection import SQLiteBase

log = logging.getLogger("clicktrail.privacy")

CHECKPOINT_TRIES = 20
CHECKPOINT_WAIT_MS = 100
CHECKPOINT_PAUSE_S = 0.05
_IN = "IN (SELECT value FROM json_each(?))"
_IN2, _IN3, _IN4 = (f"IN (SELECT value FROM json_each(?{n}))" for n in (2, 3, 4))


def _ids(conn: sqlite3.Connection, sql: str, params: tuple[Any, ...]) -> list[str]:
    return [row[0] for row in conn.execute(sql, params).fetchall()]


def _deleted(conn: sqlite3.Connection, sql: str, params: tuple[Any, ...]) -> int:
    return conn.execute(sql, params).rowcount


class DeletionMixin(SQLiteBase):
    """:class:`~collector.storage.deletion.DeletionStore` on SQLite."""

    def visitors_by_external_id(self, brand_id: int, external_id: str, limit: int) -> list[str]:
        identify = json_text({"external_id": external_id})
        return _ids(
            self._conn(),
            "SELECT visitor_id FROM clicks WHERE brand_id = ?1 AND external_id = ?2"
            " UNION SELECT c.visitor_id FROM events e JOIN clicks c"
            "  ON c.id = e.click_id AND c.brand_id = e.brand_id"
            "  WHERE e.brand_id = ?1 AND e.type = 'identify' AND e.data = ?3"
            " LIMIT ?4",
            (brand_id, external_id, identify, limit),
        )

    def visitors_of_customer(self, brand_id: int, customer_id: str, limit: int) -> list[str]:
        return _ids(
            self._conn(),
            "SELECT DISTINCT visitor_id FROM conversions"
            " WHERE brand_id = ? AND customer_external_id = ? LIMIT ?",
            (brand_id, customer_id, limit),
        )

    def delete_visitors(
        self,
        brand_id: int,
        visitor_ids: list[str],
        external_id: str | None = None,
        customer_id: str | None = None,
    ) -> DeletedRows:
        with self._write() as conn:
            found = _delete_all(conn, brand_id, visitor_ids, external_id, customer_id)
        with self._write_lock:  # no writer of this process between the commit and the truncate
            self._truncate_wal()
        return found

    def _truncate_wal(self) -> None:
        """Checkpoint the whole WAL into the file and empty it, retried while readers still
        need its frames. Each try waits for readers briefly (not the connection's 30 s): the
        caller holds the write lock, and ingest waits on it."""
        conn = self._conn()
        conn.execute(f"PRAGMA busy_timeout = {CHECKPOINT_WAIT_MS}")
        try:
            for _ in range(CHECKPOINT_TRIES):
                busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
                if not busy:
                    return
                time.sleep(CHECKPOINT_PAUSE_S)
            log.warning("the WAL could not be emptied after a deletion: readers held it")
        finally:
            conn.execute("PRAGMA busy_timeout = 30000")


class _Found:
    """The ids one request deletes, found before anything is deleted."""

    def __init__(
        self, conn: sqlite3.Connection, brand_id: int, visitors: list[str], customer: str | None
    ) -> None:
        self.brand_id = brand_id
        wanted = json_text(sorted(set(visitors)))
        by_visitor = f"brand_id = ? AND visitor_id {_IN}"
        self.clicks = _ids(conn, f"SELECT id FROM clicks WHERE {by_visitor}", (brand_id, wanted))
        self.conversions = _ids(
            conn,
            f"SELECT id FROM conversions WHERE {by_visitor} OR"
            " (brand_id = ? AND customer_external_id = ?)",
            (brand_id, wanted, brand_id, customer),
        )
        self.replays = _ids(conn, f"SELECT id FROM replays WHERE {by_visitor}", (brand_id, wanted))
        self.visitors = conn.execute(
            "SELECT count(DISTINCT visitor_id) FROM ("
            f" SELECT visitor_id FROM clicks WHERE brand_id = ?1 AND id {_IN2}"
            f" UNION ALL SELECT visitor_id FROM conversions WHERE brand_id = ?1 AND id {_IN3}"
            f" UNION ALL SELECT visitor_id FROM replays WHERE brand_id = ?1 AND id {_IN4})",
            (brand_id, *self.as_json()),
        ).fetchone()[0]
        self.first_seen = conn.execute(
            f"SELECT min(t) FROM (SELECT min(created_at) AS t FROM clicks"
            f" WHERE brand_id = ?1 AND id {_IN2} UNION ALL SELECT min(created_at)"
            f" FROM conversions WHERE brand_id = ?1 AND id {_IN3})",
            (brand_id, *self.as_json()[:2]),
        ).fetchone()[0]

    def as_json(self) -> tuple[str, str, str]:
        return json_text(self.clicks), json_text(self.conversions), json_text(self.replays)


def _delete_all(
    conn: sqlite3.Connection,
    brand_id: int,
    visitor_ids: list[str],
    external_id: str | None,
    customer_id: str | None,
) -> DeletedRows:
    """Every deletion of one request, inside the caller's transaction."""
    found = _Found(conn, brand_id, visitor_ids, customer_id)
    clicks, conversions, replays = found.as_json()
    by_replay = (brand_id, replays)
    assets = _ids(
        conn,
        f"SELECT DISTINCT sha256 FROM replay_assets WHERE brand_id = ? AND replay_id {_IN}",
        by_replay,
    )
    items = json_text([*found.clicks, *found.conversions])
    rows = DeletedRows(
        visitors=found.visitors,
        first_seen=found.first_seen,
        outbox_items=_deleted(
            conn,
            f"DELETE FROM webhook_outbox WHERE brand_id = ? AND item_id {_IN}",
            (brand_id, items),
        ),
        events=_deleted(
            conn, f"DELETE FROM events WHERE brand_id = ? AND click_id {_IN}", (brand_id, clicks)
        ),
        replay_assets=_deleted(
            conn, f"DELETE FROM replay_assets WHERE brand_id = ? AND replay_id {_IN}", by_replay
        ),
        replay_chunks=_deleted(
            conn, f"DELETE FROM replay_chunks WHERE brand_id = ? AND replay_id {_IN}", by_replay
        ),
        replay_segments=_deleted(
            conn, f"DELETE FROM replay_segments WHERE brand_id = ? AND replay_id {_IN}", by_replay
        ),
        replays=_deleted(conn, f"DELETE FROM replays WHERE brand_id = ? AND id {_IN}", by_replay),
        conversions=_deleted(
            conn,
            f"DELETE FROM conversions WHERE brand_id = ? AND id {_IN}",
            (brand_id, conversions),
        ),
        clicks=_deleted(
            conn, f"DELETE FROM clicks WHERE brand_id = ? AND id {_IN}", (brand_id, clicks)
        ),
    )
    if external_id is not None:  # identify events of the id whose click is gone already
        rows.events += _deleted(
            conn,
            "DELETE FROM events WHERE brand_id = ?1 AND type = 'identify' AND data = ?2"
            " AND NOT EXISTS (SELECT 1 FROM clicks c WHERE c.brand_id = ?1 AND c.id = click_id)",
            (brand_id, json_text({"external_id": external_id})),
        )
    still_used = set(
        _ids(
            conn,
            f"SELECT DISTINCT sha256 FROM replay_assets WHERE sha256 {_IN}",
            (json_text(assets),),
        )
    )
    rows.unused_assets = [sha for sha in assets if sha not in still_used]
    return rows
