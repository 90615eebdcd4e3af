"""The inbox: an append-only log of the beacons this collector answered, durable on answer.

``POST /collect`` checks a beacon at the door (:mod:`collector.ingest.collect`) and appends it
here, one narrow row: the body as received plus the request facts enrichment needs (time, client
IP, user agent, Accept-Language). It is answered once the row's transaction is committed, by a
group commit: one thread takes every row that queued while the previous commit ran and writes
them in one transaction. The enricher (:mod:`collector.inbox.enricher`) reads the log in large
batches behind it.

The log is a SQLite file of its own, local to this collector on both engines (``<db>-inbox``
beside a SQLite database, ``inbox.db`` in a chdb directory, ``./data/inbox.db`` beside a
ClickHouse server), so an append never waits behind the database's large enrichment commits.
It runs in WAL mode with ``synchronous=NORMAL``, as the SQLite engine does: a committed row
survives ``kill -9``; ``synchronous=FULL`` (:attr:`InboxLog.full_sync`) extends that to power
loss at the cost of an fsync per group commit.

Rows carry a sequence number that only grows (``AUTOINCREMENT``: a trimmed log never reuses
one). The ``inbox_state`` table keeps the log's id (a random name, so that marks in a shared
database can tell collectors apart), the ``done`` mark (every row up to it is enriched) and the
``claimed`` mark (the batch being enriched, for an engine that replays it after a crash).
Enriched rows are deleted behind the done mark.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collector.config import Settings

log = logging.getLogger("clicktrail.inbox")

_DDL = (
    "CREATE TABLE IF NOT EXISTS inbox ("
    " seq INTEGER PRIMARY KEY AUTOINCREMENT, received_at INTEGER NOT NULL, ip TEXT,"
    " user_agent TEXT, accept_language TEXT, body BLOB NOT NULL)",
    "CREATE TABLE IF NOT EXISTS inbox_state (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
)
_APPEND = (
    "INSERT INTO inbox (received_at, ip, user_agent, accept_language, body) VALUES (?, ?, ?, ?, ?)"
)
_READ = (
    "SELECT seq, received_at, ip, user_agent, accept_language, body FROM inbox"
    " WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?"
)
_SET_STATE = "INSERT OR REPLACE INTO inbox_state (name, value) VALUES (?, ?)"


def inbox_path(settings: Settings, store: object) -> Path:
    """The ``inbox`` setting, else beside the store: ``<file>-inbox`` for a SQLite database,
    the webhook outbox's directory for ClickHouse (``inbox.db`` in a chdb directory,
    ``./data/inbox.db`` for a server, a temporary file for ``chdb://memory``)."""
    if settings.inbox:
        return Path(settings.inbox)
    outbox = getattr(store, "outbox_path", None)
    if isinstance(outbox, Path):
        return outbox.with_name(outbox.name.replace("webhook-outbox", "inbox"))
    database = Path(getattr(store, "path"))  # noqa: B009  (a SQLite store's file)
    return database.with_name(database.name + "-inbox")


@dataclass(frozen=True, slots=True)
class InboxRecord:
    """One answered beacon as the door saw it. ``seq`` is 0 until the log numbers it."""

    received_at: int  # ms since the epoch, the collector's clock at the door
    ip: str | None
    user_agent: str | None
    accept_language: str | None
    body: bytes
    seq: int = 0


