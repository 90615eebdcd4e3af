"""An answered beacon is never lost: the collector is killed or stopped right after answering,
and the data is in the database when it comes back."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from collector.storage import open_store
from collector.storage.base import ClickQuery
from tests.appkit import make_beacon

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start(database: str, *extra: str) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "collector",
            "serve",
            "--port",
            str(port),
            "--database",
            database,
            *extra,
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return process, url
        except httpx.HTTPError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError(process.stderr.read().decode())


def _brand(database: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "collector", "brands", "create", "durable", "--database", database],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)


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
    brand = _brand(database)
    process, url = _start(database)
    try:
        answered = _send_many(url, brand["site_key"], 200)
    finally:
        process.send_signal(stop)
        process.wait(timeout=30)
    assert len(answered) == 200
    assert set(answered) <= _stored_ids(database, brand["id"])


def test_forwarded_for_from_an_untrusted_peer_is_ignored(tmp_path):
    database = f"sqlite:///{tmp_path}/ct.db"
    brand = _brand(database)
    process, url = _start(database)  # no --trusted-proxies: nobody may set X-Forwarded-For
    try:
        beacon = make_beacon(brand["site_key"], u="http://localhost/")
        response = httpx.post(
            url + "/collect", content=json.dumps(beacon), headers={"x-forwarded-for": "81.2.69.160"}
        )
        assert response.status_code == 204
    finally:
        process.terminate()
        process.wait(timeout=30)
    store = open_store(database)
    try:
        assert store.get_click(brand["id"], beacon["p"]).ip_address == "127.0.0.1"
    finally:
        store.close()
