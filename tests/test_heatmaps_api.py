"""The heatmaps API (issue 15) on both engines: click maps, scroll depth, the page list and the
snapshot replay, over page sessions sent through real ``POST /collect`` beacons, so every count
is known. Replays are stored chunks (the replay collector is tested elsewhere).

The pricing page (``/pricing``, reached with a query string, a fragment or neither):

- P1, visitor A: clicks ``a#buy`` twice, ``button.plan`` once; scroll depth 3, then 7 (a later
  beacon); a phone replay (390 px).
- P2, visitor B: ``a#buy`` once, then three quick clicks on ``button.plan`` (one rage click
  found at ingest); a dead click on ``button.plan``, an error click on ``div#menu``; scroll
  depth 10; a desktop replay (1440 px), newer.
- P3, visitor A again: a page view, nothing else (not measured).
- BOT: a bot's page view with a click on ``a#buy`` and scroll depth 1.
- LATE, visitor C, sent after ``world.middle``: a click on ``a#late``.

The home page: H, visitor C: a click on ``a#home``, scroll depth 2.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

import httpx
import pytest

from collector.ids import new_id
from collector.replay.codec import compress_chunk
from collector.storage.base import ReplayChunk
from tests.appkit import Kit, engine_kit, now_ms
from tests.storage_fixtures import ENGINES

SITE = "https://shop.example"
PRICING = f"{SITE}/pricing"
BOT_UA = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


class World(NamedTuple):
    kit: Kit
    middle: int  # ms: every page session but LATE started before
    sessions: dict[str, str]  # name -> page session id
    replays: dict[str, str]  # P1, P2 -> replay id


def _click(ts: int, selector: str, x: int = 100, y: int = 200) -> dict[str, Any]:
    return {"t": "click", "ts": ts, "d": {"s": selector, "x": x, "y": y, "tx": "Go"}}


def _depth(ts: int, d: int) -> dict[str, Any]:
    return {"t": "scroll_depth", "ts": ts, "d": {"d": d}}


SENT: dict[str, dict[str, Any]] = {}  # page session id -> its first beacon


def _send(kit: Kit, url: str, visitor: str, events: list[dict[str, Any]]) -> str:
    """A page session: its first beacon (page view and ``events``); its id."""
    ts = now_ms()
    bot = visitor == "bot"
    beacon = kit.beacon(u=url, v=new_id(ts) if bot else visitor, s=new_id(ts), p=new_id(ts))
    beacon["e"] = [{"t": "page_view", "ts": ts}, *events]
    response = kit.collect(beacon, **({"user-agent": BOT_UA} if bot else {}))
    assert response.status_code == 204, response.text
    SENT[beacon["p"]] = beacon
    return beacon["p"]


def _later(kit: Kit, page: str, events: list[dict[str, Any]]) -> None:
    """A later beacon of page session ``page``."""
    response = kit.collect({**SENT[page], "n": 0, "e": events})
    assert response.status_code == 204, response.text


def _replay(kit: Kit, page: str, url: str, width: int, started: int) -> str:
    body = b'[{"type":4,"data":{"href":"https://shop.example/","width":800,"height":600},"timestamp":1}]'
    replay_id = new_id(started)
    [click] = kit.store.clicks_by_id(kit.brand.id, [page]).values()
    chunk = ReplayChunk(
        brand_id=kit.brand.id,
        replay_id=replay_id,
        seq=0,
        session_id=click.session_id,
        page_session_id=page,
        visitor_id=click.visitor_id,
        url=url,
        received_at=started,
        first_ts=started,
        last_ts=started + 1000,
        event_count=1,
        viewport_width=width,
        viewport_height=800,
        raw_bytes=len(body),
        body=compress_chunk(body),
    )
    kit.store.write_batch([], [], [chunk])
    return replay_id


def seed(kit: Kit) -> World:
    visitors = {name: new_id(now_ms() - 3_600_000) for name in "ABC"}
    t = now_ms()
    pages: dict[str, str] = {}
    pages["P1"] = _send(
        kit,
        f"{PRICING}?utm_source=news",
        visitors["A"],
        [_click(t, "a#buy"), _click(t + 2000, "a#buy", 300), _click(t + 4000, "button.plan")],
    )
    _later(kit, pages["P1"], [_depth(t + 5000, 3)])
    _later(kit, pages["P1"], [_depth(t + 9000, 7)])
    burst = [_click(t + 1000 + 200 * i, "button.plan", 50 + i, 60) for i in range(3)]
    pages["P2"] = _send(
        kit,
        f"{PRICING}#faq",
        visitors["B"],
        [
            _click(t, "a#buy"),
            *burst,
            {"t": "dead_click", "ts": t + 3000, "d": {"s": "button.plan", "x": 5, "y": 6}},
            {"t": "error_click", "ts": t + 4000, "d": {"s": "div#menu", "m": "TypeError"}},
            _depth(t + 5000, 10),
        ],
    )
    pages["P3"] = _send(kit, PRICING, visitors["A"], [])
    pages["BOT"] = _send(kit, PRICING, "bot", [_click(t, "a#buy"), _depth(t + 1, 1)])
    pages["H"] = _send(kit, f"{SITE}/", visitors["C"], [_click(t, "a#home"), _depth(t + 1, 2)])
    time.sleep(0.02)
    middle = now_ms()
    time.sleep(0.02)
    pages["LATE"] = _send(kit, f"{PRICING}?b=2", visitors["C"], [_click(now_ms(), "a#late")])
    replays = {
        "P1": _replay(kit, pages["P1"], f"{PRICING}?utm_source=news", 390, t),
        "P2": _replay(kit, pages["P2"], f"{PRICING}#faq", 1440, t + 10),
    }
    return World(kit, middle, pages, replays)


@pytest.fixture(scope="module", params=ENGINES)
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, testdata_dir: Path
) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp(f"heatmaps-{request.param}")
    with engine_kit(request.param, tmp, testdata_dir) as kit:
        yield seed(kit)


def get(world: World, what: str, **params: Any) -> httpx.Response:
    if what != "snapshot":  # a snapshot is any replay of the page: no range
        params.setdefault("interval", "24h")
    return world.kit.api(f"/heatmaps/{what}", **params)


def ok(world: World, what: str, **params: Any) -> Any:
    answer = get(world, what, **params)
    assert answer.status_code == 200, answer.text
    return answer.json()


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds")


def _row(selector: str, clicks: int, visitors: int, rage=0, dead=0, error=0) -> dict[str, Any]:
    return dict(
        selector=selector, clicks=clicks, visitors=visitors, rage=rage, dead=dead, error=error
    )


def test_the_click_map_counts_clicks_and_signals_by_selector_on_the_folded_url(world: World):
    for url in (PRICING, f"{PRICING}?utm_source=other", f"{PRICING}#top"):
        assert ok(world, "clicks", url=url) == {
            "url": PRICING,
            "pageViews": 4,  # P1, P2, P3, LATE: not the bot's
            "clicks": [
                _row("button.plan", 4, 2, rage=1, dead=1),
                _row("a#buy", 3, 2),
                _row("a#late", 1, 1),
                _row("div#menu", 0, 0, error=1),
            ],
        }


def test_bots_are_left_out_unless_asked_for(world: World):
    found = ok(world, "clicks", url=PRICING, bots="include")
    assert found["pageViews"] == 5
    assert found["clicks"][1] == _row("a#buy", 4, 3)
    only = ok(world, "clicks", url=PRICING, bots="only")
    assert (only["pageViews"], only["clicks"]) == (1, [_row("a#buy", 1, 1)])


def test_the_range_picks_page_sessions_by_when_they_started(world: World):
    late = ok(world, "clicks", url=PRICING, start=iso(world.middle))
    assert late == {"url": PRICING, "pageViews": 1, "clicks": [_row("a#late", 1, 1)]}
    early = ok(world, "clicks", url=PRICING, end=iso(world.middle))
    assert early["pageViews"] == 3
    assert [row["selector"] for row in early["clicks"]] == ["button.plan", "a#buy", "div#menu"]


def test_scroll_depth_shares_are_over_the_page_views_measured(world: World):
    found = ok(world, "scroll", url=f"{PRICING}?x=1")
    reached = [2, 2, 2, 2, 2, 2, 2, 1, 1, 1]  # P1's deepest is 7, P2's 10
    assert found == {
        "url": PRICING,
        "pageViews": 2,
        "depths": [
            {"depth": 10 * (n + 1), "pageViews": r, "share": r / 2} for n, r in enumerate(reached)
        ],
    }
    home = ok(world, "scroll", url=f"{SITE}/")
    assert home["pageViews"] == 1
    assert [row["pageViews"] for row in home["depths"]] == [1, 1] + [0] * 8


def test_the_page_list_has_the_most_viewed_pages_with_their_clicks_and_replays(world: World):
    assert ok(world, "pages") == {
        "pages": [
            {"url": PRICING, "pageViews": 4, "clicks": 8, "replays": 2},
            {"url": f"{SITE}/", "pageViews": 1, "clicks": 1, "replays": 0},
        ]
    }
    assert ok(world, "pages", start=iso(world.middle)) == {
        "pages": [{"url": PRICING, "pageViews": 1, "clicks": 1, "replays": 0}]
    }


@pytest.mark.parametrize(
    ("width", "replay", "recorded"), [(375, "P1", 390), (1280, "P2", 1440), (900, "P2", 1440)]
)
def test_the_snapshot_is_the_newest_replay_of_the_page_at_a_width_of_the_same_class(
    world: World, width: int, replay: str, recorded: int
):
    found = ok(world, "snapshot", url=f"{PRICING}?utm_source=ad", width=width)
    assert found["url"] == PRICING
    assert found["replayId"] == world.replays[replay]
    assert found["viewportWidth"] == recorded
    [click] = world.kit.store.clicks_by_id(world.kit.brand.id, [world.sessions[replay]]).values()
    assert found["sessionId"] == click.session_id
    assert found["startedAt"].endswith("Z")


def test_a_page_with_no_replay_is_a_404_that_says_how_to_get_one(world: World):
    answer = get(world, "snapshot", url=f"{SITE}/", width=1280)
    assert answer.status_code == 404
    assert answer.json()["error"]["message"] == (
        "no replay of this URL yet: record one with replay on"
    )


def test_an_unknown_page_or_an_empty_range_answers_empty(world: World):
    unknown = f"{SITE}/nowhere'\"%_\\ü"
    assert ok(world, "clicks", url=unknown) == {"url": unknown, "pageViews": 0, "clicks": []}
    scroll = ok(world, "scroll", url=unknown)
    assert scroll["pageViews"] == 0
    assert {(row["pageViews"], row["share"]) for row in scroll["depths"]} == {(0, 0.0)}
    assert ok(world, "pages", end="2001-01-01") == {"pages": []}
    assert ok(world, "clicks", url=PRICING, end="2001-01-01")["clicks"] == []


@pytest.mark.parametrize(
    ("what", "params", "param", "words"),
    [
        ("clicks", {}, "url", "url"),
        ("clicks", {"url": "?utm_source=x"}, "url", "nothing before"),
        ("scroll", {"url": "x" * 2049}, "url", "2048"),
        ("scroll", {"url": PRICING, "from": "2026-01-01"}, "from", "unknown field"),
        ("clicks", {"url": PRICING, "timezone": "Mars/Base"}, "timezone", "IANA"),
        ("clicks", {"url": PRICING, "start": "yesterday"}, "start", "ISO 8601"),
        ("pages", {"start": "2026-02-01", "end": "2026-01-01"}, "start", "after"),
        ("pages", {"bots": "maybe"}, "bots", "enum value"),
        ("snapshot", {"url": PRICING}, "width", "width"),
        ("snapshot", {"url": PRICING, "width": 199}, "width", "200"),
        ("snapshot", {"url": PRICING, "width": "wide"}, "width", "int"),
    ],
)
def test_bad_parameters_are_a_422_naming_them(
    world: World, what: str, params: dict[str, Any], param: str, words: str
):
    answer = world.kit.api(f"/heatmaps/{what}", **params)
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["param"] == param
    assert words in error["message"]


def test_another_brands_key_or_none_reads_nothing(world: World):
    _, other_key = world.kit.new_brand()
    answer = world.kit.api("/heatmaps/pages", key=other_key)
    assert answer.status_code == 404
    response = world.kit.http.get(f"/api/brands/{world.kit.brand.id}/heatmaps/pages")
    assert response.status_code == 401


@pytest.mark.parametrize(
    "data", [{"d": 0}, {"d": 11}, {"d": "5"}, {"d": 5.5}, {"d": 5, "x": 1}, {}, ["5"]]
)
def test_scroll_depth_data_must_be_a_whole_tenth(world: World, data: Any):
    beacon = world.kit.beacon()
    beacon["e"].append({"t": "scroll_depth", "ts": beacon["e"][0]["ts"], "d": data})
    answer = world.kit.collect(beacon)
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["param"] == "e[1].d"
