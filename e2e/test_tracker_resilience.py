"""The tracker in real Chromium when things go wrong or late (issue 10): its brand config cannot
be fetched, the page uses the per-site script that needs no config request, a landing URL carries
a short link's ``ct_id``, and ``identify()`` comes after the first beacon."""

from __future__ import annotations

from pathlib import Path

import pytest

from e2e.conftest import DESKTOP_UA, static_site
from e2e.recording import wait_for

pytestmark = pytest.mark.e2e

PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>T</title>
<script defer src="{src}" {tag}></script></head><body><h1>T</h1>
<button id="who" onclick="clicktrail.identify('jane-42')">me</button></body></html>"""
CLICK_ID = "01jeqwr5d8k3m7q2x9v4n6b1c0"


def _page(tmp_path: Path, name: str, src: str, tag: str = "") -> None:
    (tmp_path / name).write_text(PAGE.format(src=src, tag=tag))


def _clicks_of(api, name: str) -> dict:
    return wait_for(lambda: api.get("/clicks", params={"url": name}).json(), lambda b: b["total"])


def _visit(browser, url: str, then=None, abort_config: bool = False) -> dict:
    """Open ``url``, wait for the tracker, run ``then(page)``, leave; what the page saw."""
    context = browser.new_context(user_agent=DESKTOP_UA)
    config_requests: list[str] = []
    if abort_config:

        def abort(route) -> None:
            config_requests.append(route.request.url)
            route.abort()

        context.route("**/config/**", abort)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(url)
    page.wait_for_function("() => window.clicktrail && window.clicktrail.loaded")
    page.wait_for_timeout(500)
    if then:
        then(page)
    seen = {
        "href": page.evaluate("location.href"),
        "storage": page.evaluate("Object.assign({}, localStorage)"),
        "config_requests": config_requests,
        "errors": errors,
    }
    page.goto("about:blank")  # pagehide: the tracker flushes what is queued
    context.close()
    return seen


def test_with_every_config_request_aborted_the_visit_is_still_stored_cookieless(
    collector, browser, tmp_path
):
    brand = collector.cli("brands", "create", "Config blocked", "--domain", "localhost")
    _page(tmp_path, "blocked.html", f"{collector.url}/t.js", f'data-site="{brand["site_key"]}"')
    with static_site(tmp_path) as site:
        seen = _visit(browser, f"{site}/blocked.html?utm_source=x", abort_config=True)
    assert seen["config_requests"], "the plain tag asks for its config"
    assert seen["storage"] == {}, "cookieless: nothing stored without the brand's word"
    assert seen["errors"] == []
    clicks = _clicks_of(collector.api(brand), "blocked.html")
    assert clicks["total"] == 1
    assert clicks["data"][0]["utm"]["source"] == "x"


def test_the_per_site_script_needs_no_config_request(collector, browser, tmp_path):
    brand = collector.cli("brands", "create", "Baked", "--domain", "localhost")
    _page(tmp_path, "baked.html", f"{collector.url}/t.js?site={brand['site_key']}")
    with static_site(tmp_path) as site:
        seen = _visit(browser, f"{site}/baked.html", abort_config=True)
    assert seen["config_requests"] == []
    assert set(seen["storage"]) == {"ct_v", "ct_s"}, "the baked config allows storage"
    clicks = _clicks_of(collector.api(brand), "baked.html")
    assert clicks["data"][0]["visitor_id"] == seen["storage"]["ct_v"]


def test_a_landing_url_s_ct_id_is_kept_and_leaves_the_address_bar(collector, browser, tmp_path):
    brand = collector.cli("brands", "create", "Landing", "--domain", "localhost")
    _page(tmp_path, "landing.html", f"{collector.url}/t.js", f'data-site="{brand["site_key"]}"')
    with static_site(tmp_path) as site:
        url = f"{site}/landing.html?utm_source=qr&ct_id={CLICK_ID}&sub1=a%20b#offer"
        seen = _visit(browser, url)
    assert seen["href"] == f"{site}/landing.html?utm_source=qr&sub1=a%20b#offer"
    assert seen["storage"]["ct_c"].startswith(CLICK_ID + ".")
    clicks = _clicks_of(collector.api(brand), "landing.html")
    assert clicks["total"] == 1 and clicks["data"][0]["sub1"] == "a b"


def test_identify_after_the_first_beacon_reaches_the_click(collector, browser, tmp_path):
    """Needs the collector's side of a late identify (an `identify` event sets the click's
    external id from the beacon's `i`)."""
    brand = collector.cli("brands", "create", "Late identify", "--domain", "localhost")
    _page(tmp_path, "late.html", f"{collector.url}/t.js", f'data-site="{brand["site_key"]}"')
    api = collector.api(brand)
    with static_site(tmp_path) as site:
        _visit(browser, f"{site}/late.html", then=lambda page: page.click("#who"))
    click = _clicks_of(api, "late.html")["data"][0]
    assert "identify" in [e["type"] for e in click["events"]]
    stored = wait_for(
        lambda: api.get(f"/clicks/{click['id']}").json(),
        lambda c: c.get("external_id") == "jane-42",
        timeout=5,
    )
    assert stored["external_id"] == "jane-42"
