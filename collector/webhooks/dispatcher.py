"""The background service that delivers the outbox: one coordinating thread, and one short
thread per batch in flight.

Each enabled destination is a lane with a :class:`~collector.storage.model.WebhookCursor`
(every item up to ``seq`` settled). A destination seen for the first time starts at the end of
the outbox, less the items made since it was created or re-enabled that the feed already
rendered for it (the feed learns of a destination before this service's next reload); a
disabled or deleted destination loses its cursor. A lane's
batch is its next 500 items, sent when 500 are waiting or 1 s after the first of them was
written, whichever comes first, and at once when draining. A lane has one batch in flight at a
time (its items arrive in order), and up to ``parallel`` lanes send at once. A batch being
retried keeps its ``webhook-id`` and items in the cursor, so a restart resumes it as it was.
What each attempt changes is :mod:`.settle`'s.

The coordinator wakes on ``wakeup`` (set by the feed after each commit with items, and by the
batch threads when they finish), when a batch falls due, and every ``reload_s`` to reload the
destinations. Every ``prune_s`` it prunes what every lane has settled. ``stop(timeout)`` drains:
what is waiting is sent at once (batches waiting for a retry keep their time), until nothing is
in flight or the timeout is near.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from collector.ops import jobs as ops_jobs
from collector.storage.base import Store
from collector.storage.model import WebhookCursor, WebhookDestination
from collector.webhooks.delivery import Result, Sender
from collector.webhooks.settle import DEFAULT_RETRY_SCHEDULE, Batch, Settler, new_batch_id

log = logging.getLogger("clicktrail.webhooks")

BATCH_SIZE = 500
LINGER_S = 1.0  # a batch goes out this long after its first item was written
PARALLEL = 8  # destinations sending at once
RELOAD_S = 2.0
PRUNE_S = 60.0
FIRST_SIGHT_PAGES = 20  # batches a new destination's first cursor looks through
_ERROR_PAUSE_S = 1.0


@dataclass
class _Lane:
    """One destination's state. While ``busy`` its batch thread owns it."""

    destination: WebhookDestination
    cursor: WebhookCursor
    busy: bool = False
    gone: bool = False  # disabled or deleted by the last attempt: drop the lane
    seen_end: int = -1  # the outbox end when its items were last read (-1: read again)
    waiting: int = 0  # how many items were waiting then
    due_ms: int | None = None  # when they fall due (the first one's write + the linger)
    paused_until_ms: int = 0  # after an error while settling

    def forget(self) -> None:
        self.seen_end, self.waiting, self.due_ms = -1, 0, None


