"""Enrichment in processes of its own (``--enrich-processes N``, SQLite): the door's process
keeps only what must live beside the door, and N child processes build and store the rows.

One interpreter runs one thread at a time, and the door (about 8 µs of it per event) and the
enrichment with its writes (about 11 µs per event) shared it: together they could not reach
50,000 events/s, and each answer waited behind enrichment slices (bench/README.md, issue 17).
Split this way, each has a core:

- **The door's process** reads each batch from the inbox as before and *places* each beacon
  (:meth:`~collector.ingest.collect.Ingestor.place`): its visitor and session, and the short
  link it continues. That state is shared with the short-link redirector and the replay
  collector, which place hits too, so it stays here; it costs a few µs a beacon, reading the
  beacon's head only. The batches go to the children in turn, with the placements, and each is
  marked done in the log once its child says it is stored.
- **An enrichment process** (:func:`enrichment_main`) decodes each beacon whole, builds its
  rows (:meth:`~collector.ingest.collect.Ingestor.build`: geo, user agent, referrer, bots,
  clicks, events) as soon as its batch arrives, and stores the batch with its done mark, in
  one transaction, through a writer of its own (rollups and clickstream items included), once
  the door's process sends the batch's go: the batch before it is stored. Its failures come
  back as the batch's, and after a failed batch the next ones are dropped, not stored.

Exactly once, as in one process: the batch and its done mark are one transaction. A child that
was still storing a batch when its parent died and a new child started cannot store a range
twice: a mark inside a batch's range refuses the batch
(:class:`~collector.storage.inbox.InboxMarkMoved`), and the enricher reads again from the mark.

Caches that the door's process drops when their rows change (brands, webhook destinations) are
dropped in the children too: each batch carries how many times they were. The children's
commits are counted in the door's process's ``/metrics``.

The children yield the CPU to the door while enrichment keeps up, and take their priority back
once it falls behind: each batch says which (:func:`yields_cpu`, :mod:`collector.ops.tuning`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import logging.config
import multiprocessing
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess

import msgspec

from collector.brands.cache import BrandCache
from collector.config import Settings
from collector.inbox.enricher import READ_WAIT_S, Enricher, Taken, log_skipped, store_taken
from collector.inbox.log import InboxLog, InboxRecord
from collector.ingest.collect import Ingestor, Placement
from collector.ingest.wire import decode_beacon, decode_head
from collector.ingest.writer import Writer
from collector.ops.metrics import METRICS
from collector.ops.tuning import may_yield_cpu, run_in_background, tune_process
from collector.webhooks.feed import ClickstreamFeed

log = logging.getLogger("clicktrail.enricher")

STOP_WAIT_S = 30.0  # how long a stopping collector waits for each enrichment process
# The children yield the CPU to the door (collector/ops/tuning.py) until enrichment lags by
# BEHIND_S, and again once it is back within CAUGHT_UP_S (the longest a read waits for it). At
# half the sustainable rate the lag moves between 0.2 and 1.8 s: batches in flight.
BEHIND_S = 5.0
CAUGHT_UP_S = READ_WAIT_S
CHILD_STATEMENT_PARAMS = 65536  # storage/sqlite/clicks.py: fewer statements, fewer GIL trades
_STOP = b""  # the message that asks the child to stop
_GO = b"go"  # store the batch built last: the batch before it is stored
_DROP = b"drop"  # do not: the batch before it failed

# seq, received_at, ip, user agent, Accept-Language, body; visitor, session, opened, link id
Placed = tuple[int, int, str | None, str | None, str | None, bytes, str, str, bool, str | None]


class _Batch(msgspec.Struct, array_like=True):
    """What the door's process sends: a batch's range of the log and its placed beacons."""

    inbox_id: str
    after: int
    last: int
    brands_version: int  # BrandCache.forget() calls in the door's process
    feed_version: int  # ClickstreamFeed.invalidate() calls
    background: bool  # enrichment keeps up: run at idle CPU priority (collector/ops/tuning.py)
    placed: list[Placed]


class _Stored(msgspec.Struct, array_like=True):
    """The child's answer: the batch is stored (or ``error``), ``dropped`` beacons skipped."""

    dropped: int = 0
    items: bool = False  # clickstream items were stored: the dispatcher may send them
    error: str | None = None
    rows: int = 0  # clicks and events committed, and how long the commit took (/metrics)
    seconds: float = 0.0


_batch_encoder = msgspec.msgpack.Encoder()
_batch_decoder = msgspec.msgpack.Decoder(_Batch)
_stored_decoder = msgspec.msgpack.Decoder(_Stored)


