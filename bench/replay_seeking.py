"""Part 3 of bench/replay.py, seeking and opening: long replays (a real recording's activity
repeated, a checkout every 10 minutes as the recorder takes them) of 30 minutes and 2 hours.

- The API: the whole stream against ``since_ms`` from the middle (what a seek reads).
- The viewer in Chromium, from a share link:
  - first frame: from navigation to the first frame painted (``viewer.ready``; the viewer
    fetches the index and the first 10 s window);
  - cold seek: a seek to the middle right after the first frame, before the rest has streamed
    in (the seek fetches its window on demand);
  - all loaded: from navigation until every event has streamed in (``viewer.complete``);
  - warm seeks to 1 s and to the middle once everything is loaded.
Each timing runs until the frame is painted; p50 of ``runs``.
"""

from __future__ import annotations

import itertools
import json
import statistics
import time
from dataclasses import dataclass, field

import httpx

from collector.replay.importer import import_replay
from collector.storage.base import Store
from e2e.recording import local_only

SEEK_GOAL_MS = 150.0  # a seek to the middle of a 30-minute replay (issue 9)
FIRST_FRAME_GOAL_MS = 300.0  # first frame of a 30-minute or 2-hour replay (issue 9)
OPENS = 10  # viewer opens per replay (each a fresh page)

# Seek, wait until the viewer has what it needs (a fetch for a cold seek), then until the
# frame is painted: the next animation frame runs before the paint, a task queued from it after.
TIMED_SEEK = """async (ms) => {
  const t0 = performance.now();
  await window.viewer.seek(ms);
  await new Promise((done) => requestAnimationFrame(() => setTimeout(done, 0)));
  return performance.now() - t0;
}"""
FIRST_FRAME = """async () => {
  await window.viewer.ready;
  await new Promise((done) => requestAnimationFrame(() => setTimeout(done, 0)));
  return performance.now();
}"""
ALL_LOADED = "async () => { await window.viewer.complete; return performance.now(); }"


def long_replay(events_json: bytes, minutes: float, checkout_ms: int) -> bytes:
    """``minutes`` of activity: the recording's first Meta + FullSnapshot, then its incremental
    events over and over with shifted timestamps, and a Meta + FullSnapshot checkout every
    ``checkout_ms`` as the recorder takes them."""
    events = json.loads(events_json)
    start = next(
        i for i in range(len(events) - 1) if events[i]["type"] == 4 and events[i + 1]["type"] == 2
    )
    meta, snapshot = events[start], events[start + 1]
    incremental = [e for e in events[start + 2 :] if e["type"] == 3]
    if not incremental:
        raise ValueError("the recording has no incremental events to repeat")
    t0 = meta["timestamp"]
    period = incremental[-1]["timestamp"] - t0 + 1000
    end = t0 + int(minutes * 60_000)
    out = [meta, snapshot]
    checkout = t0 + checkout_ms
    for lap in itertools.count():
        for event in incremental:
            ts = event["timestamp"] + lap * period
            if ts > end:
                return json.dumps(out, separators=(",", ":")).encode()
            if ts >= checkout:
                out += [{**meta, "timestamp": checkout}, {**snapshot, "timestamp": checkout + 1}]
                checkout += checkout_ms
            out.append({**event, "timestamp": ts})
    raise AssertionError("unreachable")


def has_incremental_events(events_json: bytes) -> bool:
    return any(event["type"] == 3 for event in json.loads(events_json))


@dataclass
class Seek:
    name: str
    minutes: float
    events: int
    raw: int
    middle_ms: int
    full_bytes: int
    since_bytes: int
    full_ms: list[float]
    since_ms: list[float]
    first_frame_ms: list[float] = field(default_factory=list)
    cold_seek_ms: list[float] = field(default_factory=list)
    all_loaded_ms: list[float] = field(default_factory=list)
    start_seek_ms: list[float] = field(default_factory=list)
    middle_seek_ms: list[float] = field(default_factory=list)
    frame_nodes: int = 0


def _timed_get(client: httpx.Client, path: str, params: dict) -> tuple[float, int]:
    started = time.perf_counter()
    response = client.get(path, params=params).raise_for_status()
    json.loads(response.content)
    return (time.perf_counter() - started) * 1000, len(response.content)


