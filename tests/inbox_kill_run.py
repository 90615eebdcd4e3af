"""The kill test of the ingest inbox (issue 17): sustained ingest of page views and multi-event
beacons to a real collector, ``kill -9`` while enrichment is behind, a restart on the same
database and inbox, and what the store then holds of each beacon.

``python -m tests.inbox_kill_run DATABASE_URL`` prints the stored clicks and events of a stopped
collector's database as JSON (a chDB engine binds a process to one path: the test process may
hold another)."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from collector.inbox.segments import read_directory
from tests.appkit import make_beacon, now_ms
from tests.servers import ROOT, CollectorProcess, clicktrail_cli, start_collector

EventKey = tuple[str, str, int]  # (click id, event type, seq)


@dataclass
class Sent:
    """What the load sent. ``answered``: the events of the beacons answered 204 (stored exactly
    once, no doubt); ``in_doubt``: the events of each beacon still in flight at the kill, stored
    whole or not at all. ``pages``: every page id sent."""

    answered: Counter[EventKey] = field(default_factory=Counter)
    in_doubt: list[list[EventKey]] = field(default_factory=list)
    pages: set[str] = field(default_factory=set)
    answered_pages: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)


@dataclass
class KillRun:
    sent: Sent
    pending_seen: int  # clicktrail_inbox_pending just before the kill (-1: not scraped)
    inbox_left: int  # rows past the done mark in the inbox file after the kill
    claimed_left: int  # rows claimed and not marked done (ClickHouse) after the kill
    stored_clicks: Counter[str]
    stored_events: Counter[EventKey]
    seconds_to_catch_up: float


def kill_run(
    database: str, workdir: Path, inbox: Path, *flags: str, ingest_seconds: float = 3.0
) -> KillRun:
    """Load for ``ingest_seconds``, then ``kill -9`` as soon as a scrape shows beacons pending
    (within 1.5 s more); restart, wait until the clicks API shows every answered page view, stop
    with SIGTERM and read the store."""
    brand = clicktrail_cli("brands", "create", "inbox", "--domain", "localhost", database=database)
    first = start_collector("serve", database, workdir / "first.log", *flags)
    sent = Sent()
    pending_seen = _load_then_kill(first, brand, sent, ingest_seconds)
    inbox_left, claimed_left = _inbox_marks(inbox)
    second = start_collector("serve", database, workdir / "second.log", *flags)
    try:
        started = time.monotonic()
        _wait_for_clicks(second, brand, len(sent.answered_pages), 30)
        waited = time.monotonic() - started
    finally:
        second.stop()
    clicks, events = stored_rows(database)
    return KillRun(sent, pending_seen, inbox_left, claimed_left, clicks, events, waited)


def _beacons(site_key: str, follow_up: bool) -> list[dict[str, Any]]:
    """A page view with a click and a custom event; with ``follow_up``, a later beacon of the
    same page with two more events (``n`` 0: no new click)."""
    ts = now_ms()
    first = make_beacon(
        site_key,
        u="http://localhost/landing",
        e=[
            {"t": "page_view", "ts": ts},
            {"t": "click", "ts": ts + 5, "d": {"s": "#buy", "x": 10, "y": 20}},
            {"t": "add_to_cart", "ts": ts + 9, "d": {"sku": "A-1"}},
        ],
    )
    if not follow_up:
        return [first]
    later = {key: first[key] for key in ("k", "v", "s", "p", "u")}
    later["e"] = [{"t": "scroll", "ts": ts + 20}, {"t": "checkout", "ts": ts + 30}]
    return [first, later]


def _keys(beacon: dict[str, Any]) -> list[EventKey]:
    return [(beacon["p"], event["t"], seq) for seq, event in enumerate(beacon["e"])]


def _send_pages(url: str, site_key: str, sent: Sent, stop_at: float) -> None:
    """One sender: pages until the collector is gone (or ``stop_at`` + 10 s)."""
    with httpx.Client(timeout=5) as client:
        pages = 0
        while time.monotonic() < stop_at + 10:
            pages += 1
            for beacon in _beacons(site_key, follow_up=pages % 2 == 0):
                with sent.lock:
                    sent.pages.add(beacon["p"])
                try:
                    status = client.post(url + "/collect", content=json.dumps(beacon)).status_code
                except httpx.HTTPError:  # killed: this one may or may not be in the inbox
                    with sent.lock:
                        sent.in_doubt.append(_keys(beacon))
                    return
                if status != 204:
                    break  # refused: nothing stored, and no later beacon for this page
                with sent.lock:
                    sent.answered.update(_keys(beacon))
                    sent.answered_pages.add(beacon["p"])


def _load_then_kill(
    collector: CollectorProcess, brand: dict[str, Any], sent: Sent, seconds: float
) -> int:
    """8 senders for ``seconds``; then ``kill -9`` once /metrics shows pending beacons."""
    stop_at = time.monotonic() + seconds
    threads = [
        threading.Thread(
            target=_send_pages, args=(collector.url, brand["site_key"], sent, stop_at), daemon=True
        )
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    pending = _scrape_until_pending(collector.url, brand["api_key"], 1.5)
    collector.process.send_signal(signal.SIGKILL)
    collector.process.wait(timeout=30)
    for thread in threads:
        thread.join(timeout=15)
    return pending


def _scrape_until_pending(url: str, key: str, seconds: float) -> int:
    """The first ``clicktrail_inbox_pending`` above 0 seen within ``seconds`` (else the last)."""
    pending = -1
    deadline = time.monotonic() + seconds
    with httpx.Client(timeout=5, headers={"Authorization": f"Bearer {key}"}) as client:
        while time.monotonic() < deadline:
            text = client.get(url + "/metrics").text
            pending = int(float(_sample(text, "clicktrail_inbox_pending")))
            if pending > 0:
                break
    return pending


def _sample(metrics_text: str, name: str) -> str:
    for line in metrics_text.splitlines():
        if line.startswith(name + " "):
            return line.split()[1]
    raise AssertionError(f"{name} is not in /metrics")


def _inbox_marks(inbox: Path) -> tuple[int, int]:
    """(records past the done mark, records claimed and not done) in the inbox directory."""
    state, records = read_directory(inbox)
    done, claimed = int(state.get("done", 0)), int(state.get("claimed", 0))  # type: ignore[call-overload]
    return sum(seq > done for seq, _ in records), max(0, claimed - done)


def _wait_for_clicks(
    collector: CollectorProcess, brand: dict[str, Any], want: int, seconds: float
) -> None:
    """Poll the clicks API's ``total`` (each read waits for the enricher up to 1 s)."""
    deadline = time.monotonic() + seconds
    headers = {"EF-Access-Key": brand["api_key"]}
    total = -1
    with httpx.Client(timeout=10, headers=headers) as client:
        while time.monotonic() < deadline:
            total = client.get(f"{collector.url}/api/brands/{brand['id']}/clicks").json()["total"]
            if total >= want:
                return
            time.sleep(0.1)
    raise AssertionError(f"the clicks API shows {total} clicks after {seconds} s, want {want}")


