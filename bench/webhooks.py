"""Clickstream webhook benchmark: how fast the dispatcher delivers during ingest, and how long an
item takes from its beacon's 204 to the receiver.

A real collector (`clicktrail serve`, SQLite) and a receiver on 127.0.0.2 (allowed through
``--webhook-networks``) that records when each item arrives. Three cases, in one run:

- **latency**: a steady stream of beacons (paced, well under ingest capacity); p50 and p99 of
  (arrival at the receiver - the beacon's 204). Goal: p50 under 1 s (batches leave 1 s after
  their first item at most, or at 500 items).
- **throughput**: the receiver answers 503 while a backlog builds (wrk, unique bodies), then
  200 while wrk keeps ingesting; items delivered per second from the first 200 until the backlog
  is gone. Goal: at least 10,000 items/s.
- **baseline**: the same items, in batches of 500, posted straight to the same receiver by a
  bare loop in this process. The throughput's ratio against it says how much of the receiver's
  capacity the dispatcher reaches.

    python bench/webhooks.py                 # full run
    python bench/webhooks.py --smoke         # a few seconds, for CI
    python bench/webhooks.py --kill-runs 3   # also the kill -9 test, 3 runs (issue 13)
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.ingest import beacon_template, run_wrk, write_script  # noqa: E402
from tests.appkit import make_beacon  # noqa: E402
from tests.servers import clicktrail_cli, start_collector  # noqa: E402
from tests.webhookkit import kill_run, receiver  # noqa: E402

BATCH = 500


class Gate:
    """The receiver's answer, opened by hand: 503 while closed, then 200."""

    def __init__(self) -> None:
        self.open = False

    def __call__(self) -> int:
        return 200 if self.open else 503


def arrivals_by_item(got) -> dict[str, float]:
    """First arrival time of each item delivered (answered 2xx)."""
    first: dict[str, float] = {}
    for arrival in got.delivered():
        for item in arrival.items():
            first.setdefault(item["id"], arrival.at)
    return first


def latency_case(url: str, site_key: str, got, seconds: float, rate: int) -> dict[str, float]:
    """Beacons at ``rate`` per second for ``seconds``; delivery latency after each 204."""
    answered: dict[str, float] = {}
    interval = 1.0 / rate
    with httpx.Client(timeout=10) as client:
        next_at = time.monotonic()
        stop_at = next_at + seconds
        while time.monotonic() < stop_at:
            beacon = make_beacon(site_key, u="http://localhost/landing")
            response = client.post(url + "/collect", content=json.dumps(beacon))
            if response.status_code == 204:
                answered[beacon["p"]] = time.time()
            next_at += interval
            time.sleep(max(0.0, next_at - time.monotonic()))
    got.wait_for(lambda r: set(answered) <= set(arrivals_by_item(r)), 30)
    arrived = arrivals_by_item(got)
    delays = sorted(arrived[i] - t for i, t in answered.items() if i in arrived)
    return {
        "beacons": len(answered),
        "lost": len(set(answered) - set(arrived)),
        "p50_ms": statistics.median(delays) * 1000,
        "p99_ms": delays[int(len(delays) * 0.99) - 1] * 1000 if len(delays) > 1 else 0.0,
    }


def throughput_case(port: int, script: Path, got, gate: Gate, seconds: int) -> dict[str, float]:
    """A backlog while the receiver refuses, then delivery while ingest goes on."""
    backlog = run_wrk(port, script, seconds, 32)
    time.sleep(1.5)  # the last batches are written and refused
    before = len(arrivals_by_item(got))
    gate.open = True
    opened = time.time()
    during: dict[str, float] = {}
    ingest = threading.Thread(
        target=lambda: during.update(run_wrk(port, script, seconds, 32)), daemon=True
    )
    ingest.start()
    ingest.join()
    expected = before + int(backlog["rps"] * seconds) + int(during["rps"] * seconds)
    got.wait_for(lambda r: len(arrivals_by_item(r)) >= expected * 0.999, 120)
    times = sorted(arrivals_by_item(got).values())
    delivered = [t for t in times if t >= opened]
    span = (delivered[-1] - opened) if delivered else float("inf")
    return {
        "backlog": backlog["rps"] * seconds,
        "ingest_rps": during["rps"],
        "delivered": len(delivered),
        "items_per_s": len(delivered) / span if span else 0.0,
    }


