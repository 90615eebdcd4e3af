"""One visitor from a short link to a sale, in real Chromium (issue 10's proof): the link
redirects to a landing page on another origin with the query forwarded, the tracker takes
`ct_id` out of the address bar, the visit is recorded with its replay, a lead and a sale (sent
twice) are attributed to the landing page's click, and the session shows it all. Then the link's
QR code decodes to `/q/{code}`, and following it records a click with `trigger=qr`."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import zxingcpp
from PIL import Image

from e2e.conftest import DESKTOP_UA, static_site
from e2e.recording import replay_of_page, wait_for

pytestmark = pytest.mark.e2e

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 740}
LOADED = "() => window.clicktrail && window.clicktrail.loaded"

LANDING = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Pro plan offer</title>
<style>
  body {{ font: 17px/1.5 system-ui, sans-serif; margin: 0; background: #f4f1ea; color: #1d1d1d; }}
  header {{ background: #22406a; color: #fff; padding: 28px 6vw; }}
  header h1 {{ margin: 0; font-size: clamp(24px, 5vw, 40px); }}
  main {{ padding: 24px 6vw; max-width: 880px; }}
  .plan {{ background: #fff; border-radius: 10px; padding: 20px 24px;
           box-shadow: 0 1px 4px rgba(0,0,0,.15); margin-bottom: 24px; }}
  .price {{ font-size: 32px; font-weight: 700; color: #b5451b; }}
  button {{ background: #b5451b; color: #fff; border: 0; border-radius: 6px;
            padding: 12px 26px; font-size: 18px; cursor: pointer; }}
  #details {{ margin-top: 16px; }}
  .tall {{ height: 1500px; background: linear-gradient(#f4f1ea, #d8c9b2); }}
</style>
<script defer src="{collector}/t.js" data-site="{site_key}" data-replay="1"></script>
</head><body>
<header><h1>Clicktrail Pro</h1><p>Everything your team needs to follow a click to a sale.</p>
</header>
<main>
  <section class="plan">
    <p>Your plan: <strong id="plan">?</strong></p>
    <p class="price">€49 / month</p>
    <button id="show-details">What is included</button>
    <ul id="details" hidden><li>Session replay</li><li>Short links and QR codes</li>
      <li>Leads and sales</li></ul>
  </section>
  <div class="tall"></div>
</main>
<script>
  document.getElementById("plan").textContent =
    new URLSearchParams(location.search).get("plan") || "none";
  document.getElementById("show-details").addEventListener("click", function () {{
    document.getElementById("details").hidden = false;
  }});
</script>
</body></html>
"""


def _landing_site(tmp_path: Path, collector, brand: dict) -> Path:
    html = LANDING.format(collector=collector.url, site_key=brand["site_key"])
    (tmp_path / "offer.html").write_text(html)
    return tmp_path


def _short_link(api: httpx.Client, destination: str) -> dict:
    answer = api.post("/short-links/generate", json={"destination_url": destination})
    assert answer.status_code == 201, answer.text
    return answer.json()


def _screenshots(page) -> None:
    """The landing page as a visitor first sees it, on a desktop and on a phone."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "short-link-landing-1280.png"))
    page.set_viewport_size(PHONE)
    page.screenshot(path=str(ARTIFACTS / "short-link-landing-375.png"))
    page.set_viewport_size(DESKTOP)


def _visit_and_click_around(context, short_url: str) -> dict:
    """Follow the short URL, land, screenshot, open the details, scroll, close the tab (the
    browser stays open, as for a visitor, so the last beacons go out); what the tab saw."""
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    with page.expect_response(lambda r: r.url.endswith("/collect/replay"), timeout=20_000):
        response = page.goto(short_url)
        page.wait_for_function(LOADED)
    redirect = response.request.redirected_from
    assert redirect is not None, "the short URL did not redirect"
    seen = {
        "redirect_location": redirect.response().headers["location"],
        "landed_url": page.url,
        "plan_shown": page.inner_text("#plan"),
        "page_session": page.evaluate("window.clicktrail._r.p()"),
    }
    _screenshots(page)
    page.click("#show-details")
    page.wait_for_selector("#details", state="visible")
    page.mouse.wheel(0, 700)
    page.wait_for_function("() => window.scrollY > 0")
    page.wait_for_timeout(300)  # the recorder's scroll event is throttled
    page.close()  # pagehide: the tracker and the recorder flush what they hold
    seen["errors"] = errors
    return seen


def _click_rows(api: httpx.Client, expected: int) -> list[dict]:
    body = wait_for(lambda: api.get("/clicks").json(), lambda b: len(b["data"]) >= expected)
    return body["data"]


def _convert(api: httpx.Client, click_id: str) -> tuple[dict, dict, dict]:
    """A lead on the landing page's click, then a sale, then the same sale again."""
    lead = api.post(
        "/track/lead",
        json={"clickId": click_id, "eventName": "Sign up", "customerExternalId": "cus-pro-1"},
    )
    assert lead.status_code == 200, lead.text
    sale_body = {
        "customerExternalId": "cus-pro-1",
        "amount": 4900,
        "currency": "eur",
        "invoiceId": "inv-pro-1",
    }
    sale = api.post("/track/sale", json=sale_body)
    assert sale.status_code == 200, sale.text
    again = api.post("/track/sale", json=sale_body)
    assert again.status_code == 200, again.text
    return lead.json(), sale.json(), again.json()


