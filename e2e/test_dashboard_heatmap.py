"""The dashboard's click map and scroll depth (issue 15) in real Chromium: a shop page with a
few buttons and a link, visited with replay on (scripted clicks and scrolls); then its CSS
changes (the buttons go from a row to a column, and sit apart on a phone) and more visits
happen. The Heatmaps page, at 1280 and at 375 px, outlines each clicked element over that
element in the newest snapshot (rebuilt by the viewer's map mode at that width), with the
scripted counts; a button the new page dropped is listed as not on the snapshot; scroll depth is
the share of measured visits that reached each tenth. Screenshots in /tmp/shots/heatmap-*.png."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from e2e.conftest import DESKTOP_UA, static_site
from e2e.dashboard_kit import sign_in
from e2e.recording import replay_of_page, wait_for

pytestmark = pytest.mark.e2e
SHOTS = Path("/tmp/shots")
TOLERANCE_PX = 3

ROW_CSS = ".bar { display: flex; flex-direction: row; gap: 24px; padding: 24px; }"
COLUMN_CSS = (
    ".bar { display: flex; flex-direction: column; gap: 40px; padding: 60px 24px 24px 320px; }"
    " @media (max-width: 600px) { .bar { padding: 24px; align-items: flex-end; } }"
)
PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Shop</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<script defer src="{collector}/t.js" data-site="{site_key}" data-replay="1"></script>
<style>
  body {{ margin: 0; font: 16px/1.4 sans-serif; }}
  .bar button, .bar a {{ display: block; width: 150px; height: 44px; box-sizing: border-box; }}
  .tall {{ height: 3200px; background: linear-gradient(#fff, #dde); }}
  {css}
</style></head><body>
<h1>Shop</h1>
<nav class="bar">
  <button id="buy">Buy</button>
  <a id="docs" href="#docs">Docs</a>
  <button id="help">Help</button>
  {old}
</nav>
<div class="tall"></div>
<footer>End</footer>
<script>
document.getElementById("help").addEventListener("click", function () {{
  document.querySelector("footer").textContent = "Help is on its way";
}});
</script>
</body></html>
"""
OLD_BUTTON = '<button id="old">Old offer</button>'


@dataclass
class Shop:
    url: str  # the page's URL, as the heatmap API folds it
    base: str  # the collector
    api: httpx.Client
    admin: dict
    clicks: dict[str, int] = field(default_factory=dict)  # selector -> scripted clicks
    depths: list[int] = field(default_factory=list)  # each visit's deepest tenth, 1..10
    replays: dict[str, str] = field(default_factory=dict)  # "desktop" | "phone" -> newest replay


def _visit(browser, shop: Shop, width: int, clicks: list[str], scroll_to_bottom: bool) -> str:
    """One visit: the scripted clicks, then a scroll to the bottom or none; returns its replay
    id once the collector has it."""
    height = 740 if width < 600 else 800
    context = browser.new_context(
        user_agent=DESKTOP_UA, viewport={"width": width, "height": height}
    )
    page = context.new_page()
    page.goto(shop.url)
    page.wait_for_function(
        "() => window.clicktrail && window.clicktrail.loaded && window.clicktrail._r"
    )
    page.wait_for_timeout(600)  # the config is in and /t/x.js loaded
    page_session = page.evaluate("window.clicktrail._r.p()")
    for selector in clicks:
        page.click(selector)
        shop.clicks[selector] = shop.clicks.get(selector, 0) + 1
        page.wait_for_timeout(1200)  # apart in time: no rage click
    if scroll_to_bottom:
        page.mouse.wheel(0, 20_000)
        page.wait_for_timeout(400)
    shop.depths.append(
        page.evaluate(
            "() => Math.min(10, Math.ceil((scrollY + innerHeight) / "
            "document.documentElement.scrollHeight * 10))"
        )
    )
    page.goto("about:blank")  # pagehide: the last beacon and replay chunk go out
    page.wait_for_timeout(300)
    context.close()
    return replay_of_page(shop.api, page_session)["id"]


def _visit_without_replay(browser, url: str) -> None:
    context = browser.new_context(user_agent=DESKTOP_UA)
    page = context.new_page()
    page.goto(url)
    page.wait_for_function("() => window.clicktrail && window.clicktrail.loaded")
    page.goto("about:blank")
    context.close()


def _write_page(site_dir: Path, shop_url: str, collector: str, site_key: str, css: str, old: str):
    page = PAGE.format(collector=collector, site_key=site_key, css=css, old=old)
    (site_dir / "shop.html").write_text(page)


