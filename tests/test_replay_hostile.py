"""Hostile replay chunks over a real socket, on both storage engines: whatever is posted to
/collect/replay, a chunk is stored whole or refused with a 4xx in the error shape, and nothing
it holds can break a later read or another beacon's group commit."""

from __future__ import annotations

import gzip
import json
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import pytest

from collector.http.errors import domain_status
from collector.ids import new_id
from collector.replay.budget import COPIES, Busy, InflightBudget
from collector.replay.wire import DAY_MS, MAX_DEPTH
from tests.appkit import CHROME_UA, now_ms
from tests.replay_samples import checkout_recording


def _envelope(kit, events, **overrides):
    envelope = {
        "k": kit.brand.site_key,
        "r": new_id(),
        "p": new_id(),
        "v": new_id(),
        "s": new_id(),
        "q": 0,
        "u": "https://shop.example/checkout",
        "e": events,
    }
    envelope.update(overrides)
    return envelope


def _post(kit, body: bytes):
    headers = {"user-agent": CHROME_UA, "content-type": "text/plain"}
    return kit.http.post("/collect/replay", content=body, headers=headers)


def _refused(kit, response, status: int, fragment: str, replay_id: str | None = None) -> None:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["status"] == status
    assert fragment in error["message"], error["message"]
    if replay_id is not None:
        assert kit.store.get_replay(kit.brand.id, replay_id) is None


def _events_with(event_json: bytes, t0: int) -> bytes:
    """A chunk's event array: a real Meta + FullSnapshot, then ``event_json`` as event 2."""
    good = json.dumps(checkout_recording(t0)[:2]).encode()
    return good[:-1] + b"," + event_json + b"]"


def _raw_envelope(kit, events_json: bytes) -> tuple[bytes, str]:
    replay_id = new_id()
    head = json.dumps(_envelope(kit, [], r=replay_id)).encode()
    return head.replace(b'"e": []', b'"e": ' + events_json), replay_id


@pytest.mark.parametrize(
    ("timestamp", "fragment"),
    [
        (10**30, "`e[1].timestamp` is 1000000000000000000000000000000"),
        (2**62, "`e[1].timestamp` is 4611686018427387904"),
        (-1, "`e[1].timestamp` is -1"),
        ("old", "send milliseconds since the epoch between"),
        ("ahead", "`e[1].timestamp`"),
    ],
)
def test_a_timestamp_out_of_the_window_is_422_naming_it(kit, timestamp, fragment):
    now = now_ms()
    timestamp = {"old": now - 31 * DAY_MS, "ahead": now + 2 * DAY_MS}.get(timestamp, timestamp)
    events = checkout_recording(now)
    events[1]["timestamp"] = timestamp
    envelope = _envelope(kit, events)
    _refused(kit, _post(kit, gzip.compress(json.dumps(envelope).encode())), 422, fragment)
    assert kit.store.get_replay(kit.brand.id, envelope["r"]) is None


def test_a_chunk_spanning_more_than_a_day_is_422(kit):
    events = checkout_recording(now_ms() - 2 * DAY_MS)
    events[-1]["timestamp"] = now_ms()
    envelope = _envelope(kit, events)
    _refused(kit, _post(kit, json.dumps(envelope).encode()), 422, "`e` spans", envelope["r"])


def test_a_hostile_chunk_never_takes_other_beacons_down_with_it(kit):
    """The 10**30 timestamp used to pass validation and fail inside the group commit."""
    hostile = checkout_recording(now_ms())
    hostile[0]["timestamp"] = 10**30
    beacons = [kit.beacon() for _ in range(8)]
    with ThreadPoolExecutor(9) as pool:
        refused = pool.submit(_post, kit, json.dumps(_envelope(kit, hostile)).encode())
        answers = list(pool.map(kit.collect, beacons))
    assert refused.result().status_code == 422
    assert [a.status_code for a in answers] == [204] * 8
    for beacon in beacons:
        assert kit.store.get_click(kit.brand.id, beacon["p"]) is not None


@pytest.mark.parametrize(
    ("event", "fragment"),
    [
        (b'{"type":3,"timestamp":T,"data":{"text":"\xff\xfe"}}', "`e[2]` is not valid UTF-8"),
        (b'{"type":3,"timestamp":T,"data":{"x":1e400}}', "`e[2]` holds a number"),
        (b'{"type":3,"timestamp":T,"data":{"x":10000000000000000000000000000000}}', "`e[2]`"),
        (b'{"type":99,"timestamp":T}', "`e[2].type`"),
    ],
)
def test_text_and_numbers_a_read_would_trip_over_are_422(kit, event, fragment):
    t0 = now_ms()
    body, replay_id = _raw_envelope(kit, _events_with(event.replace(b"T", b"%d" % t0), t0))
    _refused(kit, _post(kit, gzip.compress(body)), 422, fragment, replay_id)


def test_a_lone_surrogate_escape_is_400_and_a_viewport_out_of_range_422(kit):
    t0 = now_ms()
    event = b'{"type":3,"timestamp":%d,"data":{"text":"\\ud800"}}' % t0
    body, replay_id = _raw_envelope(kit, _events_with(event, t0))
    _refused(kit, _post(kit, gzip.compress(body)), 400, "lone UTF-16 surrogate", replay_id)
    events = checkout_recording(t0)
    events[0]["data"]["width"] = 10**14
    envelope = _envelope(kit, events)
    _refused(kit, _post(kit, json.dumps(envelope).encode()), 422, "`e[0].data.width`")


