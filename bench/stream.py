"""Raw clicks stream benchmark (issue 14): `POST /api/brands/{id}/clicks/stream` through the
real HTTP API at 1,000,000 clicks of skewed traffic over 90 days (`bench/seeding.py`), on SQLite
and on ClickHouse (embedded chDB).

Cases: a full page of 5,000 rows (a 14-day window, truncated), the page after it through
`next_from`, and 5,000 rows of one country. Each answer must be a 200 with 5,000 rows (or all
there are); paging a whole day through `next_from` must give each of its clicks once.

    python bench/stream.py                              # 1,000,000 clicks, both engines
    python bench/stream.py --clicks 20000 --runs 5     # smoke run

Baseline, measured in the same run on the same server: `GET /healthz` (what HTTP and the app
alone cost); each case's p50 is also given as a multiple of its p50.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.seeding import open_bench_brand, percentile, seed, timed  # noqa: E402
from collector.app import create_app  # noqa: E402
from collector.config import Settings  # noqa: E402
from tests.servers import serve_in_thread  # noqa: E402

GOAL_MS = {"sqlite": 250.0, "chdb": None}
FMT = "%Y-%m-%d %H:%M:%S"


def post(http: httpx.Client, path: str, key: str, body: dict[str, Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    answer = http.post(path, json=body, headers={"Authorization": f"Bearer {key}"})
    elapsed = (time.perf_counter() - start) * 1000
    if answer.status_code != 200:
        raise RuntimeError(f"{answer.status_code} {answer.text[:200]}")
    return elapsed, answer.json()


def bodies(http: httpx.Client, path: str, key: str) -> dict[str, dict[str, Any]]:
    end = datetime.now(UTC) - timedelta(days=1)
    first = {
        "from": (end - timedelta(days=14)).strftime(FMT),
        "to": end.strftime(FMT),
        "timezone_id": 80,
    }
    _, answer = post(http, path, key, first)
    us = [{"resource_type": "country", "filter_id_value": "US"}]
    return {
        "5,000 rows, 14 days": first,
        "next 5,000 (next_from)": {**first, "next_from": answer["next_from"]},
        "5,000 rows of one country": {**first, "query": {"filters": us}},
    }


def check_day(http: httpx.Client, path: str, key: str) -> int:
    """Page one whole day through next_from (1,000 a page); every click once."""
    day = datetime.now(UTC) - timedelta(days=3)
    body: dict[str, Any] = {
        "from": day.strftime("%Y-%m-%d 00:00:00"),
        "to": day.strftime("%Y-%m-%d 23:59:59"),
        "timezone_id": 67,
        "limit": 1000,
    }
    seen: list[str] = []
    while True:
        _, answer = post(http, path, key, body)
        seen += [row["transaction_id"] for row in answer["table"]]
        if not answer["truncated"]:
            break
        body["next_from"] = answer["next_from"]
    if len(seen) != len(set(seen)):
        raise RuntimeError("a click came twice")
    return len(seen)


def bench_engine(url: str, clicks: int, runs: int) -> dict[str, tuple[float, float]]:
    store, brand_id, key = open_bench_brand(url)
    seed(store, brand_id, clicks)
    app = create_app(Settings(database=url), store=store)
    path = f"/api/brands/{brand_id}/clicks/stream"
    figures = {}
    with serve_in_thread(app) as server, httpx.Client(base_url=server, timeout=120) as http:
        health = [timed(http, "/healthz", key, 1)[0] for _ in range(runs)]
        baseline = statistics.median(health)
        print(f"  {'baseline GET /healthz':<32}{baseline:>9.1f}{percentile(health, 0.95):>9.1f}")
        for name, body in bodies(http, path, key).items():
            times = []
            for _ in range(runs):
                elapsed, answer = post(http, path, key, body)
                if len(answer["table"]) != 5000 and answer["truncated"]:
                    raise RuntimeError(f"{name}: {len(answer['table'])} rows")
                times.append(elapsed)
            figures[name] = (statistics.median(times), percentile(times, 0.95))
            p50, p95 = figures[name]
            print(f"  {name:<32}{p50:>9.1f}{p95:>9.1f}{p50 / baseline:>8.1f}x")
        print(f"  a day paged through next_from: {check_day(http, path, key):,} clicks, each once")
    store.close()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clicks", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--engine", choices=("sqlite", "chdb", "both"), default="both")
    options = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="clicktrail-stream-"))
    urls = {"sqlite": f"sqlite:///{work}/stream.db", "chdb": f"chdb://{work}/chdb"}
    engines = ["sqlite", "chdb"] if options.engine == "both" else [options.engine]
    try:
        for engine in engines:
            print(f"{engine}: {options.clicks:,} clicks; case, p50 ms, p95 ms, p50 / baseline")
            found = bench_engine(urls[engine], options.clicks, options.runs)
            goal = GOAL_MS[engine]
            if goal is not None and found["5,000 rows, 14 days"][0] > goal:
                print(f"  missed: p50 over {goal} ms")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