@pytest.fixture(scope="module")
def shop(collector, browser, tmp_path_factory) -> Iterator[Shop]:
    brand = collector.cli("brands", "create", "Heatmap shop", "--domain", "localhost")
    admin = collector.cli(
        "users", "create", "heat@example.com", "--brand", str(brand["id"]), "--role", "admin"
    )
    site_dir = tmp_path_factory.mktemp("heatmap-site")
    with static_site(site_dir) as site, collector.api(brand) as api:
        shop = Shop(f"{site}/shop.html", collector.url, api, admin)
        write = lambda css, old: _write_page(  # noqa: E731
            site_dir, shop.url, collector.url, brand["site_key"], css, old
        )
        write(ROW_CSS, OLD_BUTTON)
        _visit(browser, shop, 1280, ["button#buy", "button#old", "button#buy"], False)
        _visit(browser, shop, 1280, ["button#help", "a#docs"], True)
        write(COLUMN_CSS, "")  # the layout changes: a column, pushed right
        shop.replays["desktop"] = _visit(browser, shop, 1280, ["button#buy", "button#help"], False)
        shop.replays["phone"] = _visit(browser, shop, 375, ["a#docs"], True)
        quiet = PAGE.format(collector=collector.url, site_key=brand["site_key"], css="", old="")
        (site_dir / "quiet.html").write_text(quiet.replace('data-replay="1"', 'data-replay="0"'))
        _visit_without_replay(browser, f"{site}/quiet.html")
        yield shop


def _heatmap_api_agrees(shop: Shop) -> dict:
    params = {"url": shop.url, "interval": "24h"}
    clicks = wait_for(
        lambda: shop.api.get("/heatmaps/clicks", params=params).json(),
        lambda body: sum(r["clicks"] for r in body.get("clicks", [])) >= sum(shop.clicks.values()),
    )
    counted = {r["selector"]: r["clicks"] for r in clicks["clicks"] if r["clicks"]}
    assert counted == shop.clicks
    scroll = wait_for(
        lambda: shop.api.get("/heatmaps/scroll", params=params).json(),
        lambda body: body.get("pageViews") == len(shop.depths),
    )
    assert scroll["pageViews"] == len(shop.depths), scroll
    return scroll


def _expected_shares(depths: list[int]) -> dict[int, float]:
    return {t * 10: sum(d >= t for d in depths) / len(depths) for t in range(1, 11)}


def _open(page, shop: Shop, width: int, layer: str = "clicks") -> None:
    extra = "&layer=scroll" if layer == "scroll" else ""
    page.evaluate("() => { if (window.dashboard) delete window.dashboard.heatmap; }")
    page.goto(f"{shop.base}/heatmaps?interval=24h&width={width}{extra}")
    page.wait_for_function(
        """([width, layer]) => { const h = window.dashboard && window.dashboard.heatmap;
          return h && h.width === width && h.layer === layer; }""",
        arg=[width, layer],
        timeout=30_000,
    )
    page.wait_for_timeout(3500)  # the map measures again once late fonts and images are in


# Where each drawn box is and where its element is, both in the map frame's viewport px.
BOXES_AND_ELEMENTS = """() => {
  const inner = document.querySelector('.map-root iframe');
  const frameBox = inner.getBoundingClientRect();
  const scale = frameBox.width / inner.offsetWidth;
  const out = {};
  for (const box of document.querySelectorAll('.map-box')) {
    const selector = box.dataset.selector;
    const el = inner.contentDocument.querySelector(selector);
    const r = el.getBoundingClientRect();
    const b = box.getBoundingClientRect();
    out[selector] = {
      box: [b.left, b.top, b.width, b.height],
      element: [frameBox.left + r.left * scale, frameBox.top + r.top * scale,
                r.width * scale, r.height * scale],
      pageX: r.left + inner.contentWindow.scrollX,
      badge: box.querySelector('.map-badge').textContent,
      frameWidth: inner.contentWindow.innerWidth,
    };
  }
  return out;
}"""


def _map_frame(page):
    handle = page.locator("iframe.heatmap-frame").element_handle()
    frame = handle.content_frame()
    assert frame is not None
    return frame


def _check_click_map(page, shop: Shop, width: int) -> dict:
    drawn = _map_frame(page).evaluate(BOXES_AND_ELEMENTS)
    on_page = {s: n for s, n in shop.clicks.items() if s != "button#old"}
    assert set(drawn) == set(on_page), drawn
    for selector, seen in drawn.items():
        assert seen["frameWidth"] == width
        assert seen["badge"] == str(shop.clicks[selector])
        for got, want in zip(seen["box"], seen["element"], strict=True):
            assert abs(got - want) <= TOLERANCE_PX, (selector, seen)
    table = page.get_by_role("table", name="Clicked elements")
    for selector, count in shop.clicks.items():
        row = table.locator("tr", has=page.locator("td", has_text=selector))
        cells = row.locator("td").all_inner_texts()
        assert cells[1] == str(count), cells
        if selector == "button#old":
            assert cells[2] == "Not on this snapshot"
        else:
            assert cells[2].startswith("Yes, at "), cells
    return drawn


