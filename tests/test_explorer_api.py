"""The explorer (seed 03): ``POST explorer/visitor`` and ``explorer/hit`` on both engines, over
traffic sent through the real paths: beacons to ``/collect`` (with custom events), a short link
followed through ``/g/``, a replay through ``/collect/replay``, leads and sales through
``track/lead`` and ``track/sale``; the collector runs with every MaxMind test database.

The world, per engine:

- visitor V: hit H1 (a page view from a Verizon mobile address, with every tracking parameter,
  a custom event ``optin`` and a replay), a lead and two sales on it; then hit H3 from London (an
  anonymous-IP address: Tor).
- visitor P: seven page views (two in the same millisecond), for paging.
- a short-link click L (its own visitor, from the redirect).
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import httpx
import pytest

from collector.ids import new_id
from collector.storage import open_store
from tests.appkit import Kit, geoip_settings, now_ms, run_kit
from tests.linkkit import click_id_of, follow, lead, make_link, sale
from tests.replay_samples import checkout_recording
from tests.storage_fixtures import ENGINES, chdb_available, chdb_test_url, drop_database

SEED = Path(__file__).resolve().parents[1].parent / "shared" / "seeds"
VERIZON_IP = "149.101.100.1"  # ISP db: Verizon Wireless, 310-004; Connection-Type: Cellular
LONDON_IP = "81.2.69.160"  # City: London; Anonymous-IP: every flag (so "tor")
LANDING = (
    "https://shop.example/offer?sub1=s1&sub2=s2&sub3=s3&sub4=s4&sub5=s5&utm_source=newsletter"
    "&utm_medium=email&utm_campaign=spring&utm_term=beans&utm_content=hero&aff=aff42&gclid=G1"
)


class World(NamedTuple):
    kit: Kit
    v: str  # visitor V
    h1: str
    h3: str
    replay: str
    p: str  # visitor P
    paged: list[str]  # P's hits, newest first
    link_hit: str
    link: dict[str, Any]
    conversions: list[dict[str, Any]]  # lead, sale, sale
    start: int


def seed_keys() -> dict[str, list[str]]:
    """The keys of the seed's two example answers (as the contract check reads them)."""
    text = (SEED / "03-visitor-and-hit-explorer-api.txt").read_text()
    objects = [json.loads(m.group(0)) for m in re.finditer(r"^\{ \".*\}$", text, re.M)]
    visitor = next(o for o in objects if "visitor" in o)
    hit = next(o for o in objects if "events" in o)
    return {
        "answer": list(visitor),
        "visitor": list(visitor["visitor"]),
        "hit": list(visitor["hits"][0]),
        "event": list(hit["events"][0]),
    }


def _network_settings(testdata: Path, tmp: Path) -> Any:
    folder = testdata / "geoip"
    return geoip_settings(
        testdata,
        replay_assets_dir=str(tmp / "assets"),
        isp_db=str(folder / "GeoIP2-ISP-Test.mmdb"),
        connection_type_db=str(folder / "GeoIP2-Connection-Type-Test.mmdb"),
        anonymous_ip_db=str(folder / "GeoIP2-Anonymous-IP-Test.mmdb"),
    )


@contextlib.contextmanager
def _kit(engine: str, tmp: Path, testdata: Path) -> Iterator[Kit]:
    if engine == "sqlite":
        url = f"sqlite:///{tmp}/clicktrail.db"
    elif not chdb_available():
        pytest.skip("chdb is not installed")
    else:
        url = chdb_test_url()
    store = open_store(url)
    try:
        with contextlib.contextmanager(run_kit)(store, _network_settings(testdata, tmp)) as kit:
            yield kit
    finally:
        store.close()
        if not url.startswith("sqlite"):
            drop_database(url)


def _beacon(kit: Kit, visitor: str, at: int, ip: str, **fields: Any) -> dict[str, Any]:
    beacon = kit.beacon(v=visitor, s=new_id(at), p=new_id(at), e=[{"t": "page_view", "ts": at}])
    beacon.update(fields)
    answer = kit.collect(beacon, **{"x-forwarded-for": ip, "accept-language": "en-GB,en;q=0.9"})
    assert answer.status_code == 204, answer.text
    return beacon


