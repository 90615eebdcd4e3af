"""Fidelity: each real page of ``../shared/testdata/pages`` is visited in Chromium with a
script (the top of the page, a scroll to the middle, a click that adds an element, a scroll
further down, the end), and the viewer's frame at each of those moments is compared pixel by
pixel with a screenshot the visitor's browser took at that moment, twice: once seeking to each
moment (in a jumbled order, so seeks go back and forth, and by the click's marker on the
timeline) and once playing straight through.

Similarities are printed and written to ``e2e/artifacts/fidelity.json`` (bench/README.md quotes
them). Every moment of every page must be at least 0.99 alike, for seek and play alike."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from e2e.conftest import DESKTOP_UA, TESTDATA, static_site
from e2e.pixels import similarity
from e2e.recording import (
    local_only,
    open_viewer,
    replay_of_page,
    wait_for,
    write_tagged_pages,
)

pytestmark = pytest.mark.e2e

PAGES = TESTDATA / "pages"
NAMES = sorted(p.name for p in PAGES.iterdir() if (p / "source.html").is_file())
VIEWPORT = {"width": 1280, "height": 800}
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
GOAL = 0.99
SETTLE_MS = 1200  # after each step of the visit, before its screenshot
# Seeks go forward, back past the start's full snapshot, and forward again.
SEEK_ORDER = ["after a click", "top", "the end", "mid-page scroll"]

# The visitor's click adds an element (and goes nowhere: links on the copied pages lead to
# pages that are not there).
CLICK_ADDS = """
document.addEventListener('click', (event) => {
  event.preventDefault();
  const note = document.createElement('div');
  note.id = 'ct-added';
  note.textContent = 'Added by a click';
  note.style.cssText = 'position:fixed;left:40px;top:40px;z-index:2147483647;padding:24px;' +
    'background:#c8502b;color:#fff;font:bold 28px/1 sans-serif;';
  document.body.appendChild(note);
}, true);
"""


@dataclass
class Moment:
    label: str
    offset_ms: int  # after the replay's first event
    shot: bytes


@dataclass
class Visit:
    page_session: str
    shots: list[tuple[str, int, bytes]] = field(default_factory=list)  # label, epoch ms, png


@pytest.fixture(scope="module")
def shop(collector, tmp_path_factory):
    brand = collector.cli("brands", "create", "Fidelity", "--domain", "localhost")
    site_dir = tmp_path_factory.mktemp("pages")
    write_tagged_pages(PAGES, site_dir, collector.url, brand["site_key"])
    api = collector.api(brand)
    with static_site(site_dir) as site:
        yield site, api
    _write_report()


_results: dict[str, dict[str, float]] = {}


def _write_report() -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "fidelity.json").write_text(json.dumps(_results, indent=2, sort_keys=True))


def _snap(page, visit: Visit, label: str) -> None:
    page.wait_for_timeout(SETTLE_MS)
    at = page.evaluate("Date.now()")
    visit.shots.append((label, at, page.screenshot()))


def _visit(browser, url: str):
    """The scripted visit; (what it saw, the browser context, to close once the replay is
    in)."""
    context = browser.new_context(user_agent=DESKTOP_UA, viewport=VIEWPORT)
    local_only(context)
    context.add_init_script(CLICK_ADDS)
    page = context.new_page()
    with page.expect_response(lambda r: r.url.endswith("/collect/replay"), timeout=30_000):
        page.goto(url, wait_until="load")
        page.wait_for_function("() => window.clicktrail && window.clicktrail._r")
    visit = Visit(page.evaluate("window.clicktrail._r.p()"))
    _snap(page, visit, "top")
    height = page.evaluate("() => document.documentElement.scrollHeight - innerHeight")
    page.evaluate(f"() => window.scrollTo(0, {int(height * 0.45)})")
    _snap(page, visit, "mid-page scroll")
    page.mouse.click(VIEWPORT["width"] // 2, VIEWPORT["height"] // 2)
    _snap(page, visit, "after a click")
    page.evaluate(f"() => window.scrollTo(0, {int(height * 0.8)})")
    _snap(page, visit, "the end")
    page.goto("about:blank")  # the page is hidden: the recorder sends the rest by beacon
    page.close()
    return visit, context


def _moments(visit: Visit, first_ts: int) -> list[Moment]:
    return [Moment(label, at - first_ts, shot) for label, at, shot in visit.shots]


# A rebuilt frame (a seek back, or past a full snapshot) loads its images again: wait until
# every one has loaded or failed, as a person watching does, before comparing.
IMAGES_SETTLED = """() => {
  const frame = document.querySelector('iframe');
  const doc = frame && frame.contentDocument;
  return Boolean(doc) && [...doc.images].every((image) => image.complete);
}"""


def _frame(viewer) -> bytes:
    viewer.wait_for_timeout(SETTLE_MS // 2)
    viewer.wait_for_function(IMAGES_SETTLED, timeout=10_000)
    viewer.wait_for_timeout(SETTLE_MS // 2)
    return viewer.locator("iframe").first.screenshot()


def _whole_replay(api, replay_id: str, moments: list[Moment]) -> dict:
    """The replay's index once its last chunk (sent as the tab was left) is in: it reaches the
    last step of the visit (a page too short to scroll has no event there: a few seconds)."""
    last_step = moments[-1].offset_ms - SETTLE_MS
    return wait_for(
        lambda: api.get(f"/replays/{replay_id}/index").json(),
        lambda index: index["duration_ms"] >= last_step,
        timeout=5,
    )


def _seeking(viewer, moments: list[Moment], duration_ms: int) -> dict[str, bytes]:
    """Seeks to each moment, back and forth; the end is the end of the replay."""
    frames = {}
    for moment in sorted(moments, key=lambda m: SEEK_ORDER.index(m.label)):
        at = duration_ms if moment.label == "the end" else min(moment.offset_ms, duration_ms)
        viewer.evaluate(f"() => window.viewer.seek({at})")
        frames[moment.label] = _frame(viewer)
    return frames


def _marker(viewer, moments: list[Moment]) -> tuple[list[Moment], dict[str, bytes]]:
    """Clicks the click's marker on the timeline, from the end: the viewer goes to a second
    before the click, when the page was as it was after the scroll to the middle."""
    viewer.evaluate("() => window.viewer.seek(window.viewer.durationMs)")
    viewer.locator(".marker.mk-click").last.click()
    mid_page = next(m for m in moments if m.label == "mid-page scroll")
    return [Moment("click marker", mid_page.offset_ms, mid_page.shot)], {
        "click marker": _frame(viewer)
    }


def _playing(viewer, moments: list[Moment], duration_ms: int) -> dict[str, bytes]:
    """Plays from the start, pausing at each moment (one after the replay's last event: when
    playing stops)."""
    frames = {}
    viewer.evaluate("() => window.viewer.setSkipInactive(false)")
    viewer.evaluate("() => window.viewer.seek(0)")
    viewer.evaluate("() => window.viewer.play()")
    for moment in moments:
        ended = moment.label == "the end" or moment.offset_ms >= duration_ms
        if ended:
            viewer.wait_for_function("() => !window.viewer.playing", timeout=60_000)
        else:
            viewer.wait_for_function(
                f"() => window.viewer.currentMs() >= {moment.offset_ms}", timeout=60_000
            )
            viewer.evaluate("() => window.viewer.pause()")
        frames[moment.label] = _frame(viewer)
        if not ended:
            viewer.evaluate("() => window.viewer.play()")
    return frames


def _score(name: str, how: str, moments: list[Moment], frames: dict[str, bytes]) -> list[str]:
    misses = []
    for moment in moments:
        slug = f"{name}-{how}-{moment.label.replace(' ', '-')}"
        (ARTIFACTS / f"fidelity-{slug}-original.png").write_bytes(moment.shot)
        (ARTIFACTS / f"fidelity-{slug}-replayed.png").write_bytes(frames[moment.label])
        score = similarity(moment.shot, frames[moment.label])
        _results.setdefault(name, {})[f"{how}: {moment.label}"] = round(score, 4)
        print(f"{name} {how} {moment.label}: {score:.4f} of pixels alike")
        if score < GOAL:
            misses.append(f"{how} {moment.label}: {score:.4f}")
    return misses


@pytest.mark.parametrize("name", NAMES)
def test_replayed_frames_match_the_page_after_seeking_and_while_playing(shop, browser, name):
    site, api = shop
    visit, visitor = _visit(browser, f"{site}/{name}.html")
    replay = replay_of_page(api, visit.page_session)
    index = api.get(f"/replays/{replay['id']}/index").json()
    moments = _moments(visit, index["first_event_ms"])
    _whole_replay(api, replay["id"], moments)
    visitor.close()
    link = api.post(f"/replays/{replay['id']}/share").json()["url"]
    ARTIFACTS.mkdir(exist_ok=True)

    context, viewer = open_viewer(browser, link, {"width": 1600, "height": 1100})
    viewer.evaluate("() => window.viewer.complete")
    duration = viewer.evaluate("() => window.viewer.durationMs")
    misses = _score(name, "seek", moments, _seeking(viewer, moments, duration))
    misses += _score(name, "seek", *_marker(viewer, moments))
    misses += _score(name, "play", moments, _playing(viewer, moments, duration))
    context.close()
    assert not misses, f"{name}: below {GOAL}: " + "; ".join(misses)
