"""Rage, dead and error clicks found in a replay's rrweb stream (collector/replay/signals.py):
small synthetic streams for each signal and its near misses, the real recording of
shared/testdata/recordings/, and the compaction path storing them exactly once on every engine."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec
import pytest

from collector.replay import compaction, signals
from collector.replay.codec import compress_chunk
from collector.replay.signals import find_signals, store_signals
from collector.storage.base import BrandSettings, Event, ReplayChunk, Store

T0 = 1_767_225_600_000
HOUR = 3_600_000
URL = "https://shop.example/p"

# document 1 > html 2 > body 3 > button#buy 4 (text 5), a.cta 6, div.plain 7 (text 8),
# div[role=button] 9 > span 10, input[type=submit] 11, div[onclick] 12, select 13
_TREE = {
    "type": 0,
    "id": 1,
    "childNodes": [
        {
            "type": 2,
            "tagName": "html",
            "id": 2,
            "attributes": {},
            "childNodes": [
                {
                    "type": 2,
                    "tagName": "body",
                    "id": 3,
                    "attributes": {},
                    "childNodes": [
                        {
                            "type": 2,
                            "tagName": "button",
                            "id": 4,
                            "attributes": {"id": "buy"},
                            "childNodes": [{"type": 3, "textContent": "Buy", "id": 5}],
                        },
                        {"type": 2, "tagName": "a", "id": 6, "attributes": {"class": "cta"}},
                        {
                            "type": 2,
                            "tagName": "div",
                            "id": 7,
                            "attributes": {"class": "plain"},
                            "childNodes": [{"type": 3, "textContent": "x", "id": 8}],
                        },
                        {
                            "type": 2,
                            "tagName": "div",
                            "id": 9,
                            "attributes": {"role": "button", "class": "fake"},
                            "childNodes": [
                                {"type": 2, "tagName": "span", "id": 10, "attributes": {}}
                            ],
                        },
                        {"type": 2, "tagName": "input", "id": 11, "attributes": {"type": "submit"}},
                        {"type": 2, "tagName": "div", "id": 12, "attributes": {"onclick": ""}},
                        {"type": 2, "tagName": "select", "id": 13, "attributes": {}},
                    ],
                }
            ],
        }
    ],
}


def meta(at: int, href: str = URL) -> dict[str, Any]:
    return {"type": 4, "data": {"href": href, "width": 1280, "height": 800}, "timestamp": at}


def snapshot(at: int) -> dict[str, Any]:
    return {
        "type": 2,
        "data": {"node": _TREE, "initialOffset": {"left": 0, "top": 0}},
        "timestamp": at,
    }


def click(at: int, node: int = 4, x: float = 100, y: float = 200) -> dict[str, Any]:
    return {
        "type": 3,
        "data": {"source": 2, "type": 2, "id": node, "x": x, "y": y},
        "timestamp": at,
    }


def mutation(at: int) -> dict[str, Any]:
    data = {"source": 0, "texts": [], "attributes": [{"id": 3, "attributes": {"class": "on"}}]}
    return {"type": 3, "data": {**data, "removes": [], "adds": []}, "timestamp": at}


def move(at: int) -> dict[str, Any]:
    positions = [{"x": 1, "y": 1, "id": 3, "timeOffset": 0}]
    return {"type": 3, "data": {"source": 1, "positions": positions}, "timestamp": at}


def scroll(at: int, y: int, node: int = 1) -> dict[str, Any]:
    return {"type": 3, "data": {"source": 3, "id": node, "x": 0, "y": y}, "timestamp": at}


def text_input(at: int) -> dict[str, Any]:
    return {
        "type": 3,
        "data": {"source": 5, "id": 11, "text": "a", "isChecked": False},
        "timestamp": at,
    }


def error(at: int, message: str = "boom") -> dict[str, Any]:
    return {"type": 5, "data": {"tag": "ct-error", "payload": {"m": message}}, "timestamp": at}


def stream(*events: dict[str, Any]) -> list[dict[str, Any]]:
    return [meta(T0), snapshot(T0), *events]


def found(*events: dict[str, Any]) -> list[tuple[str, int, str | None, dict[str, Any]]]:
    """(kind, ms after T0, selector, n or m) of the stream's signals."""
    return [(s.kind, s.at - T0, s.selector, s.extra) for s in find_signals(stream(*events))]


