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
- **baselines**: the bodies the dispatcher delivered, posted again to the same receiver by a
  bare loop in this process (what sending alone costs; the dispatcher also reads its outbox and
  shares its process with ingest); and ingest's own rate while the receiver refused (one batch
  retried) against its rate while the backlog drained: delivering must not slow ``/collect``.

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
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.ingest import beacon_template, run_wrk, write_script  # noqa: E402
from collector.storage import open_store  # noqa: E402
from collector.storage.base import ClickQuery  # noqa: E402
from tests.appkit import make_beacon  # noqa: E402
from tests.servers import clicktrail_cli, start_collector  # noqa: E402
from tests.webhook_kill_run import kill_run  # noqa: E402
from tests.webhook_receiver import Answer, Receiver, receiving  # noqa: E402

BATCH = 500


class Gate:
    """The receiver's answer, opened by hand: 503 while closed, then 200."""

    def __init__(self) -> None:
        self.open = False

    def __call__(self) -> Answer:
        return Answer(200 if self.open else 503)


def arrivals_by_item(got: Receiver) -> dict[str, float]:
    """First arrival (wall clock) of each item delivered (answered 2xx)."""
    first: dict[str, float] = {}
    for request in got.delivered():
        for item in request.items:
            first.setdefault(item["id"], request.wall)
    return first


def latency_case(
    url: str, site_key: str, got: Receiver, seconds: float, rate: int
) -> dict[str, float]:
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
    got.wait_for(lambda: set(answered) <= set(got.delivered_ids()), 30)
    arrived = arrivals_by_item(got)
    delays = sorted(arrived[i] - t for i, t in answered.items() if i in arrived)
    return {
        "beacons": len(answered),
        "lost": len(set(answered) - set(arrived)),
        "p50_ms": statistics.median(delays) * 1000,
        "p99_ms": delays[int(len(delays) * 0.99) - 1] * 1000 if len(delays) > 1 else 0.0,
    }


def stored_clicks(database: str, brand_id: int) -> int:
    store = open_store(database)
    try:
        return store.list_clicks(brand_id, ClickQuery(limit=1))[0]
    finally:
        store.close()


def drain_rate(got: Receiver, backlog: int) -> tuple[float, float]:
    """(items/s from the first delivery until ``backlog`` items had arrived, seconds taken)."""
    requests = sorted(got.delivered(), key=lambda r: r.wall)
    count = 0
    for request in requests:
        count += len(request.items)
        if count >= backlog:
            span = request.wall - requests[0].wall
            return (count - len(requests[0].items)) / span if span > 0 else 0.0, span
    return 0.0, float("inf")


def throughput_case(
    port: int, script: Path, got: Receiver, gate: Gate, seconds: int, database: str, brand: int
) -> dict[str, float]:
    """A backlog while the receiver refuses, then delivery while wrk keeps ingesting: the rate
    at which the backlog drains."""
    quiet = run_wrk(port, script, seconds, 32)  # nothing delivered: one batch retried
    time.sleep(1.5)  # the last batches are written, the first refused
    backlog = stored_clicks(database, brand)
    gate.open = True
    during = run_wrk(port, script, seconds, 32)
    time.sleep(1.5)  # the last beacons are committed
    total = stored_clicks(database, brand)
    got.wait_for(lambda: len(got.delivered_ids()) >= total, 120, interval=0.5)
    rate, span = drain_rate(got, backlog)
    return {
        "backlog": backlog,
        "ingest_rps": during["rps"],
        "quiet_rps": quiet["rps"],
        "drain_s": span,
        "items_per_s": rate,
        "lost": total - len(set(got.delivered_ids())),
    }


def baseline_case(got: Receiver, items: int) -> float:
    """Items per second a bare loop in this process posts to the same receiver: the very
    bodies the dispatcher delivered (after the run's figures are taken), sent again."""
    bodies = [(r.body, len(r.items)) for r in got.delivered()]
    sent = 0
    with httpx.Client(timeout=10) as client:
        started = time.perf_counter()
        while sent < items:
            for body, count in bodies:
                client.post(got.url + "/bare", content=body)
                sent += count
        return sent / (time.perf_counter() - started)


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
    brand = clicktrail_cli(
        "brands",
        "create",
        "hooks",
        "--domain",
        "localhost",
        "--domain",
        "shop.example",
        database=database,
    )
    gate = Gate()
    with receiving(host="127.0.0.2", fallback=gate) as got:
        collector = start_collector(
            "serve",
            database,
            work / "collector.log",
            "--webhook-networks",
            "127.0.0.2/32",
            "--webhook-retry-schedule",
            ",".join(["1"] * 60),  # the backlog's first batch waits for the receiver
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
            through = throughput_case(port, script, got, gate, seconds, database, brand["id"])
            latency = latency_case(collector.url, brand["site_key"], got, seconds, options.rate)
            bare = baseline_case(got, max(BATCH * 20, int(through["backlog"])))
        finally:
            collector.stop()
    report(seconds, options.rate, latency, through, bare)
    for run in range(options.kill_runs):
        for engine, url in (
            ("sqlite", f"sqlite:///{work}/kill{run}.db"),
            ("chdb", f"chdb:///{work}/ch{run}"),
        ):
            result = kill_run(url, work)
            print(
                f"kill -9 run {run + 1} ({engine}): {result.answered} answered before the kill, "
                f"{result.delivered} delivered, {result.duplicates} duplicates, "
                f"{result.lost} lost, caught up {result.seconds_to_catch_up:.1f} s after restart"
            )
    shutil.rmtree(work, ignore_errors=True)


def report(seconds: int, rate: int, latency: dict, through: dict, bare: float) -> None:
    print(f"webhook benchmark ({seconds}s per phase, SQLite, receiver on loopback)")
    print(
        f"latency at {rate} beacons/s: {latency['beacons']} beacons, p50 {latency['p50_ms']:.0f}"
        f" ms, p99 {latency['p99_ms']:.0f} ms, lost {latency['lost']}"
    )
    print(
        f"throughput: a backlog of {through['backlog']:,} items drained in "
        f"{through['drain_s']:.1f} s at {through['items_per_s']:,.0f} items/s while ingest ran at "
        f"{through['ingest_rps']:,.0f} beacons/s; lost {through['lost']}"
    )
    print(
        f"ingest while delivering / ingest while the receiver refused: "
        f"{through['ingest_rps']:,.0f} / {through['quiet_rps']:,.0f} beacons/s = "
        f"{through['ingest_rps'] / through['quiet_rps']:.2f}"
    )
    print(f"baseline (the same bodies sent again by a bare loop): {bare:,.0f} items/s")
    print(f"ratio dispatcher/baseline: {through['items_per_s'] / bare:.2f}")
    print(f"goal items/s >= 10,000: {through['items_per_s']:,.0f}")
    print(f"goal p50 < 1,000 ms: {latency['p50_ms']:.0f}")


if __name__ == "__main__":
    main()
