"""The ingest inbox (issue 17) piece by piece, on real files and real stores: the log's
sequence numbers and durability, a batch written again adding nothing, a restart resuming past
what a store already holds, the read barrier and the inbox's gauges."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import queue
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from collector.app import create_app
from collector.cli import create_brand
from collector.config import Settings
from collector.inbox.log import InboxInUse, InboxLog, InboxRecord, inbox_path
from collector.inbox.segments import read_directory, read_state
from collector.storage import open_store
from collector.storage.base import Brand, BrandSettings, Click, ClickQuery, Event, Store
from collector.storage.inbox import InboxBatch
from tests.appkit import CHROME_UA, Kit, geoip_settings, make_beacon, now_ms
from tests.servers import clicktrail_cli, serve_in_thread, start_collector
from tests.storage_fixtures import chdb_test_url, drop_database


def record(body: bytes = b"{}", received_at: int | None = None) -> InboxRecord:
    return InboxRecord(received_at or now_ms(), "192.0.2.1", CHROME_UA, "en-GB", body)


def rows_in_file(path: Path) -> list[tuple[int, bytes]]:
    """(seq, body) of the records in the inbox directory's files, read on their own."""
    return [(seq, row[4]) for seq, row in read_directory(path)[1]]


# --- the log ---------------------------------------------------------------------------------


def test_sequence_numbers_keep_growing_after_a_trim_and_a_reopen(tmp_path: Path) -> None:
    path = tmp_path / "inbox"

    async def first_life() -> tuple[str, list[int]]:
        log = InboxLog(path)
        log.start()
        for n in range(3):
            await log.append(record(b"%d" % n))
        seqs = [r.seq for r in log.read(0, log.appended, 100)]
        await log.mark_done(log.appended)  # every row enriched: deleted
        await log.stop()
        return log.inbox_id, seqs

    async def second_life() -> tuple[str, int, int, list[int]]:
        log = InboxLog(path)
        log.start()
        done = log.done
        await log.append(record(b"3"))
        seqs = [r.seq for r in log.read(log.done, log.appended, 100)]
        await log.stop()
        return log.inbox_id, done, log.pending, seqs

    first_id, first_seqs = asyncio.run(first_life())
    assert first_seqs == [1, 2, 3]
    assert rows_in_file(path) == []  # trimmed behind the done mark
    second_id, done, pending, second_seqs = asyncio.run(second_life())
    assert (second_id, done, pending) == (first_id, 3, 1)
    assert second_seqs == [4]  # never 1 again, though the table was empty


def test_a_second_log_on_the_same_inbox_is_refused_until_the_first_stops(tmp_path: Path) -> None:
    path = tmp_path / "inbox"

    async def scenario() -> list[int]:
        first, second = InboxLog(path), InboxLog(path)
        first.start()
        with pytest.raises(InboxInUse, match="--inbox DIR"):
            second.start()
        await first.append(record(b"first"))
        await first.stop()
        second.start()  # the first let go of it
        await second.append(record(b"second"))
        seqs = [r.seq for r in second.read(0, second.appended, 10)]
        await second.stop()
        return seqs

    assert asyncio.run(scenario()) == [1, 2]  # one numbering, nothing written over


def test_a_second_collector_on_the_same_database_refuses_to_start(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'clicktrail.db'}"
    clicktrail_cli("brands", "create", "shop", "--domain", "shop.example", database=database)
    first = start_collector("serve", database, tmp_path / "first.log")
    try:
        with pytest.raises(RuntimeError, match="in use by another collector"):
            start_collector("serve", database, tmp_path / "second.log")
        assert httpx.get(first.url + "/healthz").status_code == 200
    finally:
        first.stop()


def test_collectors_of_two_databases_have_inboxes_of_their_own(
    store_url: str, tmp_path: Path
) -> None:
    other_url = (
        f"sqlite:///{tmp_path / 'other.db'}" if store_url.startswith("sqlite") else chdb_test_url()
    )
    stores = [open_store(store_url), open_store(other_url)]
    try:
        paths = {inbox_path(Settings(), store) for store in stores}
    finally:
        for store in stores:
            store.close()
        if not other_url.startswith("sqlite"):
            drop_database(other_url)
    assert len(paths) == 2