class InboxLog:
    """The log file, its group commit (:meth:`append`) and the enricher's reads and marks."""

    def __init__(self, path: Path, full_sync: bool = False) -> None:
        self.path = path
        self.full_sync = full_sync
        self._write_conn = self._connect()
        self._read_conn = self._connect()
        self._read_lock = threading.Lock()
        self.inbox_id = self._state("id") or self._new_id()
        self.done = int(self._state("done") or 0)
        self.claimed = int(self._state("claimed") or 0)
        self.appended = max(self.done, self._last_seq())
        # received_at of the oldest row not enriched yet (None: none, or not known yet)
        self.oldest_pending_at: int | None = None
        # The committer thread's queue: rows with the futures of their requests, and tasks
        # (marks, trims) to run on the same connection, in order.
        self._cond = threading.Condition()
        self._rows: list[tuple[tuple[object, ...], asyncio.Future[None]]] = []
        self._tasks: list[tuple[Callable[[], None], asyncio.Future[None]]] = []
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping = False
        self.on_commit: list[asyncio.Event] = []  # set after each commit (the enricher's wake-up)
        self.waiting = 0  # requests waiting for their commit: how busy the door is

    # --- opening ------------------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=30.0, check_same_thread=False)
        conn.isolation_level = None  # transactions only where this class begins them
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute(f"PRAGMA synchronous = {'FULL' if self.full_sync else 'NORMAL'}")
        conn.execute("PRAGMA busy_timeout = 30000")
        conn.execute("PRAGMA secure_delete = ON")  # a trimmed row's bytes are overwritten
        for statement in _DDL:
            conn.execute(statement)
        return conn

    def _state(self, name: str) -> str | None:
        row = self._write_conn.execute(
            "SELECT value FROM inbox_state WHERE name = ?", (name,)
        ).fetchone()
        return None if row is None else str(row[0])

    def _new_id(self) -> str:
        inbox_id = uuid.uuid4().hex[:16]
        self._write_conn.execute(_SET_STATE, ("id", inbox_id))
        return inbox_id

    def _last_seq(self) -> int:
        row = self._write_conn.execute("SELECT max(seq) FROM inbox").fetchone()
        return int(row[0] or 0)

    # --- the door: group commit ---------------------------------------------------------------

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._thread = threading.Thread(target=self._committer, name="clicktrail-inbox")
        self._thread.start()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    async def append(self, record: InboxRecord) -> None:
        """Returns once ``record`` is committed to the log; raises if the commit failed."""
        await self.append_row(
            (record.received_at, record.ip, record.user_agent, record.accept_language, record.body)
        )

    async def append_row(self, row: tuple[int, str | None, str | None, str | None, bytes]) -> None:
        """:meth:`append` of a record's fields in order (the door's way: no object to build)."""
        if self._loop is None or self._stopping:
            raise RuntimeError("the inbox is not taking beacons")
        done: asyncio.Future[None] = self._loop.create_future()
        with self._cond:
            if self._stopping:
                raise RuntimeError("the inbox is not taking beacons")
            self._rows.append((row, done))
            self._cond.notify()
        self.waiting += 1
        try:
            await done
        finally:
            self.waiting -= 1

    async def _run_task(self, task: Callable[[], None]) -> None:
        """``task`` on the committer thread, between two group commits."""
        assert self._loop is not None
        done: asyncio.Future[None] = self._loop.create_future()
        with self._cond:
            if self._stopping:
                raise RuntimeError("the inbox is stopped")
            self._tasks.append((task, done))
            self._cond.notify()
        await done

    def _committer(self) -> None:
        """The committer thread: everything queued since the last commit, in one transaction."""
        while True:
            with self._cond:
                while not self._rows and not self._tasks and not self._stopping:
                    self._cond.wait()
                if not self._rows and not self._tasks:
                    return
                rows, self._rows = self._rows, []
                tasks, self._tasks = self._tasks, []
            for task, future in tasks:
                self._settle_later([future], self._attempt(task))
            if rows:
                outcome = self._attempt(functools.partial(self._commit, [row for row, _ in rows]))
                self._settle_later([future for _, future in rows], outcome, rows[0][0][0])

    @staticmethod
    def _attempt(work: Callable[[], object]) -> object:
        try:
            return work()
        except Exception as exc:
            return exc

    def _settle_later(
        self, futures: list[asyncio.Future[None]], outcome: object, first_at: object = None
    ) -> None:
        assert self._loop is not None
        self._loop.call_soon_threadsafe(self._settle, futures, outcome, first_at)

    def _settle(
        self, futures: list[asyncio.Future[None]], outcome: object, first_at: object
    ) -> None:
        """On the event loop: answer the requests of a commit (or its failure)."""
        if isinstance(outcome, Exception):
            if first_at is not None:
                log.error("an inbox commit of %d beacons failed: %s", len(futures), outcome)
            for future in futures:
                if not future.done():
                    future.set_exception(outcome)
            return
        if first_at is not None:  # a group commit: the log grew
            if self.oldest_pending_at is None:
                self.oldest_pending_at = int(first_at)  # type: ignore[call-overload]
            self.appended = int(outcome)  # type: ignore[call-overload]
        for future in futures:
            if not future.done():
                future.set_result(None)
        if first_at is not None:
            for event in self.on_commit:
                event.set()

    def _commit(self, rows: list[tuple[object, ...]]) -> int:
        conn = self._write_conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.executemany(_APPEND, rows)
            last = conn.execute("SELECT last_insert_rowid()").fetchone()[0]
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        return int(last)

    async def stop(self) -> None:
        """Commit what is queued, then take no more beacons (the enricher stops first)."""
        with self._cond:
            self._stopping = True
            self._cond.notify()
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join)
            self._thread = None
        self._close()

    def _close(self) -> None:
        with self._read_lock:
            for conn in (self._write_conn, self._read_conn):
                with contextlib.suppress(sqlite3.Error):
                    conn.close()

    # --- the enricher: reads, marks, trimming -------------------------------------------------

    def read(self, after: int, upto: int, limit: int) -> list[InboxRecord]:
        """Rows ``after < seq <= upto`` in order, at most ``limit`` (blocking: from a thread)."""
        with self._read_lock:
            rows = self._read_conn.execute(_READ, (after, upto, limit)).fetchall()
        return [InboxRecord(row[1], row[2], row[3], row[4], bytes(row[5]), row[0]) for row in rows]

    async def claim(self, upto: int) -> None:
        """Record the batch being enriched (``done < seq <= upto``) before it is written."""
        await self._run_task(lambda: self._set_marks({"claimed": upto}))
        self.claimed = upto

    async def scrub(self) -> None:
        """Empty the log's WAL (``TRUNCATE`` checkpoint): after a visitor's deletion, no copy
        of a trimmed row is left on disk (docs/PRIVACY.md)."""
        await self._run_task(
            lambda: self._write_conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        )

    async def mark_done(self, upto: int) -> None:
        """Every row up to ``upto`` is enriched: mark it, and delete those rows."""
        await self._run_task(lambda: self._set_marks({"done": upto, "claimed": upto}, upto))
        self.done = self.claimed = upto
        if upto >= self.appended:
            self.oldest_pending_at = None

    def _set_marks(self, marks: dict[str, int], trim_upto: int = 0) -> None:
        conn = self._write_conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.executemany(_SET_STATE, [(name, str(value)) for name, value in marks.items()])
            if trim_upto:
                conn.execute("DELETE FROM inbox WHERE seq <= ?", (trim_upto,))
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    # --- lag ----------------------------------------------------------------------------------

    @property
    def pending(self) -> int:
        """Answered beacons not enriched yet."""
        return max(0, self.appended - self.done)

    def lag_seconds(self, now_ms: int | None = None) -> float:
        """How long the oldest answered beacon not enriched yet has waited (0 when none)."""
        if self.oldest_pending_at is None or not self.pending:
            return 0.0
        now = time.time_ns() // 1_000_000 if now_ms is None else now_ms
        return max(0.0, (now - self.oldest_pending_at) / 1000)
