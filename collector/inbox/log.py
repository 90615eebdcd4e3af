"""The inbox: an append-only log of the beacons this collector answered, durable on answer.

``POST /collect`` checks a beacon at the door (:mod:`collector.ingest.collect`) and appends it
here: the body as received plus the request facts enrichment needs (time, client IP, user agent,
Accept-Language). It is answered once its record is written, by a group commit: one thread takes
every record that queued while the previous write ran and writes them with one ``write()``. The
enricher (:mod:`collector.inbox.enricher`) reads the log in large batches behind it.

The log is a directory of segment files of its own (:mod:`collector.inbox.segments`), local to
this collector on both engines (``<db>-inbox`` beside a SQLite database, ``inbox`` in a chdb
directory, ``./data/inbox`` beside a ClickHouse server), so an append never waits behind the
database's large enrichment commits. A written record survives ``kill -9``;
:attr:`InboxLog.full_sync` adds an ``fdatasync`` per group, so it survives a power loss too.

Records carry a sequence number that only grows, across trims and restarts. The state file
keeps the log's id (a random name, so that marks in a shared database can tell collectors
apart), the ``done`` mark (every record up to it is enriched) and the ``claimed`` mark (the batch
being enriched, for an engine that replays it after a crash). Segments whose records are all
done are deleted; the one being appended to as well, whenever the enricher catches up.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from collector.inbox.segments import Row, SegmentFiles, decode_row, encode_records, scan

if TYPE_CHECKING:
    from collector.config import Settings

log = logging.getLogger("clicktrail.inbox")

Queued = TypeVar("Queued")


OUTBOX_STEM = "webhook-outbox"  # storage/clickhouse/outbox.py: default_outbox_path


class InboxInUse(RuntimeError):
    """Another collector appends to this inbox: two would number and trim it over each other."""


def inbox_path(settings: Settings, store: object) -> Path:
    """The ``inbox`` setting, else beside the store: ``<file>-inbox`` for a SQLite database,
    the webhook outbox's directory for ClickHouse (``inbox`` in a chdb directory,
    ``./data/inbox`` for a server, a temporary directory for ``chdb://memory``; ``inbox-<name>``
    for a database other than the default, as the outbox's file)."""
    if settings.inbox:
        return Path(settings.inbox)
    outbox = getattr(store, "outbox_path", None)
    if isinstance(outbox, Path):  # one per database, as the outbox: webhook-outbox-<db>.db
        named = outbox.stem.startswith(OUTBOX_STEM + "-")
        return outbox.with_name("inbox" + (outbox.stem[len(OUTBOX_STEM) :] if named else ""))
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


def _mark(state: dict[str, object], name: str) -> int:
    value = state.get(name, 0)
    return value if isinstance(value, int) else 0


