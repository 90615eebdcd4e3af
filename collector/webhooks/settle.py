"""What an attempt's :class:`~collector.webhooks.delivery.Result` changes: the delivery log
(every attempt), the destination's cursor, and the destination itself (failing since when,
disabled and why).

- Delivered (2xx): the cursor moves past the batch; ``failing_since`` is cleared.
- Retried (408, 429, 5xx, no answer, a refused address): the batch is tried again after the
  schedule's next delay times a jitter of 0.9-1.1, or after the receiver's ``Retry-After`` when
  that is later (capped at a day). Once the schedule is used up the batch is given up
  (``gave_up``) and the cursor moves past it.
- Failed (3xx, the other 4xx): not retried, the cursor moves past the batch.
- 410 Gone, or failing for 5 days: the destination is disabled, its cursor deleted.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass

import msgspec

from collector.http.params import iso
from collector.ids import new_id
from collector.storage.base import Store
from collector.storage.model import Delivery, OutboxItem, WebhookCursor, WebhookDestination
from collector.webhooks.delivery import Result, event_types

log = logging.getLogger("clicktrail.webhooks")

DEFAULT_RETRY_SCHEDULE: tuple[float, ...] = (
    5,
    300,
    1800,
    7200,
    18000,
    36000,
    50400,
    72000,
    86400,
)
FAILING_LIMIT_MS = 5 * 86_400_000  # failing this long disables a destination
GONE_REASON = "the receiver answered 410 Gone"


@dataclass(frozen=True)
class Batch:
    """One batch of one destination: the items after ``after_seq``, sent as ``batch_id``, this
    being attempt number ``attempt``."""

    destination: WebhookDestination
    batch_id: str
    attempt: int
    after_seq: int
    items: list[OutboxItem]

    @property
    def end(self) -> int:
        return self.items[-1].seq


def new_batch_id() -> str:
    return "msg_" + new_id()


def retry_delay_s(
    schedule: tuple[float, ...],
    attempt: int,
    retry_after_s: float | None,
    jitter: Callable[[], float] = random.random,
) -> float | None:
    """Seconds before the attempt after ``attempt`` (1 = the first), or None when the schedule
    is used up. A receiver's ``Retry-After`` wins when it asks for longer."""
    if attempt > len(schedule):
        return None
    delay = schedule[attempt - 1] * (0.9 + 0.2 * jitter())
    return max(delay, retry_after_s or 0.0)


class Settler:
    """Applies results to the store; thread-safe (each destination has one batch in flight)."""

    def __init__(
        self,
        store: Store,
        schedule: tuple[float, ...],
        on_change: Callable[[], None] = lambda: None,
    ) -> None:
        self.store = store
        self.schedule = schedule
        self.on_change = on_change  # a destination was changed (the feed's cache is stale)

    def settle(self, batch: Batch, result: Result, now_ms: int) -> WebhookCursor | None:
        """Log the attempt and move on; the destination's cursor after it, or None when the
        destination is gone or disabled (its cursor deleted)."""
        old = batch.destination
        current = self.store.get_webhook(old.brand_id, old.id)
        if current is None:  # deleted meanwhile: its log and cursor went with it
            return None
        outcome, cursor, reason = self._decide(batch, result, current, now_ms)
        self.store.add_deliveries([_delivery(batch, result, outcome, cursor, now_ms)])
        self._update_destination(current, result, reason, now_ms)
        if cursor is None:
            self.store.delete_webhook_cursor(old.id)
        else:
            self.store.save_webhook_cursor(cursor)
        return cursor

    def _decide(
        self, batch: Batch, result: Result, current: WebhookDestination, now_ms: int
    ) -> tuple[str, WebhookCursor | None, str | None]:
        """(outcome, cursor after the attempt, reason to disable the destination)."""
        dest_id = batch.destination.id
        past = WebhookCursor(dest_id=dest_id, seq=batch.end)
        if result.verdict == "delivered":
            return "delivered", past, None
        if result.verdict == "gone":
            return "disabled", None, GONE_REASON
        failing_since = current.failing_since or now_ms
        if now_ms - failing_since >= FAILING_LIMIT_MS:
            return "disabled", None, f"deliveries failed for 5 days since {iso(failing_since)}"
        if result.verdict == "failed":
            return "failed", past, None
        delay = retry_delay_s(self.schedule, batch.attempt, result.retry_after_s)
        if delay is None:
            return "gave_up", past, None
        retry = WebhookCursor(
            dest_id=dest_id,
            seq=batch.after_seq,
            batch_id=batch.batch_id,
            batch_end=batch.end,
            attempt=batch.attempt,
            next_attempt_at=now_ms + int(delay * 1000),
        )
        return "retrying", retry, None

    def _update_destination(
        self, current: WebhookDestination, result: Result, reason: str | None, now_ms: int
    ) -> None:
        """Clear or set ``failing_since``, or disable, when that changes anything."""
        changed = current
        if reason is not None:
            changed = _copy(current, enabled=False, disabled_reason=reason, disabled_at=now_ms)
            log.warning("webhook %s disabled: %s", current.id, reason)
        elif result.verdict == "delivered" and current.failing_since is not None:
            changed = _copy(current, failing_since=None)
        elif result.verdict != "delivered" and current.failing_since is None:
            changed = _copy(current, failing_since=now_ms)
        if changed is current:
            return
        changed.updated_at = now_ms
        self.store.update_webhook(changed)
        if reason is not None:
            self.on_change()


def _copy(destination: WebhookDestination, **changes: object) -> WebhookDestination:
    return msgspec.structs.replace(destination, **changes)


def _delivery(
    batch: Batch, result: Result, outcome: str, cursor: WebhookCursor | None, now_ms: int
) -> Delivery:
    retrying = cursor is not None and cursor.batch_id is not None
    return Delivery(
        id=new_id(now_ms),
        brand_id=batch.destination.brand_id,
        dest_id=batch.destination.id,
        batch_id=batch.batch_id,
        attempt=batch.attempt,
        items=len(batch.items),
        kinds=event_types(batch.items),
        status=result.status,
        error=result.error,
        latency_ms=result.latency_ms,
        response=result.response,
        attempted_at=now_ms - result.latency_ms,
        next_attempt_at=cursor.next_attempt_at if retrying and cursor else None,
        outcome=outcome,
    )