def _replay(kit: Kit, beacon: dict[str, Any], at: int) -> str:
    replay_id = new_id(at)
    envelope = {
        "k": kit.brand.site_key,
        "r": replay_id,
        "p": beacon["p"],
        "v": beacon["v"],
        "s": beacon["s"],
        "q": 0,
        "u": beacon["u"],
        "e": checkout_recording(at),
    }
    answer = kit.http.post(
        "/collect/replay",
        content=json.dumps(envelope).encode(),
        headers={"user-agent": "Mozilla/5.0", "content-type": "text/plain"},
    )
    assert answer.status_code == 204, answer.text
    return replay_id


def seed(kit: Kit) -> World:
    start = now_ms() - 3_600_000
    v = new_id(start)
    h1 = _beacon(
        kit, v, start, VERIZON_IP, u=LANDING, f=7, i="cust-9", r="https://www.google.com/search?q=x"
    )
    h1["e"] = [{"t": "optin", "ts": start + 1_000, "d": {"n": 1}}]
    h1.pop("n")
    assert kit.collect(h1, **{"x-forwarded-for": VERIZON_IP}).status_code == 204
    replay = _replay(kit, h1, start + 100)
    made = [lead(kit, h1["p"], customer="cus-9")]
    made.append(sale(kit, customer="cus-9", amount=4900, currency="eur", invoiceId="inv-1"))
    made.append(sale(kit, customer="cus-9", amount=1000, currency="eur", invoiceId="inv-2"))
    for answer in made:
        assert answer.status_code == 200, answer.text
    h3 = _beacon(kit, v, start + 600_000, LONDON_IP)
    p = new_id(start)
    times = [start + 1_000 * n for n in (1, 2, 3, 3, 4, 5, 6)]
    keys = sorted(((at, _beacon(kit, p, at, VERIZON_IP)["p"]) for at in times), reverse=True)
    paged = [hit for _, hit in keys]
    link = make_link(kit)
    link_hit = click_id_of(follow(kit, f"/g/{link['code']}", ip=VERIZON_IP))
    conversions = [answer.json() for answer in made]
    return World(kit, v, h1["p"], h3["p"], replay, p, paged, link_hit, link, conversions, start)


@pytest.fixture(scope="module", params=ENGINES)
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, testdata_dir: Path
) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp(f"explorer-{request.param}")
    with _kit(request.param, tmp, testdata_dir) as kit:
        yield seed(kit)


def post(world: World, what: str, body: Any, key: str | None = None) -> httpx.Response:
    headers = {"EF-Access-Key": key or world.kit.read_key}
    url = f"/api/brands/{world.kit.brand.id}/explorer/{what}"
    if isinstance(body, bytes):
        return world.kit.http.post(url, content=body, headers=headers)
    return world.kit.http.post(url, json=body, headers=headers)


def ok(answer: httpx.Response) -> Any:
    assert answer.status_code == 200, answer.text
    return answer.json()


def iso(ms: int) -> str:
    from collector.http.params import iso as shown

    text = shown(ms)
    assert text is not None
    return text


# --- every seed key ------------------------------------------------------------------------


def test_every_seed_key_is_in_the_visitor_answer(world: World) -> None:
    keys = seed_keys()
    answer = ok(post(world, "visitor", {"hitId": world.h1}))
    assert set(keys["answer"]) <= set(answer)
    assert "nextCursor" in answer
    assert set(keys["visitor"]) <= set(answer["visitor"])
    assert answer["hits"]
    for row in answer["hits"]:
        assert set(keys["hit"]) <= set(row), set(keys["hit"]) - set(row)


def test_every_seed_key_is_in_each_hit_event(world: World) -> None:
    keys = seed_keys()
    events = ok(post(world, "hit", {"hitId": world.h1}))["events"]
    assert len(events) == 5  # the hit, optin, the lead and two sales
    for event in events:
        assert set(keys["event"]) <= set(event), set(keys["event"]) - set(event)


# --- the visitor -----------------------------------------------------------------------------