def test_escaped_text_and_fractions_are_kept_as_sent(kit):
    t0 = now_ms()
    event = b'{"type":3,"timestamp":%d,"data":{"t":"\\ud83d\\ude00 \\"1e400\\"","x":0.%s1}}'
    body, replay_id = _raw_envelope(kit, _events_with(event % (t0, b"0" * 30), t0))
    assert _post(kit, body).status_code == 204
    rrweb = kit.api(f"/replays/{replay_id}", format="rrweb")
    assert rrweb.status_code == 200
    assert rrweb.json()[2]["data"]["t"] == '😀 "1e400"'


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 10_000, 100_000])
def test_nesting_past_the_bound_is_422_not_500(kit, depth):
    t0 = now_ms()
    deep = b"[" * depth + b"]" * depth
    event = b'{"type":3,"timestamp":%d,"data":{"x":%s}}' % (t0, deep)
    body, replay_id = _raw_envelope(kit, _events_with(event, t0))
    _refused(kit, _post(kit, gzip.compress(body)), 422, "nests deeper than", replay_id)


def test_nesting_of_a_deep_real_page_is_accepted(kit):
    """A DOM 100 elements deep (real pages reach 30: wikipedia, 64 JSON levels)."""
    t0 = now_ms()
    node = {"type": 3, "textContent": "deep", "id": 1000}
    for level in range(100):
        node = {"type": 2, "tagName": "div", "attributes": {}, "childNodes": [node], "id": level}
    event = {"type": 3, "timestamp": t0, "data": {"source": 0, "adds": [{"node": node}]}}
    envelope = _envelope(kit, [*checkout_recording(t0)[:2], event])
    assert _post(kit, gzip.compress(json.dumps(envelope).encode())).status_code == 204
    assert kit.api(f"/replays/{envelope['r']}", format="rrweb").status_code == 200


@pytest.mark.parametrize("field", ["r", "p", "v", "s"])
def test_an_id_whose_time_part_is_past_2_to_the_48_is_422(kit, field):
    envelope = _envelope(kit, checkout_recording(now_ms()), **{field: "8" + new_id()[1:]})
    _refused(kit, _post(kit, json.dumps(envelope).encode()), 422, f"`{field}`")


def _gzip_with_size(data: bytes, claimed: int) -> bytes:
    packed = gzip.compress(data)
    return packed[:-4] + (claimed % 2**32).to_bytes(4, "little")


def test_a_gzip_body_claiming_more_than_the_limit_is_413_before_inflating(kit):
    body = _gzip_with_size(json.dumps(_envelope(kit, checkout_recording(now_ms()))).encode(), 2**31)
    _refused(kit, _post(kit, body), 413, "larger than")


def test_a_gzip_body_that_lies_about_its_size_is_400(kit):
    envelope = _envelope(kit, checkout_recording(now_ms()))
    data = json.dumps(envelope).encode()
    _refused(kit, _post(kit, _gzip_with_size(data, 100)), 400, "claims", envelope["r"])
    _refused(kit, _post(kit, _gzip_with_size(data, len(data) + 1)), 400, "gzip")
    _refused(kit, _post(kit, gzip.compress(data) + gzip.compress(data)), 400, "one gzip member")


def test_the_budget_refuses_past_its_limit_but_always_takes_one_chunk_alone():
    budget = InflightBudget(limit=10 * COPIES)
    with budget.reserve(100), pytest.raises(Busy) as busy, budget.reserve(1):
        pass  # the first is bigger than the budget: taken, alone
    assert domain_status(busy.value) == 503
    with budget.reserve(6), budget.reserve(4), pytest.raises(Busy), budget.reserve(1):
        pass
    assert (budget.reserved, budget.requests) == (0, 0)


def test_a_good_chunk_after_hostile_ones_is_stored_and_reads_back(kit):
    t0 = now_ms()
    hostile = checkout_recording(t0)
    hostile[2]["timestamp"] = 2**62
    assert _post(kit, json.dumps(_envelope(kit, hostile)).encode()).status_code == 422
    envelope = _envelope(kit, checkout_recording(t0))
    assert _post(kit, gzip.compress(json.dumps(envelope).encode())).status_code == 204
    rrweb = kit.api(f"/replays/{envelope['r']}", format="rrweb")
    assert rrweb.json() == checkout_recording(t0)


@pytest.fixture
def small_budget_kit(store, testdata_dir, tmp_path):
    """A collector whose replay budget holds two 2 MB bodies and no more."""
    from tests.appkit import geoip_settings, run_kit

    settings = geoip_settings(
        testdata_dir,
        replay_assets_dir=str(tmp_path / "assets"),
        replay_inflight_bytes=4_500_000,
    )
    yield from run_kit(store, settings)


def _start_slow_upload(url: str, length: int) -> socket.socket:
    """A socket that sent the head of a POST and only the first bytes of its body."""
    parts = urlsplit(url)
    conn = socket.create_connection((parts.hostname, parts.port), timeout=10)
    head = (
        f"POST /collect/replay HTTP/1.1\r\nHost: {parts.netloc}\r\n"
        f"Content-Type: text/plain\r\nContent-Length: {length}\r\n\r\n"
    )
    conn.sendall(head.encode() + b'{"k": "')
    return conn


def test_slow_uploads_hold_the_budget_and_past_it_a_body_is_503_before_it_is_read(
    small_budget_kit,
):
    kit = small_budget_kit
    slow = [_start_slow_upload(kit.url, 2_000_000) for _ in range(2)]
    time.sleep(0.5)  # both are reading their bodies now
    third = _start_slow_upload(kit.url, 2_000_000)
    try:
        answer = third.recv(65536).decode("latin-1")
        assert answer.startswith("HTTP/1.1 503"), answer
        assert "retry-after: 5" in answer.lower()
    finally:
        for conn in [*slow, third]:
            conn.close()
    time.sleep(0.5)
    envelope = _envelope(kit, checkout_recording(now_ms()))
    assert _post(kit, json.dumps(envelope).encode()).status_code == 204
