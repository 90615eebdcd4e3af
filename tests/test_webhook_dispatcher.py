"""The dispatcher on a real store (both engines) delivering to real loopback receivers:
batching (500 items, or 1 s after the first), retries (500, a timeout, a dropped connection,
Retry-After), what stops a destination (410, 5 days of failure), what moves past a batch (a
400, the schedule used up), the drain on stop, and a restart resuming a batch with its id."""

from __future__ import annotations

import base64
import ipaddress
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import msgspec

from collector.ids import new_id
from collector.storage.base import BrandSettings, Store
from collector.storage.model import Delivery, OutboxItem, WebhookDestination
from collector.webhooks.delivery import Sender
from collector.webhooks.dispatcher import Dispatcher
from collector.webhooks.settle import FAILING_LIMIT_MS, GONE_REASON
from tests.appkit import geoip_settings, run_kit
from tests.webhook_receiver import DROP, Answer, hang, receiving

LOOPBACK = (ipaddress.ip_network("127.0.0.0/8"),)
SHORT = (0.2, 0.2, 0.2, 0.2)


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def new_brand(store: Store) -> int:
    name = "b" + new_id()[-8:]
    return store.create_brand(name, f"site-{name}", [f"{name}.example"], BrandSettings(), 0).id


def add_destination(store: Store, brand_id: int, url: str, **fields: Any) -> WebhookDestination:
    at = now_ms() - 1000  # items made from now on are its
    fields.setdefault("events", ["click", "pageview"])
    dest = WebhookDestination(
        id=new_id(),
        brand_id=brand_id,
        url=url,
        secret="whsec_" + base64.b64encode(b"k" * 24).decode(),
        public_key="pk_" + new_id(),
        created_at=at,
        updated_at=at,
        **fields,
    )
    store.add_webhook(dest)
    return dest


def write_items(store: Store, brand_id: int, count: int, kind: str = "pageview") -> list[str]:
    ids = [new_id() for _ in range(count)]
    items = [
        OutboxItem(
            item_id=i,
            brand_id=brand_id,
            kind=kind,
            created_at=now_ms(),
            body=msgspec.json.encode({"id": i, "type": kind}),
        )
        for i in ids
    ]
    assert store.append_outbox(items) == count
    return ids


class Clock:
    """Wall time plus an offset a test moves forward."""

    def __init__(self) -> None:
        self.offset_s = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset_s


@contextmanager
def dispatching(store: Store, schedule=SHORT, **options: Any) -> Iterator[Dispatcher]:
    """A started dispatcher (fast reloads, a 1 s send timeout), stopped after the block."""
    options.setdefault("reload_s", 0.1)
    dispatcher = Dispatcher(
        store,
        threading.Event(),
        Sender(LOOPBACK, timeout_s=options.pop("timeout_s", 1.0)),
        schedule,
        **options,
    )
    dispatcher.start()
    try:
        yield dispatcher
    finally:
        dispatcher.stop(5.0)