class ProcessEnricher(Enricher):
    """The :class:`Enricher` of the door's process when enrichment has processes of its own:
    it places each beacon and hands the batches to the children in turn (see the module
    docstring)."""

    # Smaller batches than in one process: a batch's message is encoded in one call that holds
    # the GIL of the door's process (5,000 beacons of 20 events: the door's p99 at 1,270
    # beacons/s was 32-60 ms in three runs; 500: 13.5 ms, and 51,349 events/s sustained).
    batch_rows = 500
    gather_rows = 500

    def __init__(
        self,
        inbox: InboxLog,
        ingestor: Ingestor,
        writer: Writer,
        settings: Settings,
        feed: ClickstreamFeed,
    ) -> None:
        super().__init__(inbox, ingestor, writer)
        self._settings = settings
        self._feed = feed
        self._brands = ingestor.brands
        count = max(1, settings.enrich_processes)
        self._children = [_ChildProcess(settings, index) for index in range(count)]
        self._turn = 0
        # Two batches a child: it builds the next one while it waits to store, or stores, the
        # last one.
        self.depth = 2 * count
        self._written: asyncio.Future[bool] | None = None  # of the last batch sent: stored?
        self._may_yield = may_yield_cpu()
        self.background = self._may_yield

    def start(self) -> None:
        for child in self._children:
            child.start()
        super().start()

    async def stop(self) -> None:
        await super().stop()
        for child in self._children:
            await child.end()

    async def _resume(self) -> None:
        for child in self._children:
            if not child.alive:
                await child.end()
                child.start()
        self._turn, self._written = 0, None
        await super()._resume()

    async def _enrich_one(self, record: InboxRecord, taken: Taken) -> None:
        head = decode_head(record.body)  # checked at the door
        brand = await self._ingestor.enriching_brand(head.k)
        if brand is None:
            return
        placement = await self._ingestor.place(record, brand, head)
        taken.placed.append(
            (
                record.seq,
                record.received_at,
                record.ip,
                record.user_agent,
                record.accept_language,
                record.body,
                *placement,
            )
        )

    async def _step_aside(self) -> None:
        """Placing costs a few µs a beacon, and the children wait for it: one turn of the
        loop between slices, whatever the door's load."""
        await asyncio.sleep(0)

    async def _write(self, taken: Taken, previous: asyncio.Task[None] | None) -> None:
        """The next child builds the batch at once, and stores it once the batch before it is
        stored (if that one failed, it stores nothing: the enricher resumes from the store's
        mark). ``previous`` is left to the caller, which marks the batches in order."""
        child = self._children[self._turn]
        self._turn = (self._turn + 1) % len(self._children)
        before, written = self._written, asyncio.get_running_loop().create_future()
        self._written = written
        try:
            stored = await self._store_in(child, taken, before)
        except BaseException:
            written.set_result(False)
            raise
        written.set_result(stored.error is None)
        if stored.rows:  # the child's commit, in this process's /metrics
            METRICS.group_commit(stored.rows, stored.seconds)
        if stored.items:
            self._feed.committed()
        if stored.error is not None:
            raise RuntimeError(f"the enrichment process could not store a batch: {stored.error}")
        self.skipped += stored.dropped

    def _background_now(self) -> bool:
        self.background = yields_cpu(self.inbox.lag_seconds(), self.background, self._may_yield)
        return self.background

    async def _store_in(
        self, child: _ChildProcess, taken: Taken, before: asyncio.Future[bool] | None
    ) -> _Stored:
        """Send the batch, then its go once the batch before it is written (not yet marked in
        the log: the child need not wait for that)."""
        answer = await child.send(
            _Batch(
                self.inbox.inbox_id,
                taken.after,
                taken.last,
                self._brands.version,
                self._feed.version,
                self._background_now(),
                taken.placed,
            )
        )
        await child.send_go(before is None or await before)
        return await answer


def yields_cpu(lag_s: float, yielding: bool, may_yield: bool) -> bool:
    """Whether the children run in the background for the next batch: until enrichment lags
    by :data:`BEHIND_S`, and again once it is back within :data:`CAUGHT_UP_S`."""
    if not may_yield or lag_s > BEHIND_S:
        return False
    return yielding or lag_s < CAUGHT_UP_S


