"""The demo's sample data: a seeded plan of known composition, sent once through the real ingest
path of a collector on loopback, and read back through the public API (both engines)."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from collector.app import create_app
from collector.cli import create_brand
from collector.demo.plan import DAY_MS, Plan, make_plan
from collector.demo.sample import SampleData, waves
from collector.http.auth import mint_api_key
from collector.site.routes import DemoPage
from collector.storage.base import Brand, BrandSettings, Store
from tests.appkit import geoip_settings, now_ms
from tests.servers import serve_in_thread

SEED = 12
VISITS = 400
BASE = "http://127.0.0.1:8000"


def _plan(visits: int = 3_000) -> Plan:
    end = 1_764_547_200_000  # 2025-12-01
    return make_plan(SEED, end - 30 * DAY_MS + 3_600_000, end, visits)


def test_a_seed_gives_the_same_plan():
    one, two = _plan(500), _plan(500)
    assert [(v.start, v.session_id, len(v.pages)) for v in one.visits] == [
        (v.start, v.session_id, len(v.pages)) for v in two.visits
    ]
    assert [p.page_id for v in one.visits for p in v.pages] == [
        p.page_id for v in two.visits for p in v.pages
    ]


def test_the_plan_holds_what_the_demo_promises():
    plan = _plan()
    visits = plan.visits
    assert len(visits) == 3_000
    assert all(plan.start <= v.start and v.pages[-1].sent_at < plan.end for v in visits)
    assert len({v.start // DAY_MS for v in visits}) >= 30
    assert len({v.visitor.country for v in visits}) >= 20
    sources = Counter(v.source for v in visits)
    assert set(sources) == {"direct", "search", "social", "email", "referral", "paid", "link", "qr"}
    assert len({v.visitor.device.user_agent for v in visits}) >= 10
    bounces = sum(len(v.pages) == 1 for v in visits)
    assert 0.3 < bounces / len(visits) < 0.6
    assert max(len(v.pages) for v in visits) >= 5
    assert len({v.visitor.id for v in visits}) < len(visits)  # some come back
    leads = [v.conversion for v in visits if v.conversion]
    assert 10 < len(leads) < 100 and any(c.sale_amount for c in leads)
    assert sum(v.recorded for v in visits) == 12
    events = Counter(e["t"] for v in visits for p in v.pages for e in p.events)
    assert {"page_view", "click", "add_to_cart", "choose_plan", "lead"} <= set(events)


def test_a_wave_never_holds_a_visitor_twice_and_keeps_time_order():
    plan = _plan(800)
    groups = waves(plan.visits, 48)
    assert [v for g in groups for v in g] == plan.visits
    assert all(len({v.visitor.id for v in g}) == len(g) <= 48 for g in groups)


@dataclass
class Demo:
    url: str
    brand: Brand
    key: str
    sample: SampleData
    http: httpx.Client

    def api(self, path: str, **query: str) -> httpx.Response:
        headers = {"X-Api-Key": self.key}
        return self.http.get(f"/api/brands/{self.brand.id}{path}", params=query, headers=headers)


def _wait_done(http: httpx.Client, seconds: float = 120) -> dict:
    deadline = time.monotonic() + seconds
    while True:
        status = http.get("/demo/status").json()
        if status["state"] in ("done", "skipped", "failed") or time.monotonic() > deadline:
            return status
        time.sleep(0.1)


@pytest.fixture
def demo_settings(testdata_dir: Path, tmp_path: Path):
    return geoip_settings(testdata_dir, replay_assets_dir=str(tmp_path / "assets"))


def _serve(store: Store, settings, brand: Brand, key: str, sample: SampleData) -> Iterator[Demo]:
    demo = DemoPage(brand.id, brand.site_key, key, sample)
    app = create_app(settings, store=store, demo=demo)
    with serve_in_thread(app) as url, httpx.Client(base_url=url, timeout=30) as http:
        yield Demo(url, brand, key, sample, http)


@pytest.fixture
def filled(store: Store, demo_settings) -> Iterator[Demo]:
    """A collector serving the demo over ``store``, its sample data filled."""
    brand = create_brand(store, "Clicktrail demo", [], BrandSettings(replay_sample_rate=1.0))
    key, record = mint_api_key(brand.id, "admin", now_ms())
    store.add_api_key(record)
    sample = SampleData(brand.id, BASE, visits=VISITS, seed=SEED, out=None)
    for demo in _serve(store, demo_settings, brand, key, sample):
        status = _wait_done(demo.http)
        assert status == {"state": "done", "done": VISITS, "total": VISITS}
        yield demo


def test_the_sample_data_is_read_back_through_the_api(filled: Demo):
    plan = filled.sample.planned
    assert plan is not None
    link_visits = [v for v in plan.visits if v.link is not None]
    leads = [v.conversion for v in plan.visits if v.conversion is not None]
    sales = [c.sale_amount for c in leads if c.sale_amount is not None]
    count = filled.api("/analytics", groupBy="count", interval="30d", bots="include").json()
    assert count == {
        "clicks": plan.page_loads + len(link_visits),
        "leads": len(leads),
        "sales": len(sales),
        "saleAmount": sum(sales),
    }
    days = filled.api("/analytics", groupBy="timeseries", granularity="day", interval="30d").json()
    assert sum(1 for day in days if day["clicks"]) >= 29
    countries = filled.api("/analytics", groupBy="countries", interval="30d").json()
    assert len([c for c in countries if c["country"]]) >= 5  # MaxMind's test database
    links = filled.api("/analytics", groupBy="top_links", interval="30d").json()
    assert {row["key"] for row in links if row["clicks"]} == {"spring", "podcast", "menu-qr"}
    qr = filled.api("/analytics", groupBy="count", interval="30d", trigger="qr").json()
    assert qr["clicks"] == sum(v.source == "qr" for v in plan.visits) > 0


def test_the_recorded_visits_have_replays_in_their_sessions(filled: Demo):
    plan = filled.sample.planned
    assert plan is not None
    recorded = [v for v in plan.visits if v.recorded and v.link is None]
    clicks = filled.api("/clicks", visit_id=recorded[0].visitor.id, limit="100").json()["data"]
    session_ids = {c["session_id"] for c in clicks}
    replays = [r for s in session_ids for r in filled.api("/replays", session_id=s).json()]
    assert len(replays) >= len(recorded[0].pages)
    assert all(r["duration_ms"] > 0 for r in replays)


def test_the_sample_data_goes_in_once(filled: Demo, store: Store, demo_settings, tmp_path):
    before = filled.api("/analytics", groupBy="count", interval="30d").json()
    again = SampleData(filled.brand.id, BASE, visits=VISITS, seed=SEED, out=None)
    # A second collector on the database, beside the first: it needs an inbox of its own.
    beside = demo_settings.replace(inbox=str(tmp_path / "second-inbox"))
    for demo in _serve(store, beside, filled.brand, filled.key, again):
        assert _wait_done(demo.http)["state"] == "skipped"
        assert demo.api("/analytics", groupBy="count", interval="30d").json() == before
