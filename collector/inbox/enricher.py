"""The enricher: turns the inbox's answered beacons into clicks and events, in large batches.

It reads up to :data:`BATCH` rows past the last batch it took, enriches each one in arrival
order (:meth:`~collector.ingest.collect.Ingestor.enrich`: sessions, geo, user agent, referrer,
bots) and builds its event rows, and hands the batch to the writer as one job, so it is
committed in one transaction with its webhook outbox items. Then it marks the batch done and
the log deletes it.

On SQLite the next batch is read and enriched while the writer's thread stores the last one:
the database's calls let go of the GIL, so the two overlap on two cores. At most one batch is
being written at a time, and the batches are stored and marked in order. ClickHouse claims a
batch's range in the log before writing it (below), so there one batch follows the other.

Exactly once, after a crash at any point:

- SQLite stores the done mark in the database, in the batch's own transaction
  (``inbox_marks``): a batch is stored with its mark or not at all, and a restart resumes from
  the database's mark.
- ClickHouse has no transaction across tables. The batch's range is claimed in the log before
  it is written and its inserts carry a deduplication token made of that range: a restart
  enriches the claimed range again and ClickHouse drops the blocks it already has (clicks are
  skipped by id, as for any re-sent click).

The door comes first: both run on the event loop, and the enricher works in slices of
:data:`SLICE_S`, each followed by a turn of the loop in which every request that is ready moves
on, or, while the door is saturated (:data:`DOOR_BUSY` beacons waiting for their commit), by a
pause of :data:`PAUSE_S`: the enricher then keeps about a hundredth of the process, and lets
each batch gather for up to :data:`GATHER_S` first, unless a read waits for it. Once the oldest
beacon waiting has waited :data:`LAG_SHARE_S`, the pause shortens to :data:`SHARE_PAUSE_S`
(a twentieth of the loop, plus the writer's thread), as it was before the inbox got cheap: a
larger share did not help, since the writer's thread, which stores the batches, needs the GIL
back from a saturated loop after each of its database calls (bench/README.md). An idle door gives
the enricher the whole process, so a burst is absorbed by the log and caught up after.
:attr:`Enricher.lag_seconds` is exported as a metric, and reads
wait for the enricher (:meth:`Enricher.settled`, at most :data:`READ_WAIT_S`).

With ``--enrich-processes N`` (SQLite), :class:`~collector.inbox.process.ProcessEnricher` keeps
this loop but only places each beacon here, and N child processes build and store the rows.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from collector.inbox.log import InboxLog, InboxRecord
from collector.ingest.writer import Writer
from collector.storage.base import Click, Event, InboxBatch
from collector.storage.inbox import InboxMarkMoved
from collector.storage.rows import EVENT_ROWS

if TYPE_CHECKING:
    from collector.ingest.collect import Enriched, Ingestor

log = logging.getLogger("clicktrail.enricher")

BATCH = 5000  # rows read and written together
SLICE_S = 0.001  # enrichment between two turns of the event loop
DOOR_BUSY = 8  # this many beacons waiting for the inbox's commit: the door is saturated
PAUSE_S = 0.1  # the enricher's pause after a slice while the door is saturated...
SHARE_PAUSE_S = 0.02  # ... and once enrichment lags by LAG_SHARE_S: then it takes a share
LAG_SHARE_S = 10.0
GATHER_S = 0.05  # while the door is saturated, a batch waits this long to grow...
GATHER_ROWS = 2000  # ... unless this many beacons are pending, or a read is waiting
READ_WAIT_S = 1.0  # the longest a read waits for enrichment to catch up
STOP_DRAIN_S = 10.0  # on shutdown, enrich what is left for at most this long


@dataclass
class Taken:
    """A batch read and enriched: the inbox records ``after < seq <= last`` and their rows."""

    after: int
    last: int
    first_at: int | None = None  # when its first record was answered
    rows: list[tuple[InboxRecord, Enriched]] = field(default_factory=list)
    clicks: list[Click] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    starts: set[str] = field(default_factory=set)
    event_rows: list[tuple[Any, ...]] = field(default_factory=list)  # EVENT_ROWS.row of events
    placed: list[Any] = field(default_factory=list)  # placed, not built (inbox/process.py)

    def add(self, record: InboxRecord, rows: Enriched) -> None:
        """A record's rows; raises, adding nothing, when an event cannot be encoded."""
        event_rows = [EVENT_ROWS.row(event) for event in rows.events]
        self.rows.append((record, rows))
        self.clicks += rows.clicks
        self.events += rows.events
        self.event_rows += event_rows
        self.starts |= rows.session_starts