# --- rage clicks ------------------------------------------------------------------------------


def test_rage_three_clicks_within_a_second_and_30_px():
    clicks = [
        click(T0 + 1000, node=8),
        click(T0 + 1300, node=8, x=110),
        click(T0 + 1900, node=8, y=220),
        click(T0 + 2001, node=8),  # over the second
    ]
    assert found(*clicks) == [("rage_click", 1000, "div.plain", {"n": 3})]
    assert [s.position for s in find_signals(stream(*clicks))] == [2]  # its seq
    fourth = [*clicks[:3], click(T0 + 2000, node=8)]  # 1,000 ms is within
    assert found(*fourth) == [("rage_click", 1000, "div.plain", {"n": 4})]


def test_rage_near_misses_slow_or_spread_clicks():
    slow = [
        click(T0 + 1000, node=8),
        click(T0 + 1600, node=8),
        click(T0 + 2200, node=8),
        mutation(T0 + 2300),
    ]
    assert found(*slow) == []
    spread = [
        click(T0 + 1000, node=8),
        click(T0 + 1100, node=8, x=131),
        click(T0 + 1200, node=8),
        mutation(T0 + 1300),
    ]
    assert found(*spread) == []
    two = [click(T0 + 1000, node=8), click(T0 + 1100, node=8), mutation(T0 + 1200)]
    assert found(*two) == []


def test_rage_on_a_dead_button_is_one_rage_and_one_dead_click():
    result = found(click(T0 + 1000), click(T0 + 1100), click(T0 + 1200), move(T0 + 3000))
    assert result == [
        ("dead_click", 1000, "button#buy", {}),
        ("rage_click", 1000, "button#buy", {"n": 3}),
    ]


# --- dead clicks ------------------------------------------------------------------------------


def test_dead_click_when_nothing_answers_for_a_second():
    assert found(click(T0 + 1000), move(T0 + 2500)) == [("dead_click", 1000, "button#buy", {})]
    assert found(click(T0 + 1000), mutation(T0 + 2100)) == [("dead_click", 1000, "button#buy", {})]


@pytest.mark.parametrize(
    "answer",
    [
        mutation(T0 + 1900),
        meta(T0 + 1500, URL + "/next"),
        snapshot(T0 + 1200),
        text_input(T0 + 1050),
    ],
    ids=["mutation", "meta", "full-snapshot", "input"],
)
def test_dead_click_near_misses_the_page_answered(answer):
    assert found(click(T0 + 1000), answer, move(T0 + 3000)) == []


def test_dead_click_is_not_judged_when_the_stream_ends_within_the_second():
    assert found(click(T0 + 1000), move(T0 + 1800)) == []


def test_dead_click_only_on_something_clickable():
    assert found(click(T0 + 1000, node=8), move(T0 + 3000)) == []  # text of div.plain
    assert found(click(T0 + 1000, node=13), move(T0 + 3000)) == []  # a select opens a picker
    kinds = [
        found(click(T0 + 1000, node=node), move(T0 + 3000))[0][2] for node in (5, 10, 11, 12, 6)
    ]
    assert kinds == ["button#buy", "div.fake", "input", "div", "a.cta"]


def test_dead_click_on_a_link_that_scrolls_the_page_is_not_dead():
    assert found(click(T0 + 1000, node=6), scroll(T0 + 1200, 900), move(T0 + 3000)) == []
    # a scroll after a button click is the visitor's, not the button's answer
    assert found(click(T0 + 1000), scroll(T0 + 1200, 900), move(T0 + 3000))[0][0] == "dead_click"


def test_signal_coordinates_are_page_coordinates():
    [signal] = find_signals(stream(scroll(T0 + 500, 700), click(T0 + 1000, y=100), move(T0 + 3000)))
    assert (signal.x, signal.y, signal.url) == (100, 800, URL)


