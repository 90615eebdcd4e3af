"""An answered beacon is never lost: the collector is killed or stopped right after answering,
and the data is in the database when it comes back."""

from __future__ import annotations

import gzip
import json
import signal
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from collector.storage import open_store
from collector.storage.base import ClickQuery
from tests.appkit import make_beacon
from tests.servers import clicktrail_cli, start_collector


def _send_many(url: str, site_key: str, count: int) -> list[str]:
    """Posts ``count`` beacons concurrently; returns the page ids answered 204."""
    beacons = [make_beacon(site_key, u="http://localhost/landing") for _ in range(count)]

    def send(beacon: dict) -> str | None:
        with httpx.Client(timeout=30) as client:
            response = client.post(url + "/collect", content=json.dumps(beacon))
        return beacon["p"] if response.status_code == 204 else None

    with ThreadPoolExecutor(max_workers=16) as pool:
        return [p for p in pool.map(send, beacons) if p]


def _stored_ids(database: str, brand_id: int) -> set[str]:
    store = open_store(database)
    try:
        total, _ = store.list_clicks(brand_id, ClickQuery(limit=1))
        ids: set[str] = set()
        offset = 0
        while offset < total:
            _, rows = store.list_clicks(brand_id, ClickQuery(limit=500, offset=offset))
            ids.update(row.id for row in rows)
            offset += 500
        return ids
    finally:
        store.close()


@pytest.mark.parametrize("stop", [signal.SIGKILL, signal.SIGTERM], ids=["killed", "stopped"])
def test_every_answered_beacon_survives_the_process_ending(tmp_path, stop):
    database = f"sqlite:///{tmp_path}/ct.db"
    brand = clicktrail_cli("brands", "create", "durable", database=database)
    collector = start_collector("serve", database, tmp_path / "log")
    try:
        answered = _send_many(collector.url, brand["site_key"], 200)
    finally:
        collector.stop(stop)
    assert len(answered) == 200
    assert set(answered) <= _stored_after_restart(
        database, brand["id"], tmp_path / "log2", len(answered)
    )


def _stored_after_restart(database: str, brand_id: int, log_path, expected: int) -> set[str]:
    """Starts the collector again, which enriches what its inbox answered before it ended,
    and returns the stored page ids once ``expected`` are there (or after 30 s)."""
    collector = start_collector("serve", database, log_path)
    try:
        deadline = time.monotonic() + 30
        while True:
            stored = _stored_ids(database, brand_id)
            if len(stored) >= expected or time.monotonic() > deadline:
                return stored
            time.sleep(0.1)
    finally:
        collector.stop()


def test_forwarded_for_from_an_untrusted_peer_is_ignored(tmp_path):
    database = f"sqlite:///{tmp_path}/ct.db"
    brand = clicktrail_cli("brands", "create", "proxied", database=database)
    # no --trusted-proxies: nobody may set X-Forwarded-For
    collector = start_collector("serve", database, tmp_path / "log")
    try:
        beacon = make_beacon(brand["site_key"], u="http://localhost/")
        response = httpx.post(
            collector.url + "/collect",
            content=json.dumps(beacon),
            headers={"x-forwarded-for": "81.2.69.160"},
        )
        assert response.status_code == 204
    finally:
        collector.stop()
    store = open_store(database)
    try:
        assert store.get_click(brand["id"], beacon["p"]).ip_address == "127.0.0.1"
    finally:
        store.close()


def _send_replay_chunks(url: str, site_key: str, count: int) -> list[str]:
    """Posts ``count`` gzip'd replay chunks concurrently; returns the replay ids answered 204."""
    from collector.ids import new_id
    from tests.appkit import now_ms
    from tests.replay_samples import checkout_recording

    def send(_: int) -> str | None:
        envelope = {
            "k": site_key,
            "r": new_id(),
            "p": new_id(),
            "q": 0,
            "u": "http://localhost/checkout",
            "e": checkout_recording(now_ms()),
        }
        body = gzip.compress(json.dumps(envelope).encode())
        with httpx.Client(timeout=30) as client:
            response = client.post(url + "/collect/replay", content=body)
        return envelope["r"] if response.status_code == 204 else None

    with ThreadPoolExecutor(max_workers=16) as pool:
        return [r for r in pool.map(send, range(count)) if r]


def test_every_answered_replay_chunk_survives_the_process_being_killed(tmp_path):
    database = f"sqlite:///{tmp_path}/ct.db"
    brand = clicktrail_cli("brands", "create", "durable replays", database=database)
    collector = start_collector("serve", database, tmp_path / "log")
    try:
        answered = _send_replay_chunks(collector.url, brand["site_key"], 100)
    finally:
        collector.stop(signal.SIGKILL)
    assert len(answered) == 100
    store = open_store(database)
    try:
        missing = [r for r in answered if store.get_replay(brand["id"], r) is None]
    finally:
        store.close()
    assert missing == []
