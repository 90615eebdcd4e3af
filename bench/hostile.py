"""Hostile-mix benchmark: legitimate beacons under load while an attacker sends poisoned ones.

wrk sends unique single-event beacons from 32 connections (as bench/ingest.py does); a second
process posts hostile beacons (invalid UTF-8 in custom data, timestamps past int64, 975-deep
nesting, ...) at a fixed rate. Each rate is measured against the run without poison in the same
process: legitimate beacons lost (any answer but 204) and the legitimate rate as a ratio.
Issue 7 measured 0.2 % lost at 1 poisoned beacon/s, 2.3 % at 10/s and 21 % at 50/s.

    python bench/hostile.py            # 10 s per rate
    python bench/hostile.py --smoke    # 2 s per rate (CI)
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH.parent))

from ingest import ROOT, beacon_template, run_wrk, start_server, stop, write_script  # noqa: E402

from collector.ids import new_id  # noqa: E402

RATES = (0, 1, 10, 50)
CONNECTIONS = 32


def poisons(site_key: str) -> list[bytes]:
    now = time.time_ns() // 1_000_000

    def beacon(events: list[dict]) -> dict:
        return {"k": site_key, "p": new_id(), "n": 1, "u": "https://shop.example/", "e": events}

    marked = json.dumps(beacon([{"t": "x", "ts": now, "d": "MARK"}])).encode()
    return [
        marked.replace(b'"MARK"', b'{"a": "\xff\xfe"}'),
        json.dumps(beacon([{"t": "page_view", "ts": 0}, {"t": "x", "ts": 10**30}])).encode(),
        json.dumps(beacon([{"t": "page_view", "ts": 0}, {"t": "x", "ts": 2**63 - 1}])).encode(),
        marked.replace(b'"MARK"', b'{"a":' * 975 + b"1" + b"}" * 975),
        marked.replace(b'"MARK"', b"[" * 10_000 + b"]" * 10_000),
    ]


def poison_loop(url: str, site_key: str, rate: int, seconds: float, out) -> None:
    """Post poisoned beacons at ``rate`` per second; report their statuses."""
    bodies = poisons(site_key)
    statuses: dict[int, int] = {}
    start = time.monotonic()
    sent = 0
    with httpx.Client(timeout=10) as client:
        while time.monotonic() - start < seconds:
            due = start + sent / rate
            time.sleep(max(0.0, due - time.monotonic()))
            status = client.post(url, content=bodies[sent % len(bodies)]).status_code
            statuses[status] = statuses.get(status, 0) + 1
            sent += 1
    out.put(statuses)


def measure(port: int, script: Path, site_key: str, rate: int, seconds: int) -> dict:
    url = f"http://127.0.0.1:{port}/collect"
    results: multiprocessing.Queue = multiprocessing.Queue()
    attacker = None
    if rate:
        args = (url, site_key, rate, seconds, results)
        attacker = multiprocessing.Process(target=poison_loop, args=args)
        attacker.start()
    legit = run_wrk(port, script, seconds, CONNECTIONS)
    poisoned = {}
    if attacker is not None:
        poisoned = results.get(timeout=30)
        attacker.join()
    return {**legit, "poisoned": poisoned}


def create_brand(database: str) -> dict:
    command = [sys.executable, "-m", "collector", "brands", "create", "bench", "--domain"]
    command += ["shop.example", "--database", database]
    out = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--smoke", action="store_true", help="2-second runs, for CI")
    parser.add_argument("--seconds", type=int, default=10)
    options = parser.parse_args()
    seconds = 2 if options.smoke else options.seconds
    if shutil.which("wrk") is None:
        sys.exit("bench/hostile.py needs wrk: apt-get install wrk")
    work = Path(tempfile.mkdtemp(prefix="clicktrail-hostile-"))
    database = f"sqlite:///{work}/bench.db"
    brand = create_brand(database)
    script = write_script(work / "legit.lua", beacon_template(brand["site_key"], 1))
    port = 18_950
    server = start_server(
        [sys.executable, "-m", "collector", "serve", "--port", str(port), "--database", database],
        port,
    )
    try:
        measure(port, script, brand["site_key"], 0, seconds)  # warm-up: caches, the database file
        rows = {rate: measure(port, script, brand["site_key"], rate, seconds) for rate in RATES}
    finally:
        stop(server)
        shutil.rmtree(work, ignore_errors=True)
    report(rows, seconds)


def report(rows: dict[int, dict], seconds: int) -> None:
    base = rows[0]["rps"]
    print(f"hostile mix ({seconds}s per rate, {CONNECTIONS} connections of legitimate beacons)")
    print(
        f"{'poison/s':>9}{'legit req/s':>13}{'ratio':>7}{'lost':>7}{'lost %':>8}  poisoned answers"
    )
    failed = False
    for rate, row in rows.items():
        total = row["rps"] * seconds
        lost = row["errors"]
        failed |= lost > 0 or any(status >= 500 for status in row["poisoned"])
        print(
            f"{rate:>9}{row['rps']:>13.0f}{row['rps'] / base:>7.2f}{lost:>7}"
            f"{100 * lost / max(total, 1):>7.2f}%  {row['poisoned'] or '-'}"
        )
    if failed:
        sys.exit("a legitimate beacon was lost, or a poisoned one got a 5xx")


if __name__ == "__main__":
    main()
