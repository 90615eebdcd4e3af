"""Frustration signals with replay off (issue 15), in real Chromium: a page tagged with the
tracker (``data-replay="0"``) on one origin, the collector on another; a scripted visit's clicks
come back from the API as signal events on the page view's click."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from e2e.conftest import DESKTOP_UA, static_site
from e2e.recording import wait_for

pytestmark = pytest.mark.e2e

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Signals</title>
<script defer src="{proxy}/t.js" data-site="{site_key}" data-replay="0"></script>
<style>button {{ display: block; margin: 40px; width: 160px; height: 40px; }}</style>
</head><body>
<h1>Checkout</h1>
<button id="stuck">Pay now</button>
<button id="grow">Show more</button>
<button id="boom">Apply coupon</button>
<button id="fetcher">Load</button>
<ul id="more"></ul>
<script>
document.getElementById("grow").addEventListener("click", function () {{
  var item = document.createElement("li"); item.textContent = "one more";
  document.getElementById("more").append(item);
}});
document.getElementById("boom").addEventListener("click", function () {{
  throw new TypeError("coupon is undefined");
}});
document.getElementById("fetcher").addEventListener("click", function () {{
  fetch("/signals.html?x=" + Date.now());
}});
</script>
</body></html>
"""


@contextmanager
def _signals_page(collector, proxy, browser, tmp_path, brand_name: str) -> Iterator[Any]:
    """The signals page of a new brand, open in Chromium with the tracker loaded and its config
    in; yields (page, api, the page's uncaught errors). The context closes afterwards."""
    brand = collector.cli("brands", "create", brand_name, "--domain", "localhost")
    (tmp_path / "signals.html").write_text(PAGE.format(proxy=proxy, site_key=brand["site_key"]))
    api = collector.api(brand)
    with static_site(tmp_path) as site:
        context = browser.new_context(user_agent=DESKTOP_UA)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(f"{site}/signals.html")
        page.wait_for_function("() => window.clicktrail && window.clicktrail.loaded")
        page.wait_for_timeout(500)  # the config is in: later clicks are batched
        yield page, api, errors
    context.close()


def _box_center(page, selector: str) -> tuple[float, float]:
    box = page.locator(selector).bounding_box()
    assert box is not None
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def _events_of(api, page_id: str, wanted: str):
    click = wait_for(
        lambda: api.get(f"/clicks/{page_id}"),
        lambda r: r.status_code == 200 and any(e["type"] == wanted for e in r.json()["events"]),
    )
    assert click.status_code == 200, click.text
    return click.json()["events"]


def test_rage_clicks_are_flagged_from_the_trackers_clicks_with_replay_off(
    collector, proxy, browser, tmp_path
):
    with _signals_page(collector, proxy, browser, tmp_path, "Signals shop") as (page, api, errors):
        x, y = _box_center(page, "#stuck")
        for _ in range(3):
            page.mouse.click(x, y)
            page.wait_for_timeout(120)
        page.wait_for_timeout(1500)
        page.click("#grow")  # two clicks far apart in time and space: no burst
        page.wait_for_timeout(300)
        assert not page.evaluate("() => !!window.clicktrail._r"), "replay must be off"
        page.close()  # pagehide sends what is queued
    assert errors == []

    clicks = wait_for(lambda: api.get("/clicks").json(), lambda body: body["total"] >= 1)
    assert clicks["total"] == 1
    click_id = clicks["data"][0]["id"]
    events = _events_of(api, click_id, "rage_click")
    rages = [e for e in events if e["type"] == "rage_click"]
    assert len(rages) == 1
    rage = rages[0]
    stuck = [e for e in events if e["type"] == "click" and e["data"]["selector"] == "button#stuck"]
    assert len(stuck) == 3
    assert rage["timestamp"] == stuck[0]["timestamp"]
    assert rage["data"] == {
        "s": "button#stuck",
        "x": stuck[0]["data"]["x"],
        "y": stuck[0]["data"]["y"],
        "n": 3,
        "src": "tracker",
    }
    assert [e["type"] for e in events].count("click") == 4


def test_dead_and_error_clicks_are_flagged_by_the_tracker_with_replay_off(
    collector, proxy, browser, tmp_path
):
    with _signals_page(collector, proxy, browser, tmp_path, "Signals shop 2") as (
        page,
        api,
        errors,
    ):
        for button in ("#stuck", "#grow", "#boom", "#fetcher"):
            page.click(button)
            page.wait_for_timeout(1500)
        page.close()
    assert len(errors) == 1 and "coupon is undefined" in errors[0]  # the page's own error

    clicks = wait_for(lambda: api.get("/clicks").json(), lambda body: body["total"] >= 1)
    events = _events_of(api, clicks["data"][0]["id"], "error_click")
    signals = [(e["type"], e["data"]["s"]) for e in events if e["type"].endswith("_click")]
    assert ("dead_click", "button#stuck") in signals
    assert ("error_click", "button#boom") in signals
    assert ("dead_click", "button#grow") not in signals  # it changed the DOM
    assert ("dead_click", "button#fetcher") not in signals  # it made a request
    error = next(e for e in events if e["type"] == "error_click")
    clicks_on = [e for e in events if e["type"] == "click"]
    boom = next(e for e in clicks_on if e["data"]["selector"] == "button#boom")
    # x.js reads the clock in its own click listener, t.js in its own: the same click, read
    # twice, can straddle a millisecond (CI saw .457 against .458).
    assert abs(_ms(error["timestamp"]) - _ms(boom["timestamp"])) <= 2
    assert error["data"]["m"] == "Uncaught TypeError: coupon is undefined"
    assert error["data"]["src"] == "tracker"


def _ms(timestamp: str) -> float:
    return dt.datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp() * 1000
