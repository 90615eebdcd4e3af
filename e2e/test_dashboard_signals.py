"""Frustration signals in the dashboard (issue 15), in real Chromium: four recorded visits of a
tagged page (one rage click, one dead click, one error click, one calm visit), then the
dashboard's sessions and replays lists filtered on each kind show exactly the right sessions,
and the settings form's toggle turns ``frustration_signals`` off so a new visit loads no
``/t/x.js``. Screenshots of the filtered list and the settings form at 1280 and 375 px go to
/tmp/shots/."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from e2e.conftest import DESKTOP_UA, static_site
from e2e.dashboard_kit import sign_in

pytestmark = pytest.mark.e2e
SHOTS = Path("/tmp/shots")
WIDTHS = (1280, 375)
VISITS = ("rage", "dead", "error", "calm")
# What each visit does to the page, and the signal the collector must have for it.
PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Checkout</title>
<script defer src="{proxy}/t.js" data-site="{site_key}" data-replay="{replay}"></script>
<style>button {{ display: block; margin: 30px; width: 160px; height: 40px; }}</style>
</head><body>
<h1>Checkout</h1>
<button id="stuck">Pay now</button>
<button id="grow">Show more</button>
<button id="boom">Apply coupon</button>
<ul id="more"></ul>
<script>
function more() {{
  var item = document.createElement("li"); item.textContent = "one more";
  document.getElementById("more").append(item);
}}
document.getElementById("grow").addEventListener("click", more);
document.getElementById("boom").addEventListener("click", function () {{
  more();  // the page changes, then fails: an error click, no dead click
  throw new TypeError("coupon is undefined");
}});
</script>
</body></html>
"""


@dataclass
class Shop:
    url: str  # the collector, where the dashboard is
    brand: dict[str, Any]
    admin: dict[str, Any]
    site: str
    sessions: dict[str, str]  # visit name -> session id
    x_loaded: list[str]  # visits whose page loaded /t/x.js


def _visit(browser, shop: Shop, api: httpx.Client, name: str) -> None:
    """One recorded visit of ``{name}.html``; waits in the page until the collector has its
    replay and, but for the calm visit, its signal."""
    context = browser.new_context(user_agent=DESKTOP_UA, viewport={"width": 1000, "height": 700})
    page = context.new_page()
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(f"{shop.site}/{name}.html")
    page.wait_for_function("() => window.clicktrail && window.clicktrail.loaded")
    page.wait_for_function("() => performance.getEntriesByType('resource')"
                           ".some(e => e.name.includes('/t/x.js'))")  # fmt: skip
    page.wait_for_timeout(300)
    if name == "rage":
        box = page.locator("#grow").bounding_box()
        assert box is not None
        for _ in range(3):
            page.mouse.click(box["x"] + 80, box["y"] + 20)
            page.wait_for_timeout(120)
    else:
        page.click({"dead": "#stuck", "error": "#boom", "calm": "#grow"}[name])
    page.wait_for_timeout(1500)  # a dead click is known a second after the click
    session = _session_of(api, name, page)
    shop.sessions[name] = session
    _wait_in(page, lambda: _recorded(api, session, name))
    if any("/t/x.js" in url for url in requests):
        shop.x_loaded.append(name)
    context.close()


def _session_of(api: httpx.Client, name: str, page) -> str:
    def found() -> str | None:
        rows = api.get("/clicks").json()["data"]
        return next((r["session_id"] for r in rows if r["url"].endswith(f"/{name}.html")), None)

    return _wait_in(page, found)


def _recorded(api: httpx.Client, session: str, name: str) -> bool:
    events = api.get(f"/clicks/session/{session}").json()["events"]
    kinds = {e["type"] for e in events}
    signalled = name == "calm" or f"{name}_click" in kinds
    return signalled and bool(api.get("/replays", params={"session_id": session}).json())


def _wait_in(page, check, seconds: float = 30) -> Any:
    """``check()`` once it is truthy, waiting inside the page (its beacons keep flowing)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        page.wait_for_timeout(250)
    raise AssertionError(f"not in time: {check}")


@pytest.fixture(scope="module")
def shop(collector, proxy, browser, tmp_path_factory) -> Iterator[Shop]:
    brand = collector.cli("brands", "create", "Frustrated shop", "--domain", "localhost")
    admin = collector.cli(
        "users", "create", f"signals-{brand['id']}@example.com", "--brand", str(brand["id"]),
        "--role", "admin",
    )  # fmt: skip
    site_dir = tmp_path_factory.mktemp("signals-site")
    for name in (*VISITS, "later"):
        replay = "0" if name == "later" else "1"
        page = PAGE.format(proxy=proxy, site_key=brand["site_key"], replay=replay)
        (site_dir / f"{name}.html").write_text(page)
    with static_site(site_dir) as site, collector.api(brand) as api:
        shop = Shop(collector.url, brand, admin, site, {}, [])
        for name in VISITS:
            _visit(browser, shop, api, name)
        yield shop


@pytest.fixture
def admin(shop: Shop, browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    sign_in(page, shop.url, shop.admin["email"], shop.admin["password"])
    yield page
    context.close()
    assert not errors, errors


def shoot(page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_timeout(400)
        page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def listed(page) -> set[str]:
    """Session ids of the list's rows, once it has loaded."""
    page.wait_for_function("() => !document.querySelector('[aria-busy=true]')")
    page.wait_for_selector("tbody tr, p.empty")
    cells = page.locator("tbody tr td a[href^='/sessions/']").all_inner_texts()
    return {text.strip() for text in cells}