class _ChildProcess:
    """One enrichment process, seen from the door's process: its pipe, and the answers it
    owes, which it gives in the order the batches were sent."""

    def __init__(self, settings: Settings, index: int) -> None:
        self._settings = settings
        self._name = f"clicktrail-enricher-{index}"
        self._process: BaseProcess | None = None
        self._conn: Connection | None = None
        self._sending = asyncio.Lock()  # messages go down the pipe whole and in order
        self._answers: deque[asyncio.Future[_Stored]] = deque()
        self._reader: asyncio.Task[None] | None = None

    @property
    def alive(self) -> bool:
        running = self._reader is not None and not self._reader.done()
        return running and self._process is not None and self._process.is_alive()

    def start(self) -> None:
        context = multiprocessing.get_context("spawn")  # never fork a process with threads
        here, there = context.Pipe()
        process = context.Process(
            target=enrichment_main, args=(self._settings, there), name=self._name, daemon=True
        )
        process.start()
        there.close()
        self._process, self._conn = process, here
        self._reader = asyncio.get_running_loop().create_task(self._read_answers(here))

    async def send(self, batch: _Batch) -> asyncio.Future[_Stored]:
        """Send a batch; the future of its answer."""
        answer: asyncio.Future[_Stored] = asyncio.get_running_loop().create_future()
        async with self._sending:
            conn = self._conn
            if conn is None or not self.alive:
                raise RuntimeError("the enrichment process is not running")
            self._answers.append(answer)
            await asyncio.to_thread(_send, conn, batch)  # encoded there: the loop serves on
        return answer

    async def send_go(self, go: bool) -> None:
        """Tell the child to store the batch it built last (or to drop it)."""
        async with self._sending:
            if self._conn is not None:
                with contextlib.suppress(OSError):
                    await asyncio.to_thread(self._conn.send_bytes, _GO if go else _DROP)

    async def end(self) -> None:
        """Ask the child to stop (it answers what it has, then exits), and wait for it: at
        most :data:`STOP_WAIT_S`, then it is terminated."""
        conn, reader, process = self._conn, self._reader, self._process
        if conn is not None and reader is not None and not reader.done():
            async with self._sending:
                with contextlib.suppress(OSError):
                    await asyncio.to_thread(conn.send_bytes, _STOP)
        if process is not None:
            await asyncio.to_thread(_join, process)
            if process.exitcode not in (0, None):
                log.error("%s ended with code %s", self._name, process.exitcode)
        if reader is not None:
            await reader  # the child is gone: the pipe has ended
        if conn is not None:
            conn.close()
        self._conn, self._reader, self._process = None, None, None

    async def _read_answers(self, conn: Connection) -> None:
        """Settle each batch sent with the child's answer; once the pipe ends, fail the rest."""
        loop = asyncio.get_running_loop()
        with ThreadPoolExecutor(1, thread_name_prefix=self._name) as reading:  # not the loop's
            while (data := await loop.run_in_executor(reading, _receive, conn)) is not None:
                self._settle(data)
        while self._answers:
            answer = self._answers.popleft()
            if not answer.done():
                answer.set_exception(RuntimeError(f"{self._name} ended"))

    def _settle(self, data: bytes) -> None:
        """The oldest batch sent is answered."""
        if not self._answers:
            log.error("%s answered a batch never sent", self._name)
            return
        answer = self._answers.popleft()
        if not answer.done():
            answer.set_result(_stored_decoder.decode(data))


def _join(process: BaseProcess) -> None:
    process.join(STOP_WAIT_S)
    if process.is_alive():
        log.error("the enrichment process did not stop; terminating it")
        process.terminate()
        process.join()


def _send(conn: Connection, batch: _Batch) -> None:
    conn.send_bytes(_batch_encoder.encode(batch))


# --- the enrichment process -------------------------------------------------------------------


def enrichment_main(settings: Settings, conn: Connection) -> None:
    """The child's entry point: store the batches the pipe brings until it closes."""
    from collector.ops.logging import log_format, logging_config

    logging.config.dictConfig(logging_config(log_format(settings.log_format)))
    tune_process()
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C reaches the whole process group
        asyncio.run(_serve(settings, conn))


