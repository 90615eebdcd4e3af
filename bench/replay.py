"""Replay benchmark: what a replay costs to store, to take in, to seek in and to record.

1. storage   Stored bytes once compacted, against what rrweb-based tools store: each 5-second
             chunk gzip'd at level 6 (bench/replay_storage.py). First replays of sites the
             brand has never seen: every recording of bench/recordings (local documentation
             pages the code was not tuned on) and of testdata/recordings, each the first replay
             of a brand of its own (built-in dictionary). Repeat visits: a scripted visit of
             every test page, recorded in Chromium through a real collector, twice; the brand
             dictionary is trained on the first visits and the figures are the second visits,
             which it has not seen (the steady state of a brand), plus the first visits.
2. ingest    POST /collect/replay with those chunks gzip'd as the recorder sends them (fresh
             replay ids: no duplicates) from concurrent clients, against a bare Starlette
             endpoint that reads the body and answers 204 under the same uvicorn settings
             (bench/replay_ingest.py).
3. seeking   30-minute and 2-hour replays (a real recording's activity repeated, a checkout
             every 10 minutes as the recorder takes them): the API from the middle (since_ms)
             against the whole stream; in Chromium the viewer's first frame, a seek to the
             middle before the rest has streamed in and after, and the time until all of it
             is in (bench/replay_seeking.py).
4. recorder  Main-thread time of the largest test page with the recorder (data-replay="1")
             against the same page without it (data-replay="0"), the same scripted minute.

Chromium is Debian's (/usr/bin/chromium), driven by Playwright; pages reach loopback only.

    python bench/replay.py            # full run (about 10 minutes)
    python bench/replay.py --smoke    # seconds per part, for CI: the figures mean nothing
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.replay_ingest import ingest, print_ingest  # noqa: E402
from bench.replay_seeking import has_incremental_events, print_seeking, seeking  # noqa: E402
from bench.replay_storage import (  # noqa: E402
    StorageRows,
    Stored,
    first_replays,
    print_storage,
    stored_row,
    unseen_recordings,
)
from collector.replay.codec import compress_chunk  # noqa: E402
from collector.replay.compaction import compact_ended, compact_replay  # noqa: E402
from collector.replay.importer import import_replay, split_into_chunks  # noqa: E402
from collector.storage import open_store  # noqa: E402
from collector.storage.base import Store  # noqa: E402
from e2e.conftest import CHROMIUM, CHROMIUM_ARGS, DESKTOP_UA, TESTDATA, static_site  # noqa: E402
from e2e.recording import local_only, replay_of_page, tagged_page  # noqa: E402
from tests.servers import CollectorProcess, clicktrail_cli, start_collector  # noqa: E402

PAGES = TESTDATA / "pages"
RECORDINGS = TESTDATA / "recordings"
VIEWPORT = {"width": 1280, "height": 800}
STEP_S = 0.25  # one scripted action every 250 ms
CHECKOUT_MS = 10 * 60_000  # the recorder's checkoutEveryNms


# A point of the viewport whose element is no link, button or field: clicking it stays on the
# page. A small LCG so that the same seed picks the same points on every run.
SAFE_POINT = """([w, h, seed]) => {
  let s = seed;
  const next = () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
  const active = 'a, button, input, select, textarea, label, summary, iframe, [onclick],'
    + ' [role=button], [role=link], [contenteditable]';
  for (let i = 0; i < 40; i++) {
    const x = Math.floor(20 + next() * (w - 40));
    const y = Math.floor(20 + next() * (h - 40));
    const el = document.elementFromPoint(x, y);
    if (el && !el.closest(active)) return [x, y];
  }
  return null;
}"""

PAGE_SESSION = (
    "() => { const p = window.clicktrail._r.p; return typeof p === 'function' ? p() : p; }"
)


@dataclass
class Bench:
    work: Path
    database: str
    brand: dict
    collector: CollectorProcess
    api: httpx.Client
    store: Store
    notes: list[str] = field(default_factory=list)


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def _kb(n: float) -> str:
    return f"{n / 1024:,.1f}"


# --- the browser ----------------------------------------------------------------------------------


def visit(page, seconds: float, seed: int) -> int:
    """A scripted visit: an action every STEP_S (mostly mouse moves, then scrolls, now and then a
    click on something that is no link), the same actions at the same times for a seed, however
    slow the page is. Returns the number of clicks."""
    rng = random.Random(seed)
    width, height = VIEWPORT["width"], VIEWPORT["height"]
    clicks = 0
    start = time.monotonic()
    for step in range(int(seconds / STEP_S)):
        delay = start + step * STEP_S - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        roll = rng.random()
        if roll < 0.7:
            page.mouse.move(rng.randrange(width), rng.randrange(height), steps=4)
        elif roll < 0.92:
            page.mouse.wheel(0, rng.choice((300, 450, 600, -250)))
        else:
            point = page.evaluate(SAFE_POINT, [width, height, rng.randrange(1 << 30)])
            if point:
                page.mouse.click(*point)
                clicks += 1
    delay = start + seconds - time.monotonic()
    if delay > 0:
        time.sleep(delay)
    return clicks


def new_page(browser):
    context = browser.new_context(user_agent=DESKTOP_UA, viewport=VIEWPORT)
    local_only(context)
    page = context.new_page()
    page.on("popup", lambda popup: popup.close())
    return context, page


def record_visit(bench: Bench, browser, url: str, seconds: float, seed: int) -> str:
    """Visit the page, act, leave; returns the replay id once every chunk is stored."""
    context, page = new_page(browser)
    page.goto(url, wait_until="load")
    page.wait_for_function("() => window.clicktrail && window.clicktrail._r", timeout=30_000)
    visit(page, seconds, seed)
    if page.url != url:
        bench.notes.append(f"{url} navigated to {page.url} during the visit")
    page_session = page.evaluate(PAGE_SESSION)
    page.close()  # pagehide: the recorder sends its last chunk (the browser stays open)
    try:
        return replay_of_page(bench.api, page_session, timeout=30)["id"]
    finally:
        context.close()


def settle(bench: Bench, replay_ids: list[str]) -> None:
    """Wait until no more chunks arrive for these replays (the last beacons are in)."""

    def sizes() -> list[int]:
        return [replay_info(bench, r)["size"]["raw_bytes"] for r in replay_ids]

    last = sizes()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        time.sleep(1.5)
        now = sizes()
        if now == last:
            return
        last = now


def replay_info(bench: Bench, replay_id: str) -> dict:
    return bench.api.get(f"/replays/{replay_id}").raise_for_status().json()


def rrweb_events(bench: Bench, replay_id: str) -> bytes:
    return bench.api.get(f"/replays/{replay_id}", params={"format": "rrweb"}).content


# --- 1. storage -----------------------------------------------------------------------------------


def measure(bench: Bench, name: str, replay_id: str, live: int) -> Stored:
    parts = bench.store.replay_parts(bench.brand["id"], replay_id)
    if any(p.kind == "chunk" for p in parts):
        bench.notes.append(f"{name}: live chunks left after compaction")
    return stored_row(bench.store, bench.brand["id"], name, replay_id, live)


def storage(
    bench: Bench, browser, site: str, names: list[str], seconds: float, smoke: bool
) -> StorageRows:
    """Repeat visits of the test pages (brand dictionary trained on the first visits) and first
    replays of unseen sites (bench/replay_storage.py)."""
    brand_id = bench.brand["id"]
    first: dict[str, str] = {}
    if not smoke:  # the visits the dictionary is trained on
        for i, name in enumerate(names):
            first[name] = record_visit(bench, browser, f"{site}/{name}.html", seconds, 100 + i)
        settle(bench, list(first.values()))
        live_first = {n: replay_info(bench, r)["size"]["stored_bytes"] for n, r in first.items()}
        # compact_ended trains the brand's first dictionary (5 replays) and compacts them
        compact_ended(bench.store, _now_ms() + 1, idle_ms=0)

    def import_recordings() -> dict[str, str]:
        return {
            p.stem: import_replay(bench.store, brand_id, p.read_bytes(), _now_ms())
            for p in sorted(RECORDINGS.glob("*.json"))
        }

    # A recording of another site, imported before the second visits arrive: import_replay
    # compacts it at once with the dictionary (a sixth replay does not make it retrain).
    imported = {} if smoke else import_recordings()
    second: dict[str, str] = {}
    for i, name in enumerate(names):
        second[name] = record_visit(bench, browser, f"{site}/{name}.html", seconds, 200 + i)
    settle(bench, list(second.values()))
    live_second = {n: replay_info(bench, r)["size"]["stored_bytes"] for n, r in second.items()}
    if smoke:  # no first visits: the dictionary is trained on these
        compact_ended(bench.store, _now_ms() + 1, idle_ms=0)
        imported = import_recordings()
    else:
        # The dictionary stays the one trained on the first visits: compact_ended would
        # retrain now (the brand's replays have doubled) on the very replays it then compacts.
        for replay_id in second.values():
            replay = bench.store.get_replay(brand_id, replay_id)
            compact_replay(bench.store, replay, _now_ms(), train=False)
    rows_first = [measure(bench, n, r, live_first[n]) for n, r in first.items()]
    rows = [measure(bench, n, r, live_second[n]) for n, r in second.items()]
    for name, replay_id in imported.items():
        # never live (imported replays are compacted at once): what its chunks would have been
        events_json = rrweb_events(bench, replay_id)
        live = sum(len(compress_chunk(c)) for c in split_into_chunks(events_json))
        rows.append(measure(bench, name, replay_id, live))
    dict_ids = {d for row in rows_first + rows for d in row.dict_ids if d is not None}
    dict_bytes = sum(len(bench.store.get_dictionary(d) or b"") for d in dict_ids)
    if any(None in row.dict_ids for row in rows):
        bench.notes.append("some segments were compacted without a dictionary")
    # first replays: each recording the first replay of a brand of its own (built-in dictionary)
    recordings = unseen_recordings() if not smoke else dict(list(unseen_recordings().items())[:1])
    recordings.update({f"{p.stem} (shared)": p.read_bytes() for p in RECORDINGS.glob("*.json")})
    unseen = first_replays(bench.store, recordings)
    return StorageRows(rows_first, rows, unseen, dict_bytes, len(dict_ids))


# --- 4. the recorder's cost in the page ----------------------------------------------------------


def _metrics(cdp) -> dict[str, float]:
    return {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}


def recorder_cost(browser, site: str, name: str, seconds: float, runs: int) -> dict:
    """{"0"|"1": [(task ms, script ms)]}: the same scripted visit of ``name`` without and with
    the recorder, alternating which goes first."""
    costs: dict[str, list[tuple[float, float]]] = {"0": [], "1": []}
    for run in range(runs):
        for replay in ("0", "1") if run % 2 == 0 else ("1", "0"):
            context, page = new_page(browser)
            cdp = context.new_cdp_session(page)
            cdp.send("Performance.enable")
            before = _metrics(cdp)
            page.goto(f"{site}/{name}-replay{replay}.html", wait_until="load")
            visit(page, seconds, seed=300)
            recording = page.evaluate("() => Boolean(window.clicktrail && window.clicktrail._r)")
            if recording != (replay == "1"):
                raise RuntimeError(f'data-replay="{replay}" but recording is {recording}')
            after = _metrics(cdp)
            context.close()
            costs[replay].append(
                (
                    (after["TaskDuration"] - before["TaskDuration"]) * 1000,
                    (after["ScriptDuration"] - before["ScriptDuration"]) * 1000,
                )
            )
    return costs


def print_cost(costs: dict, name: str, size: int, seconds: float) -> None:
    per_minute = 60 / seconds
    print(
        f"\n4. recorder cost: {name} ({_kb(size)} KB of HTML), {seconds:g} s scripted visit,"
        f" {len(costs['1'])} run(s) each; main-thread ms"
    )
    print(f"{'metric':<16}{'without':>10}{'with':>10}{'extra/min':>11}{'ratio':>8}")
    for i, metric in enumerate(("TaskDuration", "ScriptDuration")):
        without = statistics.median(c[i] for c in costs["0"])
        with_ = statistics.median(c[i] for c in costs["1"])
        print(
            f"{metric:<16}{without:>10.0f}{with_:>10.0f}{(with_ - without) * per_minute:>11.0f}"
            f"{with_ / without:>8.2f}"
        )


# --- main -----------------------------------------------------------------------------------------


def write_site(site_dir: Path, collector: str, site_key: str) -> tuple[list[str], str]:
    """Every test page tagged (``<name>.html``); the largest also as ``<name>-replay0.html`` and
    ``<name>-replay1.html``. Returns the names and the largest's."""
    names = sorted(p.name for p in PAGES.iterdir() if (p / "source.html").is_file())
    for name in names:
        (site_dir / f"{name}.html").write_bytes(
            tagged_page(PAGES / name / "source.html", collector, site_key)
        )
    largest = max(names, key=lambda n: (PAGES / n / "source.html").stat().st_size)
    tagged = tagged_page(PAGES / largest / "source.html", collector, site_key)
    (site_dir / f"{largest}-replay1.html").write_bytes(tagged)
    (site_dir / f"{largest}-replay0.html").write_bytes(
        tagged.replace(b'data-replay="1"', b'data-replay="0"', 1)
    )
    return names, largest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="seconds per part, for CI")
    parser.add_argument(
        "--parts", default="storage,ingest,seeking,recorder", help="comma-separated parts to run"
    )
    parser.add_argument("--visit-seconds", type=float, default=20.0)
    parser.add_argument("--ingest-seconds", type=float, default=15.0)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument(
        "--seek-minutes",
        type=lambda v: [float(m) for m in v.split(",")],
        default=[30.0, 120.0],
        help="lengths of the long replays, comma-separated",
    )
    parser.add_argument("--seek-runs", type=int, default=30)
    parser.add_argument("--cost-seconds", type=float, default=60.0)
    parser.add_argument("--cost-runs", type=int, default=1, help="runs with and without")
    options = parser.parse_args()
    if options.smoke:
        options.visit_seconds, options.ingest_seconds = 3.0, 2.0
        options.seek_minutes, options.seek_runs = [3.0], 3
        options.cost_seconds, options.cost_runs = 5.0, 1
    parts = set(options.parts.split(","))
    if not Path(CHROMIUM).exists() and parts & {"storage", "seeking", "recorder"}:
        sys.exit(f"bench/replay.py needs Chromium at {CHROMIUM}: make chromium")

    work = Path(tempfile.mkdtemp(prefix="clicktrail-bench-replay-"))
    database = f"sqlite:///{work}/bench.db"
    brand = clicktrail_cli(
        "brands", "create", "Replay bench", "--domain", "localhost", database=database
    )
    collector = start_collector(
        "serve",
        database,
        work / "collector.log",
        *("--replay-assets-dir", str(work / "assets")),
        *("--compact-interval-seconds", "86400"),
    )
    api = httpx.Client(
        base_url=f"{collector.url}/api/brands/{brand['id']}",
        headers={"EF-Access-Key": brand["api_key"]},
        timeout=120,
    )
    bench = Bench(work, database, brand, collector, api, open_store(database))
    site_dir = work / "site"
    site_dir.mkdir()
    names, largest = write_site(site_dir, collector.url, brand["site_key"])
    recordings = {p.stem: p.read_bytes() for p in sorted(RECORDINGS.glob("*.json"))}
    load = os.getloadavg()[0]
    print(
        f"replay benchmark{' (smoke: figures mean nothing)' if options.smoke else ''};"
        f" load average {load:.2f} on {os.cpu_count()} cores at the start"
    )
    try:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright, static_site(site_dir) as site:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            sources = dict(recordings)
            if "storage" in parts:
                stored = storage(bench, browser, site, names, options.visit_seconds, options.smoke)
                print_storage(stored)
                # the recorded pages' streams, for ingest and seeking
                for row in stored.repeat_visits:
                    if row.name in names:
                        replay_id = next(
                            r.id
                            for r in bench.store.brand_replays(brand["id"], 1000)
                            if r.raw_bytes and r.url.endswith(f"/{row.name}.html")
                        )
                        sources[row.name] = rrweb_events(bench, replay_id)
            if "seeking" in parts:
                chosen = {k: v for k, v in sources.items() if k in recordings}
                recorded = {
                    k: v
                    for k, v in sources.items()
                    if k not in recordings and has_incremental_events(v)
                }  # a short visit on a busy machine may end before any incremental event
                if recorded:  # the heaviest page recorded here: the largest snapshot to rebuild
                    heaviest = max(recorded, key=lambda k: len(recorded[k]))
                    chosen[heaviest] = recorded[heaviest]
                results = [
                    seek
                    for minutes in options.seek_minutes
                    for seek in seeking(
                        bench.store, brand["id"], api, browser, chosen, minutes, options.seek_runs
                    )
                ]
                print_seeking(results, options.seek_runs)
            if "recorder" in parts:
                costs = recorder_cost(
                    browser, site, largest, options.cost_seconds, options.cost_runs
                )
                size = (PAGES / largest / "source.html").stat().st_size
                print_cost(costs, largest, size, options.cost_seconds)
            browser.close()
        if "ingest" in parts:
            results = ingest(
                bench.work, list(sources.values()), options.ingest_seconds, options.connections
            )
            print_ingest(results, options.ingest_seconds, options.connections)
            if results["clicktrail"]["errors"]:
                sys.exit("the collector refused replay chunks a recorder sends")
    finally:
        bench.store.close()
        api.close()
        collector.stop()
        print(f"\nload average {os.getloadavg()[0]:.2f} at the end")
        for note in bench.notes:
            print(f"note: {note}")
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
