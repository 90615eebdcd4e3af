"""One writer with group commit.

Requests hand their rows to :meth:`Writer.submit` and wait. A single thread takes everything that
queued up while the previous commit ran and stores it in one transaction, then wakes every
waiter. So a beacon is answered only once its rows are durable, and under load one commit
carries many beacons. :meth:`Writer.stop` drains what is queued before returning.

One request never costs another its data: when a group commit fails, the batch is split in
halves and each half committed on its own, down to the single job that fails, which alone is
answered with the error (and logged once, with its brand). Each engine's ``write_batch`` either
stores a batch whole or can be given it again (see the storage modules), so a retried half
stores each row once.

A store that can (SQLite) leaves checkpoints out of the writer's commits: the writer runs them
from a thread of their own, at most one at a time and one every :data:`CHECKPOINT_SECONDS` while
commits go on, so that no request waits for the WAL to be copied into the database file.
"""

from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

from collector.ops.metrics import METRICS
from collector.storage.base import Click, Conversion, Event, InboxBatch, ReplayChunk, Store

if TYPE_CHECKING:
    from collector.webhooks.feed import ClickstreamFeed

log = logging.getLogger("clicktrail.writer")

CHECKPOINT_SECONDS = 0.5


@dataclass
class _Job:
    clicks: list[Click]
    events: list[Event]
    chunks: list[ReplayChunk]
    conversions: list[Conversion]
    done: asyncio.Future[None] = field(repr=False)
    session_starts: frozenset[str] = frozenset()  # ids of the clicks that opened their session
    inbox_batch: InboxBatch | None = None  # the inbox rows these were enriched from
    event_rows: list[tuple[Any, ...]] | None = None  # the rows of ``events``, built already

    @property
    def size(self) -> int:
        rows = len(self.clicks) + len(self.events) + len(self.chunks) + len(self.conversions)
        return rows or int(self.inbox_batch is not None)

    @property
    def brand_id(self) -> int | None:
        for rows in (self.clicks, self.events, self.chunks, self.conversions):
            if rows:
                return rows[0].brand_id
        return None

    def settle(self, error: BaseException | None) -> None:
        if self.done.done():
            return
        if error is None:
            self.done.set_result(None)
        else:
            self.done.set_exception(error)


class _Rows(NamedTuple):
    """What one commit stores: the jobs' rows together."""

    clicks: list[Click]
    events: list[Event]
    chunks: list[ReplayChunk]
    conversions: list[Conversion]
    session_starts: frozenset[str]
    inbox_batch: InboxBatch | None
    event_rows: list[tuple[Any, ...]] | None


def _event_rows(jobs: list[_Job]) -> list[tuple[Any, ...]] | None:
    """The jobs' event rows in order when every job with events brought its rows, else None
    (the store builds them)."""
    if any(job.event_rows is None and job.events for job in jobs):
        return None
    return [row for job in jobs for row in job.event_rows or ()]