def test_a_visitor_by_id_and_range_is_summed_up_from_the_first_hit(world: World) -> None:
    body = {
        "visitorId": world.v,
        "timeStart": iso(world.start - 1_000),
        "timeEnd": iso(world.start + 3_600_000),
    }
    answer = ok(post(world, "visitor", body))
    visitor = answer["visitor"]
    assert visitor["visitorId"] == world.v
    assert (visitor["totalHits"], answer["hasMore"], answer["nextCursor"]) == (2, False, None)
    assert visitor["firstSeen"] == iso(world.start)
    assert visitor["lastSeen"] == iso(world.start + 600_000)
    assert [hit["hitId"] for hit in answer["hits"]] == [world.h3, world.h1]  # newest first
    # the entrance hit's facts: a Verizon mobile address, Chrome on Windows
    assert visitor["ip"] == VERIZON_IP
    assert visitor["isp"] == "Verizon Wireless"
    assert visitor["connectionType"] == "Cellular"
    assert visitor["mobileCarrier"] == "Verizon Wireless (310-004)"
    assert (visitor["isProxy"], visitor["proxyType"]) == (False, None)
    assert (visitor["deviceType"], visitor["deviceOS"], visitor["browser"]) == (
        "desktop",
        "Windows",
        "Chrome",
    )
    assert visitor["deviceOSVersion"] == "10"
    assert visitor["browserVersion"].startswith("124")
    assert visitor["deviceModelName"] is None
    assert visitor["language"] == "en-GB"
    assert visitor["acceptLanguage"] == "en-GB,en;q=0.9"
    assert visitor["userAgent"].startswith("Mozilla/5.0")


def test_a_visitor_by_hit_is_the_hits_visitor_over_their_whole_history(world: World) -> None:
    answer = ok(post(world, "visitor", {"hitId": world.h3}))
    assert answer["visitor"]["visitorId"] == world.v
    assert [hit["hitId"] for hit in answer["hits"]] == [world.h3, world.h1]
    narrowed = ok(post(world, "visitor", {"hitId": world.h3, "timeStart": iso(world.start + 1)}))
    assert [hit["hitId"] for hit in narrowed["hits"]] == [world.h3]
    assert narrowed["visitor"]["totalHits"] == 1


def test_paging_by_cursor_loses_and_repeats_nothing(world: World) -> None:
    body = {"visitorId": world.p, "timeStart": iso(world.start), "timeEnd": iso(now_ms())}
    seen: list[str] = []
    answer = ok(post(world, "visitor", {**body, "limit": 3}))
    assert answer["visitor"]["totalHits"] == 7
    # a hit arriving between two pages is newer than the cursor: it never enters a later page
    _beacon(world.kit, world.p, now_ms() - 1_000, VERIZON_IP)
    pages = 1
    seen += [hit["hitId"] for hit in answer["hits"]]
    while answer["hasMore"]:
        assert answer["nextCursor"]
        answer = ok(post(world, "visitor", {**body, "limit": 3, "cursor": answer["nextCursor"]}))
        seen += [hit["hitId"] for hit in answer["hits"]]
        pages += 1
    assert answer["nextCursor"] is None
    assert pages == 3
    assert seen == world.paged  # all seven, each once, newest first (ties by id)


def test_a_page_with_exactly_limit_hits_left_says_no_more(world: World) -> None:
    body = {"visitorId": world.v, "timeStart": iso(world.start), "timeEnd": iso(now_ms())}
    answer = ok(post(world, "visitor", {**body, "limit": 2}))
    assert (len(answer["hits"]), answer["hasMore"], answer["nextCursor"]) == (2, False, None)


# --- each mapping row ------------------------------------------------------------------------


def test_a_page_view_maps_onto_funnelflux_fields(world: World) -> None:
    hits = ok(post(world, "visitor", {"hitId": world.h1}))["hits"]
    row = next(hit for hit in hits if hit["hitId"] == world.h1)
    domain = world.kit.store.get_click(world.kit.brand.id, world.h1)
    assert domain is not None
    assert row["eventType"] == "pageview"
    assert row["eventTime"] == iso(world.start)
    assert (row["funnelId"], row["funnelName"]) == ("7", None)
    assert (row["nodeType"], row["nodeId"], row["nodeName"]) == (
        "page",
        "https://shop.example/offer",
        "/offer",
    )
    assert (row["pageId"], row["pageName"]) == ("https://shop.example/offer", "/offer")
    assert (row["pageGroupId"], row["pageGroupName"]) == (str(domain.domain_id), "shop.example")
    assert (row["trafficSourceId"], row["trafficSourceName"]) == ("newsletter", "newsletter")
    assert (row["offerSourceId"], row["offerSourceName"]) == ("aff42", "aff42")
    for absent in ("funnelGroupId", "funnelGroupName", "categoryId", "categoryName", "cost"):
        assert row[absent] is None, absent
    assert [row[f"t{n}"] for n in range(1, 21)] == [
        *("s1", "s2", "s3", "s4", "s5"),
        *("newsletter", "email", "spring", "beans", "hero"),
        *("aff42", "google", "G1"),
        *[None] * 7,
    ]
    assert (row["subCampaign"], row["clickId"], row["externalId"]) == ("spring", "G1", "cust-9")
    assert row["trackingDomain"] is None  # a page view not reached through a short link
    assert row["sessionId"] == domain.session_id