def wait_until(condition, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def deliveries(store: Store, dest: WebhookDestination) -> list[Delivery]:
    """The destination's attempts, oldest first."""
    return list(reversed(store.list_deliveries(dest.brand_id, dest.id, 100, 0)[1]))


def watched(store: Store, dest: WebhookDestination) -> bool:
    return dest.id in store.webhook_cursors()


def test_a_batch_goes_out_a_second_after_its_first_item(store: Store) -> None:
    brand = new_brand(store)
    with receiving() as got, dispatching(store) as dispatcher:
        dest = add_destination(store, brand, got.url + "/hook")
        assert wait_until(lambda: watched(store, dest))
        ids = write_items(store, brand, 3)
        written = time.monotonic()
        dispatcher.wakeup.set()
        time.sleep(0.3)
        more = write_items(store, brand, 2)
        dispatcher.wakeup.set()
        assert got.wait_for(lambda: len(got.delivered_ids()) == 5)
    [request] = got.requests
    assert request.item_ids() == ids + more
    assert 0.9 <= request.at - written < 1.6
    assert [d.outcome for d in deliveries(store, dest)] == ["delivered"]


def test_500_waiting_items_go_at_once_in_order(store: Store) -> None:
    brand = new_brand(store)
    with receiving() as got, dispatching(store) as dispatcher:
        dest = add_destination(store, brand, got.url)
        assert wait_until(lambda: watched(store, dest))
        ids = write_items(store, brand, 1200)
        written = time.monotonic()
        dispatcher.wakeup.set()
        assert got.wait_for(lambda: len(got.delivered_ids()) == 1200)
    assert [len(r.item_ids()) for r in got.requests] == [500, 500, 200]
    assert got.delivered_ids() == ids
    assert got.requests[1].at - written < 0.9  # full batches do not wait for the second
    assert len({r.headers["webhook-id"] for r in got.requests}) == 3


def test_a_failing_batch_is_retried_with_its_id_until_it_arrives(store: Store) -> None:
    brand = new_brand(store)
    script = [Answer(500), hang(1.5), DROP]
    with receiving(script) as got, dispatching(store, timeout_s=0.5) as dispatcher:
        dest = add_destination(store, brand, got.url)
        assert wait_until(lambda: watched(store, dest))
        ids = write_items(store, brand, 4)
        dispatcher.wakeup.set()
        assert got.wait_for(lambda: got.delivered_ids() == ids)
        assert wait_until(lambda: len(deliveries(store, dest)) == 4)
    assert len(got.requests) == 4
    assert len({r.headers["webhook-id"] for r in got.requests}) == 1
    assert all(r.item_ids() == ids for r in got.requests)
    log = deliveries(store, dest)
    assert [d.attempt for d in log] == [1, 2, 3, 4]
    assert [d.outcome for d in log] == ["retrying"] * 3 + ["delivered"]
    assert [d.status for d in log] == [500, None, None, 200]
    assert log[1].error == "timed out" and log[2].error
    assert all(d.next_attempt_at for d in log[:3]) and log[3].next_attempt_at is None
    assert store.get_webhook(brand, dest.id).failing_since is None  # cleared by the success


def test_retry_after_is_honoured(store: Store) -> None:
    brand = new_brand(store)
    with (
        receiving([Answer(503, {"Retry-After": "2"})]) as got,
        dispatching(store, schedule=(0.1,)) as dispatcher,
    ):
        dest = add_destination(store, brand, got.url)
        assert wait_until(lambda: watched(store, dest))
        write_items(store, brand, 1)
        dispatcher.wakeup.set()
        assert got.wait_for(lambda: len(got.delivered()) == 1)
    first, second = got.requests
    assert 1.9 <= second.at - first.at < 3.0


def test_410_disables_the_destination(store: Store) -> None:
    brand = new_brand(store)
    with receiving([Answer(410)]) as got, dispatching(store) as dispatcher:
        dest = add_destination(store, brand, got.url)
        assert wait_until(lambda: watched(store, dest))
        write_items(store, brand, 2)
        dispatcher.wakeup.set()
        assert wait_until(lambda: not store.get_webhook(brand, dest.id).enabled)
        assert wait_until(lambda: not watched(store, dest))
        write_items(store, brand, 2)
        time.sleep(1.5)
    stored = store.get_webhook(brand, dest.id)
    assert stored.disabled_reason == GONE_REASON and stored.disabled_at
    assert len(got.requests) == 1
    assert [d.outcome for d in deliveries(store, dest)] == ["disabled"]


def test_a_refused_batch_is_not_retried_and_the_next_one_goes(store: Store) -> None:
    brand = new_brand(store)
    with receiving([Answer(400)]) as got, dispatching(store) as dispatcher:
        dest = add_destination(store, brand, got.url)
        assert wait_until(lambda: watched(store, dest))
        refused = write_items(store, brand, 2)
        dispatcher.wakeup.set()
        assert got.wait_for(lambda: len(got.requests) == 1)
        later = write_items(store, brand, 2)
        assert got.wait_for(lambda: got.delivered_ids() == later)
    assert got.requests[0].item_ids() == refused
    assert [d.outcome for d in deliveries(store, dest)] == ["failed", "delivered"]


def test_a_batch_is_given_up_once_the_schedule_is_used_up(store: Store) -> None:
    brand = new_brand(store)
    with (
        receiving([Answer(500)] * 3) as got,
        dispatching(store, schedule=(0.1, 0.1)) as dispatcher,
    ):
        dest = add_destination(store, brand, got.url)
        assert wait_until(lambda: watched(store, dest))
        lost = write_items(store, brand, 1)
        dispatcher.wakeup.set()
        assert got.wait_for(lambda: len(got.requests) == 3)
        assert wait_until(lambda: len(deliveries(store, dest)) == 3)
        assert store.get_webhook(brand, dest.id).failing_since is not None
        later = write_items(store, brand, 1)
        assert got.wait_for(lambda: got.delivered_ids() == later)
    assert all(r.item_ids() == lost for r in got.requests[:3])
    outcomes = [d.outcome for d in deliveries(store, dest)]
    assert outcomes == ["retrying", "retrying", "gave_up", "delivered"]


def test_five_days_of_failure_disable_the_destination(store: Store) -> None:
    brand = new_brand(store)
    clock = Clock()
    with (
        receiving([Answer(500)] * 10) as got,
        dispatching(store, schedule=(0.2,) * 9, clock=clock) as dispatcher,
    ):
        dest = add_destination(store, brand, got.url)
        assert wait_until(lambda: watched(store, dest))
        write_items(store, brand, 1)
        dispatcher.wakeup.set()
        assert wait_until(lambda: store.get_webhook(brand, dest.id).failing_since is not None)
        since = store.get_webhook(brand, dest.id).failing_since
        clock.offset_s = FAILING_LIMIT_MS / 1000 + 1
        assert wait_until(lambda: not store.get_webhook(brand, dest.id).enabled)
    stored = store.get_webhook(brand, dest.id)
    assert stored.disabled_reason.startswith("deliveries failed for 5 days since ")
    assert stored.failing_since == since
    assert [d.outcome for d in deliveries(store, dest)][-1] == "disabled"


def test_stop_drains_what_is_waiting_at_once(store: Store) -> None:
    brand = new_brand(store)
    with receiving() as got:
        with dispatching(store, linger_s=60.0) as dispatcher:
            dest = add_destination(store, brand, got.url)
            assert wait_until(lambda: watched(store, dest))
            ids = write_items(store, brand, 7)
            dispatcher.wakeup.set()
            time.sleep(0.3)
            assert got.requests == []  # waiting for its linger
            started = time.monotonic()
            assert dispatcher.stop(5.0)
            assert time.monotonic() - started < 2.0
        assert got.delivered_ids() == ids
    assert store.webhook_cursors()[dest.id].seq > 0


def test_a_restart_resumes_the_batch_being_retried_with_its_id(store: Store) -> None:
    brand = new_brand(store)
    with receiving([Answer(500)]) as got:
        with dispatching(store, schedule=(1.0,)) as first:
            dest = add_destination(store, brand, got.url)
            assert wait_until(lambda: watched(store, dest))
            ids = write_items(store, brand, 3)
            first.wakeup.set()
            assert wait_until(lambda: store.webhook_cursors()[dest.id].batch_id is not None)
        cursor = store.webhook_cursors()[dest.id]
        assert cursor.attempt == 1 and got.requests[0].headers["webhook-id"] == cursor.batch_id
        with dispatching(store, schedule=(1.0,)):
            assert got.wait_for(lambda: got.delivered_ids() == ids)
    assert [r.headers["webhook-id"] for r in got.requests] == [cursor.batch_id] * 2
    assert [d.attempt for d in deliveries(store, dest)] == [1, 2]


def test_a_new_destination_gets_the_items_made_since_it_was_created(store: Store) -> None:
    brand = new_brand(store)
    with receiving() as older, receiving() as newer, dispatching(store) as dispatcher:
        first = add_destination(store, brand, older.url)
        assert wait_until(lambda: watched(store, first))
        before = write_items(store, brand, 2)
        time.sleep(0.05)
        second = add_destination(store, brand, newer.url)
        second.updated_at = second.created_at = now_ms()
        store.update_webhook(second)
        since = write_items(store, brand, 2)  # written before the dispatcher sees `second`
        dispatcher.wakeup.set()
        assert older.wait_for(lambda: older.delivered_ids() == before + since)
        assert newer.wait_for(lambda: newer.delivered_ids() == since)


def test_settled_items_are_pruned(store: Store) -> None:
    brand = new_brand(store)
    with receiving() as got, dispatching(store, prune_s=0.2) as dispatcher:
        dest = add_destination(store, brand, got.url)
        assert wait_until(lambda: watched(store, dest))
        write_items(store, brand, 3)
        dispatcher.wakeup.set()
        assert got.wait_for(lambda: len(got.delivered_ids()) == 3)
        assert wait_until(lambda: store.outbox_items(brand, dest.id, dest.events, 0, 10) == [])


def test_destinations_are_delivered_in_parallel(store: Store) -> None:
    brand = new_brand(store)
    with receiving([Answer(delay_s=0.8)]) as slow, receiving() as fast:
        with dispatching(store) as dispatcher:
            stuck = add_destination(store, brand, slow.url)
            quick = add_destination(store, brand, fast.url)
            assert wait_until(lambda: watched(store, stuck) and watched(store, quick))
            write_items(store, brand, 1)
            dispatcher.wakeup.set()
            assert fast.wait_for(lambda: len(fast.delivered()) == 1)
            assert slow.wait_for(lambda: len(slow.delivered()) == 1)
        assert abs(fast.requests[0].at - slow.requests[0].at) < 0.3


def test_an_unexpected_error_is_a_retried_failure_not_a_loop(store: Store) -> None:
    brand = new_brand(store)  # a header value the API would refuse: http.client raises
    with receiving() as got, dispatching(store, schedule=(0.3, 0.3)) as dispatcher:
        dest = add_destination(store, brand, got.url, header_key="X-A", header_value="a\nb")
        assert wait_until(lambda: watched(store, dest))
        write_items(store, brand, 1)
        dispatcher.wakeup.set()
        assert wait_until(lambda: len(deliveries(store, dest)) == 3)
        time.sleep(0.5)
    log = deliveries(store, dest)
    assert [d.outcome for d in log] == ["retrying", "retrying", "gave_up"]
    assert log[0].error == "internal error: ValueError"
    assert got.requests == []


def test_a_collector_stopping_delivers_what_it_just_answered(
    store: Store, testdata_dir: Path, tmp_path: Path
) -> None:
    """The runtime's dispatcher drains when the collector stops: page views answered 204 just
    before go out during the stop, without waiting for their second."""
    settings = geoip_settings(
        testdata_dir, replay_assets_dir=str(tmp_path / "assets"), webhook_networks="127.0.0.0/8"
    )
    with receiving() as got:
        with contextmanager(run_kit)(store, settings) as kit:
            made = kit.http.post(
                f"/api/brands/{kit.brand.id}/webhooks",
                json={"url": got.url + "/hook", "events": ["pageview"]},
                headers={"EF-Access-Key": kit.admin_key},
            )
            assert made.status_code == 201, made.text
            assert wait_until(lambda: made.json()["id"] in store.webhook_cursors())
            beacons = [kit.beacon() for _ in range(3)]
            assert all(kit.collect(b).status_code == 204 for b in beacons)
            answered = time.monotonic()
        assert got.wait_for(lambda: len(got.delivered_ids()) == 3, timeout=1)
    assert sorted(got.delivered_ids()) == sorted(b["p"] for b in beacons)
    assert got.requests[0].at - answered < 0.9