def test_a_short_link_visit_lands_converts_once_and_is_one_session_with_its_replay(
    collector, browser, tmp_path
):
    brand = collector.cli("brands", "create", "Journey shop", "--domain", "localhost")
    api = collector.api(brand)
    with static_site(_landing_site(tmp_path, collector, brand)) as site:
        link = _short_link(api, f"{site}/offer.html?plan=pro")
        visitor = browser.new_context(user_agent=DESKTOP_UA, viewport=DESKTOP)
        seen = _visit_and_click_around(visitor, link["url"] + "?utm_source=newsletter")

    assert seen["errors"] == []
    ct_id = parse_qs(urlsplit(seen["redirect_location"]).query)["ct_id"][0]
    landed = urlsplit(seen["landed_url"])
    assert f"{landed.scheme}://{landed.netloc}{landed.path}" == f"{site}/offer.html"
    assert parse_qs(landed.query) == {"plan": ["pro"], "utm_source": ["newsletter"]}, (
        "the landing URL keeps the forwarded query and loses ct_id"
    )
    assert seen["plan_shown"] == "pro"

    replay = replay_of_page(api, seen["page_session"])
    replay = wait_for(
        lambda: api.get(f"/replays/{replay['id']}").json(),
        lambda r: {"click", "scroll"} <= {e["type"] for e in r["events"]},
    )
    assert {"click", "scroll"} <= {e["type"] for e in replay["events"]}
    assert any(e.get("target") == "button#show-details" for e in replay["events"])
    visitor.close()

    rows = {row["trigger"]: row for row in _click_rows(api, 2)}
    assert set(rows) == {"link", "pageview"}
    via, landing = rows["link"], rows["pageview"]
    assert via["id"] == ct_id and landing["id"] == seen["page_session"]
    assert via["link_id"] == link["id"] and landing["link_id"] == link["id"]
    assert via["session_id"] == landing["session_id"]
    assert landing["utm"]["source"] == "newsletter"
    session_id = landing["session_id"]

    lead, sale, again = _convert(api, landing["id"])
    assert lead["duplicate"] is False and lead["click"]["id"] == landing["id"]
    assert lead["click"]["sessionId"] == session_id and lead["click"]["linkId"] == link["id"]
    assert sale["duplicate"] is False and sale["click"]["id"] == landing["id"]
    assert again["duplicate"] is True and again["eventId"] == sale["eventId"]

    _check_session(api, session_id, link, landing["id"], replay["id"])


def _check_session(
    api: httpx.Client, session_id: str, link: dict, page_click: str, replay_id: str
) -> None:
    session = wait_for(  # the tab's last beacon (the button's click) may still be on its way
        lambda: api.get(f"/clicks/session/{session_id}").json(),
        lambda body: "click" in [e["type"] for e in body["events"]],
    )
    events = session["events"]
    types = [e["type"] for e in events]
    assert types.count("link_click") == 1 and types[0] == "link_click", types
    assert "click" in types  # the button that opened the details
    assert events[0]["data"]["link_id"] == link["id"]
    page_views = [e for e in events if e["type"] == "page_view"]
    assert page_views and all(e["click_id"] == page_click for e in page_views)
    assert all("ct_id" not in e["url"] and "plan=pro" in e["url"] for e in page_views)
    assert types.count("lead") == 1 and types.count("sale") == 1, types
    assert types.index("page_view") < types.index("lead") < types.index("sale")
    assert [r["id"] for r in session["replays"]] == [replay_id]
    assert session["replays"][0]["page_session_id"] == page_click
    listed = api.get("/replays", params={"session_id": session_id}).json()
    assert replay_id in [r["id"] for r in listed]
    every_click = api.get("/clicks").json()["data"]
    assert {row["session_id"] for row in every_click} == {session_id}


def test_the_qr_code_decodes_to_the_q_url_and_following_it_records_a_qr_click(
    collector, browser, tmp_path
):
    brand = collector.cli("brands", "create", "QR shop", "--domain", "localhost")
    api = collector.api(brand)
    with static_site(_landing_site(tmp_path, collector, brand)) as site:
        link = _short_link(api, f"{site}/offer.html?plan=pro")
        png = api.get(f"/short-links/{link['code']}/qr", params={"format": "png"})
        assert png.status_code == 200 and png.headers["content-type"] == "image/png"
        decoded = [code.text for code in zxingcpp.read_barcodes(Image.open(BytesIO(png.content)))]
        assert link["qr_url"].endswith(f"/q/{link['code']}")
        assert decoded == [link["qr_url"]]

        context = browser.new_context(user_agent=DESKTOP_UA, viewport=DESKTOP)
        page = context.new_page()
        page.goto(decoded[0])
        page.wait_for_function(LOADED)
        assert urlsplit(page.url).path == "/offer.html"
        page.close()
        rows = {row["trigger"]: row for row in _click_rows(api, 2)}
        context.close()
    assert rows["qr"]["link_id"] == link["id"] and "link" not in rows
    assert rows["pageview"]["session_id"] == rows["qr"]["session_id"]
    counted = api.get(f"/short-links/{link['code']}").json()
    assert (counted["clicks"], counted["qr_scans"]) == (1, 1)