def test_revenue_comes_from_the_hits_sales(world: World) -> None:
    hits = ok(post(world, "visitor", {"hitId": world.h1}))["hits"]
    row = next(hit for hit in hits if hit["hitId"] == world.h1)
    lead_id, first_sale = world.conversions[0]["eventId"], world.conversions[1]
    assert (row["revenue"], row["totalRevenue"], row["currency"]) == (59.0, 59.0, "EUR")
    assert row["conversionId"] == lead_id
    assert row["conversionTransaction"] == first_sale["sale"]["invoiceId"] == "inv-1"
    assert (row["eventData1"], row["eventData2"]) == (None, None)
    other = next(hit for hit in hits if hit["hitId"] == world.h3)
    assert (other["revenue"], other["conversionId"], other["currency"]) == (0.0, None, None)


def test_a_hit_names_its_replay_and_where_it_starts_in_it(world: World) -> None:
    hits = ok(post(world, "visitor", {"hitId": world.h1}))["hits"]
    row = next(hit for hit in hits if hit["hitId"] == world.h1)
    assert row["replayId"] == world.replay
    assert row["replayOffsetMs"] == 0  # the page view came before the recording's first event
    events = ok(post(world, "hit", {"hitId": world.h1}))["events"]
    optin = next(event for event in events if event["eventType"] == "custom")
    assert optin["replayId"] == world.replay
    assert optin["replayOffsetMs"] > 0
    other = next(hit for hit in hits if hit["hitId"] == world.h3)
    assert (other["replayId"], other["replayOffsetMs"]) == (None, None)


def test_a_short_link_click_is_a_link_node_on_its_tracking_domain(world: World) -> None:
    events = ok(post(world, "hit", {"hitId": world.link_hit}))["events"]
    assert len(events) == 1
    event = events[0]
    assert (event["eventType"], event["nodeType"]) == ("link", "link")
    assert (event["nodeId"], event["nodeName"]) == (world.link["id"], world.link["code"])
    assert event["trackingDomain"] == world.link["domain"]
    assert (event["pageId"], event["pageName"], event["pageGroupId"]) == (None, None, None)
    assert event["replayId"] is None


def test_the_hit_and_its_conversions_and_custom_events_by_time(world: World) -> None:
    events = ok(post(world, "hit", {"hitId": world.h1}))["events"]
    assert [event["eventType"] for event in events] == [
        "pageview",
        "custom",
        "lead",
        "sale",
        "sale",
    ]
    times = [event["eventTime"] for event in events]
    assert times == sorted(times)
    assert {event["hitId"] for event in events} == {world.h1}
    assert {event["hitTime"] for event in events} == {iso(world.start)}
    assert {event["visitorId"] for event in events} == {world.v}
    hit, optin, lead_event, first, second = events
    assert (optin["eventData1"], json.loads(optin["eventData2"])) == ("optin", {"n": 1})
    assert optin["eventTime"] == iso(world.start + 1_000)
    assert lead_event["conversionId"] == world.conversions[0]["eventId"]
    assert (lead_event["eventData1"], lead_event["revenue"]) == ("Sign up", 0.0)
    assert (first["revenue"], first["totalRevenue"], first["currency"]) == (49.0, 59.0, "EUR")
    assert (first["conversionTransaction"], second["conversionTransaction"]) == ("inv-1", "inv-2")
    assert first["conversionId"] == world.conversions[1]["eventId"]
    assert second["revenue"] == 10.0
    assert hit["revenue"] == 59.0


def test_a_hit_event_has_the_hits_place_network_and_device(world: World) -> None:
    hit = ok(post(world, "hit", {"hitId": world.h1}))["events"][0]
    assert (hit["ip"], hit["ipv6"]) == (VERIZON_IP, None)
    assert (hit["isp"], hit["organization"]) == ("Verizon Wireless", "Verizon Wireless")
    assert (hit["connectionType"], hit["mobileCarrier"]) == (
        "Cellular",
        "Verizon Wireless (310-004)",
    )
    assert (hit["referrerDomain"], hit["referrerPath"]) == ("www.google.com", "/search")
    assert hit["url"] == LANDING
    london = ok(post(world, "hit", {"hitId": world.h3}))["events"][0]
    assert (london["country"], london["city"], london["continent"]) == ("GB", "London", "EU")
    assert (london["isProxy"], london["proxyType"]) == (True, "tor")
    assert london["region"] is not None


