"""POST /collect/replay and the replays API over a real socket, on both storage engines."""

from __future__ import annotations

import gzip
import json
import time

import msgspec
import pytest

from collector.ids import new_id
from collector.replay.importer import import_replay
from collector.replay.share import ShareGrant
from tests.appkit import CHROME_UA, now_ms
from tests.replay_samples import SEED_EVENTS, checkout_recording, real_recording_path


def _chunk(kit, events, *, r=None, p=None, q=0, **overrides):
    envelope = {
        "k": kit.brand.site_key,
        "r": r or new_id(),
        "p": p or new_id(),
        "v": new_id(),
        "s": new_id(),
        "q": q,
        "u": "https://shop.example/checkout",
        "e": events,
    }
    envelope.update(overrides)
    return envelope


def _send(kit, envelope, *, compress=True, **headers):
    body = json.dumps(envelope).encode()
    if compress:
        body = gzip.compress(body)
    headers.setdefault("user-agent", CHROME_UA)
    headers.setdefault("content-type", "text/plain")
    return kit.http.post("/collect/replay", content=body, headers=headers)


def _rrweb(kit, replay_id, key=None, **query):
    response = kit.api(f"/replays/{replay_id}", key=key, format="rrweb", **query)
    assert response.status_code == 200, response.text
    return response.json()


def _record_page(kit, t0=None):
    """A page view through /collect, then its replay in two chunks; returns (beacon, r)."""
    beacon = kit.beacon()
    assert kit.collect(beacon).status_code == 204
    events = checkout_recording(t0 or now_ms())
    r = new_id()
    first = _chunk(kit, events[:3], r=r, p=beacon["p"], q=0, v=beacon["v"], s=beacon["s"])
    second = _chunk(kit, events[3:], r=r, p=beacon["p"], q=1, v=beacon["v"], s=beacon["s"])
    assert _send(kit, first).status_code == 204
    assert _send(kit, second, compress=False).status_code == 204
    return beacon, r


def test_a_recorded_page_reads_back_in_the_seed_shape_with_its_clicks_session(kit):
    t0 = now_ms()
    beacon, replay_id = _record_page(kit, t0)
    session_id = kit.store.get_click(kit.brand.id, beacon["p"]).session_id

    listed = kit.api("/replays", session_id=session_id).json()
    assert [(r["id"], r["session_id"], r["page_session_id"]) for r in listed] == [
        (replay_id, session_id, beacon["p"])
    ]
    replay = kit.api(f"/replays/{replay_id}").json()
    assert replay["events"] == SEED_EVENTS
    assert replay["id"] == replay_id and replay["session_id"] == session_id
    assert replay["page_session_id"] == beacon["p"]
    assert replay["url"] == "https://shop.example/checkout"
    assert replay["duration_ms"] == 5000
    assert (replay["viewport_width"], replay["viewport_height"]) == (1440, 900)
    events = checkout_recording(t0)
    raw = len(json.dumps(events[:3])) + len(json.dumps(events[3:]))
    assert replay["size"]["raw_bytes"] == raw
    assert 0 < replay["size"]["stored_bytes"] < raw * 2


def test_rrweb_format_returns_the_events_as_recorded(kit):
    t0 = now_ms()
    _, replay_id = _record_page(kit, t0)
    assert _rrweb(kit, replay_id) == checkout_recording(t0)


def test_chunks_arriving_out_of_order_and_twice_play_in_sequence_once(kit):
    events = checkout_recording(now_ms())
    r, p = new_id(), new_id()
    for q in (2, 0, 2, 1, 0):
        piece = events[[0, 2, 4][q] : [2, 4, 5][q]]
        assert _send(kit, _chunk(kit, piece, r=r, p=p, q=q)).status_code == 204
    assert _rrweb(kit, r) == events


def test_a_decompression_bomb_is_413_and_nothing_is_stored(kit):
    envelope = _chunk(kit, [{"type": 5, "timestamp": 1, "data": {"tag": "x" * 17_000_000}}])
    bomb = gzip.compress(json.dumps(envelope).encode())
    assert len(bomb) < 100_000
    response = kit.http.post("/collect/replay", content=bomb, headers={"user-agent": CHROME_UA})
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"
    assert kit.store.get_replay(kit.brand.id, envelope["r"]) is None


@pytest.mark.parametrize(
    ("body", "status", "fragment"),
    [
        (b"\x1f\x8b\x08\x00garbage", 400, "gzip"),
        (b"{not json", 400, "JSON"),
        (b"", 400, "empty"),
    ],
)
def test_a_body_that_is_not_a_chunk_is_400(kit, body, status, fragment):
    response = kit.http.post("/collect/replay", content=body)
    assert response.status_code == status
    assert fragment in response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"e": []}, "no events"),
        ({"e": [{"type": 2}]}, "timestamp"),
        ({"r": "not-an-id"}, "r"),
        ({"q": -1}, "q"),
        ({"e": "events"}, "rrweb events"),
    ],
)
def test_a_chunk_of_the_wrong_shape_is_422_and_nothing_is_stored(kit, change, fragment):
    envelope = _chunk(kit, checkout_recording(now_ms()), **change)
    response = _send(kit, envelope)
    assert response.status_code == 422
    assert fragment in response.json()["error"]["message"]
    if "r" not in change:
        assert kit.store.get_replay(kit.brand.id, envelope["r"]) is None


