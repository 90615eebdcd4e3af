"""The dashboard's end-to-end world: a fresh collector and database, one brand, an admin and a
viewer, and traffic of known composition sent through the real ingest paths (beacons to
/collect behind a trusted proxy with MaxMind's test addresses, one real Chromium visit recorded
as a replay, a lead and a sale through the conversions API)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from collector.ids import new_id
from e2e.conftest import TESTDATA, static_site
from e2e.recording import wait_for
from tests.servers import clicktrail_cli, start_collector

SITE = "https://beans.example"
CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
ANDROID = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Mobile Safari/537.36"
)
LONDON, MILTON, LINKOPING = "81.2.69.160", "216.160.83.56", "89.160.20.112"
# (country's address, user agent, pages, utm_source): one visitor and one session each.
BEACON_VISITS = [
    (LONDON, CHROME, ["/", "/pricing"], "newsletter"),
    (LONDON, CHROME, ["/", "/pricing"], "newsletter"),
    (LONDON, CHROME, ["/", "/pricing"], "newsletter"),
    (MILTON, IPHONE, ["/"], "twitter"),
    (MILTON, IPHONE, ["/"], "twitter"),
    (LINKOPING, ANDROID, ["/blog"], None),
]
PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>Beans</title>
<script defer src="{collector}/t.js" data-site="{site}" data-replay="1"></script></head>
<body><h1>{title}</h1><a id="next" href="/pricing.html">Pricing</a>
<p>Fresh beans roasted every morning.</p><div style="height:1200px"></div></body></html>"""


@dataclass
class Expected:
    """What the seed sent: the overview must show exactly this."""

    visitors: int = 0
    pageviews: int = 0
    bounces: int = 0
    leads: int = 0
    sales: int = 0
    revenue_minor: int = 0
    by_country: dict[str, dict[str, int]] = field(default_factory=dict)

    def visit(self, country: str, pages: int) -> None:
        self.visitors += 1
        self.pageviews += pages
        self.bounces += pages == 1
        row = self.by_country.setdefault(country, {"visitors": 0, "pageviews": 0})
        row["visitors"] += 1
        row["pageviews"] += pages


@dataclass
class World:
    url: str
    database: str
    brand: dict[str, Any]
    admin: dict[str, Any]
    viewer: dict[str, Any]
    expected: Expected
    replay_session: str = ""

    def api(self) -> httpx.Client:
        return httpx.Client(
            base_url=f"{self.url}/api/brands/{self.brand['id']}",
            headers={"EF-Access-Key": self.brand["api_key"]},
            timeout=30,
        )


def start_world(workdir: Path, browser) -> Iterator[World]:
    database = f"sqlite:///{workdir}/clicktrail.db"
    domains = ("--domain", "localhost", "--domain", "beans.example")
    brand = clicktrail_cli("brands", "create", "Beans", *domains, database=database)
    brand_id = str(brand["id"])
    admin = clicktrail_cli(
        "users", "create", "ana@example.com", "--brand", brand_id, "--role", "admin",
        database=database,
    )  # fmt: skip
    viewer = clicktrail_cli(
        "users", "create", "vic@example.com", "--brand", brand_id, "--role", "viewer",
        database=database,
    )  # fmt: skip
    geo = str(TESTDATA / "geoip" / "GeoIP2-City-Test.mmdb")
    running = start_collector(
        "serve", database, workdir / "collector.log", "--geoip-db", geo,
        "--trusted-proxies", "127.0.0.1",
    )  # fmt: skip
    world = World(running.url, database, brand, admin, viewer, Expected())
    try:
        seed(world, browser, workdir)
        yield world
    finally:
        running.stop()


def seed(world: World, browser, workdir: Path) -> None:
    clicks = [send_visit(world, *visit) for visit in BEACON_VISITS]
    record_visit_with_lead(world, browser, workdir)
    with world.api() as api:
        sale = {"customerExternalId": "cus_1", "amount": 4900, "currency": "eur"}
        answer = api.post("/track/sale", json={**sale, "clickId": clicks[0], "invoiceId": new_id()})
        assert answer.status_code == 200, answer.text
    world.expected.sales += 1
    world.expected.revenue_minor += 4900


