"""A visitor on a landing page (one origin) tracked by the collector (another origin), in real
Chromium: load, click, custom event, SPA navigation, close; then the API tells the story."""

from __future__ import annotations

import pytest

from e2e.conftest import DESKTOP_UA, static_site
from e2e.recording import wait_for

pytestmark = pytest.mark.e2e

LANDING = """<!doctype html>
<html><head><meta charset="utf-8"><title>Offer</title>
<script>window.clicktrail=window.clicktrail||{{q:[],track:function(){{this.q.push(["track"].concat([].slice.call(arguments)))}},identify:function(){{this.q.push(["identify"].concat([].slice.call(arguments)))}}}}</script>
<script>clicktrail.track("early_bird", {{queued: true}})</script>
<script defer src="{proxy}/t.js" data-site="{site_key}" data-funnel="7"></script>
</head><body>
<h1>Spring offer</h1>
<button id="buy-now" class="cta">Buy now</button>
<a id="step2" href="/step2">Next step</a>
<script>
document.getElementById("step2").addEventListener("click", function (e) {{
  e.preventDefault(); history.pushState({{}}, "", "/landing.html?step=2");
}});
</script>
</body></html>
"""


def test_visit_is_recorded_as_one_session_with_ordered_events_and_geo(
    collector, proxy, browser, tmp_path
):
    brand = collector.cli("brands", "create", "E2E shop", "--domain", "localhost")
    (tmp_path / "landing.html").write_text(LANDING.format(proxy=proxy, site_key=brand["site_key"]))
    api = collector.api(brand)
    with static_site(tmp_path) as site:
        context = browser.new_context(user_agent=DESKTOP_UA)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(f"{site}/landing.html?utm_source=newsletter&sub1=spring")
        page.wait_for_function("() => window.clicktrail && window.clicktrail.loaded")
        page.click("#buy-now")
        page.evaluate("clicktrail.track('add_to_cart', {product_id: 3})")
        page.click("#step2")
        page.wait_for_timeout(300)
        page.close()  # pagehide: the tracker flushes what is queued (the browser stays open)

    clicks = wait_for(
        lambda: api.get("/clicks").json(),
        lambda body: body["total"] >= 1 and len(body["data"][0]["events"]) >= 5,
    )
    context.close()
    assert errors == []
    assert clicks["total"] == 1
    click = clicks["data"][0]
    assert click["funnel_id"] == 7 and click["sub1"] == "spring"
    assert click["utm"]["source"] == "newsletter"
    assert click["domain"]["domain"] == "localhost"
    assert click["is_bot"] is False and click["browser"]["name"] == "Chrome"

    session = api.get(f"/clicks/session/{click['session_id']}").json()
    types = [event["type"] for event in session["events"]]
    assert types[0] == "page_view"
    assert types.index("click") < types.index("add_to_cart") < types.index("page_view", 1)
    assert "early_bird" in types  # called before the script loaded
    buy = next(e for e in session["events"] if e["type"] == "click")
    assert buy["data"]["selector"] == "button#buy-now" and buy["data"]["text"] == "Buy now"
    spa = [e for e in session["events"] if e["type"] == "page_view"][1]
    assert spa["url"].endswith("/landing.html?step=2")
    assert session["geoData"]["city"] == "London" and session["geoData"]["country"] == "GB"
    assert session["geoData"]["ip_address"] == "81.2.69.160"