# --- error clicks -----------------------------------------------------------------------------


def test_error_click_within_a_second_once_per_click():
    result = found(
        click(T0 + 1000, node=7), error(T0 + 1400, "TypeError: x is undefined"), error(T0 + 1500)
    )
    assert result == [("error_click", 1000, "div.plain", {"m": "TypeError: x is undefined"})]


def test_a_click_on_a_button_that_throws_is_an_error_click_not_also_a_dead_one():
    result = found(click(T0 + 1000), error(T0 + 1200, "boom"), move(T0 + 3000))
    assert result == [("error_click", 1000, "button#buy", {"m": "boom"})]


def test_error_click_near_misses():
    assert found(click(T0 + 1000, node=7), error(T0 + 2100)) == []  # over a second later
    assert found(error(T0 + 1000)) == []  # no click before it
    other = {"type": 5, "data": {"tag": "my-tag", "payload": {"m": "x"}}, "timestamp": T0 + 1100}
    assert found(click(T0 + 1000, node=7), other) == []


def test_error_message_is_cut_to_200_characters():
    [(_, _, _, extra)] = found(click(T0 + 1000, node=7), error(T0 + 1100, "e" * 5000))
    assert extra == {"m": "e" * 200}


# --- bounds and hostile streams ---------------------------------------------------------------


def test_hostile_events_are_skipped():
    junk: list[Any] = [
        "x",
        None,
        {"type": 3},
        {"type": 3, "data": {"source": 2, "type": 2, "id": "4", "x": 1, "y": 1}, "timestamp": T0},
        {"type": 3, "data": {"source": 2, "type": 2, "id": 4, "x": 1e308, "y": 1}, "timestamp": T0},
        {"type": 3, "data": {"source": 2, "type": 2, "id": 4, "x": 1, "y": 1}, "timestamp": "t"},
        {"type": 3, "data": {"source": 2, "type": 2, "id": 4, "x": 1, "y": 1}, "timestamp": 1e300},
        {"type": 3, "data": {"source": 0, "adds": [1, {"node": 3}]}, "timestamp": T0},
        {"type": 4, "data": {"href": 5}, "timestamp": T0},
        {"type": 5, "data": {"tag": "ct-error", "payload": "x"}, "timestamp": T0},
        {"type": 2, "data": {"node": {"id": 1, "childNodes": "no"}}, "timestamp": T0},
    ]
    assert find_signals(junk) == []
    assert (
        find_signals([*stream(), *junk, click(T0 + 1000), move(T0 + 3000)])[0].kind == "dead_click"
    )


def test_signals_per_kind_are_capped(monkeypatch):
    many = [e for i in range(signals.MAX_PER_KIND + 20) for e in (click(T0 + 2000 * i),)]
    result = find_signals(stream(*many, move(T0 + 10**7)))
    assert len(result) == signals.MAX_PER_KIND
    monkeypatch.setattr(signals, "MAX_SCANNED_EVENTS", 12)  # meta, snapshot and 10 clicks
    assert len(find_signals(stream(*many, move(T0 + 10**7)))) == 9  # the 10th is not judged


# --- the real recording -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def recording(testdata_dir: Path) -> list[dict[str, Any]]:
    path = testdata_dir / "recordings" / "demoit-react-hooks.json"
    return msgspec.json.decode(path.read_bytes())


def test_real_recording_has_no_signals(recording):
    """Three clicks, in an editor (not clickable) and on a link the page answers."""
    assert find_signals(recording) == []