class InboxLog:
    """The log, its group commit (:meth:`append`) and the enricher's reads and marks."""

    def __init__(self, path: Path, full_sync: bool = False) -> None:
        self.path = path
        self.full_sync = full_sync
        self._files = SegmentFiles(path, full_sync)
        # Read from the files at start, once the directory is this collector's.
        self.inbox_id = ""
        self.done = self.claimed = self.appended = 0
        self._written = 0  # the last seq written, counted where the writes run
        # received_at of the oldest record not enriched yet (None: none, or not known yet)
        self.oldest_pending_at: int | None = None
        # The next group: rows with the futures of their requests, and tasks (marks, trims)
        # to run before its write. On the loop, or on the committer thread with full sync.
        self._cond = threading.Condition()
        self._rows: list[tuple[Row, asyncio.Future[None]]] = []
        self._tasks: list[tuple[Callable[[], None], asyncio.Future[None]]] = []
        self._group_due = False  # a group is to be written at the end of this turn of the loop
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping = False
        self.on_commit: list[asyncio.Event] = []  # set after each commit (the enricher's wake-up)
        self.waiting = 0  # requests waiting for their commit: how busy the door is
        self._cursor = (0, 0, 0)  # the reader's place: (segment, next seq, its byte offset)
        self._marks_lock = threading.Lock()  # one write of the state file at a time

    def _load(self) -> None:
        """The log's id, marks and end, from its files (a torn tail cut off, what is done
        deleted, and the state file written if there is none)."""
        self._files.list_segments()
        state = self._files.read_state()
        self.inbox_id = str(state.get("id") or uuid.uuid4().hex[:16])
        self.done = _mark(state, "done")
        self.claimed = max(self.done, _mark(state, "claimed"))
        self.appended = max(self.done, self._files.recover())
        self._written = self.appended
        self._files.trim(self.done, self._written)
        if not state:
            self._save_marks(self.done, self.claimed)

    def _save_marks(self, done: int, claimed: int) -> None:
        self._files.write_state({"id": self.inbox_id, "done": done, "claimed": claimed})

    # --- the door: group commit ---------------------------------------------------------------

    def start(self) -> None:
        if not self._files.claim_directory():
            raise InboxInUse(
                f"the inbox {self.path} is in use by another collector (a second one on the"
                " same database?): stop that one, or give this one an inbox of its own with"
                " --inbox DIR (CLICKTRAIL_INBOX)"
            )
        self._load()
        self._loop = asyncio.get_running_loop()
        if self.full_sync:  # an fsync per group would stall the event loop: a thread does it
            self._thread = threading.Thread(target=self._committer, name="clicktrail-inbox")
            self._thread.start()

    @property
    def running(self) -> bool:
        if self._thread is not None:
            return self._thread.is_alive()
        return self._loop is not None and not self._stopping

    async def append(self, record: InboxRecord) -> None:
        """Returns once ``record`` is committed to the log; raises if the commit failed."""
        await self.append_row(
            (record.received_at, record.ip, record.user_agent, record.accept_language, record.body)
        )

    async def append_row(self, row: Row) -> None:
        """:meth:`append` of a record's fields in order (the door's way: no object to build)."""
        if self._loop is None or self._stopping:
            raise RuntimeError("the inbox is not taking beacons")
        done: asyncio.Future[None] = self._loop.create_future()
        self._enqueue(self._rows, (row, done))
        self.waiting += 1
        try:
            await done
        finally:
            self.waiting -= 1

    async def _run_task(self, task: Callable[[], None]) -> None:
        """``task`` between two group commits (the log's files change in one place only)."""
        if self._loop is None or self._stopping:
            raise RuntimeError("the inbox is stopped")
        done: asyncio.Future[None] = self._loop.create_future()
        self._enqueue(self._tasks, (task, done))
        await done

    def _enqueue(self, queue: list[Queued], item: Queued) -> None:
        """Queue ``item`` for the next group: on the committer thread with full sync, else at
        the end of this turn of the event loop, with every other append of the turn."""
        if self._thread is None:
            queue.append(item)
            if not self._group_due:
                self._group_due = True
                assert self._loop is not None
                self._loop.call_soon(self._group_on_loop)
            return
        with self._cond:
            queue.append(item)
            self._cond.notify()

    def _group_on_loop(self) -> None:
        self._group_due = False
        self._write_group(*self._take_group(), self._settle)

    def _take_group(
        self,
    ) -> tuple[
        list[tuple[Row, asyncio.Future[None]]],
        list[tuple[Callable[[], None], asyncio.Future[None]]],
    ]:
        rows, self._rows = self._rows, []
        tasks, self._tasks = self._tasks, []
        return rows, tasks

    def _committer(self) -> None:
        """The committer thread (full sync): everything queued since the last group."""
        while True:
            with self._cond:
                while not self._rows and not self._tasks and not self._stopping:
                    self._cond.wait()
                if not self._rows and not self._tasks:
                    return
                rows, tasks = self._take_group()
            self._write_group(rows, tasks, self._settle_later)

    def _write_group(
        self,
        rows: list[tuple[Row, asyncio.Future[None]]],
        tasks: list[tuple[Callable[[], None], asyncio.Future[None]]],
        settle: Callable[[list[asyncio.Future[None]], object, object], None],
    ) -> None:
        """The queued tasks, then the queued rows with one write; ``settle`` answers them."""
        for task, future in tasks:
            settle([future], self._attempt(task), None)
        if rows:
            outcome = self._attempt(functools.partial(self._commit, [row for row, _ in rows]))
            settle([future for _, future in rows], outcome, rows[0][0][0])

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

    def _commit(self, rows: list[Row]) -> int:
        """Write ``rows`` at the log's end (where the group runs); the last one's seq."""
        first = self._written + 1
        self._files.append(encode_records(rows, first), first)
        self._written += len(rows)
        return self._written

    async def stop(self) -> None:
        """Commit what is queued, then take no more beacons (the enricher stops first)."""
        with self._cond:
            self._stopping = True
            self._cond.notify()
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join)
            self._thread = None
        elif self._rows or self._tasks:
            self._group_on_loop()
        self._files.close_active()
        self._files.release_directory()

    # --- the enricher: reads, marks, trimming -------------------------------------------------

    def read(self, after: int, upto: int, limit: int) -> list[InboxRecord]:
        """Records ``after < seq <= upto`` in order, at most ``limit`` (blocking: from a thread;
        one reader at a time)."""
        records: list[InboxRecord] = []
        wanted = after + 1
        while len(records) < limit and wanted <= upto:
            found = self._files.open_holding(wanted)
            if found is None:
                break
            first, fd, following = found
            try:
                wanted = self._read_segment(first, fd, wanted, upto, limit, records)
            finally:
                os.close(fd)
            if len(records) >= limit or wanted > upto or following is None:
                break
            if wanted < following:
                log.error("inbox records %d to %d are missing", wanted, following - 1)
            wanted = max(wanted, following)
        return records

    def _read_segment(
        self, first: int, fd: int, wanted: int, upto: int, limit: int, out: list[InboxRecord]
    ) -> int:
        """Append the segment's records from ``wanted`` to ``out``; the next seq wanted."""
        cursor_first, cursor_seq, cursor_at = self._cursor
        offset = cursor_at if (cursor_first, cursor_seq) == (first, wanted) else 0
        for seq, _, end, payload in scan(fd, offset):
            if seq < wanted:
                continue
            if seq > upto or len(out) >= limit:
                break
            out.append(InboxRecord(*decode_row(payload), seq))
            wanted, self._cursor = seq + 1, (first, seq + 1, end)
        return wanted

    async def claim(self, upto: int) -> None:
        """Record the batch being enriched (``done < seq <= upto``) before it is written."""
        await self._set_marks(self.done, upto)
        self.claimed = upto

    async def mark_done(self, upto: int) -> None:
        """Every record up to ``upto`` is enriched: mark it, and delete what is all done."""
        await self._set_marks(upto, upto)
        self.done = self.claimed = upto
        if upto >= self.appended:
            self.oldest_pending_at = None

    async def _set_marks(self, done: int, claimed: int) -> None:
        """Write the marks and delete what is all done, on a thread: a rename or an unlink can
        wait tens of ms for the file system's journal, and the door's group writes must not
        (one rename in a group on the loop was a 47 ms stall of every answer). Only taking the
        segment being appended to off the log, once it is all done, waits for a group."""
        await asyncio.to_thread(self._store_marks, done, claimed)
        if done < self.appended:
            return
        detached: list[Path] = []

        def detach() -> None:  # in the group: nothing appended since can be in the segment
            path = self._files.detach_active(done, self._written)
            if path is not None:
                detached.append(path)

        await self._run_task(detach)
        for path in detached:
            await asyncio.to_thread(path.unlink, missing_ok=True)

    def _store_marks(self, done: int, claimed: int) -> None:
        with self._marks_lock:
            self._save_marks(done, claimed)
            self._files.trim_closed(done)

    async def scrub(self) -> None:
        """After a visitor's deletion: no copy of an enriched record is left in the log, not
        even beside records still to enrich (their segment is rewritten without it)."""
        await self._run_task(self._scrub)

    def _scrub(self) -> None:
        self._files.trim(self.done, self._written)
        if self.done < self._written:
            self._files.drop_before(self.done + 1)

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
