"""A replay read in windows, as the viewer opens a long one: ``GET .../replays/{id}/index`` and
``format=rrweb`` with ``from_ms``/``until_ms``, over a real socket, on both storage engines."""

from __future__ import annotations

import copy

import msgspec

from collector.ids import new_id
from collector.replay.importer import import_replay
from tests.appkit import now_ms
from tests.replay_samples import checkout_recording, real_recording_path

VISIT_MS = 100_000  # each visit of the long replay starts with a checkout (Meta + FullSnapshot)


def _long_recording(testdata_dir, visits: int = 3) -> list[dict]:
    """A real recording played ``visits`` times in a row, VISIT_MS apart: a checkout each."""
    original = msgspec.json.decode(real_recording_path(testdata_dir).read_bytes())
    t0 = original[0]["timestamp"]
    start = now_ms() - 600_000
    events = []
    for visit in range(visits):
        for event in original:
            moved = copy.deepcopy(event)
            moved["timestamp"] = event["timestamp"] - t0 + start + visit * VISIT_MS
            events.append(moved)
    return events


def _imported(kit, events) -> str:
    return import_replay(kit.store, kit.brand.id, msgspec.json.encode(events), now_ms())


def _window(kit, replay_id, **query):
    return kit.api(f"/replays/{replay_id}", format="rrweb", **query)


def test_the_index_gives_duration_and_a_seek_point_at_every_checkout(kit, testdata_dir):
    events = _long_recording(testdata_dir)
    replay_id = _imported(kit, events)
    index = kit.api(f"/replays/{replay_id}/index").json()
    assert index["first_event_ms"] == events[0]["timestamp"]
    assert index["duration_ms"] == events[-1]["timestamp"] - events[0]["timestamp"]
    assert index["seek_points_ms"] == [0, VISIT_MS, 2 * VISIT_MS]
    assert index["id"] == replay_id and "events" not in index


def test_a_live_replay_has_one_seek_point_its_start(kit):
    beacon = kit.beacon()
    assert kit.collect(beacon).status_code == 204
    t0 = now_ms()
    events = checkout_recording(t0)
    envelope = {"k": kit.brand.site_key, "r": new_id(), "p": beacon["p"], "q": 0}
    envelope |= {"u": "https://shop.example/", "e": events}
    assert kit.http.post("/collect/replay", json=envelope).status_code == 204
    index = kit.api(f"/replays/{envelope['r']}/index").json()
    assert index["seek_points_ms"] == [0]
    assert index["duration_ms"] == events[-1]["timestamp"] - events[0]["timestamp"]


def test_consecutive_windows_add_up_to_the_whole_stream_event_for_event(kit, testdata_dir):
    events = _long_recording(testdata_dir)
    replay_id = _imported(kit, events)
    whole = _window(kit, replay_id).json()
    duration = events[-1]["timestamp"] - events[0]["timestamp"]
    pieces = []
    for start in range(0, duration + 1, 37_000):  # windows across segment boundaries
        answer = _window(kit, replay_id, from_ms=start, until_ms=start + 36_999)
        assert answer.status_code == 200, answer.text
        pieces += answer.json()
    assert pieces == whole == events


def test_a_window_holds_exactly_its_events_and_no_seek_point_before_them(kit, testdata_dir):
    events = _long_recording(testdata_dir)
    replay_id = _imported(kit, events)
    t0 = events[0]["timestamp"]
    got = _window(kit, replay_id, from_ms=VISIT_MS + 20_000, until_ms=VISIT_MS + 40_000).json()
    want = [e for e in events if 20_000 <= e["timestamp"] - t0 - VISIT_MS <= 40_000]
    assert got == want and got
    assert _window(kit, replay_id, from_ms=10**9).json() == []
    assert _window(kit, replay_id, until_ms=0).json() == events[:1]


def test_since_ms_with_until_ms_starts_at_the_seek_point(kit, testdata_dir):
    events = _long_recording(testdata_dir)
    replay_id = _imported(kit, events)
    t0 = events[0]["timestamp"]
    got = _window(kit, replay_id, since_ms=VISIT_MS + 30_000, until_ms=VISIT_MS + 30_000).json()
    assert got[0]["type"] == 4 and got[1]["type"] == 2  # Meta + FullSnapshot of the checkout
    assert got == [e for e in events if VISIT_MS <= e["timestamp"] - t0 <= VISIT_MS + 30_000]


def test_window_bounds_that_cannot_go_together_are_422_naming_the_parameter(kit, testdata_dir):
    replay_id = _imported(kit, _long_recording(testdata_dir, visits=1))
    both = _window(kit, replay_id, since_ms=10, from_ms=10)
    assert both.status_code == 422 and both.json()["error"]["param"] == "from_ms"
    backwards = _window(kit, replay_id, from_ms=5000, until_ms=4000)
    assert backwards.status_code == 422 and backwards.json()["error"]["param"] == "until_ms"
    negative = _window(kit, replay_id, from_ms=-1)
    assert negative.status_code == 422 and negative.json()["error"]["param"] == "from_ms"


def test_the_index_is_404_for_an_unknown_replay_and_for_another_brands_key(kit, testdata_dir):
    replay_id = _imported(kit, _long_recording(testdata_dir, visits=1))
    assert kit.api(f"/replays/{new_id()}/index").status_code == 404
    _, other_key = kit.new_brand()
    assert kit.api(f"/replays/{replay_id}/index", key=other_key).status_code == 404
    assert kit.api(f"/replays/{replay_id}/index").status_code == 200
