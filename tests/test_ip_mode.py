"""A brand's ``ip_mode`` (full / truncated / off) everywhere an IP could be stored or sent (issue
16), on both engines: traffic recorded under each mode (an IPv4 and an IPv6 page view, a short-link
click, a lead), then each output read back with the exact address it must show: the address,
its /24 or /48, or nothing."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from collector.ids import new_id
from collector.storage import open_store
from collector.storage.base import Brand, BrandSettings
from collector.storage.model import WEBHOOK_KINDS
from tests.appkit import CHROME_UA, Kit, geoip_settings, make_beacon, run_kit
from tests.linkkit import click_id_of, follow
from tests.storage_fixtures import ENGINES, chdb_available, chdb_test_url, drop_database

V4, V6 = "81.2.69.160", "2001:db8:1234:5678::1"
SHOWN: dict[str, tuple[str | None, str | None]] = {  # mode -> (the IPv4, the IPv6) as shown
    "full": (V4, V6),
    "truncated": ("81.2.69.0", "2001:db8:1234::"),
    "off": (None, None),
}
CLOSED = "http://127.0.0.1:9/hook"  # a destination nothing listens on: its items stay queued


@dataclass
class Traffic:
    brand: Brand
    key: str  # admin
    v4: str  # click ids
    v6: str
    link: str
    visitor: str
    sessions: dict[str, str]  # click id -> session id


@dataclass
class World:
    kit: Kit
    by_mode: dict[str, Traffic]

    def call(self, mode: str, method: str, path: str, **kwargs: Any) -> Any:
        traffic = self.by_mode[mode]
        headers = {"EF-Access-Key": traffic.key, **kwargs.pop("headers", {})}
        answer = self.kit.http.request(
            method, f"/api/brands/{traffic.brand.id}{path}", headers=headers, **kwargs
        )
        assert answer.status_code in (200, 201, 202), answer.text
        return answer


def _page_view(kit: Kit, brand: Brand, visitor: str, ip: str) -> tuple[str, str]:
    beacon = make_beacon(brand.site_key, v=visitor)
    answer = kit.collect(beacon, **{"x-forwarded-for": ip, "user-agent": CHROME_UA})
    assert answer.status_code == 204, answer.text
    return str(beacon["p"]), str(beacon["s"])


def _record(kit: Kit, mode: str) -> Traffic:
    brand, key = kit.new_brand(BrandSettings(ip_mode=mode), domains=["shop.example"])  # type: ignore[arg-type]
    headers = {"EF-Access-Key": key}
    base = f"/api/brands/{brand.id}"
    made = kit.http.post(f"{base}/webhooks", json={"url": CLOSED}, headers=headers)
    assert made.status_code == 201, made.text
    visitor = new_id()
    v4, s4 = _page_view(kit, brand, visitor, V4)
    v6, s6 = _page_view(kit, brand, visitor, V6)
    link = kit.http.post(
        f"{base}/short-links/generate",
        json={"destination_url": "https://shop.example/offer"},
        headers=headers,
    )
    assert link.status_code == 201, link.text
    link_click = click_id_of(follow(kit, f"/g/{link.json()['code']}", ip=V4))
    lead = kit.http.post(
        f"{base}/track/lead",
        json={"clickId": link_click, "eventName": "Sign up", "customerExternalId": "cus-1"},
        headers=headers,
    )
    assert lead.status_code in (200, 201), lead.text
    clicks = kit.store.clicks_by_id(brand.id, [v4, v6, link_click])
    sessions = {cid: c.session_id for cid, c in clicks.items()}
    return Traffic(brand, key, v4, v6, link_click, visitor, {v4: s4, v6: s6, **sessions})


@pytest.fixture(scope="module", params=ENGINES)
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, testdata_dir: Path
) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp(f"ipmode-{request.param}")
    if request.param == "sqlite":
        url = f"sqlite:///{tmp}/clicktrail.db"
    elif not chdb_available():
        pytest.skip("chdb is not installed")
    else:
        url = chdb_test_url()
    store = open_store(url)
    settings = geoip_settings(
        testdata_dir,
        replay_assets_dir=str(tmp / "assets"),
        export_dir=str(tmp / "exports"),
        webhook_networks="127.0.0.0/8",
    )
    try:
        with contextlib.contextmanager(run_kit)(store, settings) as kit:
            yield World(kit, {mode: _record(kit, mode) for mode in SHOWN})
    finally:
        store.close()
        if not url.startswith("sqlite"):
            drop_database(url)


MODES = pytest.mark.parametrize("mode", list(SHOWN))


@MODES
def test_the_stored_click_and_the_clicks_api(world: World, mode: str) -> None:
    t = world.by_mode[mode]
    v4, v6 = SHOWN[mode]
    stored = world.kit.store.clicks_by_id(t.brand.id, [t.v4, t.v6])
    assert (stored[t.v4].ip_address, stored[t.v6].ip_address) == (v4, v6)
    rows = {r["id"]: r for r in world.call(mode, "GET", "/clicks").json()["data"]}
    assert (rows[t.v4]["ip_address"], rows[t.v6]["ip_address"]) == (v4, v6)
    session = world.call(mode, "GET", f"/clicks/session/{t.sessions[t.v4]}").json()
    assert json.dumps(session).count(V4) == (1 if mode == "full" else 0)


@MODES
def test_a_short_link_click(world: World, mode: str) -> None:
    t = world.by_mode[mode]
    stored = world.kit.store.get_click(t.brand.id, t.link)
    assert stored is not None and stored.trigger == "link"
    assert stored.ip_address == SHOWN[mode][0]
    row = next(r for r in world.call(mode, "GET", "/clicks").json()["data"] if r["id"] == t.link)
    assert row["ip_address"] == SHOWN[mode][0]


@MODES
def test_the_explorer(world: World, mode: str) -> None:
    t = world.by_mode[mode]
    v4, v6 = SHOWN[mode]
    for click_id, shown, ipv6 in ((t.v4, v4, None), (t.v6, v6, v6)):
        hit = world.call(mode, "POST", "/explorer/hit", json={"hitId": click_id}).json()
        text = json.dumps(hit)
        assert V4 not in text or mode == "full"
        assert V6 not in text or mode == "full"
        assert _find(hit, "ip") == [shown]
        assert _find(hit, "ipv6") == [ipv6]
    visitor = world.call(mode, "POST", "/explorer/visitor", json={"hitId": t.v4}).json()
    assert visitor["visitor"]["ip"] == v4  # the entrance hit's (the IPv4 page view)
    assert V6 not in json.dumps(visitor) or mode == "full"


def _find(value: Any, key: str) -> list[Any]:
    """Every value of ``key`` in nested JSON."""
    if isinstance(value, dict):
        return [v for k, v in value.items() if k == key] + [
            x for v in value.values() for x in _find(v, key)
        ]
    if isinstance(value, list):
        return [x for v in value for x in _find(v, key)]
    return []


@MODES
def test_the_stream(world: World, mode: str) -> None:
    t = world.by_mode[mode]
    now = datetime.now(UTC)
    fmt = "%Y-%m-%d %H:%M:%S"
    body = {
        "from": (now - timedelta(hours=1)).strftime(fmt),
        "to": (now + timedelta(minutes=5)).strftime(fmt),
        "timezone_id": 67,
    }
    rows = world.call(mode, "POST", "/clicks/stream", json=body).json()["table"]
    by_id = {r["transaction_id"]: r for r in rows}
    v4, v6 = SHOWN[mode]
    assert [by_id[t.v4]["user_ip"], by_id[t.v6]["user_ip"], by_id[t.link]["user_ip"]] == [
        v4,
        v6,
        v4,
    ]


@MODES
def test_the_export(world: World, mode: str) -> None:
    job = world.call(mode, "POST", "/clicks/export", json={"columns": ["id", "ip_address"]})
    job_id = job.json()["id"]
    deadline = time.monotonic() + 30
    while world.call(mode, "GET", f"/exports/{job_id}").json()["status"] not in ("done", "failed"):
        assert time.monotonic() < deadline, "the export did not finish"
        time.sleep(0.05)
    answer = world.call(
        mode, "GET", f"/exports/{job_id}/download", headers={"Accept-Encoding": "identity"}
    )
    rows = dict(list(csv.reader(io.StringIO(answer.text)))[1:])
    t = world.by_mode[mode]
    v4, v6 = SHOWN[mode]
    assert [rows[t.v4], rows[t.v6], rows[t.link]] == [v4 or "", v6 or "", v4 or ""]


@MODES
def test_the_webhook_items_carry_no_address(world: World, mode: str) -> None:
    """The clickstream items (pageview, click, lead) have no address field in any mode: what
    goes to a receiver holds neither the address nor its /24 or /48."""
    t = world.by_mode[mode]
    items = world.kit.store.outbox_items(t.brand.id, "", list(WEBHOOK_KINDS), 0, 1000)
    assert {i.kind for i in items} == {"pageview", "click", "lead"}
    for item in items:
        body = item.body.decode()
        for address in (V4, V6, "81.2.69.0", "2001:db8:1234::"):
            assert address not in body, (item.kind, address)


@MODES
def test_the_events_api(world: World, mode: str) -> None:
    """Clicks, and a lead (which shows its click), in GET events."""
    t = world.by_mode[mode]
    v4, v6 = SHOWN[mode]
    clicks = world.call(mode, "GET", "/events", params={"limit": "1000"}).json()
    by_id = {row["click"]["id"]: row["click"]["ip"] for row in clicks}
    assert [by_id[t.v4], by_id[t.v6], by_id[t.link]] == [v4, v6, v4]
    leads = world.call(mode, "GET", "/events", params={"event": "leads"}).json()
    assert [row["click"]["ip"] for row in leads] == [v4]  # the lead's click: the link click
    assert V4 not in json.dumps(leads) or mode == "full"