async def _serve(settings: Settings, conn: Connection) -> None:
    """Open what the child builds and stores with, take the batches until the pipe closes, and
    close it all."""
    from collector.enrich.geo import GeoResolver
    from collector.storage import open_store

    store = await asyncio.to_thread(open_store, settings.database)
    if hasattr(store, "statement_params"):  # no request waits behind a statement here
        store.statement_params = CHILD_STATEMENT_PARAMS
    geo = GeoResolver.from_settings(settings)
    brands = BrandCache(store)
    feed = ClickstreamFeed(store, brands)
    writer = Writer(store, settings.writer_max_batch, feed=feed)
    writer.start()
    try:
        ingestor = Ingestor(
            store=store,
            writer=writer,
            brands=brands,
            geo=geo,
            trusted_proxies=(),
            max_body_bytes=settings.max_body_bytes,
        )
        await _take_batches(_Child(ingestor, writer, feed), conn)
    finally:
        await writer.stop()
        store.close()
        geo.close()


async def _take_batches(child: _Child, conn: Connection) -> None:
    """Build each batch as it arrives (while the last one is stored); at each go, store the
    oldest one built, or at a drop, answer that it was not stored."""
    built: deque[tuple[_Batch, Taken, int]] = deque()  # built, waiting for their go
    storing: asyncio.Task[None] | None = None
    while (data := await asyncio.to_thread(_receive, conn)) is not None:
        if data not in (_GO, _DROP):
            batch = _batch_decoder.decode(data)
            built.append((batch, *await child.build(batch)))
            continue
        storing = asyncio.get_running_loop().create_task(
            child.store(*built.popleft(), data == _GO, storing, conn)
        )
    if storing is not None:
        await storing


def _receive(conn: Connection) -> bytes | None:
    """The next message, or None once the other side asked to stop, closed the pipe or died."""
    try:
        return conn.recv_bytes() or None
    except (EOFError, OSError):
        return None


def _answer(conn: Connection, stored: _Stored) -> bool:
    """Send the answer; False when the door's process is gone (a restart resumes from the
    store's mark, which the batch's transaction moved)."""
    try:
        conn.send_bytes(msgspec.msgpack.encode(stored))
    except OSError:
        return False
    return True


class _Child:
    """Builds and stores the batches in the enrichment process."""

    def __init__(self, ingestor: Ingestor, writer: Writer, feed: ClickstreamFeed) -> None:
        self._ingestor = ingestor
        self._writer = writer
        self._feed = feed
        self._versions = (0, 0)
        self._background = False

    async def build(self, batch: _Batch) -> tuple[Taken, int]:
        """The batch's rows, and how many of its beacons could not be built (logged)."""
        self._catch_up(batch)
        if batch.background != self._background:
            self._background = batch.background
            run_in_background(batch.background)
        taken = Taken(batch.after, batch.last)
        dropped = 0
        for placed in batch.placed:
            record = InboxRecord(*placed[1:6], seq=placed[0])
            try:
                await self._build(record, placed, taken)
            except Exception as exc:
                dropped += 1
                log_skipped(record, exc)
        return taken, dropped

    async def store(
        self,
        batch: _Batch,
        taken: Taken,
        dropped: int,
        go: bool,
        previous: asyncio.Task[None] | None,
        conn: Connection,
    ) -> None:
        """Store a built batch (``go``: the one before it is stored) and answer, after the
        batch before it was answered."""
        if previous is not None:
            await previous
        if go:
            stored = await self._store(batch, taken, dropped)
        else:
            stored = _Stored(error="not stored: a batch before it was not")
        await asyncio.to_thread(_answer, conn, stored)

    async def _store(self, batch: _Batch, taken: Taken, dropped: int) -> _Stored:
        started = time.perf_counter()
        try:
            dropped += await store_taken(self._writer, batch.inbox_id, taken)
        except Exception as exc:
            return _Stored(dropped, self._items_stored(), f"{type(exc).__name__}: {exc}"[:500])
        rows = len(taken.clicks) + len(taken.events)
        return _Stored(dropped, self._items_stored(), None, rows, time.perf_counter() - started)

    async def _build(self, record: InboxRecord, placed: Placed, taken: Taken) -> None:
        beacon = decode_beacon(record.body)
        brand = await self._ingestor.enriching_brand(beacon.k)
        if brand is None:
            return
        placement = Placement(placed[6], placed[7], placed[8], placed[9])
        taken.add(record, await self._ingestor.build(record, beacon, brand, placement))

    def _catch_up(self, batch: _Batch) -> None:
        """Drop the caches the door's process dropped since the last batch."""
        brands, feed = self._versions
        if batch.brands_version != brands:
            self._ingestor.brands.forget()
        if batch.feed_version != feed:
            self._feed.invalidate()
        self._versions = (batch.brands_version, batch.feed_version)

    def _items_stored(self) -> bool:
        wakeup = self._feed.wakeup
        stored = wakeup.is_set()
        wakeup.clear()
        return stored
