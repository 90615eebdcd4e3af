"""Events and analytics benchmark (issue 11): `GET /api/brands/{id}/events` and
`GET /api/brands/{id}/analytics` through the real HTTP API, on SQLite and on ClickHouse
(embedded chDB), at 1,000,000 clicks, 50,000 leads and 10,000 sales over 90 days of skewed,
realistic traffic (`bench/seeding.py`).

The baseline, measured in the same run on the same server, is `GET /healthz`: each case's p50
is also given as a multiple of its p50. Every answer must be a 200 with the right JSON shape,
and `groupBy=count` over 90 days must count exactly the clicks seeded (by default and with
`bots=include`; the human ones with `bots=exclude`), the leads, the sales and their amount; the
run fails otherwise, once every case has run.

    python bench/analytics.py                               # 1,000,000 clicks, both engines
    python bench/analytics.py --clicks 20000 --runs 5      # smoke run (CI)
    python bench/analytics.py --engine sqlite --keep       # keep the database to inspect
"""

from __future__ import annotations

import argparse
import bisect
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.seeding import DAY, Seeded, fetch_timed, open_bench_brand, percentile, seed  # noqa: E402
from collector.app import create_app  # noqa: E402
from collector.config import Settings  # noqa: E402
from tests.servers import serve_in_thread  # noqa: E402

# p50 goals in ms (issue 11): an events page, an analytics group-by; chDB: either
# p50 goals in ms (issue 12): a 3-step funnel over 30 days
GOALS = {
    "sqlite": {"events": 30, "analytics": 100, "funnel": 500},
    "chdb": {"events": 300, "analytics": 300, "funnel": 500},
}
BUDGET_S = 60  # a case stops after this long (and at least 5 runs) even short of --runs
TOTALS = ("clicks", "leads", "sales", "saleAmount")


@dataclass(frozen=True)
class Case:
    name: str
    endpoint: str  # "events", "analytics", or "" for the baseline /healthz
    query: str

    @property
    def group(self) -> str | None:
        """The analytics ``groupBy`` asked for."""
        return dict(parse_qsl(self.query)).get("groupBy")

    def path(self, brand_id: int) -> str:
        if not self.endpoint:
            return "/healthz"
        return f"/api/brands/{brand_id}/{self.endpoint}?{self.query}"


TWO_FILTERS = {
    "countries": "device=mobile&trigger=link",
    "browsers": "device=mobile&trigger=link",
    "top_links": "country=US&browser=Chrome",
}
GROUPS = ("countries", "devices", "browsers", "cities", "referers", "top_links", "top_urls",
          "utm_sources")  # fmt: skip


def analytics(name: str, query: str) -> Case:
    return Case(f"analytics: {name}", "analytics", f"{query}&interval=30d")


def cases() -> list[Case]:
    """The baseline, five event pages, then the analytics group-bys (30 days unless said)."""
    found = [Case("baseline /healthz", "", "")]
    for name, query in [
        ("clicks", "event=clicks"),
        ("clicks, country=US", "event=clicks&country=US"),
        ("clicks, country=US & device=mobile", "event=clicks&country=US&device=mobile"),
        ("sales", "event=sales"),
        ("clicks, 90 days", "event=clicks&interval=90d"),
    ]:
        interval = "" if "interval" in query else "&interval=30d"
        found.append(Case(f"events: {name}", "events", f"{query}{interval}&limit=100"))
    found.append(analytics("count", "groupBy=count"))
    found.append(analytics("timeseries", "groupBy=timeseries"))
    found.append(analytics("timeseries, New York", "groupBy=timeseries&timezone=America/New_York"))
    for group in GROUPS:
        found.append(analytics(group, f"groupBy={group}"))
        if group in TWO_FILTERS:
            found.append(analytics(f"{group}, device=mobile", f"groupBy={group}&device=mobile"))
            label = TWO_FILTERS[group].replace("&", " & ")
            found.append(analytics(f"{group}, {label}", f"groupBy={group}&{TWO_FILTERS[group]}"))
    steps = "step=page:/&step=page:/pricing*&step=page:/checkout"
    found.append(Case("funnel: 3 pages", "funnel", f"{steps}&interval=30d"))
    found.append(Case("funnel: page, page, lead", "funnel", "step=page:/p/*&step=page:/cart"
                      "&step=lead&interval=30d"))  # fmt: skip
    return found


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_row(row: Any, key: str | None) -> bool:
    """A group-by row: the four totals, and its dimension (``key`` if known)."""
    if not isinstance(row, dict) or not all(_is_number(row.get(name)) for name in TOTALS):
        return False
    return key in row if key else len(row) > len(TOTALS)


def check_shape(case: Case, response: httpx.Response) -> None:
    """Raises unless the answer has the JSON shape of the case's endpoint."""
    if not case.endpoint:
        return
    body = response.json()
    if case.endpoint == "events":
        ok = isinstance(body, list) and 0 < len(body) <= 100
    elif case.endpoint == "funnel":
        steps = [value for name, value in parse_qsl(case.query) if name == "step"]
        ok = [row["step"] for row in body["steps"]] == steps
    elif case.group == "count":
        ok = isinstance(body, dict) and all(_is_number(body.get(name)) for name in TOTALS)
    else:
        key = "start" if case.group == "timeseries" else None
        ok = isinstance(body, list) and len(body) > 0 and all(_is_row(row, key) for row in body)
    if not ok:
        raise RuntimeError(f"{case.name}: unexpected answer {response.text[:300]}")