def stored_rows(database: str) -> tuple[Counter[str], Counter[EventKey]]:
    """How many times each click id, and each (click id, type, seq) event, is stored."""
    done = subprocess.run(
        [sys.executable, "-m", "tests.inbox_kill_run", database],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    rows = json.loads(done.stdout)
    clicks = Counter({click_id: n for click_id, n in rows["clicks"]})
    events = Counter({(click_id, kind, seq): n for click_id, kind, seq, n in rows["events"]})
    return clicks, events


_CLICKS = "SELECT id, count(*) FROM {db}clicks GROUP BY id"
_EVENTS = "SELECT click_id, type, seq, count(*) FROM {db}events GROUP BY click_id, type, seq"


def _read_rows(database: str) -> dict[str, list[list[Any]]]:
    scheme, path = database.split(":///", 1)
    if scheme == "sqlite":
        conn = sqlite3.connect(path)
        try:
            return {
                "clicks": conn.execute(_CLICKS.format(db="")).fetchall(),
                "events": conn.execute(_EVENTS.format(db="")).fetchall(),
            }
        finally:
            conn.close()
    import clickhouse_connect

    client = clickhouse_connect.get_client(dsn=f"chdb://{path}")
    try:
        return {
            "clicks": client.query(_CLICKS.format(db="clicktrail.")).result_rows,
            "events": client.query(_EVENTS.format(db="clicktrail.")).result_rows,
        }
    finally:
        client.close()


if __name__ == "__main__":
    print(json.dumps(_read_rows(sys.argv[1]), default=list))
