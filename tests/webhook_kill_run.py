"""The kill test of clickstream webhooks (issue 13), for the test suite and the benchmark:
sustained ingest to a collector with a destination, ``kill -9`` mid-run, a restart, and a count
of what reached the receiver."""

from __future__ import annotations

import json
import signal
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.appkit import make_beacon
from tests.servers import CollectorProcess, clicktrail_cli, start_collector
from tests.webhook_receiver import receiving


@dataclass
class KillRun:
    """What one kill test saw: beacons answered 204 before the kill, and how many of them the
    receiver got once, more than once, or never."""

    answered: int
    delivered: int
    duplicates: int
    lost: int
    seconds_to_catch_up: float


def kill_run(database: str, workdir: Path, ingest_seconds: float = 2.0) -> KillRun:
    """Sustained ingest to a collector with a destination, ``kill -9`` mid-run, a restart, and
    a wait until every answered page view has arrived (at most 60 s)."""
    brand = clicktrail_cli("brands", "create", "killed", "--domain", "localhost", database=database)
    flags = ("--webhook-networks", "127.0.0.2/32", "--webhook-retry-schedule", "0.2")
    with receiving(host="127.0.0.2") as got:
        first = start_collector("serve", database, workdir / "first.log", *flags)
        api = httpx.Client(
            base_url=f"{first.url}/api/brands/{brand['id']}",
            headers={"EF-Access-Key": brand["api_key"]},
        )
        made = api.post("/webhooks", json={"url": got.url + "/k", "events": ["pageview"]})
        assert made.status_code == 201, made.text
        answered = _ingest_until_killed(first, brand["site_key"], ingest_seconds)
        second = start_collector("serve", database, workdir / "second.log", *flags)
        try:
            started = time.monotonic()
            got.wait_for(lambda: answered <= set(got.delivered_ids()), 60)
            waited = time.monotonic() - started
        finally:
            second.stop()
        ids = got.delivered_ids()
    unique = set(ids)
    return KillRun(
        answered=len(answered),
        delivered=len(unique & answered),
        duplicates=len(ids) - len(unique),
        lost=len(answered - unique),
        seconds_to_catch_up=waited,
    )


def _ingest_until_killed(collector: CollectorProcess, site_key: str, seconds: float) -> set[str]:
    """Beacons from 8 threads for ``seconds``, then ``kill -9`` while they still send; the ids
    of the page views answered 204."""
    answered: set[str] = set()
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def send() -> None:
        with httpx.Client(timeout=5) as client:
            while True:
                beacon = make_beacon(site_key, u="http://localhost/landing")
                try:
                    response = client.post(collector.url + "/collect", content=json.dumps(beacon))
                except httpx.HTTPError:
                    return  # the collector is gone
                if response.status_code == 204:
                    with lock:
                        answered.add(beacon["p"])
                if time.monotonic() > stop_at + 5:
                    return

    threads = [threading.Thread(target=send, daemon=True) for _ in range(8)]
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    collector.process.send_signal(signal.SIGKILL)
    collector.process.wait(timeout=30)
    for thread in threads:
        thread.join(timeout=10)
    with lock:
        return set(answered)
