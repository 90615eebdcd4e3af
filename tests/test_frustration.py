"""Frustration signals with replay off (issue 15), through POST /collect on both engines: rage
clicks found at ingest from a beacon's clicks, dead and error clicks as the tracker sends them."""

from __future__ import annotations

from typing import Any

import pytest

from collector.ids import new_id
from tests.appkit import now_ms


def _click(ts: int, x: float = 100, y: float = 200, s: str = "button#buy") -> dict[str, Any]:
    return {"t": "click", "ts": ts, "d": {"s": s, "x": x, "y": y, "tx": "Buy"}}


def _send(kit, events: list[dict[str, Any]], **beacon: Any) -> dict[str, Any]:
    sent = kit.beacon(**beacon)
    sent["e"] += events
    response = kit.collect(sent)
    assert response.status_code == 204, response.text
    return sent


def _signals(kit, page_id: str, kind: str = "rage_click"):
    events = kit.store.events_for_clicks(kit.brand.id, [page_id])
    return [event for event in events if event.type == kind]


def test_three_clicks_in_a_second_on_one_spot_are_one_rage_click_on_the_page_view(kit):
    t0 = now_ms()
    sent = _send(kit, [_click(t0), _click(t0 + 300, 110, 190), _click(t0 + 700, 95, 215)])
    [rage] = _signals(kit, sent["p"])
    assert rage.click_id == sent["p"]
    assert rage.timestamp == t0
    assert rage.data == {"s": "button#buy", "x": 100, "y": 200, "n": 3, "src": "tracker"}
    events = kit.store.events_for_clicks(kit.brand.id, [sent["p"]])
    assert [e.type for e in events] == ["page_view", "click", "rage_click", "click", "click"]


def test_a_longer_burst_is_one_rage_click_counting_its_clicks(kit):
    t0 = now_ms()
    sent = _send(kit, [_click(t0 + 150 * i, 100 + i, 200) for i in range(6)])
    [rage] = _signals(kit, sent["p"])
    assert rage.data["n"] == 6 and rage.timestamp == t0


def test_two_bursts_in_one_beacon_are_two_rage_clicks(kit):
    t0 = now_ms() - 5000
    burst = [_click(t0 + 100 * i) for i in range(3)]
    later = [_click(t0 + 3000 + 100 * i, 500, 40, "a.cta") for i in range(4)]
    sent = _send(kit, burst + later)
    rages = _signals(kit, sent["p"])
    assert [(r.timestamp, r.data["n"], r.data["s"]) for r in rages] == [
        (t0, 3, "button#buy"),
        (t0 + 3000, 4, "a.cta"),
    ]


@pytest.mark.parametrize(
    "offsets",
    [
        [(0, 0, 0), (200, 0, 0)],  # two clicks
        [(0, 0, 0), (750, 0, 0), (1500, 0, 0)],  # three, spread over 1.5 s
        [(0, 0, 0), (200, 100, 0), (400, 200, 0)],  # three, 100 px apart
        [(0, 0, 0), (200, 0, 0), (400, 0, 31)],  # the third just outside 30 px
        [(0, 0, 0), (500, 0, 0), (1001, 0, 0)],  # the third just outside the second
    ],
    ids=["two", "spread-1.5s", "100px-apart", "31px", "1001ms"],
)
def test_near_misses_are_no_rage_click(kit, offsets):
    t0 = now_ms()
    sent = _send(kit, [_click(t0 + dt, 100 + dx, 200 + dy) for dt, dx, dy in offsets])
    assert _signals(kit, sent["p"]) == []
    assert len(_signals(kit, sent["p"], "click")) == len(offsets)


def test_clicks_without_coordinates_make_no_rage_click(kit):
    t0 = now_ms()
    sent = _send(kit, [{"t": "click", "ts": t0 + i, "d": {"s": "button#buy"}} for i in range(3)])
    assert _signals(kit, sent["p"]) == []


def test_a_burst_in_a_later_beacon_lands_on_its_own_page_view(kit):
    t0 = now_ms() - 10_000
    first = _send(kit, [])
    second = _send(kit, [], p=new_id(t0), s=first["s"], v=first["v"])
    burst = [_click(t0 + 100 * i) for i in range(3)]
    later = kit.beacon(p=first["p"], s=first["s"], v=first["v"], n=0, e=burst)
    assert kit.collect(later).status_code == 204
    assert [r.click_id for r in _signals(kit, first["p"])] == [first["p"]]
    assert _signals(kit, second["p"]) == []


def test_dead_and_error_clicks_are_stored_with_their_typed_fields_and_src(kit):
    t0 = now_ms()
    dead = {"s": "button#save", "x": 10.5, "y": 20, "tx": "Save"}
    error = {"s": "button#pay", "x": 30, "y": 40, "m": "Uncaught TypeError: x is undefined"}
    sent = _send(kit, [{"t": "dead_click", "ts": t0, "d": dead}])
    _send(kit, [{"t": "error_click", "ts": t0, "d": error}], p=sent["p"], n=0)
    [stored_dead] = _signals(kit, sent["p"], "dead_click")
    assert stored_dead.timestamp == t0
    assert stored_dead.data == {"s": "button#save", "x": 10.5, "y": 20, "src": "tracker"}
    [stored_error] = _signals(kit, sent["p"], "error_click")
    assert stored_error.data == {**error, "src": "tracker"}


@pytest.mark.parametrize(
    ("event", "fragment"),
    [
        ({"t": "dead_click", "d": {"s": "b" * 501}}, "dead_click data"),
        ({"t": "dead_click", "d": {"x": "left"}}, "x"),
        ({"t": "dead_click", "d": ["button"]}, "must be an object"),
        ({"t": "error_click", "d": {"m": "e" * 201}}, "error_click data"),
        ({"t": "error_click", "d": {"m": 42}}, "m"),
        ({"t": "error_click", "d": {"y": 2.0**40}}, "y"),
        ({"t": "rage_click", "d": {"n": "many"}}, "rage_click data"),
    ],
    ids=["long-selector", "x-string", "array", "long-message", "message-number", "y-huge", "n"],
)
def test_bad_signal_data_is_422_and_nothing_is_stored(kit, event, fragment):
    sent = kit.beacon()
    sent["e"].append({"ts": now_ms(), **event})
    response = kit.collect(sent)
    assert response.status_code == 422
    error = response.json()["error"]
    assert fragment in error["message"] and error["param"] == "e[1].d"
    assert kit.store.get_click(kit.brand.id, sent["p"]) is None