class Dispatcher:
    """Delivers each enabled destination's items (see the module docstring)."""

    def __init__(
        self,
        store: Store,
        wakeup: threading.Event,
        sender: Sender,
        schedule: tuple[float, ...] = DEFAULT_RETRY_SCHEDULE,
        *,
        clock: Callable[[], float] = time.time,
        on_change: Callable[[], None] = lambda: None,
        batch_size: int = BATCH_SIZE,
        linger_s: float = LINGER_S,
        parallel: int = PARALLEL,
        reload_s: float = RELOAD_S,
        prune_s: float = PRUNE_S,
    ) -> None:
        self.store = store
        self.wakeup = wakeup
        self.sender = sender
        self.settler = Settler(store, schedule, on_change)
        self.clock = clock
        self.batch_size = batch_size
        self.linger_ms = int(linger_s * 1000)
        self.parallel = parallel
        self.reload_s = reload_s
        self.prune_s = prune_s
        self._lanes: dict[str, _Lane] = {}
        self._cursors: dict[str, WebhookCursor] | None = None  # stored ones, until the first load
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._drain_until = 0.0  # monotonic
        self._closed = False  # stop returned: late batch threads leave the store alone

    # --- the runtime's ----------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="webhooks", daemon=True)
        self._thread.start()

    def stop(self, timeout: float) -> bool:
        """Drain for at most ``timeout`` seconds; True when everything waiting went out."""
        if self._thread is None:
            return True
        self._drain_until = time.monotonic() + max(timeout - 0.5, 0.0)
        self._stopping.set()
        self.wakeup.set()
        self._thread.join(timeout)
        self._closed = True
        drained = not self._thread.is_alive() and not self._busy()  # (the thread mutates lanes)
        if not drained:
            log.warning("webhooks: stopped with batches still in flight (they are resent)")
        return drained

    # --- the coordinator --------------------------------------------------------------------

    def _run(self) -> None:
        reload_at = prune_at = 0.0
        while True:
            draining = self._stopping.is_set()
            try:
                if time.monotonic() >= reload_at:
                    self._reload()
                    reload_at = time.monotonic() + self.reload_s
                    if time.monotonic() >= prune_at:  # right after a reload: no lane missing
                        self._prune()
                        prune_at = time.monotonic() + self.prune_s
                sent, due_ms = self._dispatch(draining)
            except Exception:
                log.exception("webhooks: dispatching failed")
                sent, due_ms = 0, self._now_ms() + int(_ERROR_PAUSE_S * 1000)
            if draining and self._drained(sent):
                return
            self._sleep(due_ms, reload_at, draining)

    def _drained(self, sent: int) -> bool:
        if time.monotonic() >= self._drain_until:
            return True
        return sent == 0 and not self._busy()

    def _sleep(self, due_ms: int | None, reload_at: float, draining: bool) -> None:
        """Until woken, a batch falls due, the next reload, or the drain's end."""
        wait = reload_at - time.monotonic()
        if due_ms is not None:
            wait = min(wait, (due_ms - self._now_ms()) / 1000)
        if draining:
            wait = min(wait, self._drain_until - time.monotonic())
        self.wakeup.wait(max(wait, 0.005))
        self.wakeup.clear()

    def _now_ms(self) -> int:
        return int(self.clock() * 1000)

    def _busy(self) -> bool:
        return any(lane.busy for lane in list(self._lanes.values()))

    # --- destinations -----------------------------------------------------------------------

    def _reload(self) -> None:
        """Lanes for the enabled destinations (new ones start at the outbox's end); cursors of
        the others deleted."""
        if self._cursors is None:
            self._cursors = self.store.webhook_cursors()
        enabled = {d.id: d for d in self.store.list_webhooks(None) if d.enabled}
        for dest_id, destination in enabled.items():
            lane = self._lanes.get(dest_id)
            if lane is None:
                self._lanes[dest_id] = _Lane(destination, self._first_cursor(destination))
            elif lane.destination != destination:
                lane.destination = destination
                lane.forget()
        for dest_id in [i for i, lane in self._lanes.items() if not lane.busy]:
            if dest_id not in enabled or self._lanes[dest_id].gone:
                del self._lanes[dest_id]
                self.store.delete_webhook_cursor(dest_id)
        for dest_id in [i for i in self._cursors if i not in enabled]:
            self.store.delete_webhook_cursor(dest_id)
        self._cursors = {}

    def _first_cursor(self, destination: WebhookDestination) -> WebhookCursor:
        """The stored cursor; else one just before the first item made since the destination
        was created or re-enabled (``updated_at``), or at the outbox's end."""
        stored = (self._cursors or {}).get(destination.id)
        if stored is not None:
            return stored
        end = self.store.outbox_end()
        brand = destination.brand_id
        after = min(
            (
                lane.cursor.seq
                for lane in self._lanes.values()
                if lane.destination.brand_id == brand
            ),
            default=0,
        )
        seq = self._seq_before(destination, after, end)
        cursor = WebhookCursor(dest_id=destination.id, seq=seq)
        self.store.save_webhook_cursor(cursor)
        return cursor

    def _seq_before(self, destination: WebhookDestination, after: int, end: int) -> int:
        """The seq just before the first of the destination's items (after ``after``) made at
        or after its ``updated_at``, or addressed to it: the feed rendered them, or a replay
        asked for them, before this lane existed. Looks at most :data:`FIRST_SIGHT_PAGES`
        batches; else ``end``."""
        for _ in range(FIRST_SIGHT_PAGES):
            items = self.store.outbox_items(
                destination.brand_id, destination.id, destination.events, after, self.batch_size
            )
            for item in items:
                # made since it was (re-)enabled, or addressed to it (a replay made at once)
                if item.created_at >= destination.updated_at or item.dest_id == destination.id:
                    return min(item.seq - 1, end)
            if len(items) < self.batch_size:
                break
            after = items[-1].seq
        return end

    def _prune(self) -> None:
        """Drop the items every lane of their brand has settled (and those of no lane)."""
        keep: dict[int, int] = {}
        for lane in list(self._lanes.values()):
            brand = lane.destination.brand_id
            keep[brand] = min(keep.get(brand, lane.cursor.seq), lane.cursor.seq)
        pruned = self.store.prune_outbox(keep)
        if pruned:
            log.debug("webhooks: pruned %d outbox items", pruned)

    # --- batches ----------------------------------------------------------------------------

    def _dispatch(self, draining: bool) -> tuple[int, int | None]:
        """Start the batches that are due; (how many started, when the next one falls due)."""
        end = self.store.outbox_end()
        now = self._now_ms()
        started = 0
        next_due: int | None = None
        in_flight = sum(1 for lane in self._lanes.values() if lane.busy)
        for lane in list(self._lanes.values()):
            if lane.busy or lane.gone or in_flight >= self.parallel:
                continue
            if lane.paused_until_ms > now:
                next_due = min(next_due or lane.paused_until_ms, lane.paused_until_ms)
                continue
            found = self._next_batch(lane, end, now, draining)
            if isinstance(found, Batch):
                self._launch(lane, found)
                started += 1
                in_flight += 1
            elif found is not None:
                next_due = found if next_due is None else min(next_due, found)
        return started, next_due

    def _next_batch(self, lane: _Lane, end: int, now: int, draining: bool) -> Batch | int | None:
        """The lane's batch when it is due, else when it falls due (None: nothing waits)."""
        cursor = lane.cursor
        if cursor.batch_id is not None:
            return self._retry_batch(lane, cursor, now)
        if lane.seen_end == end and lane.due_ms is None:
            return None  # nothing written since its items were read, and none waited
        could_fill = end - lane.seen_end + lane.waiting >= self.batch_size
        if lane.due_ms is not None and now < lane.due_ms and not draining and not could_fill:
            return lane.due_ms
        destination = lane.destination
        items = self.store.outbox_items(
            destination.brand_id, destination.id, destination.events, cursor.seq, self.batch_size
        )
        lane.seen_end, lane.waiting, lane.due_ms = end, len(items), None
        if not items:
            return None
        if len(items) < self.batch_size and not draining:
            written = self.store.outbox_written_at(items[0].seq)
            due = (written if written is not None else now) + self.linger_ms
            if now < due:
                lane.due_ms = due
                return due
        return Batch(destination, new_batch_id(), 1, cursor.seq, items)

    def _retry_batch(self, lane: _Lane, cursor: WebhookCursor, now: int) -> Batch | int | None:
        """The batch being retried, again: the same id and items, when its time has come."""
        if cursor.next_attempt_at is not None and now < cursor.next_attempt_at:
            return cursor.next_attempt_at
        destination = lane.destination
        items = self.store.outbox_items(
            destination.brand_id,
            destination.id,
            destination.events,
            cursor.seq,
            self.batch_size,
            through_seq=cursor.batch_end,
        )
        assert cursor.batch_id is not None
        if not items:  # nothing left of it (its kinds unsubscribed): move past it
            lane.cursor = WebhookCursor(dest_id=cursor.dest_id, seq=cursor.batch_end or cursor.seq)
            self.store.save_webhook_cursor(lane.cursor)
            return None
        return Batch(destination, cursor.batch_id, cursor.attempt + 1, cursor.seq, items)

    def _launch(self, lane: _Lane, batch: Batch) -> None:
        lane.busy = True
        thread = threading.Thread(
            target=self._deliver, args=(lane, batch), name="webhook-batch", daemon=True
        )
        thread.start()

    def _deliver(self, lane: _Lane, batch: Batch) -> None:
        """One attempt and its consequences (in the batch's own thread). An unexpected error
        counts as a retried failure; one while settling pauses the lane for a while (the
        batch goes again then) rather than resending it in a loop."""
        try:
            result = self._send(batch)
            ops_jobs.webhook_batch(batch, result)
            self._settle(lane, batch, result)
        except Exception:
            log.exception("webhooks: settling batch %s failed", batch.batch_id)
            lane.paused_until_ms = self._now_ms() + int(_ERROR_PAUSE_S * 1000)
        finally:
            lane.busy = False
            self.wakeup.set()

    def _send(self, batch: Batch) -> Result:
        try:
            return self.sender.send(batch.destination, batch.batch_id, batch.items, self._now_s())
        except Exception as exc:
            log.exception("webhooks: sending batch %s failed", batch.batch_id)
            return Result("retry", error=f"internal error: {type(exc).__name__}")

    def _settle(self, lane: _Lane, batch: Batch, result: Result) -> None:
        if self._closed:
            return  # the store may be closed: the batch is resent after the restart
        cursor = self.settler.settle(batch, result, self._now_ms())
        lane.forget()
        if cursor is None:
            lane.gone = True
        else:
            lane.cursor = cursor

    def _now_s(self) -> int:
        return int(self.clock())

    def backlog(self) -> int:
        """Outbox items past the slowest destination's cursor (an upper bound: items of other
        brands and kinds in between count too); read by ``/metrics``."""
        cursors = [lane.cursor.seq for lane in list(self._lanes.values()) if not lane.gone]
        return max(self.store.outbox_end() - min(cursors), 0) if cursors else 0
