"""Fidelity: each real page of ``../shared/testdata/pages`` is recorded in Chromium and replayed
in the viewer; the replayed frame is compared pixel by pixel with a screenshot of the page.

Similarities are printed and written to ``e2e/artifacts/fidelity.json`` (bench/README.md quotes
them). The assertion is a floor that catches a broken replay (blank frame, missing styles), not
the figure itself."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from e2e.conftest import DESKTOP_UA, TESTDATA, static_site
from e2e.pixels import similarity
from e2e.recording import local_only, open_viewer, replay_of_page, write_tagged_pages

pytestmark = pytest.mark.e2e

PAGES = TESTDATA / "pages"
NAMES = sorted(p.name for p in PAGES.iterdir() if (p / "source.html").is_file())
VIEWPORT = {"width": 1280, "height": 800}
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
FLOOR = 0.97


@pytest.fixture(scope="module")
def shop(collector, tmp_path_factory):
    brand = collector.cli("brands", "create", "Fidelity", "--domain", "localhost")
    site_dir = tmp_path_factory.mktemp("pages")
    write_tagged_pages(PAGES, site_dir, collector.url, brand["site_key"])
    api = collector.api(brand)
    with static_site(site_dir) as site:
        yield site, api
    _write_report()


_results: dict[str, float] = {}


def _write_report() -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "fidelity.json").write_text(json.dumps(_results, indent=2, sort_keys=True))


def _record(browser, url: str):
    """Opens the page until its first replay chunk is stored, then closes the tab; (page
    session, shot, shot ms, the browser context, to close once the replay is in)."""
    context = browser.new_context(user_agent=DESKTOP_UA, viewport=VIEWPORT)
    local_only(context)
    page = context.new_page()
    with page.expect_response(lambda r: r.url.endswith("/collect/replay"), timeout=30_000):
        page.goto(url, wait_until="load")
        page.wait_for_function("() => window.clicktrail && window.clicktrail._r")
        page.wait_for_timeout(1000)
        shot_at = page.evaluate("Date.now()")
        shot = page.screenshot()
    page_session = page.evaluate("window.clicktrail._r.p()")
    page.close()
    return page_session, shot, shot_at, context


@pytest.mark.parametrize("name", NAMES)
def test_replayed_frame_matches_the_recorded_page(shop, browser, name):
    site, api = shop
    page_session, original, shot_at, visitor = _record(browser, f"{site}/{name}.html")
    replay = replay_of_page(api, page_session)
    visitor.close()
    events = api.get(f"/replays/{replay['id']}", params={"format": "rrweb"}).json()
    offset = max(0, shot_at - events[0]["timestamp"])
    link = api.post(f"/replays/{replay['id']}/share").json()["url"]

    context, viewer = open_viewer(browser, link, {"width": 1600, "height": 1100})
    viewer.evaluate(f"() => window.viewer.seek({offset})")
    viewer.wait_for_timeout(800)
    replayed = viewer.locator("iframe").first.screenshot()
    context.close()

    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"fidelity-{name}-original.png").write_bytes(original)
    (ARTIFACTS / f"fidelity-{name}-replayed.png").write_bytes(replayed)
    score = similarity(original, replayed)
    _results[name] = round(score, 4)
    print(f"{name}: {score:.3f} of pixels alike")
    assert score >= FLOOR
