"""Query benchmark: the clicks list, a filtered list and the session detail through the real
HTTP API, at 1,000,000 stored clicks, on SQLite and on ClickHouse (embedded chDB).

The baseline, measured in the same run on the same server, is `GET /healthz` (routing, one
JSON response, no storage): each figure is also printed as a multiple of it.

    python bench/query.py                       # 1,000,000 clicks, both engines
    python bench/query.py --clicks 20000 --runs 20   # smoke run (CI)
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

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.seeding import open_bench_brand, percentile, timed  # noqa: E402
from collector.app import create_app  # noqa: E402
from collector.config import Settings  # noqa: E402
from collector.ids import new_id  # noqa: E402
from collector.storage.base import Click, Event, Store  # noqa: E402
from tests.servers import serve_in_thread  # noqa: E402

DAY = 86_400_000
BROWSERS = ["Chrome", "Safari", "Firefox", "Edge", "Samsung Internet"]
COUNTRIES = ["US", "GB", "DE", "FR", "BR", "IN", "JP", "CA"]


def fill(store: Store, brand_id: int, clicks: int, batch: int = 20_000) -> list[str]:
    """``clicks`` clicks over 90 days, ~2.5 per session, 3 events each; returns some
    session ids to look up."""
    rng = random.Random(7)
    now = time.time_ns() // 1_000_000
    start = now - 90 * DAY
    domain = store.ensure_domain(brand_id, "shop.example")
    sessions: list[str] = []
    written = 0
    while written < clicks:
        n = min(batch, clicks - written)
        created = sorted(rng.randrange(start, now) for _ in range(n))
        rows, events = [], []
        session, visitor, left = "", "", 0
        for ts in created:
            if left == 0:
                session, visitor, left = new_id(ts), new_id(ts - DAY), rng.randint(1, 4)
                if rng.random() < 0.01:
                    sessions.append(session)
            left -= 1
            click_id = new_id(ts)
            rows.append(
                Click(
                    id=click_id,
                    brand_id=brand_id,
                    session_id=session,
                    visitor_id=visitor,
                    created_at=ts,
                    url=f"https://shop.example/p/{rng.randrange(500)}?sub1=s{rng.randrange(50)}",
                    domain_id=domain,
                    funnel_id=rng.randrange(1, 21),
                    sub1=f"s{rng.randrange(50)}",
                    country=rng.choice(COUNTRIES),
                    city="London",
                    browser=rng.choice(BROWSERS),
                    os="Windows",
                    device_type="desktop",
                    referrer_type="search",
                    is_bot=rng.random() < 0.05,
                    ip_address="81.2.69.160",
                )
            )
            for seq, kind in enumerate(("page_view", "click", "add_to_cart")):
                events.append(
                    Event(
                        brand_id=brand_id,
                        click_id=click_id,
                        session_id=session,
                        type=kind,
                        timestamp=ts + seq * 1000,
                        url=rows[-1].url,
                        data={"selector": "button#buy", "x": 10, "y": 20} if seq else {},
                        seq=seq,
                    )
                )
        store.write_batch(rows, events)
        written += n
        print(f"\r  stored {written:,} clicks", end="", flush=True)
    print()
    return sessions


def bench_engine(url: str, clicks: int, runs: int) -> dict[str, tuple[float, float]]:
    store, brand_id, key = open_bench_brand(url)
    started = time.perf_counter()
    sessions = fill(store, brand_id, clicks)
    print(f"  filled in {time.perf_counter() - started:.0f} s")
    app = create_app(Settings(database=url), store=store)
    base = f"/api/brands/{brand_id}"
    results = {}
    with serve_in_thread(app) as server, httpx.Client(base_url=server, timeout=60) as http:
        cases = {
            "baseline /healthz": ["/healthz"],
            "clicks list": [f"{base}/clicks"],
            "clicks list, page 100": [f"{base}/clicks?page=100"],
            "filtered list": [f"{base}/clicks?funnel_id=7&exclude_bots=true"],
            "three filters": [f"{base}/clicks?funnel_id=7&exclude_bots=true&sub1=s3"],
            "url + date filter": [
                f"{base}/clicks?url=p/42&start=2020-01-01&sort=created_at&direction=asc"
            ],
            "session detail": [f"{base}/clicks/session/{s}" for s in sessions[:runs]],
        }
        for name, paths in cases.items():
            for path in paths[:2]:
                timed(http, path, key, 1)  # warm the page cache and the server
            timings = [t for i in range(runs) for t in timed(http, paths[i % len(paths)], key, 1)]
            results[name] = (statistics.median(timings), percentile(timings, 0.99))
    store.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clicks", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--engines", default="sqlite,chdb")
    options = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="clicktrail-query-"))
    urls = {"sqlite": f"sqlite:///{work}/q.db", "chdb": f"chdb://{work}/chdb"}
    goals = {"clicks list": 50, "filtered list": 50, "session detail": 10}
    try:
        for engine in options.engines.split(","):
            print(f"{engine}: {options.clicks:,} clicks")
            results = bench_engine(urls[engine], options.clicks, options.runs)
            baseline = results["baseline /healthz"][0]
            print(f"{'case':<26}{'p50 ms':>9}{'p99 ms':>9}{'x baseline':>12}{'goal (SQLite)':>15}")
            for name, (p50, p99) in results.items():
                goal = f"<= {goals[name]} ms" if name in goals else ""
                print(f"{name:<26}{p50:>9.2f}{p99:>9.2f}{p50 / baseline:>12.1f}{goal:>15}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
