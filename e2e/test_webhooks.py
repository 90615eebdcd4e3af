"""Clickstream webhooks end to end (issue 13's proof): Chromium visits a landing page and follows
a short link; a real receiver on loopback (allowed through ``--webhook-networks``) gets every item
in seed 05's shape, with its auth header and a signature the ``standardwebhooks`` package
verifies, although its first three answers fail (a 500, a timeout, a dropped connection). A 410
disables a destination, and a replay resends a range."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from standardwebhooks.webhooks import Webhook

from e2e.conftest import DESKTOP_UA, TESTDATA, Collector, static_site
from tests.servers import start_collector
from tests.webhook_receiver import DROP, Answer, hang, receiving

pytestmark = pytest.mark.e2e

VISITOR_IP = "81.2.69.160"  # London in MaxMind's test City database
PHONE_IP = "89.160.20.112"  # Linköping
IPHONE_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
)
HOST = "127.0.0.2"  # the receivers' address, the one private network destinations may use
TIMEOUT_S = 15  # the dispatcher's per-request timeout (docs/WEBHOOKS.md)

PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Offer</title>
<script defer src="{collector}/t.js" data-site="{site_key}"></script></head>
<body><h1>Offer</h1><button id="buy">Buy</button></body></html>"""


@pytest.fixture(scope="module")
def hooked(tmp_path_factory) -> Iterator[Collector]:
    """A collector whose destinations may be on 127.0.0.2 (and nowhere else private), retrying
    after half a second instead of the production schedule's 5 s, 5 min, 30 min."""
    workdir = tmp_path_factory.mktemp("hooks")
    database = f"sqlite:///{workdir}/clicktrail.db"
    running = start_collector(
        "serve",
        database,
        workdir / "collector.log",
        "--geoip-db",
        str(TESTDATA / "geoip" / "GeoIP2-City-Test.mmdb"),
        "--trusted-proxies",
        "127.0.0.1",
        "--webhook-networks",
        "127.0.0.2/32",
        "--webhook-retry-schedule",
        "0.5,0.5,0.5,0.5",
    )
    yield Collector(running.url, database)
    running.stop()


def _brand(collector: Collector, name: str) -> dict:
    return collector.cli("brands", "create", name, "--domain", "localhost")


def _destination(api: httpx.Client, url: str, **fields) -> dict:
    spec = {
        "url": url,
        "method": "PUT",
        "header_key": "X-Hook-Auth",
        "header_value": "s3cret-value",
        "events": ["click", "pageview"],
        **fields,
    }
    answer = api.post("/webhooks", json=spec)
    assert answer.status_code == 201, answer.text
    return answer.json()


def _visit(browser, url: str, collector_url: str, ip: str, ua: str, click: str | None) -> None:
    """One visitor in a fresh context, coming from ``ip`` through a trusted proxy."""
    context = browser.new_context(user_agent=ua)
    page = context.new_page()
    page.route(
        collector_url + "/**",
        lambda route: route.continue_(headers={**route.request.headers, "x-forwarded-for": ip}),
    )
    page.goto(url)
    page.wait_for_function("() => window.clicktrail && window.clicktrail.loaded")
    if click:
        page.click(click)
    page.goto("about:blank")  # pagehide: the tracker flushes
    page.wait_for_timeout(300)
    context.close()


def _check_item_shape(item: dict) -> None:
    for key in ("id", "type", "click_id", "timestamp", "client", "referral", "route"):
        assert key in item, f"an item lacks {key}: {sorted(item)}"
    client = item["client"]
    assert set(client) >= {"language", "location", "agent", "session"}
    assert set(client["agent"]) >= {"browser", "os", "device", "type"}
    assert client["agent"]["type"] in ("human", "bot")
    assert set(client["session"]) == {"started", "first"}
    assert set(item["referral"]) >= {"hostname", "protocol", "path", "origin"}
    route = item["route"]
    assert set(route) >= {"id", "slashtag", "creator", "domain", "destination"}
    assert set(route["destination"]) >= {"raw", "protocol", "hostname", "path", "params"}
    assert "query" in route["destination"]["params"]