def send_visit(world: World, ip: str, ua: str, pages: list[str], utm: str | None) -> str:
    """One visitor's session of page views through /collect; returns the first page's click id."""
    country = {LONDON: "GB", MILTON: "US", LINKOPING: "SE"}[ip]
    start = time.time_ns() // 1_000_000 - 60_000
    visitor, session = new_id(start - 1000), new_id(start)
    first = ""
    for i, path in enumerate(pages):
        ts = start + i * 20_000
        page_id = new_id(ts)
        first = first or page_id
        url = SITE + path + (f"?utm_source={utm}" if utm and i == 0 else "")
        beacon = {
            "k": world.brand["site_key"], "v": visitor, "s": session, "p": page_id, "n": 1,
            "u": url, "r": None, "l": "en-GB", "w": 1440, "h": 900,
            "e": [{"t": "page_view", "ts": ts}],
        }  # fmt: skip
        headers = {"user-agent": ua, "x-forwarded-for": ip, "content-type": "text/plain"}
        sent = httpx.post(f"{world.url}/collect", json=beacon, headers=headers, timeout=30)
        assert sent.status_code == 204, sent.text
    world.expected.visit(country, len(pages))
    return first


def record_visit_with_lead(world: World, browser, workdir: Path) -> None:
    """A real visit in Chromium (London): the landing page, then pricing, recorded; a lead on the
    pricing page's click while it is still being recorded."""
    site_dir = workdir / "site"
    site_dir.mkdir()
    for name, title in (("beans.html", "Beans"), ("pricing.html", "Pricing")):
        page_html = PAGE.format(collector=world.url, site=world.brand["site_key"], title=title)
        (site_dir / name).write_text(page_html)
    api = world.api()
    with static_site(site_dir) as site:
        context = browser.new_context(viewport={"width": 1280, "height": 720}, user_agent=CHROME)
        context.route(
            f"{world.url}/**",
            lambda route: route.continue_(
                headers={**route.request.headers, "x-forwarded-for": LONDON}
            ),
        )
        page = context.new_page()
        page.goto(f"{site}/beans.html")
        page.wait_for_timeout(1500)
        page.click("#next")
        page.wait_for_load_state("load")
        page.wait_for_timeout(2000)
        pricing = wait_for(
            lambda: api.get("/clicks", params={"url": "pricing.html"}).json()["data"],
            lambda rows: len(rows) == 1,
        )
        assert len(pricing) == 1, pricing
        lead = {"clickId": pricing[0]["id"], "eventName": "Sign up", "customerExternalId": "cus_2"}
        answer = api.post("/track/lead", json=lead)
        assert answer.status_code == 200, answer.text
        page.wait_for_timeout(2500)
        scrolled_ms = time.time_ns() // 1_000_000
        page.mouse.wheel(0, 400)
        page.wait_for_timeout(500)
        keep_open_until_recorded(page, api, pricing[0]["session_id"], scrolled_ms)
        context.close()
    world.replay_session = pricing[0]["session_id"]
    world.expected.visit("GB", 2)
    world.expected.leads += 1
    wait_for(
        lambda: api.get("/replays", params={"session_id": world.replay_session}).json(),
        lambda rows: len(rows) >= 2,
    )
    api.close()


def keep_open_until_recorded(page, api: httpx.Client, session_id: str, until_ms: int) -> None:
    """Keeps the pricing page open until the collector has its replay up to `until_ms`.

    The recorder sends the full snapshot at once and what follows (here only the scroll) with
    its flush every 5 s; the context's route (the X-Forwarded-For above) passes a request on
    only while this thread is inside a Playwright call. A flush that came after the last
    `wait_for_timeout` waited in the route until `context.close()` dropped it: the replay then
    ended ~50 ms in, before the lead (4 seeds in 8 on a loaded machine). So wait in the page."""
    deadline = time.monotonic() + 60
    replay = None
    while time.monotonic() < deadline:
        replay = pricing_replay(api, session_id)
        if replay is not None and _end_ms(replay) >= until_ms:
            return
        page.wait_for_timeout(250)
    raise AssertionError(f"the pricing page's replay stops before {until_ms}: {replay}")


def pricing_replay(api: httpx.Client, session_id: str) -> dict | None:
    """The session's replay of the pricing page, once the collector has one."""
    rows = api.get("/replays", params={"session_id": session_id}).json()
    return next((r for r in rows if r["url"].endswith("/pricing.html")), None)


def _end_ms(replay: dict) -> int:
    """Epoch ms of a replay's last stored event."""
    started = datetime.fromisoformat(replay["started_at"].replace("Z", "+00:00"))
    return int(started.timestamp() * 1000) + replay["duration_ms"]


def sign_in(page, base: str, email: str, password: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[type=email], input[name=email]", email)
    page.fill("input[type=password]", password)
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "/login" not in url)