def test_unknown_site_key_is_404_and_a_foreign_domain_403(kit):
    events = checkout_recording(now_ms())
    assert _send(kit, _chunk(kit, events, k="nope")).status_code == 404
    foreign = _chunk(kit, events, u="https://evil.example/")
    assert _send(kit, foreign).status_code == 403
    assert kit.store.get_replay(kit.brand.id, foreign["r"]) is None


def test_unknown_or_malformed_replay_id_is_404_in_the_error_shape(kit):
    for replay_id in (new_id(), "../etc", "x" * 40):
        response = kit.api(f"/replays/{replay_id}")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"


def test_listing_replays_needs_a_session_id(kit):
    response = kit.api("/replays")
    assert response.status_code == 422 and response.json()["error"]["param"] == "session_id"


def test_another_brands_key_never_reads_the_replay(kit):
    _, replay_id = _record_page(kit)
    _, other_key = kit.new_brand()
    assert kit.api(f"/replays/{replay_id}", key=other_key).status_code == 404


def _share(kit, replay_id, **body):
    return kit.http.post(
        f"/api/brands/{kit.brand.id}/replays/{replay_id}/share",
        json=body or None,
        headers={"EF-Access-Key": kit.read_key},
    )


def test_a_share_link_opens_its_session_and_nothing_else(kit):
    beacon, replay_id = _record_page(kit)
    _, other_replay = _record_page(kit)
    response = _share(kit, replay_id)
    assert response.status_code == 201
    link = response.json()
    assert link["url"].startswith(f"{kit.url}/replay/{replay_id}#share=")
    token = link["url"].split("#share=")[1]
    session_id = kit.store.get_click(kit.brand.id, beacon["p"]).session_id

    assert kit.api(f"/replays/{replay_id}", key=token).json()["events"] == SEED_EVENTS
    assert _rrweb(kit, replay_id, key=token)[0]["type"] == 4
    assert kit.api("/replays", key=token, session_id=session_id).status_code == 200
    assert kit.api(f"/clicks/session/{session_id}", key=token).status_code == 200
    assert kit.api("/clicks", key=token, click_id=session_id).json()["total"] == 1

    assert kit.api(f"/replays/{other_replay}", key=token).status_code == 404
    assert kit.api("/clicks", key=token).status_code == 404
    assert kit.api("", key=token).status_code == 403
    assert kit.api(f"/replays/{replay_id}", key=token[:-2] + "xx").status_code == 401


def test_an_expired_share_link_is_refused(kit):
    _, replay_id = _record_page(kit)
    replay = kit.store.get_replay(kit.brand.id, replay_id)
    signer_secret = kit.store.secret("share")
    from collector.replay.share import ShareSigner

    expired = ShareSigner(signer_secret).mint(
        ShareGrant(b=kit.brand.id, s=replay.session_id, r=replay_id, e=int(time.time()) - 1)
    )
    response = kit.api(f"/replays/{replay_id}", key=expired)
    assert response.status_code == 401 and "expired" in response.json()["error"]["message"]


def test_share_expiry_out_of_range_is_422(kit):
    _, replay_id = _record_page(kit)
    response = _share(kit, replay_id, expires_in=10)
    assert response.status_code == 422 and response.json()["error"]["param"] == "expires_in"


def test_an_imported_recording_reads_back_event_for_event(kit, testdata_dir):
    path = real_recording_path(testdata_dir)
    replay_id = import_replay(kit.store, kit.brand.id, path.read_bytes(), now_ms())
    original = msgspec.json.decode(path.read_bytes())
    assert _rrweb(kit, replay_id) == original
    replay = kit.api(f"/replays/{replay_id}").json()
    assert replay["duration_ms"] == original[-1]["timestamp"] - original[0]["timestamp"]
    assert replay["size"]["stored_bytes"] < replay["size"]["raw_bytes"] / 5
    kinds = {e["type"] for e in replay["events"]}
    assert {"mousemove", "click"} <= kinds


def test_a_large_rrweb_stream_is_sent_gzipped_to_clients_that_accept_it(kit, testdata_dir):
    path = real_recording_path(testdata_dir)
    replay_id = import_replay(kit.store, kit.brand.id, path.read_bytes(), now_ms())
    url = f"/api/brands/{kit.brand.id}/replays/{replay_id}"
    headers = {"EF-Access-Key": kit.read_key}
    with kit.http.stream(
        "GET", url, params={"format": "rrweb"}, headers={**headers, "accept-encoding": "gzip"}
    ) as response:
        packed = b"".join(response.iter_raw())
    assert response.headers["content-encoding"] == "gzip"
    assert len(packed) < path.stat().st_size / 5
    assert msgspec.json.decode(gzip.decompress(packed)) == msgspec.json.decode(path.read_bytes())
    plain = kit.http.get(
        url, params={"format": "rrweb"}, headers={**headers, "accept-encoding": "identity"}
    )
    assert "content-encoding" not in plain.headers
    assert plain.json() == msgspec.json.decode(path.read_bytes())
