"""Explorer benchmark (issue 14, seed 03): POST explorer/visitor and explorer/hit through the
real HTTP API at N clicks of skewed traffic over 90 days (bench/seeding.py), SQLite and chDB.

Baseline, measured in the same run on the same server: `GET /healthz` (what HTTP and the app
alone cost); each case's p50 is also given as a multiple of its p50.

    python bench/explorer.py                          # 1,000,000 clicks, SQLite
    python bench/explorer.py --engine chdb
    python bench/explorer.py --clicks 20000 --runs 20  # smoke run
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.seeding import open_bench_brand, percentile, seed, timed  # noqa: E402
from collector.app import create_app  # noqa: E402
from collector.config import Settings  # noqa: E402
from collector.http.params import iso  # noqa: E402
from collector.storage.base import ClickQuery, Store  # noqa: E402
from tests.servers import serve_in_thread  # noqa: E402

DAY = 86_400_000


def post(http, path, key, body):
    start = time.perf_counter()
    answer = http.post(path, json=body, headers={"Authorization": f"Bearer {key}"})
    elapsed = (time.perf_counter() - start) * 1000
    if answer.status_code != 200:
        raise RuntimeError(f"{answer.status_code} {answer.text[:200]}")
    return elapsed, answer.json()


def draw_hits(store: Store, brand_id: int, total: int, count: int):
    rng = random.Random(5)
    t0 = time.perf_counter()
    now = time.time_ns() // 1_000_000
    drawn = []
    for _ in range(count):
        # a random instant of the 89 days, the first click after it (cheap on both engines)
        at = now - rng.randrange(1, 88 * DAY)
        _, found = store.list_clicks(
            brand_id, ClickQuery(limit=1, start=at, end=at + 600_000, direction="asc")
        )
        drawn += [(c.id, c.visitor_id) for c in found]
    print(f"  drew {len(drawn)} hits in {time.perf_counter() - t0:.1f} s")
    return drawn


def bench_engine(url, clicks, runs):
    store, brand_id, key = open_bench_brand(url)
    t0 = time.perf_counter()
    seeded = seed(store, brand_id, clicks)
    print(f"  seeded in {time.perf_counter() - t0:.0f} s")
    hits = draw_hits(store, brand_id, seeded.clicks, runs)
    app = create_app(Settings(database=url), store=store)
    base = f"/api/brands/{brand_id}/explorer"
    now = time.time_ns() // 1_000_000
    span = {"timeStart": iso(now - 90 * DAY), "timeEnd": iso(now)}
    cases = {
        "visitor by id, 90 days": [("visitor", {"visitorId": v, **span}) for _, v in hits],
        "visitor by hitId": [("visitor", {"hitId": h}) for h, _ in hits],
        "hit with its events": [("hit", {"hitId": h}) for h, _ in hits],
    }
    with serve_in_thread(app) as server, httpx.Client(base_url=server, timeout=120) as http:
        post(http, f"{base}/visitor", key, {"hitId": hits[0][0]})
        health = [timed(http, "/healthz", key, 1)[0] for _ in range(runs)]
        baseline = statistics.median(health)
        print(f"  {'baseline GET /healthz':<28}{baseline:>9.1f}{percentile(health, 0.95):>9.1f}")
        totals = []
        for name, requests in cases.items():
            times = []
            for what, body in requests:
                elapsed, answer = post(http, f"{base}/{what}", key, body)
                times.append(elapsed)
                if what == "visitor" and "visitorId" in body:
                    totals.append(answer["visitor"]["totalHits"])
            p50 = statistics.median(times)
            print(f"  {name:<28}{p50:>9.1f}{percentile(times, 0.95):>9.1f}{p50 / baseline:>8.1f}x")
        print(f"  hits per visitor drawn: median {statistics.median(totals)}, max {max(totals)}")
        # page the visitor with the most hits, 2 a page
        v = hits[totals.index(max(totals))][1]
        body: dict[str, Any] = {"visitorId": v, "limit": 2, **span}
        seen: list[str] = []
        while True:
            _, answer = post(http, f"{base}/visitor", key, body)
            seen += [r["hitId"] for r in answer["hits"]]
            if not answer["hasMore"]:
                break
            body["cursor"] = answer["nextCursor"]
        assert len(seen) == len(set(seen)) == max(totals), (len(seen), max(totals))
        print(f"  paged {len(seen)} hits 2 at a time: each once")
    store.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--clicks", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--engine", choices=("sqlite", "chdb"), default="sqlite")
    o = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="clicktrail-explorer-"))
    urls = {"sqlite": f"sqlite:///{work}/explorer.db", "chdb": f"chdb://{work}/chdb"}
    try:
        print(f"{o.engine}: {o.clicks:,} clicks; case, p50 ms, p95 ms, p50 / baseline p50")
        bench_engine(urls[o.engine], o.clicks, o.runs)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