def names(shop: Shop, ids: set[str]) -> set[str]:
    by_id = {session: name for name, session in shop.sessions.items()}
    return {by_id.get(session, session) for session in ids}


EXPECTED = {
    "": {"rage", "dead", "error", "calm"},
    "rage,dead,error": {"rage", "dead", "error"},
    "rage": {"rage"},
    "dead": {"dead"},
    "error": {"error"},
}


def test_every_visit_loaded_the_detection_and_has_its_signal(shop: Shop) -> None:
    assert shop.x_loaded == list(VISITS)
    with httpx.Client(base_url=f"{shop.url}/api/brands/{shop.brand['id']}") as api:
        key = {"EF-Access-Key": shop.brand["api_key"]}
        rows = api.get("/sessions", params={"interval": "24h"}, headers=key).json()
    signals = {names(shop, {row["sessionId"]}).pop(): row["signals"] for row in rows}
    kinds = {name: {k for k, n in found.items() if n} for name, found in signals.items()}
    assert kinds == {"rage": {"rage"}, "dead": {"dead"}, "error": {"error"}, "calm": set()}


@pytest.mark.parametrize("path", ["/sessions", "/replays"])
def test_the_lists_filter_on_each_kind_of_signal(shop: Shop, admin, path: str) -> None:
    for signal, expected in EXPECTED.items():
        query = f"?interval=24h&signal={signal}" if signal else "?interval=24h"
        admin.goto(shop.url + path + query)
        assert names(shop, listed(admin)) == expected, (path, signal)
        if signal == "rage":
            row = admin.locator("tbody tr", has_text=shop.sessions["rage"])
            assert row.locator(".signal-rage").inner_text().strip() == "Rage 1"
            shoot(admin, f"{path.strip('/')}-rage")
        if signal == "rage,dead,error":
            shoot(admin, f"{path.strip('/')}-any-signal")
    select = admin.get_by_label("Frustration")
    assert select.input_value() == "error"  # the URL's state, shown in the form


def test_the_frustration_filter_works_from_the_keyboard(shop: Shop, admin) -> None:
    admin.goto(f"{shop.url}/sessions?interval=24h")
    listed(admin)
    select = admin.get_by_label("Frustration")
    select.focus()
    admin.keyboard.type("Dead")  # a select's type-ahead
    assert select.input_value() == "dead"
    for _ in range(20):  # on to Apply
        admin.keyboard.press("Tab")
        if admin.evaluate("() => document.activeElement.textContent") == "Apply":
            break
    admin.keyboard.press("Enter")
    admin.wait_for_url(re.compile(r"signal=dead"))
    assert names(shop, listed(admin)) == {"dead"}


def test_the_settings_toggle_turns_the_detection_off(shop: Shop, admin, browser) -> None:
    admin.goto(f"{shop.url}/settings")
    toggle = admin.get_by_label("Dead and error clicks")
    toggle.wait_for()
    assert toggle.is_checked()
    help_id = toggle.get_attribute("aria-describedby")
    assert "/t/x.js, 915 B" in admin.locator(f"#{help_id}").inner_text()
    shoot(admin, "settings-signals")
    admin.get_by_label("Masked text (CSS selector)").focus()
    admin.keyboard.press("Tab")  # the toggle is the next stop
    assert admin.evaluate("() => document.activeElement.name") == "frustration_signals"
    admin.keyboard.press("Space")
    assert not toggle.is_checked()
    admin.get_by_role("button", name="Save").click()
    admin.wait_for_selector("text=Saved.")
    shoot(admin, "settings-signals-saved")
    key = {"EF-Access-Key": shop.brand["api_key"]}
    brand = httpx.get(f"{shop.url}/api/brands/{shop.brand['id']}", headers=key).json()
    assert brand["settings"]["frustration_signals"] is False
    assert not admin.get_by_label("Dead and error clicks").is_checked()  # the form reloaded

    context = browser.new_context(user_agent=DESKTOP_UA)
    page = context.new_page()
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(f"{shop.site}/later.html")
    page.wait_for_function("() => window.clicktrail && window.clicktrail.loaded")
    page.click("#stuck")
    page.wait_for_timeout(2000)
    context.close()
    assert any("/config/" in url for url in requests), requests
    assert not any("/t/x.js" in url for url in requests), requests
