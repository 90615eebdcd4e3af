"""CSV export benchmark (issue 14, seed 01): `POST clicks/export` through the real HTTP API of a
collector subprocess (`clicktrail serve`), at 1,000,000 clicks of skewed traffic over 90 days
(`bench/seeding.py`), on SQLite and on ClickHouse (embedded chDB).

For 4 columns (the seed's), 12 and all of them: the job is queued, followed through
`GET exports/{id}` every 20 ms, and timed by its own `started_at` and `finished_at`; the
collector's resident memory (`/proc/PID/status`, every 10 ms) is taken just before the POST and
at its peak until the job is done. The first download of each case is read back (gzip as
stored) and must hold the header and one row per click.

Baseline, measured in the same run on the same data: the same columns of the same clicks in
the same order read by a plain `SELECT` in this process (Python's sqlite3 for SQLite,
clickhouse-connect's row stream for chDB) and written by the `csv` module to /dev/null, without
gzip, neutralised cells, a job or HTTP: what a naive export loop does. The ratio is the
export's rows/s over the baseline's.

    python bench/exports.py                              # 1,000,000 clicks, both engines
    python bench/exports.py --smoke                      # 20,000 clicks, one run (CI)
    python bench/exports.py --engine sqlite --data /tmp/ct-exports   # keep and reuse the seed
"""

from __future__ import annotations

import argparse
import calendar
import csv
import gzip
import io
import json
import shutil
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.seeding import open_bench_brand, seed  # noqa: E402
from collector.exports.csvfile import EXPORT_COLUMNS  # noqa: E402
from collector.storage import open_store  # noqa: E402
from tests.servers import start_collector  # noqa: E402

GOAL_ROWS_S = 100_000  # issue 14, SQLite: at least this many rows/s ...
GOAL_MB = 100  # ... with resident memory growth under this
CASES: dict[str, list[str]] = {
    "4 (seed)": ["session_id", "ip_address", "url", "created_at"],
    "12": [
        "id", "created_at", "session_id", "visitor_id", "ip_address", "url", "referrer",
        "utm_source", "country", "device_type", "browser", "is_bot",
    ],
    f"all {len(EXPORT_COLUMNS)}": list(EXPORT_COLUMNS),
}  # fmt: skip


@dataclass
class Seeded:
    url: str
    brand_id: int
    key: str
    clicks: int


def seeded(data: Path, engine: str, clicks: int) -> Seeded:
    """The engine's store in ``data``, seeded with ``clicks`` clicks (reused when a previous
    run seeded the same number there)."""
    url = f"sqlite:///{data}/exports.db" if engine == "sqlite" else f"chdb://{data}/chdb"
    facts = data / f"{engine}.json"
    if facts.exists() and json.loads(facts.read_text())["clicks"] == clicks:
        print(f"  reusing the {clicks:,} clicks seeded in {data}")
        return Seeded(**json.loads(facts.read_text()))
    if engine == "chdb":
        shutil.rmtree(data / "chdb", ignore_errors=True)
    else:
        for leftover in data.glob("exports.db*"):
            leftover.unlink()
    store, brand_id, key = open_bench_brand(url)
    started = time.perf_counter()
    seed(store, brand_id, clicks)
    print(f"  seeded in {time.perf_counter() - started:.0f} s")
    store.close()
    found = Seeded(url, brand_id, key, clicks)
    facts.write_text(json.dumps(found.__dict__))
    return found


# the baseline -------------------------------------------------------------------------------
def _sqlite_rows(url: str, brand_id: int, columns: list[str]) -> Any:
    conn = sqlite3.connect(url.removeprefix("sqlite:///"))
    names = ", ".join(f'"{c}"' for c in columns)
    cursor = conn.execute(
        f"SELECT {names} FROM clicks WHERE brand_id = ? ORDER BY created_at DESC, id DESC",
        (brand_id,),
    )
    while rows := cursor.fetchmany(10_000):
        yield from rows
    conn.close()


def _chdb_rows(store: Any, brand_id: int, columns: list[str]) -> Any:
    names = ", ".join(f"`{c}`" for c in columns)
    sql = (
        f"SELECT {names} FROM {store._db}.clicks WHERE brand_id = {brand_id}"
        " ORDER BY created_at DESC, id DESC"
    )
    with store.client.query_rows_stream(sql) as stream:
        yield from stream


def baseline(found: Seeded, engine: str, store: Any, columns: list[str]) -> float:
    """Rows/s of a plain SELECT of ``columns`` written by the csv module to /dev/null."""
    started = time.perf_counter()
    if engine == "sqlite":
        rows = _sqlite_rows(found.url, found.brand_id, columns)
    else:
        rows = _chdb_rows(store, found.brand_id, columns)
    count = 0
    with open("/dev/null", "w", newline="") as sink:
        writer = csv.writer(sink)
        writer.writerow(columns)
        for row in rows:
            writer.writerow(row)
            count += 1
    if count != found.clicks:
        raise RuntimeError(f"the baseline read {count:,} rows, not {found.clicks:,}")
    return count / (time.perf_counter() - started)


# the export through the API -----------------------------------------------------------------
def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


