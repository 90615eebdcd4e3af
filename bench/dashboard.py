"""Dashboard benchmark (issue 12): the overview (`/`) with every panel complete, at 1,000,000
clicks on SQLite (`bench/seeding.py`'s traffic), timed in Chromium, against a static page of
the same size served by the same server.

Each run opens a new tab of a signed-in browser and times, in the page's own clock
(`performance.now()` from navigation start), until the figures, the chart, the realtime figure
and every breakdown panel have their answer (no skeleton, nothing `aria-busy`, no error). The
baseline is the overview's own finished HTML saved as a static page (same bytes of HTML, the
same stylesheet, no script), served by the same collector and timed to its `load` event.

    python bench/dashboard.py               # 1,000,000 clicks; 7 (the default), 30, 90 days
    python bench/dashboard.py --smoke       # 20,000 clicks, 3 runs (CI)
    python bench/dashboard.py --keep        # keep the database to inspect
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from starlette.requests import Request  # noqa: E402
from starlette.responses import HTMLResponse  # noqa: E402

from bench.seeding import open_bench_brand, percentile, seed  # noqa: E402
from collector.app import create_app  # noqa: E402
from collector.cli.users import create_user  # noqa: E402
from collector.config import Settings  # noqa: E402
from tests.servers import serve_in_thread  # noqa: E402

GOAL_MS = 1000  # issue 12: the overview complete in under a second
EMAIL, PASSWORD = "bench@example.com", "bench-password-123"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"]
# Every panel answered: figures, chart, realtime, the breakdowns; no skeleton, no error.
COMPLETE = """() => {
  const panels = document.querySelectorAll('main .panel').length;
  const done = panels >= 8 && !document.querySelector('main [aria-busy="true"], main .skeleton')
    && document.querySelector('.chart-canvas canvas') && document.querySelector('.figure-value')
    && !document.querySelector('.realtime strong')?.textContent.includes('…');
  const error = document.querySelector('main .error');
  if (error) throw new Error(error.textContent);
  return done ? performance.now() : false;
}"""
LOADED = "() => document.readyState === 'complete' ? performance.now() : false"


def sign_in(page, base: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[type=email], input[name=email]", EMAIL)
    page.fill("input[type=password]", PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "/login" not in url)


# The API calls the page made: (what was asked, ms from request start to response end).
API_CALLS = """() => performance.getEntriesByType('resource')
  .filter((e) => e.name.includes('/api/'))
  .map((e) => {
    const u = new URL(e.name);
    const q = u.searchParams;
    const when = q.get('end') ? ' (previous period)' : q.get('interval') ? '' : ' (realtime)';
    const path = u.pathname.replace(/^\\/api\\/brands\\/\\d+/, '');
    return [`${path} ${q.get('groupBy') || ''}${when}`, e.responseEnd - e.requestStart];
  })"""


def time_page(context, url: str, ready: str, calls: dict[str, list[float]] | None = None) -> float:
    """Milliseconds from navigation start until ``ready`` holds, in a new tab; the API calls'
    times are added to ``calls``."""
    page = context.new_page()
    try:
        page.goto(url, wait_until="commit")
        done = float(page.wait_for_function(ready, timeout=120_000, polling=20).json_value())
        if calls is not None:
            for what, ms in page.evaluate(API_CALLS):
                calls.setdefault(what, []).append(ms)
        return done
    finally:
        page.close()


def snapshot(context, url: str) -> str:
    """The overview's finished HTML, scripts removed: the static baseline of the same size."""
    page = context.new_page()
    page.goto(url)
    page.wait_for_function(COMPLETE, timeout=120_000)
    page.evaluate("() => document.querySelectorAll('script').forEach((s) => s.remove())")
    html = page.content()
    page.close()
    return html


def measure(
    context, base: str, interval: str, runs: int
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    overview = f"{base}/?interval={interval}"
    static = snapshot(context, overview)
    STATIC_PAGE["html"] = static
    found: dict[str, list[float]] = {"overview": [], "static": []}
    calls: dict[str, list[float]] = {}
    time_page(context, overview, COMPLETE)  # warm-up: the built files in the cache
    time_page(context, f"{base}/bench/static", LOADED)
    for _ in range(runs):
        found["overview"].append(time_page(context, overview, COMPLETE, calls))
        found["static"].append(time_page(context, f"{base}/bench/static", LOADED))
    size = len(static.encode())
    print(f"  {interval}: overview HTML {size:,} B as a static page; API calls, p50 ms:")
    for what, times in sorted(calls.items(), key=lambda item: -statistics.median(item[1])):
        print(f"    {statistics.median(times):>7.0f}  {what}")
    return found, calls


STATIC_PAGE: dict[str, str] = {"html": ""}


async def static_page(request: Request) -> HTMLResponse:
    return HTMLResponse(STATIC_PAGE["html"], headers={"Cache-Control": "no-cache"})


def run(
    url: str, clicks: int, runs: int, intervals: list[str]
) -> dict[str, dict[str, list[float]]]:
    from playwright.sync_api import sync_playwright

    store, brand_id, _ = open_bench_brand(url)
    started = time.perf_counter()
    seed(store, brand_id, clicks)
    print(f"  seeded {clicks:,} clicks in {time.perf_counter() - started:.0f} s")
    create_user(store, EMAIL, PASSWORD, "admin", [brand_id])
    app = create_app(Settings(database=url), store=store)
    app.add_route("/bench/static", static_page)
    results = {}
    with serve_in_thread(app) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        sign_in(context.new_page(), base)
        for interval in intervals:
            results[interval], _ = measure(context, base, interval, runs)
        browser.close()
    store.close()
    return results


def report(results: dict[str, dict[str, list[float]]]) -> bool:
    print(
        "| range | overview complete p50 / p95 ms | static page p50 / p95 ms | ratio (p50) | goal |"
    )
    print("|---|---|---|---|---|")
    met = True
    for interval, found in results.items():
        dash, static = found["overview"], found["static"]
        p50, base = statistics.median(dash), statistics.median(static)
        ok = p50 < GOAL_MS
        met = met and ok
        print(
            f"| {interval} | {p50:.0f} {'✓' if ok else '✗'} / {percentile(dash, 0.95):.0f} "
            f"| {base:.0f} / {percentile(static, 0.95):.0f} | {p50 / base:.1f} | < {GOAL_MS} ms |"
        )
    return met


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clicks", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--smoke", action="store_true", help="20,000 clicks, 3 runs")
    parser.add_argument("--keep", action="store_true", help="keep the database (path printed)")
    options = parser.parse_args()
    clicks, runs = (20_000, 3) if options.smoke else (options.clicks, options.runs)
    work = Path(tempfile.mkdtemp(prefix="clicktrail-dashboard-"))
    try:
        print(f"sqlite: {clicks:,} clicks; the overview in Chromium, {runs} runs a range")
        results = run(f"sqlite:///{work}/dashboard.db", clicks, runs, ["7d", "30d", "90d"])
    finally:
        if options.keep:
            print(f"database kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    met = report(results)
    print("every goal met" if met else "missed the goal")


if __name__ == "__main__":
    main()