def check_totals(http: httpx.Client, brand_id: int, key: str, seeded: Seeded) -> list[str]:
    """``groupBy=count`` over 90 days against what was seeded; returns the differences."""
    window_start = time.time_ns() // 1_000_000 - 90 * DAY
    humans = len(seeded.human_times) - bisect.bisect_left(seeded.human_times, window_start)
    seeded_totals = [seeded.leads, seeded.sales, seeded.sale_amount]
    problems = []
    # bots are counted by default, as bots=include does (docs/DECISIONS.md, issue 11)
    for bots, clicks in (
        ("", seeded.clicks),
        ("&bots=exclude", humans),
        ("&bots=include", seeded.clicks),
    ):
        path = f"/api/brands/{brand_id}/analytics?groupBy=count&interval=90d{bots}"
        body = fetch_timed(http, path, key)[1].json()
        expected = dict(zip(TOTALS, [clicks, *seeded_totals], strict=True))
        print(f"  {path.split('?')[1]}: {body} (seeded {expected})")
        problems += [
            f"{path}: {name} {body.get(name)!r}, seeded {value}"
            for name, value in expected.items()
            if body.get(name) != value
        ]
    return problems


@dataclass
class Figures:
    p50: float
    p95: float
    runs: int


def measure(http: httpx.Client, path: str, key: str, case: Case, runs: int) -> Figures:
    """Two warm-up requests, then ``runs`` timed ones (fewer past BUDGET_S, at least 5)."""
    for _ in range(2):
        check_shape(case, fetch_timed(http, path, key)[1])
    timings: list[float] = []
    started = time.monotonic()
    while len(timings) < runs and (len(timings) < 5 or time.monotonic() - started < BUDGET_S):
        elapsed, response = fetch_timed(http, path, key)
        check_shape(case, response)
        timings.append(elapsed)
    return Figures(statistics.median(timings), percentile(timings, 0.95), len(timings))


@dataclass
class EngineRun:
    seconds_to_seed: float
    figures: dict[str, Figures]
    problems: list[str]


def bench_engine(url: str, clicks: int, runs: int) -> EngineRun:
    store, brand_id, key = open_bench_brand(url)
    started = time.perf_counter()
    seeded = seed(store, brand_id, clicks)
    seconds = time.perf_counter() - started
    print(f"  seeded in {seconds:.0f} s")
    app = create_app(Settings(database=url), store=store)
    figures = {}
    with serve_in_thread(app) as server, httpx.Client(base_url=server, timeout=120) as http:
        problems = check_totals(http, brand_id, key, seeded)
        for case in cases():
            figures[case.name] = found = measure(http, case.path(brand_id), key, case, runs)
            print(f"  {case.name:<52}{found.p50:>9.2f}{found.p95:>9.2f}{found.runs:>6}")
    store.close()
    return EngineRun(seconds, figures, problems)


def goal_of(engine: str, case: Case) -> float | None:
    return GOALS[engine][case.endpoint] if case.endpoint else None


def print_table(runs: dict[str, EngineRun]) -> list[str]:
    """The figures of every engine as a Markdown table; returns the cases missing a goal."""
    names = {"sqlite": "SQLite", "chdb": "chDB"}
    head = "| case |" + "".join(f" {names[e]} p50 / p95 ms | x /healthz |" for e in runs)
    print(head + " goal (p50) |\n" + "|---" * (2 + 2 * len(runs)) + "|")
    misses = []
    for case in cases():
        cells, goals = [], []
        for engine, run in runs.items():
            found = run.figures[case.name]
            baseline = run.figures["baseline /healthz"].p50
            goal = goal_of(engine, case)
            mark = "" if goal is None else " ✓" if found.p50 <= goal else " ✗"
            if mark == " ✗":
                misses.append(f"{names[engine]} {case.name}: p50 {found.p50:.1f} ms > {goal} ms")
            cells.append(f" {found.p50:.1f}{mark} / {found.p95:.1f} | {found.p50 / baseline:.1f} |")
            if goal is not None:
                goals.append(f"{names[engine]} ≤ {goal}")
        print(f"| {case.name} |{''.join(cells)} {', '.join(goals)} |")
    return misses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clicks", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--engine", choices=("sqlite", "chdb", "both"), default="both")
    parser.add_argument("--keep", action="store_true", help="keep the databases (path printed)")
    options = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="clicktrail-analytics-"))
    urls = {"sqlite": f"sqlite:///{work}/analytics.db", "chdb": f"chdb://{work}/chdb"}
    engines = ["sqlite", "chdb"] if options.engine == "both" else [options.engine]
    runs: dict[str, EngineRun] = {}
    try:
        for engine in engines:
            print(f"{engine}: {options.clicks:,} clicks; case, p50 ms, p95 ms, runs")
            runs[engine] = bench_engine(urls[engine], options.clicks, options.runs)
    finally:
        if options.keep:
            print(f"databases kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    for engine, run in runs.items():
        print(f"{engine}: seeded {options.clicks:,} clicks in {run.seconds_to_seed:.0f} s")
    misses = print_table(runs)
    print("\n".join(["missed goals:", *misses]) if misses else "every goal met")
    problems = [f"{engine}: {problem}" for engine, run in runs.items() for problem in run.problems]
    if problems:
        sys.exit("totals differ from what was seeded:\n" + "\n".join(problems))


if __name__ == "__main__":
    main()