def test_a_record_is_durable_when_append_returns(tmp_path: Path) -> None:
    path = tmp_path / "inbox"
    body = json.dumps(make_beacon("site")).encode()

    async def append_and_look() -> list[tuple[int, bytes]]:
        log = InboxLog(path)
        log.start()
        await log.append(record(body))
        seen = rows_in_file(path)  # another connection, while the log is still open
        await log.stop()
        return seen

    assert asyncio.run(append_and_look()) == [(1, body)]


def test_appends_are_answered_while_the_state_file_is_slow_to_write(tmp_path: Path) -> None:
    """A mark's write waits on the file system (here a FIFO in the staged state file's place,
    which blocks its writer until read); the door's appends are answered meanwhile. Were the
    mark written where the appends are, the FIFO would be read only by the timeout."""
    path = tmp_path / "inbox"
    appended, read = threading.Event(), queue.Queue[tuple[bool, str]]()

    def release() -> None:
        on_time = appended.wait(timeout=10)
        with open(path / "state.json.new") as fifo:
            read.put((on_time, fifo.read()))

    async def scenario() -> int:
        log = InboxLog(path)
        log.start()
        await log.append(record(b"1"))
        os.mkfifo(path / "state.json.new")
        marking = asyncio.create_task(log.mark_done(1))
        await asyncio.sleep(0.05)  # the mark's write is waiting for a reader now
        await log.append(record(b"2"))
        appended.set()
        await marking
        await log.mark_done(2)  # a regular state file again
        await log.stop()
        return log.appended

    reader = threading.Thread(target=release)
    reader.start()
    assert asyncio.run(scenario()) == 2
    reader.join()
    on_time, written = read.get_nowait()
    assert on_time, "the append waited for the state file's write"
    assert json.loads(written)["done"] == 1
    assert read_state(path)["done"] == 2


def test_pending_and_lag_follow_the_oldest_record_not_enriched(tmp_path: Path) -> None:
    async def scenario() -> list[tuple[int, float]]:
        log = InboxLog(tmp_path / "inbox")
        log.start()
        now = now_ms()
        seen = [(log.pending, log.lag_seconds(now))]
        await log.append(record(received_at=now - 5_000))
        await log.append(record(received_at=now - 1_000))
        seen.append((log.pending, log.lag_seconds(now)))
        await log.mark_done(2)
        seen.append((log.pending, log.lag_seconds(now)))
        await log.stop()
        return seen

    assert asyncio.run(scenario()) == [(0, 0.0), (2, 5.0), (0, 0.0)]


# --- a batch written again -------------------------------------------------------------------


def rows_of(brand: Brand, beacons: list[dict[str, Any]]) -> tuple[list[Click], list[Event]]:
    """One click and one page_view per beacon, as the enricher would make them."""
    clicks = [
        Click(id=b["p"], brand_id=brand.id, session_id=b["s"], visitor_id=b["v"], created_at=ts)
        for b in beacons
        for ts in [b["e"][0]["ts"]]
    ]
    events = [
        Event(
            brand_id=brand.id,
            click_id=b["p"],
            session_id=b["s"],
            type="page_view",
            timestamp=b["e"][0]["ts"],
            seq=0,
        )
        for b in beacons
    ]
    return clicks, events


def stored_counts(store: Store, brand: Brand, click_ids: list[str]) -> tuple[Counter, Counter]:
    """How many times each click, and each click's events, are stored."""
    _, clicks = store.list_clicks(brand.id, ClickQuery())
    events = store.events_for_clicks(brand.id, click_ids)
    return Counter(c.id for c in clicks), Counter(e.click_id for e in events)


def test_a_batch_written_again_with_its_inbox_batch_adds_nothing(store: Store) -> None:
    brand = create_brand(store, "again", ["shop.example"], BrandSettings())
    beacons = [make_beacon(brand.site_key) for _ in range(2)]
    clicks, events = rows_of(brand, beacons)
    batch = InboxBatch("0123456789abcdef", 0, 2)
    store.inbox_done(batch.inbox_id)  # the enricher's start (ClickHouse: the dedup window)
    store.write_batch(clicks, events, inbox_batch=batch)
    store.write_batch(clicks, events, inbox_batch=batch)  # a crash made the enricher redo it
    ids = [c.id for c in clicks]
    assert stored_counts(store, brand, ids) == (Counter(ids), Counter(ids))


