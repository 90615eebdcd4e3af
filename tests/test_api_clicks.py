"""Clicks and sessions API (seed 01) over a real socket, on both storage engines."""

from __future__ import annotations

import pytest

from collector.ids import new_id
from collector.storage.base import Click
from tests.appkit import CHROME_UA, LONDON_IP, now_ms

SEED_CLICK_FIELDS = {
    "id",
    "session_id",
    "ip_address",
    "url",
    "funnel_id",
    "domain",
    "affiliate",
    "merchant",
    "events",
    "created_at",
}


def _visit(kit, **overrides):
    beacon = kit.beacon(**overrides)
    assert kit.collect(beacon, **{"x-forwarded-for": LONDON_IP}).status_code == 204
    return beacon


def test_list_has_the_seed_envelope_and_click_fields(kit):
    beacon = _visit(kit, f=5)
    body = kit.api("/clicks").json()
    assert list(body) == ["total", "last_page", "current_page", "per_page", "next_page_url", "data"]
    assert (body["total"], body["last_page"], body["current_page"]) == (1, 1, 1)
    assert body["per_page"] == 30 and body["next_page_url"] is None
    row = body["data"][0]
    assert set(row) >= SEED_CLICK_FIELDS
    assert row["id"] == beacon["p"] and row["funnel_id"] == 5
    assert row["domain"]["domain"] == "shop.example" and isinstance(row["domain"]["id"], int)
    assert row["ip_address"] == LONDON_IP and row["merchant"] is None
    assert row["created_at"].endswith("Z")
    assert row["events"][0]["type"] == "page_view"


def test_page_size_is_always_30_whatever_per_page_says(kit):
    for _ in range(31):
        _visit(kit)
    body = kit.api("/clicks", per_page=5).json()
    assert body["per_page"] == 30 and len(body["data"]) == 30
    assert body["total"] == 31 and body["last_page"] == 2
    assert "page=2" in body["next_page_url"]
    second = kit.api("/clicks", page=2).json()
    assert len(second["data"]) == 1 and second["next_page_url"] is None


def test_filters_by_funnel_url_sub1_and_visit(kit):
    a = _visit(kit, f=1, u="https://shop.example/checkout?sub1=alpha")
    b = _visit(kit, f=2, u="https://shop.example/landing?sub1=beta")
    ids = lambda **q: [r["id"] for r in kit.api("/clicks", **q).json()["data"]]  # noqa: E731
    assert ids(funnel_id=1) == [a["p"]]
    assert ids(url="CHECKOUT") == [a["p"]]
    assert ids(sub1="beta") == [b["p"]]
    assert ids(visit_id=b["v"]) == [b["p"]]


def test_click_id_filter_collapses_to_unique_sessions(kit):
    first = _visit(kit)
    session_id = kit.api(f"/clicks/{first['p']}").json()["session_id"]
    _visit(kit, v=first["v"], s=first["s"])  # second page load, same session
    body = kit.api("/clicks", click_id=session_id).json()
    assert body["total"] == 1 and len(body["data"]) == 1
    assert body["data"][0]["session_id"] == session_id
    assert kit.api("/clicks", click_id=first["p"]).json()["total"] == 1


def test_exclude_bots_leaves_out_bot_traffic(kit):
    human = _visit(kit)
    bot = kit.beacon()
    kit.collect(bot, **{"user-agent": "curl/8.5.0"})
    everything = {r["id"] for r in kit.api("/clicks").json()["data"]}
    humans = {r["id"] for r in kit.api("/clicks", exclude_bots="true").json()["data"]}
    assert everything == {human["p"], bot["p"]} and humans == {human["p"]}


def test_date_range_and_sort(kit):
    old_ts = now_ms() - 3 * 86_400_000  # beacons this old get their clock corrected: store it
    old = {"p": new_id(old_ts)}
    kit.store.write_batch(
        [
            Click(
                id=old["p"],
                brand_id=kit.brand.id,
                session_id=new_id(old_ts),
                visitor_id="v",
                created_at=old_ts,
                url="https://shop.example/",
            )
        ],
        [],
    )
    new = _visit(kit)
    today = kit.api("/clicks", start=_day(now_ms())).json()["data"]
    assert [r["id"] for r in today] == [new["p"]]
    older = kit.api("/clicks", end=_day(old_ts)).json()["data"]
    assert [r["id"] for r in older] == [old["p"]]
    ascending = kit.api("/clicks", sort="created_at", direction="asc").json()["data"]
    assert [r["id"] for r in ascending] == [old["p"], new["p"]]


def _day(ms: int) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ms / 1000, tz=UTC).date().isoformat()


@pytest.mark.parametrize(
    ("query", "param"),
    [
        ({"sort": "password"}, "sort"),
        ({"direction": "sideways"}, "direction"),
        ({"start": "yesterday"}, "start"),
        ({"end": "2024-13-45"}, "end"),
        ({"funnel_id": "five"}, "funnel_id"),
        ({"page": "0"}, "page"),
    ],
)
def test_bad_list_parameter_is_422_naming_it(kit, query, param):
    response = kit.api("/clicks", **query)
    assert response.status_code == 422
    assert response.json()["error"]["param"] == param