class Writer:
    """``feed``, when given, renders the clickstream items of each batch, stored with it."""

    def __init__(
        self, store: Store, max_batch_events: int = 5000, feed: ClickstreamFeed | None = None
    ) -> None:
        self._store = store
        self._feed = feed
        self._max_batch = max_batch_events
        self._queue: asyncio.Queue[_Job | None] = asyncio.Queue()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="clicktrail-writer")
        self._task: asyncio.Task[None] | None = None
        self._checkpointer: ThreadPoolExecutor | None = None
        self._checkpointing: asyncio.Future[None] | None = None
        self._last_checkpoint = 0.0

    def start(self) -> None:
        defer = getattr(self._store, "defer_checkpoints", None)
        if defer is not None and hasattr(self._store, "checkpoint"):
            self._executor.submit(defer).result()  # for the writer thread's connection
            self._checkpointer = ThreadPoolExecutor(1, thread_name_prefix="clicktrail-checkpoint")
        self._task = asyncio.get_running_loop().create_task(self._run(), name="writer")

    @property
    def running(self) -> bool:
        """Started, and taking requests (``/readyz``)."""
        return self._task is not None and not self._task.done()

    @property
    def queue_depth(self) -> int:
        """Requests waiting for a commit (``/metrics``)."""
        return self._queue.qsize()

    async def submit(
        self,
        clicks: list[Click],
        events: list[Event],
        chunks: list[ReplayChunk] | None = None,
        conversions: list[Conversion] | None = None,
        session_starts: frozenset[str] = frozenset(),
        inbox_batch: InboxBatch | None = None,
        event_rows: list[tuple[Any, ...]] | None = None,
    ) -> None:
        """Returns once the rows are committed; raises if the commit failed. ``session_starts``
        names the clicks that opened their session (the clickstream's ``session.first``);
        ``inbox_batch`` the inbox rows they were enriched from (the enricher's batches);
        ``event_rows`` the rows of ``events``, when the caller built them (``write_batch``)."""
        if self._task is None or self._task.done():
            raise RuntimeError("the writer is not running")
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(
            _Job(
                clicks,
                events,
                chunks or [],
                conversions or [],
                done,
                session_starts,
                inbox_batch,
                event_rows,
            )
        )
        await done

    async def stop(self) -> None:
        """Commit everything already submitted, then end the writer."""
        if self._task is None:
            return
        self._queue.put_nowait(None)
        await self._task
        self._executor.shutdown(wait=True)
        self._task = None
        if self._checkpointer is not None:
            if self._checkpointing is not None:
                await self._checkpointing
            await asyncio.get_running_loop().run_in_executor(self._checkpointer, self._checkpoint)
            self._checkpointer.shutdown(wait=True)
            self._checkpointer = None

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        stopping = False
        while not stopping:
            first = await self._queue.get()
            if first is None:
                break
            jobs = [first]
            size = first.size
            # An enrichment batch commits alone: a store may skip it whole when its inbox mark
            # says it is stored already (storage/inbox.py), which must cost no other job.
            while first.inbox_batch is None and size < self._max_batch and not self._queue.empty():
                job = self._queue.get_nowait()
                if job is None:
                    stopping = True
                    break
                if job.inbox_batch is not None:
                    await self._commit(loop, jobs)
                    jobs, size = [job], job.size
                    break
                jobs.append(job)
                size += job.size
            await self._commit(loop, jobs)
            await self._checkpoints(loop)

    async def _commit(self, loop: asyncio.AbstractEventLoop, jobs: list[_Job]) -> None:
        """Commit ``jobs`` together; when that fails, isolate the jobs that cannot be stored."""
        error = await self._write(loop, jobs)
        if error is None:
            for job in jobs:
                job.settle(None)
        elif len(jobs) == 1:
            self._refuse(jobs[0], error)
        else:
            half = len(jobs) // 2
            await self._commit(loop, jobs[:half])
            await self._commit(loop, jobs[half:])

    async def _write(self, loop: asyncio.AbstractEventLoop, jobs: list[_Job]) -> Exception | None:
        clicks = [click for job in jobs for click in job.clicks]
        events = [event for job in jobs for event in job.events]
        chunks = [chunk for job in jobs for chunk in job.chunks]
        conversions = [conversion for job in jobs for conversion in job.conversions]
        starts = frozenset().union(*(job.session_starts for job in jobs))
        batch = next((job.inbox_batch for job in jobs if job.inbox_batch is not None), None)
        rows = _event_rows(jobs)
        started = time.perf_counter()
        try:
            await loop.run_in_executor(
                self._executor,
                self._store_rows,
                _Rows(clicks, events, chunks, conversions, starts, batch, rows),
            )
        except Exception as exc:
            return exc
        METRICS.group_commit(sum(job.size for job in jobs), time.perf_counter() - started)
        return None

    def _store_rows(self, rows: _Rows) -> None:
        """One commit (the writer's thread), with the clickstream items of its rows."""
        feed = self._feed
        items = None
        if feed is not None and (rows.clicks or rows.conversions):
            items = feed.items(rows.clicks, rows.conversions, rows.session_starts)
        self._store.write_batch(
            rows.clicks,
            rows.events,
            rows.chunks,
            rows.conversions,
            outbox=items or None,
            inbox_batch=rows.inbox_batch,
            event_rows=rows.event_rows,
        )
        if items and feed is not None:
            feed.committed()

    async def _checkpoints(self, loop: asyncio.AbstractEventLoop) -> None:
        """Between commits: start a checkpoint in its own thread every
        :data:`CHECKPOINT_SECONDS`; once it is done, finish it here, in the writer's thread. It
        copied what was committed when it started, while commits went on; the rest, committed
        meanwhile, is little, and copied with no commit running, so that the next commit can
        start the WAL over from its beginning (it grows without end otherwise)."""
        if self._checkpointer is None:
            return
        if self._checkpointing is not None:
            if self._checkpointing.done():
                self._checkpointing = None
                await loop.run_in_executor(self._executor, self._checkpoint)
            return
        now = time.monotonic()
        if now - self._last_checkpoint >= CHECKPOINT_SECONDS:
            self._last_checkpoint = now
            self._checkpointing = loop.run_in_executor(self._checkpointer, self._checkpoint)

    def _checkpoint(self) -> None:
        """One checkpoint; a failure is logged (the next one catches up), never raised."""
        try:
            self._store.checkpoint()  # type: ignore[attr-defined]  # checked in start()
        except Exception:
            log.exception("a checkpoint of the database failed")

    @staticmethod
    def _refuse(job: _Job, error: Exception) -> None:
        log.error(
            "a request of brand %s could not be stored (%d rows): %s: %s",
            job.brand_id,
            job.size,
            type(error).__name__,
            str(error)[:200],
        )
        job.settle(error)