def test_the_next_batch_with_the_same_rows_is_stored(store: Store) -> None:
    """Only the same batch is dropped: the next batch's events go in (the clicks, by id, not)."""
    brand = create_brand(store, "next", ["shop.example"], BrandSettings())
    clicks, events = rows_of(brand, [make_beacon(brand.site_key)])
    store.inbox_done("0123456789abcdef")
    store.write_batch(clicks, events, inbox_batch=InboxBatch("0123456789abcdef", 0, 1))
    store.write_batch(clicks, events, inbox_batch=InboxBatch("0123456789abcdef", 1, 2))
    click_id = clicks[0].id
    assert stored_counts(store, brand, [click_id]) == (
        Counter({click_id: 1}),
        Counter({click_id: 2}),
    )


# --- a restart -------------------------------------------------------------------------------


@contextlib.contextmanager
def collector_on(store: Store, inbox: Path, testdata: Path) -> Iterator[httpx.Client]:
    """A real collector over ``store`` with ``inbox`` as its inbox file, on loopback."""
    settings = geoip_settings(testdata, inbox=str(inbox))
    with (
        serve_in_thread(create_app(settings, store=store)) as url,
        httpx.Client(base_url=url, timeout=30) as http,
    ):
        yield http


def fill_inbox(path: Path, beacons: list[dict[str, Any]], claim: int) -> str:
    """Append ``beacons`` to a new inbox (and claim the first ``claim``, as the ClickHouse
    enricher does before it writes a batch); its id."""

    async def fill() -> str:
        log = InboxLog(path)
        log.start()
        for beacon in beacons:
            await log.append(record(json.dumps(beacon).encode()))
        if claim:
            await log.claim(claim)
        await log.stop()
        return log.inbox_id

    return asyncio.run(fill())


def inbox_state(path: Path) -> dict[str, object]:
    return read_state(path)


def test_a_restart_skips_a_batch_the_store_holds_but_the_log_did_not_mark(
    store: Store, tmp_path: Path, testdata_dir: Path
) -> None:
    """The crash came after the batch of rows 1-2 was written, before the log marked it done.
    SQLite: the store's mark (written with the batch) is ahead of the log's, and the enricher
    starts after it. ClickHouse: the log claimed rows 1-2; they are enriched again with the
    same deduplication token, and nothing is added."""
    brand = create_brand(store, "restart", ["shop.example"], BrandSettings())
    beacons = [make_beacon(brand.site_key) for _ in range(3)]
    inbox = tmp_path / "inbox"
    inbox_id = fill_inbox(inbox, beacons, claim=0 if store.marks_inbox_in_batch else 2)
    store.inbox_done(inbox_id)
    clicks, events = rows_of(brand, beacons[:2])
    store.write_batch(clicks, events, inbox_batch=InboxBatch(inbox_id, 0, 2))
    if store.marks_inbox_in_batch:
        assert store.inbox_done(inbox_id) == 2
    with collector_on(store, inbox, testdata_dir) as http:
        deadline = time.monotonic() + 10
        while inbox_state(inbox).get("done") != 3 and time.monotonic() < deadline:
            http.get("/")  # a read: waits for the enricher (up to 1 s)
        state = inbox_state(inbox)
    ids = [b["p"] for b in beacons]
    assert stored_counts(store, brand, ids) == (Counter(ids), Counter(ids))
    assert (state["done"], state["claimed"]) == (3, 3)
    assert rows_in_file(inbox) == []


# --- through HTTP ----------------------------------------------------------------------------


def test_a_read_right_after_the_answers_sees_every_beacon(kit: Kit) -> None:
    beacons = [kit.beacon() for _ in range(40)]
    for beacon in beacons:
        answer = kit.http.post("/collect", json=beacon, headers={"user-agent": CHROME_UA})
        assert answer.status_code == 204, answer.text
    listed = kit.api("/clicks")  # no settle(): the read itself waits for the enricher
    assert listed.status_code == 200, listed.text
    assert listed.json()["total"] == len(beacons)
    last = kit.api(f"/clicks/{beacons[-1]['p']}")
    assert last.status_code == 200, last.text


def scrape(kit: Kit) -> dict[str, float]:
    answer = kit.http.get("/metrics", headers={"Authorization": f"Bearer {kit.admin_key}"})
    assert answer.status_code == 200, answer.text
    return {
        sample.name: sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
        if not sample.labels
    }


def test_metrics_show_the_inbox_pending_and_its_lag(kit: Kit) -> None:
    before = scrape(kit)
    kit.collect(kit.beacon())  # answered, then a read: enriched
    after = scrape(kit)
    for samples in (before, after):
        assert samples["clicktrail_inbox_pending"] == 0
        assert samples["clicktrail_inbox_lag_seconds"] == 0