# --- refusals --------------------------------------------------------------------------------


def _refused(answer: httpx.Response, status: int, param: str | None, words: str) -> None:
    assert answer.status_code == status, answer.text
    error = answer.json()["error"]
    assert error.get("param") == param, error
    assert words in error["message"], error


@pytest.mark.parametrize(
    ("body", "param", "words"),
    [
        ({"visitorId": "v"}, "timeStart", "timeStart is required with visitorId"),
        ({"visitorId": "v", "timeStart": "2024-08-25T15:00:00Z"}, "timeEnd", "timeEnd is required"),
        ({}, "visitorId", "send visitorId (with timeStart and timeEnd) or hitId"),
        ({"visitorId": "v", "hitId": "h"}, "hitId", "not both"),
        ({"hitId": "h", "timeStart": "yesterday"}, "timeStart", "RFC 3339"),
        ({"hitId": "h", "timeEnd": "2024-08-25T15:00:00"}, "timeEnd", "with its offset"),
        ({"hitId": "h", "timeStart": "2024-08-25"}, "timeStart", "RFC 3339"),
        (
            {
                "visitorId": "v",
                "timeStart": "2024-08-26T00:00:00Z",
                "timeEnd": "2024-08-25T00:00:00Z",
            },
            "timeEnd",
            "timeEnd is before timeStart",
        ),
        ({"hitId": "h", "cursor": "not a cursor!"}, "cursor", "send nextCursor as it was received"),
        ({"hitId": "h", "limit": 0}, "limit", ">= 1"),
        ({"hitId": "h", "limit": 501}, "limit", "<= 500"),
        ({"hitId": "h", "page": 2}, "page", "unknown field"),
        ({"hitId": ""}, "hitId", "length >= 1"),
        ({"hitId": 5}, "hitId", "Expected `str | null`, got `int`"),
    ],
)
def test_a_bad_visitor_request_is_422_naming_the_field(
    world: World, body: dict[str, Any], param: str, words: str
) -> None:
    _refused(post(world, "visitor", body), 422, param, words)


@pytest.mark.parametrize(
    ("body", "param", "words"),
    [
        ({}, "hitId", "missing required field `hitId`"),
        ({"hitId": "h", "timeStart": "soon"}, "timeStart", "RFC 3339"),
        ({"hitId": "x" * 65}, "hitId", "length <= 64"),
    ],
)
def test_a_bad_hit_request_is_422_naming_the_field(
    world: World, body: dict[str, Any], param: str, words: str
) -> None:
    _refused(post(world, "hit", body), 422, param, words)


def test_unknown_hits_and_empty_ranges_are_404(world: World) -> None:
    unknown = new_id()
    _refused(post(world, "hit", {"hitId": unknown}), 404, "hitId", f"no hit {unknown!r}")
    _refused(post(world, "visitor", {"hitId": unknown}), 404, "hitId", "no hit")
    body = {
        "visitorId": world.v,
        "timeStart": "2020-01-01T00:00:00Z",
        "timeEnd": "2020-01-02T00:00:00Z",
    }
    _refused(post(world, "visitor", body), 404, None, "has no hits in that time range")


def test_bodies_that_are_not_json_objects_are_400_and_large_ones_413(world: World) -> None:
    _refused(post(world, "hit", b""), 400, None, "the body is empty")
    _refused(post(world, "visitor", b"{nope"), 400, None, "not valid JSON")
    _refused(post(world, "visitor", b'{"hitId": "' + b"x" * 5000 + b'"}'), 413, None, "larger than")


def test_keys_are_checked_like_every_read(world: World) -> None:
    answer = world.kit.http.post(
        f"/api/brands/{world.kit.brand.id}/explorer/hit", json={"hitId": world.h1}
    )
    assert answer.status_code == 401, answer.text
    brand, key = world.kit.new_brand()
    _refused(post(world, "hit", {"hitId": world.h1}, key=key), 404, None, "no brand")
    # a key of another brand, on its own brand, does not see this brand's hits
    other = world.kit.http.post(
        f"/api/brands/{brand.id}/explorer/hit",
        json={"hitId": world.h1},
        headers={"EF-Access-Key": key},
    )
    _refused(other, 404, "hitId", "no hit")