def test_click_detail_has_the_seed_fields(kit):
    beacon = _visit(kit)
    body = kit.api(f"/clicks/{beacon['p']}").json()
    assert {"id", "session_id", "ip_address", "url", "funnel_id", "domain", "events"} <= set(body)
    assert body["geo"]["city"] == "London" and body["browser"]["name"] == "Chrome"


def test_session_detail_has_geo_ordered_events_and_domains(kit):
    t0 = now_ms() - 5_000
    first = _visit(kit, e=[{"t": "page_view", "ts": t0}])
    later = dict(
        first,
        n=0,
        e=[
            {"t": "click", "ts": t0 + 1000, "d": {"s": "a#buy", "x": 1, "y": 2}},
            {"t": "add_to_cart", "ts": t0 + 2000, "d": {"product_id": 3}},
        ],
    )
    kit.collect(later, **{"user-agent": CHROME_UA})
    session_id = kit.api(f"/clicks/{first['p']}").json()["session_id"]
    body = kit.api(f"/clicks/session/{session_id}").json()
    assert list(body) == ["geoData", "events", "domains", "replays"]  # the seed's keys first
    assert body["replays"] == []
    assert body["geoData"]["city"] == "London" and body["geoData"]["country"] == "GB"
    assert set(body["geoData"]) == {"lat", "lon", "city", "region", "country", "zip", "ip_address"}
    assert [e["type"] for e in body["events"]] == ["page_view", "click", "add_to_cart"]
    assert body["events"][2]["data"] == {"product_id": 3}
    assert list(body["domains"].values()) == ["https://shop.example"]


def test_unknown_click_and_session_are_404(kit):
    assert kit.api("/clicks/nope").status_code == 404
    response = kit.api("/clicks/session/nope")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


def test_every_key_header_style_is_accepted(kit):
    path = f"/api/brands/{kit.brand.id}/clicks"
    for headers in (
        {"EF-Access-Key": kit.read_key},
        {"X-Api-Key": kit.read_key},
        {"X-Eflow-Api-Key": kit.read_key},  # Everflow's own header (issue 14)
        {"Authorization": f"Bearer {kit.read_key}"},
    ):
        assert kit.http.get(path, headers=headers).status_code == 200
    bad = kit.read_key[:-2] + "xx"
    assert kit.http.get(path, headers={"X-Eflow-Api-Key": bad}).status_code == 401


def test_missing_or_bad_key_is_401(kit):
    path = f"/api/brands/{kit.brand.id}/clicks"
    assert kit.http.get(path).status_code == 401
    bad = kit.read_key[:-2] + "xx"
    response = kit.http.get(path, headers={"X-Api-Key": bad})
    assert response.status_code == 401 and response.json()["error"]["code"] == "unauthorized"


def test_another_brands_key_gets_404_not_the_data(kit):
    _visit(kit)
    _, other_key = kit.new_brand()
    response = kit.api("/clicks", key=other_key)
    assert response.status_code == 404
    assert "data" not in response.json()


def test_read_key_cannot_change_brand_settings(kit):
    path = f"/api/brands/{kit.brand.id}"
    response = kit.http.patch(
        path, json={"settings": {"ip_mode": "off"}}, headers={"X-Api-Key": kit.read_key}
    )
    assert response.status_code == 403


def test_admin_key_changes_brand_settings_and_ingest_follows(kit):
    path = f"/api/brands/{kit.brand.id}"
    response = kit.http.patch(
        path, json={"settings": {"ip_mode": "truncated"}}, headers={"X-Api-Key": kit.admin_key}
    )
    assert response.status_code == 200
    assert response.json()["settings"]["ip_mode"] == "truncated"
    beacon = _visit(kit)
    assert kit.api(f"/clicks/{beacon['p']}").json()["ip_address"] == "81.2.69.0"


def test_invalid_brand_update_is_422(kit):
    path = f"/api/brands/{kit.brand.id}"
    response = kit.http.patch(
        path, json={"settings": {"replay_sample_rate": 3}}, headers={"X-Api-Key": kit.admin_key}
    )
    assert response.status_code == 422


def test_openapi_describes_every_api_route(kit):
    spec = kit.http.get("/openapi.json").json()
    for route in kit.http.get("/openapi.json").json()["paths"]:
        assert route.startswith("/")
    documented = set(spec["paths"])  # named as the routes name them
    from collector.app import create_app
    from collector.config import Settings

    app = create_app(Settings())
    served = {r.path for r in app.routes if r.path.startswith(("/api", "/collect", "/config"))}
    assert served <= documented
    page = kit.http.get("/docs")
    assert page.status_code == 200 and "/clicks/session/{session_id}" in page.text


def test_unknown_path_is_404_in_the_error_shape(kit):
    response = kit.http.get("/no/such/thing")
    assert response.status_code == 404
    assert response.json()["error"]["message"] == "no such path: /no/such/thing"