class Enricher:
    """The inbox's one consumer in this process (see the module docstring)."""

    depth = 1  # batches being stored at a time (enriched while the last one is written)
    batch_rows = BATCH
    gather_rows = GATHER_ROWS
    background = False  # enrichment runs at idle CPU priority (enrichment processes only)

    def __init__(self, inbox: InboxLog, ingestor: Ingestor, writer: Writer) -> None:
        self.inbox = inbox
        self._ingestor = ingestor
        self._writer = writer
        self._store = ingestor.store
        self._wake = asyncio.Event()
        self._progress = asyncio.Event()
        inbox.on_commit.append(self._wake)
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._drain_until = 0.0
        self.skipped = 0  # beacons that could not be enriched (logged)
        self._readers = 0  # reads waiting in settled()
        self._called = asyncio.Event()  # a read started waiting, or the enricher is stopping
        self._taken = 0  # the last seq read and enriched (at or past the log's done mark)
        # The batches being stored, oldest first, each with when its first record was answered.
        self._writing: deque[tuple[asyncio.Task[None], int | None]] = deque()

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="enricher")

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    @property
    def lag_seconds(self) -> float:
        return self.inbox.lag_seconds()

    async def stop(self) -> None:
        """Enrich what is left (for at most :data:`STOP_DRAIN_S`), then stop: anything still
        in the log is enriched at the next start."""
        if self._task is None:
            return
        self._stopping = True
        self._drain_until = time.monotonic() + STOP_DRAIN_S
        self._wake.set()
        self._called.set()
        await self._task
        self._task = None

    async def settled(self, timeout: float = READ_WAIT_S) -> bool:
        """Wait until every beacon answered before this call is enriched (at most
        ``timeout`` seconds); whether it is."""
        target = self.inbox.appended
        if self.inbox.done >= target:
            return True
        deadline = time.monotonic() + timeout
        self._readers += 1
        self._called.set()  # a gathering batch starts now
        try:
            while self.inbox.done < target and self.running:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._progress.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._progress.wait(), left)
        finally:
            self._readers -= 1
        return self.inbox.done >= target

    # --- the loop -----------------------------------------------------------------------------

    async def _run(self) -> None:
        await self._resume()
        while True:
            try:
                if not await self._next():
                    return
            except Exception:
                log.exception("an enrichment batch failed; retrying in a second")
                await self._abandon_write()
                await asyncio.sleep(1.0)
                await self._resume()  # the batch may be stored, its log mark not

    async def _next(self) -> bool:
        """Take, enrich and hand over the next batch (or wait for one); False to stop."""
        if self._taken >= self.inbox.appended:
            await self._finish_write()
            if self._stopping:
                return False
            self._wake.clear()
            if self._taken >= self.inbox.appended:
                await self._wake.wait()
            return True
        if self._stopping and time.monotonic() > self._drain_until:
            await self._finish_write()
            log.warning("stopping with %d beacons to enrich at next start", self.inbox.pending)
            return False
        await self._gather()
        taken = await self._take()
        await self._make_room()
        first = self._writing[0][1] if self._writing else taken.first_at
        if first is not None:  # the oldest beacon not stored is now the oldest batch's first
            self.inbox.oldest_pending_at = first
        previous = self._writing[-1][0] if self._writing else None
        task = asyncio.get_running_loop().create_task(self._store_batch(taken, previous))
        self._writing.append((task, taken.first_at))
        return True

    async def _gather(self) -> None:
        """While the door is saturated, let a small batch grow for up to :data:`GATHER_S`: a
        batch has a cost of its own (a read, a write job, a mark), which the door would pay
        for each commit otherwise. A waiting read, or a stop, ends the wait."""
        waiting = self.inbox.appended - self._taken
        if not self._door_busy() or waiting >= self.gather_rows or self._readers:
            return
        self._called.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._called.wait(), GATHER_S)

    def _door_busy(self) -> bool:
        return self.inbox.waiting >= DOOR_BUSY and not self._stopping

    async def _resume(self) -> None:
        """Start after the database's mark when it is ahead of the log's (SQLite: the crash
        came between the batch's commit and the log's mark)."""
        stored = await asyncio.to_thread(self._store.inbox_done, self.inbox.inbox_id)
        if stored > self.inbox.done:
            await self.inbox.mark_done(stored)
        self._taken = self.inbox.done

    async def _take(self) -> Taken:
        """The next batch, read past the last one taken and enriched. On SQLite it is taken
        while the previous one is written (the write lets go of the GIL); ClickHouse claims
        each batch's range in the log before its write, so there one follows the other."""
        inbox = self.inbox
        if not self._store.marks_inbox_in_batch:
            await self._finish_write()
        replay = inbox.claimed > inbox.done  # claimed and not marked: exactly that range again
        after = self._taken
        upto = inbox.claimed if replay else inbox.appended
        records = await asyncio.to_thread(inbox.read, after, upto, self.batch_rows)
        last = upto if replay or not records else records[-1].seq
        self._taken = last
        if not records:
            return Taken(after, last)
        if not self._writing:
            inbox.oldest_pending_at = records[0].received_at
        if not replay and not self._store.marks_inbox_in_batch:
            await inbox.claim(last)
        taken = Taken(after, last, records[0].received_at)
        await self._enrich_all(records, taken)
        return taken

    async def _enrich_all(self, records: list[InboxRecord], taken: Taken) -> None:
        slice_end = time.perf_counter() + SLICE_S
        for record in records:
            try:
                await self._enrich_one(record, taken)
            except Exception as exc:
                self._skip(record, exc)
            if time.perf_counter() > slice_end:
                await self._step_aside()
                slice_end = time.perf_counter() + SLICE_S

    async def _enrich_one(self, record: InboxRecord, taken: Taken) -> None:
        rows = await self._ingestor.enrich(record)
        if rows is not None:
            taken.add(record, rows)

    async def _step_aside(self) -> None:
        """The door's turn: one turn of the event loop, or a pause while the door is saturated
        (:data:`DOOR_BUSY` requests or more waiting for their commit)."""
        if not self._door_busy():
            await asyncio.sleep(0)
        elif self.inbox.lag_seconds() < LAG_SHARE_S:
            await asyncio.sleep(PAUSE_S)
        else:
            await asyncio.sleep(SHARE_PAUSE_S)

    # --- the write, behind the next batch's enrichment ------------------------------------------

    async def _make_room(self) -> None:
        """Wait until fewer than :attr:`depth` batches are being stored; raises what a write
        raised."""
        while len(self._writing) >= self.depth:
            await self._writing.popleft()[0]

    async def _finish_write(self) -> None:
        """Wait for the batches being written, if any; raises what a write raised."""
        while self._writing:
            await self._writing.popleft()[0]

    async def _abandon_write(self) -> None:
        """After a failure: let the batches being written end, whatever they raise."""
        while self._writing:
            try:
                await self._writing.popleft()[0]
            except Exception:
                log.exception("an enrichment batch failed to store")

    async def _store_batch(self, taken: Taken, previous: asyncio.Task[None] | None) -> None:
        """Store the batch, mark it done in the log once the batch before it is (raising what
        that one raised), and tell the reads waiting."""
        if taken.rows or taken.placed:
            await self._write(taken, previous)
        if previous is not None:
            await previous
        await self.inbox.mark_done(taken.last)
        self._progress.set()

    async def _write(self, taken: Taken, previous: asyncio.Task[None] | None) -> None:
        """Store the batch (the writer stores jobs in order: ``previous`` is ahead of it)."""
        self.skipped += await store_taken(self._writer, self.inbox.inbox_id, taken)

    def _skip(self, record: InboxRecord, error: Exception) -> None:
        self.skipped += 1
        log_skipped(record, error)


async def store_taken(writer: Writer, inbox_id: str, taken: Taken) -> int:
    """Store a batch as one job; if it cannot be stored, each beacon on its own, so one bad row
    costs no other beacon its data. How many beacons were dropped."""
    batch = InboxBatch(inbox_id, taken.after, taken.last)
    try:
        await writer.submit(
            taken.clicks,
            taken.events,
            session_starts=frozenset(taken.starts),
            inbox_batch=batch,
            event_rows=taken.event_rows,
        )
        return 0
    except InboxMarkMoved:
        raise  # another enricher stored part of this range: start again from its mark
    except Exception as exc:
        log.error("an enrichment batch of %d beacons failed (%s); one by one", len(taken.rows), exc)
    dropped = 0
    for record, rows in taken.rows:
        try:
            await writer.submit(rows.clicks, rows.events, session_starts=rows.session_starts)
        except Exception as exc:
            dropped += 1
            log_skipped(record, exc)
    await writer.submit([], [], inbox_batch=batch)  # the mark alone
    return dropped


def log_skipped(record: InboxRecord, error: Exception) -> None:
    log.error(
        "inbox row %d could not be enriched and is dropped: %s: %s",
        record.seq,
        type(error).__name__,
        str(error)[:200],
    )