def baseline_case(receiver_url: str, items: int) -> float:
    """Items per second a bare loop posts to the receiver, 500 to a request."""
    item = json.dumps({"id": "x" * 26, "type": "pageview", "timestamp": "2026-01-01T00:00:00Z"})
    body = ('{"data":[' + ",".join([item] * BATCH) + '],"key":"k"}').encode()
    with httpx.Client(timeout=10) as client:
        started = time.perf_counter()
        for _ in range(max(1, items // BATCH)):
            client.post(receiver_url + "/bare", content=body)
        return (items // BATCH * BATCH) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--smoke", action="store_true", help="a few seconds, for CI")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rate", type=int, default=300, help="beacons/s of the latency case")
    parser.add_argument("--kill-runs", type=int, default=0)
    options = parser.parse_args()
    seconds = 2 if options.smoke else options.seconds
    if shutil.which("wrk") is None:
        sys.exit("bench/webhooks.py needs wrk: apt-get install wrk")
    work = Path(tempfile.mkdtemp(prefix="clicktrail-hooks-"))
    database = f"sqlite:///{work}/bench.db"
    brand = clicktrail_cli("brands", "create", "hooks", "--domain", "localhost", database=database)
    gate = Gate()
    with receiver(fallback=gate) as got:
        collector = start_collector(
            "serve",
            database,
            work / "collector.log",
            "--webhook-networks",
            "127.0.0.2/32",
            "--webhook-retry-schedule",
            "1",
        )
        try:
            api = httpx.Client(
                base_url=f"{collector.url}/api/brands/{brand['id']}",
                headers={"EF-Access-Key": brand["api_key"]},
            )
            made = api.post("/webhooks", json={"url": got.url + "/in", "events": ["pageview"]})
            assert made.status_code == 201, made.text
            port = int(collector.url.rsplit(":", 1)[1])
            script = write_script(work / "single.lua", beacon_template(brand["site_key"], 1))
            through = throughput_case(port, script, got, gate, seconds)
            latency = latency_case(collector.url, brand["site_key"], got, seconds, options.rate)
            bare = baseline_case(got.url, max(BATCH * 20, int(through["delivered"])))
        finally:
            collector.stop()
    report(seconds, options.rate, latency, through, bare)
    for run in range(options.kill_runs):
        result = kill_run(f"sqlite:///{work}/kill{run}.db", work)
        print(f"kill -9 run {run + 1}: {result}")
    shutil.rmtree(work, ignore_errors=True)


def report(seconds: int, rate: int, latency: dict, through: dict, bare: float) -> None:
    print(f"webhook benchmark ({seconds}s per phase, SQLite, receiver on loopback)")
    print(
        f"latency at {rate} beacons/s: {latency['beacons']} beacons, p50 {latency['p50_ms']:.0f}"
        f" ms, p99 {latency['p99_ms']:.0f} ms, lost {latency['lost']}"
    )
    print(
        f"throughput: backlog {through['backlog']:,.0f} items, ingest during delivery "
        f"{through['ingest_rps']:,.0f} beacons/s, delivered {through['delivered']:,} items at "
        f"{through['items_per_s']:,.0f} items/s"
    )
    print(f"baseline (bare loop, batches of {BATCH}): {bare:,.0f} items/s")
    print(f"ratio dispatcher/baseline: {through['items_per_s'] / bare:.2f}")
    print(f"goal items/s >= 10,000: {through['items_per_s']:,.0f}")
    print(f"goal p50 < 1,000 ms: {latency['p50_ms']:.0f}")


if __name__ == "__main__":
    main()