def test_visits_and_link_clicks_arrive_signed_in_the_seed_shape_through_failures(
    hooked, browser, tmp_path
):
    brand = _brand(hooked, "Hooked")
    api = hooked.api(brand)
    with receiving([Answer(500), hang(TIMEOUT_S + 2), DROP], HOST) as got:
        destination = _destination(api, got.url + "/hook")
        assert destination["secret"].startswith("whsec_")
        (tmp_path / "offer.html").write_text(
            PAGE.format(collector=hooked.url, site_key=brand["site_key"])
        )
        with static_site(tmp_path) as site:
            link = api.post("/short-links/generate", json={"destination_url": f"{site}/offer.html"})
            code = link.json()["code"]
            _visit(
                browser,
                f"{site}/offer.html?utm_source=hook",
                hooked.url,
                VISITOR_IP,
                DESKTOP_UA,
                "#buy",
            )
            _visit(browser, f"{hooked.url}/g/{code}", hooked.url, PHONE_IP, IPHONE_UA, None)

        # the short-link click, its landing page view and the first visit's page view
        assert got.wait_for(lambda: len(set(got.delivered_ids())) >= 3, 90), [
            (a.answered, len(a.items)) for a in got.requests
        ]
    assert [a.answered for a in got.requests[:3]] == [500, None, None]  # 500, timeout, dropped
    verifier = Webhook(destination["secret"])
    for arrival in got.delivered():
        assert arrival.method == "PUT"
        assert arrival.headers["x-hook-auth"] == "s3cret-value"
        verifier.verify(arrival.body, arrival.headers)
        body = json.loads(arrival.body)
        assert set(body) == {"data", "key"}
        assert body["key"] == destination["key"]
        assert set(arrival.headers["webhook-event-types"].split(",")) <= {"click", "pageview"}
    items = got.delivered_items()
    for item in items:
        _check_item_shape(item)
    by_type = {}
    for item in items:
        by_type.setdefault(item["type"], []).append(item)
    link_click = by_type["click"][0]
    assert link_click["route"]["slashtag"] == code
    assert link_click["client"]["location"]["country"] == "se"
    assert link_click["client"]["agent"]["device"]["name"] == "smartphone"
    assert link_click["client"]["session"]["first"] is True
    views = by_type["pageview"]
    assert any(v["client"]["location"]["country"] == "gb" for v in views)
    assert any(
        v["route"]["destination"]["params"]["query"].get("utm_source") == ["hook"] for v in views
    )
    # each failed batch was tried again under the same id
    ids = [a.headers.get("webhook-id") for a in got.requests]
    assert ids[0] in ids[1:], ids


def test_a_410_disables_the_destination_and_says_why(hooked, tmp_path, browser):
    brand = _brand(hooked, "Gone")
    api = hooked.api(brand)
    with receiving([Answer(410)], HOST) as got:
        destination = _destination(api, got.url + "/gone")
        link = api.post("/short-links/generate", json={"destination_url": "https://example.com/"})
        httpx.get(f"{hooked.url}/g/{link.json()['code']}", follow_redirects=False)
        assert got.wait_for(lambda: len(got.requests) >= 1, 30)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            shown = api.get(f"/webhooks/{destination['id']}").json()
            if shown["enabled"] is False:
                break
            time.sleep(0.2)
        assert shown["enabled"] is False, shown
        assert "410" in shown["disabled_reason"]
        assert shown["disabled_at"]
        time.sleep(1.5)
        assert len(got.requests) == 1  # nothing more goes to a disabled destination
    deliveries = api.get(f"/webhooks/{destination['id']}/deliveries").json()
    assert deliveries[0]["status"] == 410


def test_a_replay_resends_what_fell_in_a_range(hooked):
    brand = _brand(hooked, "Replayed")
    api = hooked.api(brand)
    link = api.post("/short-links/generate", json={"destination_url": "https://example.com/"})
    code = link.json()["code"]
    with receiving(host=HOST) as got:
        destination = _destination(api, got.url + "/r", events=["click"])
        start = datetime.now(UTC) - timedelta(seconds=1)
        for _ in range(5):
            assert httpx.get(f"{hooked.url}/g/{code}").status_code == 302
        assert got.wait_for(lambda: len(got.delivered_ids()) >= 5, 20)
        end = datetime.now(UTC) + timedelta(seconds=1)
        first_ids = sorted(got.delivered_ids())
        answer = api.post(
            f"/webhooks/{destination['id']}/replay",
            json={"start": start.isoformat(), "end": end.isoformat()},
        )
        assert answer.status_code == 202, answer.text
        assert answer.json()["items"] == 5
        assert got.wait_for(lambda: len(got.delivered_ids()) >= 10, 20)
    again = sorted(got.delivered_ids())
    assert again == sorted(first_ids * 2)  # the same items, ids and all, sent once more
