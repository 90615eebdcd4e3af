"""The raw clicks stream (seed 04, ``POST clicks/stream``) on both engines.

Traffic goes through the real paths (beacons to ``/collect``, a short link followed) with the
MaxMind test databases, so each row's mapping is checked on enriched clicks; time zones, limits
and ``is_unique`` use clicks written at chosen instants in brands of their own.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

import httpx
import pytest

from collector.ids import new_id
from collector.storage import open_store
from collector.storage.base import Click
from tests.appkit import CHROME_UA, LONDON_IP, Kit, geoip_settings, run_kit
from tests.linkkit import click_id_of, follow, make_link
from tests.storage_fixtures import ENGINES

SEED = Path(__file__).parent.parent.parent / "shared" / "seeds" / "04-raw-clicks-stream-api.txt"
IPHONE_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
)
BOT_UA = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
VERIZON_IP = "149.101.100.1"  # ISP: Verizon Wireless, 310-004; Connection-Type: Cellular
FMT = "%Y-%m-%d %H:%M:%S"
HOUR = 3_600_000


class World(NamedTuple):
    kit: Kit
    ids: dict[str, str]  # london, phone, link, bot -> click id
    link: dict[str, Any]


@contextlib.contextmanager
def network_kit(engine: str, tmp: Path, testdata: Path) -> Iterator[Kit]:
    """A collector with the City, ASN, ISP, Connection-Type and Anonymous-IP test databases."""
    from tests.storage_fixtures import chdb_available, chdb_test_url, drop_database

    if engine == "chdb" and not chdb_available():
        pytest.skip("chdb is not installed")
    url = f"sqlite:///{tmp}/clicktrail.db" if engine == "sqlite" else chdb_test_url()
    folder = testdata / "geoip"
    settings = geoip_settings(
        testdata,
        isp_db=str(folder / "GeoIP2-ISP-Test.mmdb"),
        connection_type_db=str(folder / "GeoIP2-Connection-Type-Test.mmdb"),
        anonymous_ip_db=str(folder / "GeoIP2-Anonymous-IP-Test.mmdb"),
        replay_assets_dir=str(tmp / "replay-assets"),
    )
    store = open_store(url)
    try:
        with contextlib.contextmanager(run_kit)(store, settings) as kit:
            yield kit
    finally:
        store.close()
        if engine != "sqlite":
            drop_database(url)


def _page_view(kit: Kit, url: str, ua: str, ip: str, **beacon: Any) -> str:
    sent = kit.beacon(u=url, **beacon)
    answer = kit.collect(
        sent, **{"user-agent": ua, "x-forwarded-for": ip, "accept-language": "en-GB,en;q=0.9"}
    )
    assert answer.status_code in (200, 202, 204), answer.text
    return str(sent["p"])


@pytest.fixture(scope="module", params=ENGINES)
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, testdata_dir: Path
) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp(f"stream-{request.param}")
    with network_kit(request.param, tmp, testdata_dir) as kit:
        query = "utm_source=news&sub1=a1&sub2=a2&idfa=IDFA-1&coupon_code=SAVE10&aff=partner9"
        ids = {
            "london": _page_view(
                kit, f"https://shop.example/landing?{query}", CHROME_UA, LONDON_IP, f=7
            ),
            "phone": _page_view(
                kit, "https://shop.example/p?sub1=b1&utm_source=ads", IPHONE_UA, VERIZON_IP
            ),
            "bot": _page_view(kit, "https://shop.example/", BOT_UA, "1.128.0.1"),
        }
        link = make_link(kit)
        ids["link"] = click_id_of(
            follow(kit, f"/g/{link['code']}?sub1=l1", ua=IPHONE_UA, ip=VERIZON_IP)
        )
        world = World(kit, ids, link)
        _wait_for(world, 4)
        yield world


def window(hours: float = 1, **body: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "from": (now - timedelta(hours=hours)).strftime(FMT),
        "to": (now + timedelta(minutes=5)).strftime(FMT),
        "timezone_id": 67,
        **body,
    }


def post(kit: Kit, body: Any, key: str | None = None, brand: int | None = None) -> httpx.Response:
    headers = {"EF-Access-Key": key or kit.read_key}
    path = f"/api/brands/{brand or kit.brand.id}/clicks/stream"
    if isinstance(body, bytes):
        return kit.http.post(path, content=body, headers=headers)
    return kit.http.post(path, json=body, headers=headers)


def ok(answer: httpx.Response) -> Any:
    assert answer.status_code == 200, answer.text
    return answer.json()


def _wait_for(world: World, rows: int) -> None:
    for _ in range(100):
        if len(ok(post(world.kit, window()))["table"]) >= rows:
            return
        time.sleep(0.05)
    raise AssertionError("the clicks did not arrive")


def stream_ids(world: World, *filters: tuple[str, Any]) -> set[str]:
    query = {"filters": [{"resource_type": t, "filter_id_value": v} for t, v in filters]}
    rows = ok(post(world.kit, window(query=query)))["table"]
    return {row["transaction_id"] for row in rows}


def rows_by_name(world: World) -> dict[str, dict[str, Any]]:
    rows = {row["transaction_id"]: row for row in ok(post(world.kit, window()))["table"]}
    return {name: rows[click_id] for name, click_id in world.ids.items()}


# --- the seed's keys and the mapping ---------------------------------------------------------


def seed_row() -> dict[str, Any]:
    text = SEED.read_text()
    start = text.index('{\n  "table"')
    return json.loads(text[start : text.index("\n}\n", start) + 2])["table"][0]


def test_every_row_has_every_key_of_the_seed(world: World) -> None:
    seed = seed_row()
    answer = ok(post(world.kit, window()))
    assert answer["truncated"] is False and answer["next_from"] is None
    assert answer["timezone"] == "UTC" and answer["timezone_id"] == 67
    assert len(answer["table"]) == 4
    for row in answer["table"]:
        assert set(row) == set(seed)
        relationship = row["relationship"]
        assert set(relationship) == set(seed["relationship"])
        for part in ("offer", "geolocation", "device_information"):
            assert set(relationship[part]) == set(seed["relationship"][part]), part


def test_a_page_view_maps_onto_the_row(world: World) -> None:
    row = rows_by_name(world)["london"]
    assert row["is_unique"] == 1
    assert row["tracking_url"].startswith("https://shop.example/landing?")
    assert abs(row["unix_timestamp"] - time.time()) < 600
    assert (row["source_id"], row["sub1"], row["sub2"], row["sub3"]) == ("news", "a1", "a2", None)
    assert row["user_ip"] == LONDON_IP
    assert row["coupon_code"] == "SAVE10"
    assert row["idfa"] == "IDFA-1"
    assert row["idfa_md5"] == hashlib.md5(b"IDFA-1").hexdigest()
    assert row["idfa_sha1"] == hashlib.sha1(b"IDFA-1").hexdigest()
    assert row["google_ad_id"] is None and row["google_ad_id_md5"] is None
    assert row["revenue"] is None and row["error_code"] is None
    relationship = row["relationship"]
    assert relationship["offer"]["network_offer_id"] == 7
    assert relationship["offer"]["network_id"] == world.kit.brand.id
    assert relationship["query_parameters"]["coupon_code"] == "SAVE10"
    geo = relationship["geolocation"]
    assert (geo["country_code"], geo["city_name"], geo["timezone"]) == (
        "GB",
        "London",
        "Europe/London",
    )
    assert geo["region_code"] == "ENG"
    assert geo["is_proxy"] is True  # the Anonymous-IP test database flags this address
    device = relationship["device_information"]
    assert (device["browser_name"], device["platform_name"], device["device_type"]) == (
        "Chrome",
        "Windows",
        "desktop",
    )
    assert (device["is_mobile"], device["is_tablet"], device["is_robot"]) == (False, False, False)
    assert device["http_accept_language"] == "en-GB,en;q=0.9"
    assert device["language"] == "en-GB"


def test_network_facts_come_from_the_isp_and_connection_type_databases(world: World) -> None:
    rows = rows_by_name(world)
    for name in ("phone", "link"):
        geo = rows[name]["relationship"]["geolocation"]
        assert geo["isp_name"] == "Verizon Wireless"
        assert geo["carrier_name"] == "Verizon Wireless"
        assert geo["carrier_code"] == "310-004"
        assert geo["is_mobile"] is True
        device = rows[name]["relationship"]["device_information"]
        assert (device["device_type"], device["is_mobile"]) == ("mobile", True)
        assert device["platform_name"] == "iOS"


def test_a_short_link_click_is_its_offer(world: World) -> None:
    row = rows_by_name(world)["link"]
    offer = row["relationship"]["offer"]
    assert offer["network_offer_id"] == world.link["id"]
    assert (offer["name"], offer["offer_status"]) == (world.link["code"], "active")
    assert row["sub1"] == "l1"


def test_a_bot_is_a_robot(world: World) -> None:
    rows = rows_by_name(world)
    assert rows["bot"]["relationship"]["device_information"]["is_robot"] is True
    assert {r["relationship"]["device_information"]["is_filter"] for r in rows.values()} == {False}


# --- filters ---------------------------------------------------------------------------------

FILTERS = [
    (("offer", "7"), {"london"}),
    (("offer", "funnel:7"), {"london"}),
    (("offer", "LINK"), {"link"}),
    (("offer", "link:LINK"), {"link"}),
    (("link", "LINK"), {"link"}),
    (("funnel", "7"), {"london"}),
    (("affiliate", "partner9"), {"london"}),
    (("sub1", "b1"), {"phone"}),
    (("sub2", "a2"), {"london"}),
    (("source_id", "ads"), {"phone"}),
    (("country", "gb"), {"london"}),
    (("region", "eng"), {"london"}),
    (("city", "London"), {"london"}),
    (("device_type", "Mobile"), {"phone", "link"}),
    (("browser", "Chrome"), {"london"}),
    (("os", "iOS"), {"phone", "link"}),
    (("platform", "Windows"), {"london"}),
    (("is_bot", "true"), {"bot"}),
    (("is_bot", "0"), {"london", "phone", "link"}),
    (("is_proxy", "true"), {"london"}),
    (("isp", "Verizon Wireless"), {"phone", "link"}),
    (("connection_type", "Cellular"), {"phone", "link"}),
    (("language", "en-GB"), {"london", "phone", "bot"}),
    (("transaction_id", "PHONE"), {"phone"}),
]


@pytest.mark.parametrize(("given", "expected"), FILTERS, ids=lambda v: str(v))
def test_each_resource_type_filters_its_field(
    world: World, given: tuple[str, str], expected: set[str]
) -> None:
    kind, value = given
    value = value.replace("LINK", world.link["id"]).replace("PHONE", world.ids["phone"])
    assert stream_ids(world, (kind, value)) == {world.ids[name] for name in expected}


def test_one_type_is_or_and_types_are_and(world: World) -> None:
    ids = world.ids
    link = world.link["id"]
    assert stream_ids(world, ("offer", "7"), ("offer", link)) == {ids["london"], ids["link"]}
    assert stream_ids(world, ("sub1", "a1"), ("sub1", "b1")) == {ids["london"], ids["phone"]}
    assert stream_ids(world, ("offer", link), ("sub1", "b1")) == set()
    assert stream_ids(world, ("device_type", "mobile"), ("sub1", "l1")) == {ids["link"]}
    assert stream_ids(world, ("funnel", 7)) == {ids["london"]}  # a number as the value


# --- time zones ------------------------------------------------------------------------------


def _brand_with(kit: Kit, instants: list[int]) -> tuple[int, str, list[str]]:
    brand, key = kit.new_brand()
    clicks = [
        Click(
            id=new_id(at),
            brand_id=brand.id,
            session_id=f"s{n}",
            visitor_id=f"v{n}",
            created_at=at,
            url="https://shop.example/",
        )
        for n, at in enumerate(instants)
    ]
    kit.store.write_batch(clicks, [])
    return brand.id, key, [click.id for click in clicks]


def _utc(text: str) -> int:
    return int(datetime.strptime(text, FMT).replace(tzinfo=UTC).timestamp() * 1000)


def test_times_are_read_in_the_zone_with_dst(world: World) -> None:
    # New York falls back on 2026-11-01: 01:30 happens at 05:30 UTC (EDT) and 06:30 UTC (EST)
    instants = [
        _utc("2026-11-01 05:30:00"),
        _utc("2026-11-01 06:30:00"),
        _utc("2026-11-01 04:59:59"),
    ]
    brand, key, ids = _brand_with(world.kit, instants)

    def found(start: str, end: str, zone: int) -> list[str]:
        body = {"from": start, "to": end, "timezone_id": zone}
        answer = ok(post(world.kit, body, key=key, brand=brand))
        return [row["transaction_id"] for row in answer["table"]]

    # a repeated wall time: its first instant in `from`, its last in `to`
    assert found("2026-11-01 01:30:00", "2026-11-01 01:30:00", 80) == [ids[0], ids[1]]
    assert found("2026-11-01 00:00:00", "2026-11-01 00:59:59", 80) == [ids[2]]
    assert found("2026-11-01 05:30:00", "2026-11-01 05:30:00", 67) == [ids[0]]
    assert found("2026-11-01 14:30:00", "2026-11-01 15:30:00", 15) == [ids[0], ids[1]]  # +9
    assert found("2026-11-01 19:30:00", "2026-11-01 19:30:00", 1) == [ids[0]]  # +14
    assert found("2026-10-31 18:30:00", "2026-10-31 19:30:00", 99) == [ids[0], ids[1]]  # -11
    assert found("2026-10-31 22:30:00", "2026-10-31 22:30:00", 90) == [ids[0]]  # PDT still
    # fourteen days of wall time across the change (14 days and an hour of real time)
    assert found("2026-10-25 00:00:00", "2026-11-08 00:00:00", 80) == [ids[2], ids[0], ids[1]]


def test_a_zone_by_name_is_echoed_with_its_everflow_id(world: World) -> None:
    answer = ok(post(world.kit, {**window(), "timezone_id": None, "timezone": "America/New_York"}))
    assert (answer["timezone"], answer["timezone_id"]) == ("America/New_York", 80)
    answer = ok(post(world.kit, {**window(), "timezone_id": None, "timezone": "Europe/Berlin"}))
    assert (answer["timezone"], answer["timezone_id"]) == ("Europe/Berlin", None)
    answer = ok(post(world.kit, {**window(), "timezone_id": 90, "timezone": "America/Los_Angeles"}))
    assert (answer["timezone"], answer["timezone_id"]) == ("America/Los_Angeles", 90)


# --- paging ----------------------------------------------------------------------------------


def _page_through(kit: Kit, brand: int, key: str, body: dict[str, Any]) -> tuple[list[str], int]:
    seen: list[str] = []
    pages = 0
    while True:
        answer = ok(post(kit, body, key=key, brand=brand))
        pages += 1
        seen += [row["transaction_id"] for row in answer["table"]]
        if not answer["truncated"]:
            assert answer["next_from"] is None
            return seen, pages
        body = {**body, "next_from": answer["next_from"]}


def test_next_from_pages_through_clicks_sharing_a_millisecond(world: World) -> None:
    at = _utc("2026-06-01 12:00:00")
    instants = [at + (n // 5) for n in range(23)]  # five clicks a millisecond
    brand, key, ids = _brand_with(world.kit, instants)
    body = {"from": "2026-06-01 12:00:00", "to": "2026-06-01 12:00:00", "timezone_id": 67}
    everything = [r["transaction_id"] for r in ok(post(world.kit, body, key, brand))["table"]]
    assert sorted(everything) == sorted(ids) and len(everything) == 23
    for limit in (1, 3, 5, 7):
        seen, pages = _page_through(world.kit, brand, key, {**body, "limit": limit})
        assert seen == everything
        assert pages == -(-23 // limit)
    # next_from also works as `from`
    first = ok(post(world.kit, {**body, "limit": 20}, key, brand))
    rest = ok(post(world.kit, {**body, "from": first["next_from"]}, key, brand))
    assert [r["transaction_id"] for r in first["table"] + rest["table"]] == everything


def test_at_most_5000_rows_then_truncated(world: World) -> None:
    at = _utc("2026-07-01 00:00:00")
    brand, key, ids = _brand_with(world.kit, [at + n * 10 for n in range(5003)])
    body = {"from": "2026-07-01 00:00:00", "to": "2026-07-01 01:00:00", "timezone_id": 67}
    first = ok(post(world.kit, body, key, brand))
    assert len(first["table"]) == 5000 and first["truncated"] is True
    rest = ok(post(world.kit, {**body, "next_from": first["next_from"]}, key, brand))
    assert rest["truncated"] is False
    assert [r["transaction_id"] for r in first["table"] + rest["table"]] == ids


# --- is_unique -------------------------------------------------------------------------------


def test_is_unique_is_the_first_click_on_an_offer_within_24_hours(world: World) -> None:
    brand, key = world.kit.new_brand()
    at = _utc("2026-08-02 00:00:00")

    def click(hours: float, visitor: str = "v", **offer: Any) -> Click:
        when = at + int(hours * HOUR)
        return Click(
            id=new_id(when),
            brand_id=brand.id,
            session_id="s",
            visitor_id=visitor,
            created_at=when,
            **offer,
        )

    clicks = [
        click(-30, funnel_id=1),  # before the window: 30 h before the first below
        click(0, funnel_id=1),  # 1: more than 24 h after the last on funnel 1
        click(1, funnel_id=1),  # 0
        click(2, funnel_id=2),  # 1: another funnel
        click(3, link_id="L1", funnel_id=1),  # 1: a link is its own offer
        click(4, link_id="L1"),  # 0
        click(5, visitor="w", funnel_id=1),  # 1: another visitor
        click(26, funnel_id=1),  # 1: 25 h after the last on funnel 1
        click(27),  # 1: no offer
        click(28),  # 0
    ]
    world.kit.store.write_batch(clicks, [])
    body = {"from": "2026-08-02 00:00:00", "to": "2026-08-03 12:00:00", "timezone_id": 67}
    table = ok(post(world.kit, body, key, brand.id))["table"]
    assert [row["is_unique"] for row in table] == [1, 0, 1, 1, 0, 1, 1, 1, 0]
    # the same answer a page at a time: the day before is read whatever the page
    paged: list[int] = []
    page: dict[str, Any] = {**body, "limit": 1}
    for _ in range(9):
        answer = ok(post(world.kit, page, key, brand.id))
        paged += [row["is_unique"] for row in answer["table"]]
        page["next_from"] = answer["next_from"]
    assert paged == [1, 0, 1, 1, 0, 1, 1, 1, 0]


# --- refusals --------------------------------------------------------------------------------


def _refusal(answer: httpx.Response, status: int, param: str | None) -> str:
    assert answer.status_code == status, answer.text
    error = answer.json()["error"]
    assert error.get("param") == param, error
    return str(error["message"])


DROP = object()  # a key left out
REFUSALS = [
    ({"from": "yesterday"}, "from", "YYYY-MM-DD HH:mm:SS"),
    ({"to": "2026-13-01 00:00:00"}, "to", "YYYY-MM-DD HH:mm:SS"),
    ({"from": "2026-03-01 00:00:00", "to": "2026-02-28 23:59:59"}, "to", "before"),
    ({"from": "2026-03-01 00:00:00", "to": "2026-03-15 00:00:01"}, "to", "14 days"),
    ({"timezone_id": 99999}, "timezone_id", "unknown `timezone_id`"),
    ({"timezone_id": DROP}, "timezone_id", "give `timezone_id`"),
    ({"timezone_id": DROP, "timezone": "Mars/Olympus"}, "timezone", "unknown `timezone`"),
    ({"timezone_id": 80, "timezone": "Europe/Paris"}, "timezone", "America/New_York"),
    (
        {"query": {"filters": [{"resource_type": "planet", "filter_id_value": "x"}]}},
        "query.filters[0].resource_type",
        "unknown resource_type",
    ),
    (
        {"query": {"filters": [{"resource_type": "is_bot", "filter_id_value": "maybe"}]}},
        "query.filters[0].filter_id_value",
        "is not a is_bot value",
    ),
    (
        {"query": {"filters": [{"resource_type": "sub1", "filter_id_value": ""}]}},
        "query.filters[0].filter_id_value",
        "1 to 256",
    ),
    ({"next_from": "c1.bm90IGEgY3Vyc29y"}, "next_from", "not a `next_from`"),
    ({"from": "c1.!!"}, "from", "not a `next_from`"),
    ({"limit": 5001}, "limit", "<= 5000"),
    ({"to": DROP}, "to", "missing required field `to`"),
]


@pytest.mark.parametrize(("change", "param", "words"), REFUSALS, ids=lambda v: str(v)[:40])
def test_each_bad_body_is_a_422_naming_its_field(
    world: World, change: dict[str, Any], param: str, words: str
) -> None:
    body = {k: v for k, v in {**window(), **change}.items() if v is not DROP}
    assert words in _refusal(post(world.kit, body), 422, param)


def test_bodies_that_are_not_json_and_keys_that_do_not_fit(world: World) -> None:
    kit = world.kit
    assert "empty" in _refusal(post(kit, b""), 400, None)
    assert "not valid JSON" in _refusal(post(kit, b"{nope"), 400, None)
    _refusal(post(kit, window(), key="ct_nope"), 401, None)
    _other, other_key = kit.new_brand()
    _refusal(post(kit, window(), key=other_key), 404, None)
    assert ok(post(kit, window(), key=kit.admin_key))["table"]