def with_frustration(recording: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The recording with a rage burst on its link (``a.active``, node 36), then an error."""
    link = next(i for i, e in enumerate(recording) if e["data"] == click(0, 36, 105, 23)["data"])
    at = recording[link]["timestamp"]
    burst = [
        {
            **recording[link],
            "timestamp": at + 100 * k,
            "data": {**recording[link]["data"], "x": 105 + k},
        }
        for k in range(1, 4)
    ]
    return [*recording[: link + 1], *burst, error(at + 450, "Boom"), *recording[link + 1 :]]


def test_real_recording_with_a_rage_burst_and_an_error(recording):
    result = [(s.kind, s.selector, s.extra) for s in find_signals(with_frustration(recording))]
    assert result == [
        ("rage_click", "a.active", {"n": 4}),
        ("error_click", "a.active", {"m": "Boom"}),
    ]


# --- stored once, on every engine -------------------------------------------------------------


def chunks_of(brand_id: int, events: list[dict[str, Any]], seq0: int = 0) -> list[ReplayChunk]:
    out = []
    for seq, start in enumerate(range(0, len(events), 50), start=seq0):
        run = events[start : start + 50]
        body = msgspec.json.encode(run)
        out.append(
            ReplayChunk(
                brand_id=brand_id,
                replay_id="r1",
                seq=seq,
                session_id="s1",
                page_session_id="p1",
                visitor_id="v1",
                url="https://demoit.app/e/react",
                received_at=T0 + seq * 5_000,
                first_ts=run[0]["timestamp"],
                last_ts=run[-1]["timestamp"],
                event_count=len(run),
                raw_bytes=len(body),
                body=compress_chunk(body),
            )
        )
    return out


def replay_signals(store: Store, brand_id: int) -> list[Event]:
    return [e for e in store.session_events(brand_id, "s1") if e.type in signals.SIGNALS]


@pytest.fixture
def brand(store: Store) -> int:
    return store.create_brand("Demo", "site-demo", ["demoit.app"], BrandSettings(), T0).id


def test_compaction_stores_the_signals_exactly_once(store, brand, recording):
    events = with_frustration(recording)
    store.write_batch([], [], chunks_of(brand, events))
    replay = store.get_replay(brand, "r1")
    assert replay is not None
    tracker = Event(
        brand_id=brand, click_id="p1", session_id="s1", type="rage_click", timestamp=T0, seq=3,
        data={"s": "a.active", "x": 1, "y": 2, "n": 3, "src": "tracker"},
    )  # fmt: skip
    store.write_batch([], [tracker])
    body = msgspec.json.encode(events)
    # a crash after the signals were stored and before the segments were: found again, not twice
    assert store_signals(store, replay, body) == 2
    compaction.compact_replay(store, replay, T0 + HOUR)
    stored = replay_signals(store, brand)
    assert [(e.type, e.click_id, e.data["src"]) for e in stored] == [
        ("rage_click", "p1", "replay"),
        ("error_click", "p1", "replay"),
        ("rage_click", "p1", "tracker"),  # at T0, years after the recording
    ]
    rage = stored[0]
    assert rage.data == {"s": "a.active", "x": 105, "y": 23, "n": 4, "src": "replay"}
    assert rage.url == "https://demoit.app/e/react#ReactHooks.js"
    assert stored[1].data["m"] == "Boom"
    compacted = store.get_replay(brand, "r1")
    assert compacted is not None and compacted.live_chunks == 0
    compaction.compact_replay(store, compacted, T0 + HOUR)  # nothing live: left as it is
    assert store_signals(store, compacted, body) == 0
    assert len(replay_signals(store, brand)) == 3


def test_late_chunks_add_only_their_new_signals(store, brand, recording):
    store.write_batch([], [], chunks_of(brand, recording))
    compaction.compact_ended(store, T0 + HOUR, idle_ms=0)
    assert replay_signals(store, brand) == []
    end = recording[-1]["timestamp"]
    late = [click(end + 1000, node=36, x=5, y=5), error(end + 1200, "late"), move(end + 3000)]
    store.write_batch([], [], chunks_of(brand, late, seq0=100))
    assert compaction.compact_ended(store, T0 + 2 * HOUR, idle_ms=0) == 1
    assert compaction.compact_ended(store, T0 + 3 * HOUR, idle_ms=0) == 0
    stored = replay_signals(store, brand)
    assert [(e.type, e.timestamp - end, e.data.get("m")) for e in stored] == [
        ("error_click", 1000, "late"),  # not also dead: the error was the page's answer
    ]