def _shoot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"heatmap-{name}.png"), full_page=True)


def test_the_click_map_follows_the_new_layout_at_two_widths_and_scroll_depth_adds_up(
    shop: Shop, browser
) -> None:
    scroll = _heatmap_api_agrees(shop)
    shares = _expected_shares(shop.depths)
    assert {d["depth"]: d["share"] for d in scroll["depths"]} == pytest.approx(shares)
    assert 0 < shares[100] < 1  # some visits reached the bottom, some did not

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    sign_in(page, shop.base, shop.admin["email"], shop.admin["password"])

    _open(page, shop, 1280)
    assert page.evaluate("() => window.dashboard.heatmap.replayId") == shop.replays["desktop"]
    wide = _check_click_map(page, shop, 1280)
    # the new CSS: a column, so Help is below Buy (the first visits saw them side by side)
    assert wide["button#help"]["box"][1] > wide["button#buy"]["box"][1] + 40
    assert abs(wide["button#help"]["box"][0] - wide["button#buy"]["box"][0]) <= TOLERANCE_PX
    _shoot(page, "clicks-1280")
    _pick_a_width_by_keyboard(page)
    _open(page, shop, 1280, "scroll")
    _check_scroll_view(page, shares)
    _shoot(page, "scroll-1280")
    _check_a_page_without_replay_or_clicks(page, shop)

    page.set_viewport_size({"width": 375, "height": 800})
    _open(page, shop, 375)
    assert page.evaluate("() => window.dashboard.heatmap.replayId") == shop.replays["phone"]
    narrow = _check_click_map(page, shop, 375)
    # the new CSS's phone layout: the buttons at the right edge of the 375 px page, not at 320
    assert abs(wide["button#buy"]["pageX"] - 320) <= TOLERANCE_PX
    assert abs(narrow["button#buy"]["pageX"] - (375 - 24 - 150)) <= TOLERANCE_PX
    _shoot(page, "clicks-375")
    _open(page, shop, 375, "scroll")
    _check_scroll_view(page, shares)
    _shoot(page, "scroll-375")
    context.close()
    assert errors == []


def _check_scroll_view(page, shares: dict[int, float]) -> None:
    table = page.get_by_role("table", name="Scroll depth")
    for depth, share in shares.items():
        row = table.locator("tr", has=page.locator("th", has_text=re.compile(rf"^{depth}%$")))
        assert row.locator(".depth-value").inner_text() == f"{round(share * 100)}%"
    labels = _map_frame(page).evaluate(
        "() => [...document.querySelectorAll('.map-band-label')].map((l) => l.textContent)"
    )
    assert labels == [f"{d - 10}\u2013{d}%: {round(s * 100)}% reached" for d, s in shares.items()]


FOCUSED = """() => { const el = document.activeElement;
  return el ? `${el.tagName} ${el.getAttribute('aria-label') || el.textContent.trim()}` : ''; }"""


def _tab_to(page, wanted: str) -> None:
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate(FOCUSED).startswith(wanted):
            return
    raise AssertionError(f"{wanted!r} cannot be reached with Tab")


def _pick_a_width_by_keyboard(page) -> None:
    """The page picker and the width choice take the keyboard; Enter on Tablet redraws at 768."""
    page.locator("#page-title").focus()
    _tab_to(page, "SELECT")
    _tab_to(page, "BUTTON Tablet")
    page.keyboard.press("Enter")
    page.wait_for_function(
        "() => window.dashboard.heatmap.width === 768 && location.search.includes('width=768')",
        timeout=30_000,
    )


def _check_a_page_without_replay_or_clicks(page, shop: Shop) -> None:
    """A page visited with replay off and no click: each part says what to do."""
    quiet = shop.url.replace("/shop.html", "/quiet.html")
    wait_for(
        lambda: shop.api.get("/heatmaps/pages", params={"interval": "24h"}).json()["pages"],
        lambda pages: any(p["url"] == quiet for p in pages),
    )
    page.goto(f"{shop.base}/heatmaps?interval=24h&pageUrl={quiet}")
    empty = page.locator(".heatmap-empty")
    empty.wait_for()
    assert "No replay of this page yet" in empty.inner_text()
    assert "data-replay" in empty.inner_text()
    assert page.get_by_text("No clicks on this page in this range").count() == 1
    _shoot(page, "empty-1280")
