"""Frustration signals from the replay stream, shown in the viewer (issue 15), in real Chromium:
a visit with replay on (``data-replay="1"``) makes a rage click, a dead click and an error
click; once the replay is compacted (``clicktrail replays compact --all``) the signals are
stored with ``src: "replay"`` beside the tracker's, and the viewer shows one marker of each
kind, reachable from the keyboard. Screenshots at 1280 and 375 px go to /tmp/shots/."""

from __future__ import annotations

from pathlib import Path

import pytest

from e2e.conftest import DESKTOP_UA, static_site
from e2e.recording import open_viewer, wait_for

pytestmark = pytest.mark.e2e

SHOTS = Path("/tmp/shots")
SIGNALS = ("rage_click", "dead_click", "error_click")

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Stuck checkout</title>
<script defer src="{proxy}/t.js" data-site="{site_key}" data-replay="1"></script>
<style>
  body {{ font: 16px/1.5 sans-serif; margin: 0; background: #f6f3ee; color: #222; }}
  main {{ padding: 24px 40px; }}
  button, #stars {{ display: block; margin: 24px 0; width: 200px; height: 44px; }}
  #stars {{ background: #ffd76a; text-align: center; line-height: 44px; }}
</style>
</head><body><main>
<h1>Checkout</h1>
<div id="stars">★★★★☆</div>
<button id="stuck">Pay now</button>
<button id="boom">Apply coupon</button>
</main>
<script>
document.getElementById("boom").addEventListener("click", function () {{
  throw new TypeError("coupon is undefined");
}});
</script>
</body></html>
"""


def _visit(page, site: str) -> None:
    """Rage clicks on the rating, a dead click on Pay now, an error click on Apply coupon; the
    mouse keeps moving after each, so the stream goes on past the second that judges it."""
    page.goto(f"{site}/signals.html")
    page.wait_for_function("() => window.clicktrail && window.clicktrail._x")  # x.js is in
    page.wait_for_function("() => window.clicktrail._r && window.clicktrail._r.on")  # recording
    page.wait_for_timeout(500)
    for selector, clicks in (("#stars", 4), ("#stuck", 1), ("#boom", 1)):
        box = page.locator(selector).bounding_box()
        assert box is not None
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        for _ in range(clicks):
            page.mouse.click(x, y)
            page.wait_for_timeout(100)
        for step in range(6):  # mouse moves every 300 ms: events after the judging second
            page.mouse.move(x + 250 + step * 10, y + step * 5)
            page.wait_for_timeout(300)
    page.close()  # pagehide: the recorder and the tracker send what they hold


def _replay_signals(collector, api, page_id: str) -> list[dict]:
    """The page's signal events once the replay's are stored (compacting until they are)."""

    def fetch() -> list[dict]:
        collector.cli("replays", "compact", "--all")
        events = api.get(f"/clicks/{page_id}").json().get("events", [])
        return [e for e in events if e["type"] in SIGNALS]

    def ready(found: list[dict]) -> bool:
        kinds = {e["type"] for e in found if e["data"].get("src") == "replay"}
        return kinds == set(SIGNALS)

    return wait_for(fetch, ready, timeout=40)


def test_replay_signals_show_as_one_marker_of_each_kind(collector, proxy, browser, tmp_path):
    brand = collector.cli("brands", "create", "Stuck shop", "--domain", "localhost")
    (tmp_path / "signals.html").write_text(PAGE.format(proxy=proxy, site_key=brand["site_key"]))
    api = collector.api(brand)
    visitor = browser.new_context(user_agent=DESKTOP_UA, viewport={"width": 1000, "height": 700})
    errors: list[str] = []
    with static_site(tmp_path) as site:
        page = visitor.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        _visit(page, site)
        visitor.close()
    assert len(errors) == 1 and "coupon is undefined" in errors[0]  # the page's own error

    clicks = wait_for(lambda: api.get("/clicks").json(), lambda body: body["total"] >= 1)
    page_id = clicks["data"][0]["id"]
    found = _replay_signals(collector, api, page_id)
    replayed = {(e["type"], e["data"]["s"]) for e in found if e["data"]["src"] == "replay"}
    assert replayed == {
        ("rage_click", "div#stars"),
        ("dead_click", "button#stuck"),
        ("error_click", "button#boom"),  # its handler throws: an error click, not a dead one
    }
    rage = next(e for e in found if e["type"] == "rage_click" and e["data"]["src"] == "replay")
    assert rage["data"]["n"] == 4
    error = next(e for e in found if e["type"] == "error_click" and e["data"]["src"] == "replay")
    assert error["data"]["m"] == "Uncaught TypeError: coupon is undefined"
    assert {e["data"]["src"] for e in found} == {"tracker", "replay"}  # x.js found them too
    again = collector.cli("replays", "compact", "--all")
    assert again == {"compacted": 0}
    assert len(api.get(f"/clicks/{page_id}").json()["events"]) >= len(found)

    replays = api.get("/replays", params={"session_id": clicks["data"][0]["session_id"]}).json()
    link = api.post(f"/replays/{replays[0]['id']}/share").json()["url"]
    _check_markers(browser, link)


def _check_markers(browser, link: str) -> None:
    context, page = open_viewer(browser, link, {"width": 1280, "height": 800})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.evaluate("() => window.viewer.complete.then(() => true)")
    markers = page.evaluate("() => window.viewer.markers")
    by_kind = {k: [m for m in markers if m["kind"] == k] for k in ("rage", "dead", "error")}
    labels = {k: sorted(m["label"] for m in ms) for k, ms in by_kind.items()}
    assert labels == {
        "rage": ["Rage click \u00d74 on div#stars"],
        "dead": ["Dead click on button#stuck"],
        "error": ["Error click: Uncaught TypeError: coupon is undefined"],
    }  # one marker per signal: the tracker's of the same signals are folded into the replay's
    assert all(m["src"] == "replay" for ms in by_kind.values() for m in ms)
    for kind, count in (("rage", 1), ("dead", 1), ("error", 1)):
        assert page.locator(f"#markers .marker.mk-{kind}").count() == count
        assert page.locator(f"#events button[data-kind={kind}]").count() == count
    # not colour alone: each kind draws its own glyph
    glyphs = page.evaluate(
        """() => ['rage', 'dead', 'error'].map((k) => getComputedStyle(
            document.querySelector('#markers .mk-' + k), '::after').content)"""
    )
    assert glyphs == ['"!!"', '"\u2205"', '"\u00d7"']
    # keyboard: the panel's entry takes focus and Enter jumps to a moment before the signal
    error_ts = by_kind["error"][0]["ts"]
    entry = page.locator("#events button[data-kind=error]")
    entry.focus()
    assert page.evaluate("() => document.activeElement.dataset.kind") == "error"
    page.keyboard.press("Enter")
    page.wait_for_timeout(400)
    at = page.evaluate("() => window.viewer.currentMs()")
    assert error_ts - 1500 <= at <= error_ts + 500
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "viewer-signals-1280.png"))
    page.set_viewport_size({"width": 375, "height": 800})
    page.wait_for_timeout(300)
    page.screenshot(path=str(SHOTS / "viewer-signals-375.png"))
    page.locator("#events").scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "viewer-signals-375-panel.png"))
    assert errors == []
    context.close()
