"""The sessions API (``GET sessions`` and ``GET sessions/analytics``) on both engines, over a
brand whose sessions are written at chosen instants, so every figure is worked out by hand.

The sessions, within the last day unless said otherwise:

- A: visitor v1 from GB on desktop Chrome, three page views (/, /pricing, /checkout) over 200 s,
  the first from a Google search with utm_source=newsletter, the others from the site's own
  pages; four clicks, a lead and a 49.00 sale, a replay.
- B: visitor v1 again, from the US: one page view of /pricing (a bounce).
- C: visitor v2 from DE on a phone: a short-link redirect, then / and /about 30 s apart.
- D: a bot's one page view of /.
- E: visitor v3, 40 days ago: one page view of /.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import httpx
import pytest

from collector.ids import new_id
from collector.replay.codec import compress_chunk
from collector.storage.base import Click, Conversion, Event, ReplayChunk
from tests.appkit import Kit, engine_kit, now_ms
from tests.storage_fixtures import ENGINES

SITE = "https://shop.example"
DAY_MS = 86_400_000


class World(NamedTuple):
    kit: Kit
    start: int  # session A's first page view
    sessions: dict[str, str]  # A..E -> session id


def _click(brand: int, session: str, visitor: str, at: int, path: str, **facts: Any) -> Click:
    return Click(
        id=new_id(at),
        brand_id=brand,
        session_id=session,
        visitor_id=visitor,
        created_at=at,
        url=SITE + path,
        **facts,
    )


def _sale(click: Click, kind: str, amount: int | None) -> Conversion:
    conversion_id = new_id(click.created_at + 1)
    return Conversion(
        id=conversion_id,
        brand_id=click.brand_id,
        kind=kind,
        dedupe_key=f'["{kind}","{conversion_id}"]',
        event_name="Purchase" if kind == "sale" else "Sign up",
        click_id=click.id,
        session_id=click.session_id,
        visitor_id=click.visitor_id,
        customer_external_id="cus_1",
        amount=amount,
        currency="EUR" if amount else None,
        created_at=click.created_at + 1,
    )


def _replay(click: Click) -> ReplayChunk:
    events = b'[{"type":4,"data":{"href":"https://shop.example/","width":800,"height":600},"timestamp":1}]'
    return ReplayChunk(
        brand_id=click.brand_id,
        replay_id=new_id(click.created_at),
        seq=0,
        session_id=click.session_id,
        page_session_id=click.id,
        visitor_id=click.visitor_id,
        url=click.url,
        received_at=click.created_at,
        first_ts=click.created_at,
        last_ts=click.created_at + 1000,
        event_count=1,
        raw_bytes=len(events),
        body=compress_chunk(events),
    )


def seed(kit: Kit) -> World:
    brand = kit.brand.id
    start = now_ms() - 2 * 3_600_000
    ids = {name: f"session-{name}-{new_id()}" for name in "ABCDE"}
    gb = {"country": "GB", "device_type": "desktop", "browser": "Chrome", "os": "Windows"}
    inside = {"referrer": SITE + "/", "referrer_host": "shop.example"}  # from the site's own page
    a = [
        _click(
            brand,
            ids["A"],
            "v1",
            start,
            "/?utm_source=newsletter",
            referrer="https://www.google.com/search?q=beans",
            referrer_host="www.google.com",
            referrer_type="search",
            utm_source="newsletter",
            **gb,
        ),
        _click(brand, ids["A"], "v1", start + 60_000, "/pricing", **inside, **gb),
        _click(brand, ids["A"], "v1", start + 200_000, "/checkout", **inside, **gb),
    ]
    b = [_click(brand, ids["B"], "v1", start + 3_600_000, "/pricing", country="US")]
    de = {"country": "DE", "device_type": "mobile"}
    c = [
        _click(brand, ids["C"], "v2", start + 5_000, "/go", trigger="link", **de),
        _click(brand, ids["C"], "v2", start + 10_000, "/", **de),
        _click(brand, ids["C"], "v2", start + 40_000, "/about", **de),
    ]
    d = [_click(brand, ids["D"], "bot", start + 7_000, "/", is_bot=True, device_type="bot")]
    e = [_click(brand, ids["E"], "v3", start - 40 * DAY_MS, "/")]
    events = [
        Event(
            brand_id=brand,
            click_id=a[1].id,
            session_id=ids["A"],
            type="click",
            timestamp=a[1].created_at + n,
            seq=n,
        )
        for n in range(4)
    ]
    events.append(
        Event(brand_id=brand, click_id=c[1].id, session_id=ids["C"], type="scroll", timestamp=start)
    )
    conversions = [_sale(a[2], "lead", None), _sale(a[2], "sale", 4900)]
    kit.store.write_batch([*a, *b, *c, *d, *e], events, [_replay(a[0])], conversions=conversions)
    return World(kit, start, ids)


@pytest.fixture(scope="module", params=ENGINES)
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, testdata_dir: Path
) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp(f"sessions-{request.param}")
    with engine_kit(request.param, tmp, testdata_dir) as kit:
        yield seed(kit)


def get(world: World, path: str, **params: str) -> httpx.Response:
    headers = {"EF-Access-Key": world.kit.read_key}
    return world.kit.http.get(
        f"/api/brands/{world.kit.brand.id}/{path}", params=params, headers=headers
    )


def ok(answer: httpx.Response) -> Any:
    assert answer.status_code == 200, answer.text
    return answer.json()


def listed(world: World, **params: str) -> list[str]:
    """The names (A..E) of the sessions listed, in order."""
    names = {session: name for name, session in world.sessions.items()}
    rows = ok(get(world, "sessions", **{"interval": "30d", **params}))
    return [names[row["sessionId"]] for row in rows]


def test_totals_count_visitors_sessions_page_views_bounces_and_duration(world: World) -> None:
    humans = ok(get(world, "sessions/analytics", interval="30d", bots="exclude"))
    # A (200 s), B (a bounce, 0 s), C (30 s): the redirect is no page view, D a bot, E too old
    assert humans == {
        "visitors": 2,
        "sessions": 3,
        "pageviews": 6,
        "bounceRate": 0.3333,
        "visitDuration": 76.7,
    }
    everyone = ok(get(world, "sessions/analytics", interval="30d"))
    assert everyone == {
        "visitors": 3,
        "sessions": 4,
        "pageviews": 7,
        "bounceRate": 0.5,
        "visitDuration": 57.5,
    }


def test_totals_take_the_analytics_filters(world: World) -> None:
    gb = ok(get(world, "sessions/analytics", interval="30d", country="GB"))
    assert (gb["sessions"], gb["pageviews"], gb["bounceRate"]) == (1, 3, 0.0)
    none = ok(get(world, "sessions/analytics", interval="30d", country="FR"))
    assert none == {
        "visitors": 0,
        "sessions": 0,
        "pageviews": 0,
        "bounceRate": None,
        "visitDuration": None,
    }
    year = ok(get(world, "sessions/analytics", interval="90d", bots="exclude"))
    assert (year["sessions"], year["visitors"]) == (4, 3)


def test_entry_and_exit_pages_are_each_sessions_first_and_last_page_view(world: World) -> None:
    entry = ok(
        get(world, "sessions/analytics", interval="30d", groupBy="entry_pages", bots="exclude")
    )
    assert entry == [
        {"url": SITE + "/", "sessions": 1, "visitors": 1},
        {"url": SITE + "/?utm_source=newsletter", "sessions": 1, "visitors": 1},
        {"url": SITE + "/pricing", "sessions": 1, "visitors": 1},
    ]
    exits = ok(get(world, "sessions/analytics", interval="30d", groupBy="exit_pages", limit="2"))
    assert exits == [
        {"url": SITE + "/", "sessions": 1, "visitors": 1},  # the bot's
        {"url": SITE + "/about", "sessions": 1, "visitors": 1},
    ]


def test_sources_are_arrivals_by_referrer_with_its_class_not_moves_within_the_site(
    world: World,
) -> None:
    rows = ok(get(world, "sessions/analytics", interval="30d", groupBy="referers", bots="exclude"))
    assert rows == [
        {"referer": None, "refererType": "direct", "visitors": 2, "sessions": 2, "pageviews": 3},
        {
            "referer": "www.google.com",
            "refererType": "search",
            "visitors": 1,
            "sessions": 1,
            "pageviews": 1,
        },
    ]
    types = ok(get(world, "sessions/analytics", interval="30d", groupBy="referer_types"))
    assert [(row["refererType"], row["pageviews"]) for row in types] == [
        ("direct", 4),
        ("search", 1),
    ]
    assert "referer" not in types[0]


def test_the_time_series_spreads_page_views_over_every_bucket(world: World) -> None:
    rows = ok(get(world, "sessions/analytics", groupBy="timeseries", bots="exclude"))
    assert len(rows) == 25  # the last 24 hours by the hour, both ends' partial hours
    assert sum(row["pageviews"] for row in rows) == 6
    assert max(row["visitors"] for row in rows) <= 2
    assert all(set(row) == {"start", "visitors", "sessions", "pageviews"} for row in rows)


def test_the_list_is_newest_first_with_each_sessions_facts(world: World) -> None:
    assert listed(world) == ["B", "C", "D", "A"]
    rows = ok(get(world, "sessions", interval="30d", country="GB"))
    assert rows == [
        {
            "sessionId": world.sessions["A"],
            "visitorId": "v1",
            "startedAt": rows[0]["startedAt"],
            "endedAt": rows[0]["endedAt"],
            "duration": 200,
            "pageviews": 3,
            "clicks": 4,
            "signals": {"rage": 0, "dead": 0, "error": 0},
            "entryPage": SITE + "/?utm_source=newsletter",
            "exitPage": SITE + "/checkout",
            "country": "GB",
            "city": None,
            "device": "desktop",
            "browser": "Chrome",
            "os": "Windows",
            "referer": "www.google.com",
            "refererType": "search",
            "utm_source": "newsletter",
            "utm_medium": None,
            "utm_campaign": None,
            "linkId": None,
            "leads": 1,
            "sales": 1,
            "saleAmount": 4900,
            "replayIds": rows[0]["replayIds"],
            "bot": False,
        }
    ]
    assert len(rows[0]["replayIds"]) == 1


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"hasReplay": "true"}, ["A"]),
        ({"hasReplay": "false", "bots": "exclude"}, ["B", "C"]),
        ({"hasConversion": "true"}, ["A"]),
        ({"hasConversion": "false", "bots": "exclude"}, ["B", "C"]),
        ({"minDuration": "30"}, ["C", "A"]),
        ({"maxDuration": "0", "bots": "exclude"}, ["B"]),
        ({"minDuration": "31", "maxDuration": "200"}, ["A"]),
        ({"minPages": "2"}, ["C", "A"]),
        ({"maxPages": "1", "bots": "exclude"}, ["B"]),
        ({"minClicks": "1"}, ["A"]),
        ({"maxClicks": "3", "bots": "exclude"}, ["B", "C"]),
        ({"minClicks": "0", "maxClicks": "0", "country": "DE"}, ["C"]),
        ({"bots": "only"}, ["D"]),
        ({"url": SITE + "/pricing"}, ["B", "A"]),
        ({"sortBy": "duration", "bots": "exclude"}, ["A", "C", "B"]),
        ({"sortBy": "pageviews", "sortOrder": "asc", "bots": "exclude"}, ["B", "C", "A"]),
    ],
)
def test_the_list_filters_whole_sessions(world: World, params: dict, expected: list) -> None:
    assert listed(world, **params) == expected


def test_the_list_pages_with_a_total(world: World) -> None:
    answer = get(world, "sessions", interval="30d", limit="3", page="2")
    assert answer.status_code == 200, answer.text
    assert answer.headers["x-total-count"] == "4"
    assert len(answer.json()) == 1
    assert 'rel="first"' in answer.headers["link"]
    assert listed(world, interval="90d", limit="10")[-1] == "E"


@pytest.mark.parametrize(
    ("path", "params", "param"),
    [
        ("sessions/analytics", {"groupBy": "cities"}, "groupBy"),
        ("sessions/analytics", {"limit": "0"}, "limit"),
        ("sessions", {"minPages": "-1"}, "minPages"),
        ("sessions", {"limit": "501"}, "limit"),
        ("sessions", {"sortBy": "country"}, "sortBy"),
        ("sessions", {"hasReplay": "maybe"}, "hasReplay"),
        ("sessions", {"event": "clicks"}, "event"),
        ("sessions", {"timezone": "Mars/Olympus"}, "timezone"),
    ],
)
def test_bad_parameters_are_a_422_naming_them(
    world: World, path: str, params: dict, param: str
) -> None:
    answer = get(world, path, **params)
    assert answer.status_code == 422, answer.text
    assert param in answer.text


def test_another_brands_key_sees_nothing(world: World) -> None:
    _, other_key = world.kit.new_brand()
    answer = world.kit.http.get(
        f"/api/brands/{world.kit.brand.id}/sessions", headers={"EF-Access-Key": other_key}
    )
    assert answer.status_code == 404
    assert world.kit.http.get(f"/api/brands/{world.kit.brand.id}/sessions").status_code == 401