class PeakRss:
    """The highest resident memory of ``pid`` seen while the block runs (every 10 ms)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = 0.0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._done.is_set():
            self.peak = max(self.peak, rss_mb(self.pid))
            self._done.wait(0.01)

    def __enter__(self) -> PeakRss:
        self.peak = rss_mb(self.pid)
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._done.set()
        self._thread.join()
        self.peak = max(self.peak, rss_mb(self.pid))


def ms_of(text: str) -> float:
    """Milliseconds since the epoch of the API's `YYYY-MM-DDTHH:MM:SS.mmmZ`."""
    return calendar.timegm(time.strptime(text[:19], "%Y-%m-%dT%H:%M:%S")) * 1000 + int(text[20:23])


def export_once(http: httpx.Client, found: Seeded, columns: list[str]) -> dict[str, Any]:
    """One export job, queued and followed to done: (rows/s, seconds, job)."""
    base = f"/api/brands/{found.brand_id}"
    queued = http.post(f"{base}/clicks/export", json={"columns": columns})
    if queued.status_code != 202:
        raise RuntimeError(f"{queued.status_code} {queued.text[:200]}")
    while True:
        job = http.get(f"{base}/exports/{queued.json()['id']}").json()
        if job["status"] in ("done", "failed"):
            break
        time.sleep(0.02)
    if job["status"] != "done" or job["rows"] != found.clicks:
        raise RuntimeError(f"the export ended {job['status']} with {job['rows']:,} rows: {job}")
    return job


def check_download(http: httpx.Client, found: Seeded, job: dict[str, Any]) -> float:
    """Reads the file back (gzip as stored): the header, then one row per click; its MB."""
    with http.stream("GET", job["download_url"], headers={"Accept-Encoding": "gzip"}) as answer:
        if answer.status_code != 200 or answer.headers.get("content-encoding") != "gzip":
            raise RuntimeError(f"download: {answer.status_code} {answer.headers}")
        packed = b"".join(answer.iter_raw())
    text = io.TextIOWrapper(gzip.GzipFile(fileobj=io.BytesIO(packed)), newline="")
    reader = csv.reader(text)
    header, rows = next(reader), sum(1 for _ in reader)
    if header != job["columns"] or rows != found.clicks:
        raise RuntimeError(f"download: header {header[:4]}..., {rows:,} rows")
    return len(packed) / 1e6


def bench_exports(found: Seeded, work: Path, runs: int) -> dict[str, tuple[float, float, float]]:
    """Per case: (median rows/s, highest memory growth MB, gzip MB) of ``runs`` exports."""
    flags = ("--export-dir", str(work / "files"))
    collector = start_collector("serve", found.url, work / "collector.log", *flags)
    headers = {"Authorization": f"Bearer {found.key}"}
    figures = {}
    try:
        with httpx.Client(base_url=collector.url, headers=headers, timeout=300) as http:
            export_once(http, found, ["id"])  # warm: imports, the first statement
            for name, columns in CASES.items():
                speeds, growths = [], []
                for run in range(runs):
                    with PeakRss(collector.process.pid) as rss:
                        before = rss.peak
                        job = export_once(http, found, columns)
                    seconds = (ms_of(job["finished_at"]) - ms_of(job["started_at"])) / 1000
                    speeds.append(found.clicks / max(seconds, 0.001))
                    growths.append(rss.peak - before)
                    if run == 0:
                        size = check_download(http, found, job)
                pairs = zip(speeds, growths, strict=True)
                each = ", ".join(f"{speed:,.0f}/s {growth:+.0f} MB" for speed, growth in pairs)
                print(f"  {name}: {each}")
                figures[name] = (statistics.median(speeds), max(growths), size)
    finally:
        collector.stop()
    return figures


def bench_engine(engine: str, data: Path, clicks: int, runs: int) -> None:
    found = seeded(data, engine, clicks)
    store = open_store(found.url) if engine == "chdb" else None
    try:
        baseline(found, engine, store, ["id"])  # warm: the store's pages into the OS cache
        bases = {name: baseline(found, engine, store, cols) for name, cols in CASES.items()}
    finally:
        if store is not None:
            store.close()
    figures = bench_exports(found, data, runs)
    print(f"  {'columns':<10}{'rows/s':>10}{'MB':>8}{'gzip MB':>9}{'baseline':>10}{'ratio':>7}")
    for name, (speed, growth, size) in figures.items():
        met = speed >= GOAL_ROWS_S and growth < GOAL_MB
        mark = "" if engine != "sqlite" or name != "4 (seed)" else (" ✓" if met else " ✗ goal")
        print(
            f"  {name:<10}{speed:>10,.0f}{growth:>+8.1f}{size:>9.1f}{bases[name]:>10,.0f}"
            f"{speed / bases[name]:>7.2f}{mark}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clicks", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3, help="exports a case")
    parser.add_argument("--engine", choices=("sqlite", "chdb", "both"), default="both")
    parser.add_argument("--data", type=Path, help="keep the seeded stores here (and reuse them)")
    parser.add_argument("--smoke", action="store_true", help="20,000 clicks, one run a case")
    options = parser.parse_args()
    clicks, runs = (20_000, 1) if options.smoke else (options.clicks, options.runs)
    work = options.data or Path(tempfile.mkdtemp(prefix="clicktrail-exports-"))
    work = work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    engines = ["sqlite", "chdb"] if options.engine == "both" else [options.engine]
    try:
        for engine in engines:
            print(f"{engine}: {clicks:,} clicks, {runs} export(s) a case")
            bench_engine(engine, work, clicks, runs)
    finally:
        if options.data is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