def seeking(
    store: Store,
    brand_id: int,
    api: httpx.Client,
    browser,
    sources: dict[str, bytes],
    minutes: float,
    runs: int,
) -> list[Seek]:
    checkout_ms = 10 * 60_000 if minutes >= 30 else int(minutes * 60_000 / 3)
    results = []
    for name, source in sources.items():
        events_json = long_replay(source, minutes, checkout_ms)
        replay_id = import_replay(store, brand_id, events_json, time.time_ns() // 1_000_000)
        path = f"/replays/{replay_id}"
        middle = api.get(f"{path}/index").raise_for_status().json()["duration_ms"] // 2
        full = {"format": "rrweb"}
        since = {"format": "rrweb", "since_ms": middle}
        _timed_get(api, path, full)  # warm: dictionary loaded, pages cached
        full_ms, since_ms = [], []
        for _ in range(runs):
            ms, full_bytes = _timed_get(api, path, full)
            full_ms.append(ms)
            ms, since_bytes = _timed_get(api, path, since)
            since_ms.append(ms)
        events = len(json.loads(events_json))
        seek = Seek(
            name, minutes, events, len(events_json), middle, full_bytes, since_bytes, full_ms,
            since_ms,
        )  # fmt: skip
        if browser is not None:
            link = api.post(f"{path}/share").raise_for_status().json()["url"]
            viewer_timings(browser, link, seek, runs)
        results.append(seek)
    return results


def _epoch(page, script: str) -> float:
    """The page's ``performance.now()`` that ``script`` answers, as epoch ms."""
    return page.evaluate(script) + page.evaluate("() => performance.timeOrigin")


def _open(page, link: str) -> tuple[float, float]:
    """Navigates to the viewer: (when it started, epoch ms; ms until the first frame)."""
    page.goto("about:blank")
    started = _epoch(page, "() => performance.now()")
    page.goto(link, wait_until="commit")
    page.wait_for_function("() => window.viewer")
    return started, _epoch(page, FIRST_FRAME) - started


def viewer_timings(browser, link: str, seek: Seek, runs: int) -> None:
    context = browser.new_context(viewport={"width": 1600, "height": 1000})
    local_only(context)
    page = context.new_page()
    _open(page, link)  # warm: the viewer's script in the browser cache, as for a second replay
    for i in range(min(runs, OPENS)):
        started, first_frame = _open(page, link)
        seek.first_frame_ms.append(first_frame)
        if i % 2:
            seek.cold_seek_ms.append(page.evaluate(TIMED_SEEK, seek.middle_ms))
        seek.all_loaded_ms.append(_epoch(page, ALL_LOADED) - started)
    for _ in range(runs):
        seek.start_seek_ms.append(page.evaluate(TIMED_SEEK, 1000))
        seek.middle_seek_ms.append(page.evaluate(TIMED_SEEK, seek.middle_ms))
    seek.frame_nodes = page.evaluate(
        "() => document.querySelector('iframe').contentDocument.querySelectorAll('*').length"
    )
    context.close()


def _median(values: list[float]) -> str:
    return f"{statistics.median(values):.0f}" if values else "-"


def _kb(n: float) -> str:
    return f"{n / 1024:,.1f}"


def print_seeking(results: list[Seek], runs: int) -> None:
    print(
        f"\n3. long replays: the API from the middle, and the viewer (p50 of {runs} runs,"
        f" {min(runs, OPENS)} opens; a checkout every 10 minutes)"
    )
    print(
        f"{'replay':<30}{'events':>8}{'MB':>7}{'full KB':>9}{'full ms':>9}{'from KB':>9}"
        f"{'from ms':>9}{'1st frame':>10}{'cold mid':>9}{'all in':>8}{'seek 1s':>8}{'mid':>6}"
    )
    for s in results:
        full, since = statistics.median(s.full_ms), statistics.median(s.since_ms)
        label = f"{s.name} {s.minutes:g} min"
        print(
            f"{label:<30}{s.events:>8}{s.raw / 1e6:>7.1f}{_kb(s.full_bytes):>9}{full:>9.1f}"
            f"{_kb(s.since_bytes):>9}{since:>9.1f}{_median(s.first_frame_ms):>10}"
            f"{_median(s.cold_seek_ms):>9}{_median(s.all_loaded_ms):>8}"
            f"{_median(s.start_seek_ms):>8}{_median(s.middle_seek_ms):>6}"
        )
    for s in results:
        print(_goals(s))


def _goals(s: Seek) -> str:
    label = f"{s.name} {s.minutes:g} min"
    since = statistics.median(s.since_ms)
    if s.minutes <= 30:  # the goal's replay; from the middle of a longer one is more to send
        line = f"goal {label}: API from the middle < {SEEK_GOAL_MS:.0f} ms: {since:.1f}"
        line += " ✓" if since < SEEK_GOAL_MS else " ✗"
    else:
        line = f"goal {label}: (API from the middle: {since:.1f} ms, {_kb(s.since_bytes)} KB)"
    if s.first_frame_ms:
        first = statistics.median(s.first_frame_ms)
        mid = statistics.median(s.cold_seek_ms + s.middle_seek_ms)
        line += (
            f"; first frame < {FIRST_FRAME_GOAL_MS:.0f} ms: {first:.0f}"
            f" {'✓' if first < FIRST_FRAME_GOAL_MS else '✗'}"
            f"; viewer seek to the middle < {SEEK_GOAL_MS:.0f} ms: cold"
            f" {_median(s.cold_seek_ms)}, warm {_median(s.middle_seek_ms)}"
            f" {'✓' if mid < SEEK_GOAL_MS else '✗'} ({s.frame_nodes} elements in the frame)"
        )
    return line
