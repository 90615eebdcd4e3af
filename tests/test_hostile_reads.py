"""Whatever the store holds, every read answers 200 with what can be shown (or a clear 4xx).

Hostile rows go straight into the store (``write_batch`` with crafted rows, or raw SQL for what
the engines refuse to write), on both engines; then every read endpoint is called through a
real collector on loopback. Also: numbers in paths and query parameters are ASCII digits within
range, and brand settings refuse what would break the recorder.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import msgspec
import pytest

from collector.ids import new_id
from collector.replay.codec import compress_chunk
from collector.storage.base import Click, Event, ReplayChunk, Store
from collector.storage.clickhouse import ClickHouseStore
from collector.storage.sqlite import SQLiteStore
from collector.utf8 import clean_json, without_lone_surrogates
from tests.appkit import Kit, now_ms

INT64_MAX = 2**63 - 1
HOSTILE_CREATED_AT = -9223370240704604019  # what timestamps 0 and 2**63-1 once produced


def _click(kit: Kit, **fields: Any) -> Click:
    values: dict[str, Any] = {
        "id": new_id(),
        "brand_id": kit.brand.id,
        "session_id": new_id(),
        "visitor_id": new_id(),
        "created_at": now_ms(),
        "url": "https://shop.example/landing",
    }
    values.update(fields)
    return Click(**values)


def _event(click: Click, **fields: Any) -> Event:
    values: dict[str, Any] = {
        "brand_id": click.brand_id,
        "click_id": click.id,
        "session_id": click.session_id,
        "type": "add_to_cart",
        "timestamp": now_ms(),
        "url": click.url,
    }
    values.update(fields)
    return Event(**values)


def _get(kit: Kit, path: str, **query: Any) -> Any:
    """GET an API path: 200 and a body that is valid UTF-8 JSON; the decoded body."""
    response = kit.api(path, **query)
    assert response.status_code == 200, response.text
    return msgspec.json.decode(response.content)  # strict: valid UTF-8, no lone surrogates


def _every_click_read(kit: Kit, click: Click) -> list[dict[str, Any]]:
    """The click as the list, the detail and the session show it (all 200)."""
    listed = _get(kit, "/clicks")["data"]
    row = next(r for r in listed if r["id"] == click.id)
    detail = _get(kit, f"/clicks/{click.id}")
    session = _get(kit, f"/clicks/session/{click.session_id}")
    by_session = _get(kit, "/clicks", click_id=click.session_id)["data"]
    return [row, detail, session, *by_session]


# --- raw writes for what the engines refuse ---------------------------------------------------


def _sqlite(store: Store, sql: str, params: tuple[Any, ...]) -> None:
    assert isinstance(store, SQLiteStore)
    with store._write() as conn:
        conn.execute(sql, params)


def _set_event_data(store: Store, event: Event, data: bytes) -> None:
    """Store ``data`` bytes (not necessarily UTF-8) as the event's data column."""
    store.write_batch([], [event])
    if isinstance(store, ClickHouseStore):
        store._command(
            "ALTER TABLE {db}.events UPDATE data = unhex({data:String})"
            " WHERE click_id = {click:String} AND seq = {seq:Int64} SETTINGS mutations_sync = 2",
            {"data": data.hex(), "click": event.click_id, "seq": event.seq},
        )
    else:
        _sqlite(
            store,
            "UPDATE events SET data = CAST(? AS TEXT) WHERE click_id = ? AND seq = ?",
            (data, event.click_id, event.seq),
        )


def _set_click_url(store: Store, click: Click, url: bytes) -> None:
    if isinstance(store, ClickHouseStore):
        store._command(
            "ALTER TABLE {db}.clicks UPDATE url = unhex({url:String}),"
            " query = map('q', unhex({url:String}))"
            " WHERE id = {id:String} SETTINGS mutations_sync = 2",
            {"url": url.hex(), "id": click.id},
        )
    else:
        _sqlite(
            store,
            "UPDATE clicks SET url = CAST(?1 AS TEXT), query = '{\"q\": 1}' WHERE id = ?2",
            (url, click.id),
        )


# --- clicks and events -----------------------------------------------------------------------


def test_times_outside_the_representable_range_read_as_null(kit: Kit) -> None:
    click = _click(kit, created_at=HOSTILE_CREATED_AT)
    events = [
        _event(click, timestamp=0, seq=0),
        _event(click, timestamp=INT64_MAX, seq=1),
        _event(click, timestamp=-(2**62), seq=2),
    ]
    kit.store.write_batch([click], events)
    for shown in _every_click_read(kit, click):
        if "created_at" in shown:
            assert shown["created_at"] is None
    detail = _get(kit, f"/clicks/{click.id}")
    stamps = sorted(map(str, (e["timestamp"] for e in detail["events"])))
    assert stamps == ["1970-01-01T00:00:00.000Z", "None", "None"]
    session = _get(kit, f"/clicks/session/{click.session_id}")
    assert len(session["events"]) == 3


def test_custom_data_nested_too_deep_reads_as_null(kit: Kit) -> None:
    click = _click(kit)
    deep = msgspec.Raw(b'{"a":' * 975 + b"1" + b"}" * 975)
    fine = msgspec.Raw(b'{"a":' * 20 + b"1" + b"}" * 20)
    kit.store.write_batch([click], [_event(click, data=deep), _event(click, data=fine, seq=1)])
    for shown in _every_click_read(kit, click):
        if "events" in shown:
            assert [e["data"] is None for e in shown["events"]] == [True, False]


def test_custom_data_with_invalid_utf8_or_lone_surrogates_reads_with_replacement(kit):
    click = _click(kit)
    kit.store.write_batch([click], [])
    _set_event_data(kit.store, _event(click, seq=0), b'{"name":"caf\xe9 \xff"}')
    _set_event_data(kit.store, _event(click, seq=1), b'{"name":"\\ud800 x"}')
    _set_event_data(kit.store, _event(click, seq=2), b"{not json")
    detail = _get(kit, f"/clicks/{click.id}")
    assert [e["data"] for e in detail["events"]] == [
        {"name": "caf\ufffd \ufffd"},
        {"name": "\ufffd x"},
        None,
    ]


def test_click_text_with_invalid_utf8_reads_with_replacement(kit: Kit) -> None:
    click = _click(kit)
    kit.store.write_batch([click], [_event(click)])
    _set_click_url(kit.store, click, b"https://shop.example/\xff\xfe")
    for shown in _every_click_read(kit, click):
        if "url" in shown:
            assert shown["url"] == "https://shop.example/\ufffd\ufffd"
    detail = _get(kit, f"/clicks/{click.id}")
    assert detail["query"] in ({}, {"q": "https://shop.example/\ufffd\ufffd"})


def test_sqlite_text_of_any_bytes_reads(kit: Kit) -> None:
    if not isinstance(kit.store, SQLiteStore):
        pytest.skip("SQLite only: text_factory")
    conn = kit.store._conn()
    assert conn.execute("SELECT CAST(x'41ff' AS TEXT)").fetchone()[0] == "A\ufffd"
    assert isinstance(conn, sqlite3.Connection)


# --- replays ---------------------------------------------------------------------------------


def _replay_chunk(kit: Kit, click: Click, replay_id: str, seq: int, events: bytes, **fields):
    values: dict[str, Any] = {
        "brand_id": kit.brand.id,
        "replay_id": replay_id,
        "seq": seq,
        "session_id": click.session_id,
        "page_session_id": click.id,
        "visitor_id": click.visitor_id,
        "url": click.url,
        "received_at": now_ms(),
        "first_ts": 1_700_000_000_000,
        "last_ts": 1_700_000_001_000,
        "event_count": 2,
        "raw_bytes": len(events),
        "body": compress_chunk(events),
    }
    values.update(fields)
    return ReplayChunk(**values)


_SNAPSHOT = (
    b'[{"type":4,"timestamp":1700000000000,"data":{"href":"https://shop.example/\xff",'
    b'"width":1280,"height":720}},'
    b'{"type":2,"timestamp":1700000000001,"data":{"node":{"id":1,"type":0,"childNodes":'
    b'[{"id":2,"type":2,"tagName":"button","attributes":{"id":"buy"},"childNodes":'
    b'[{"id":3,"type":3,"textContent":"\\ud800 Buy \\ud83d\\ude00"}]}]}}}]'
)
_CLICKS = (
    b'[{"type":3,"timestamp":1700000000500,"data":{"source":2,"type":2,"id":2,"x":5,"y":6}},'
    b'{"type":3,"timestamp":"soon","data":{"source":1,"positions":[{"x":1e308,"y":2}, 7]}},'
    b'"not an event", 42]'
)


def _hostile_replay(kit: Kit, **chunk_fields: Any) -> tuple[Click, str]:
    click = _click(kit)
    replay_id = new_id()
    chunks = [
        _replay_chunk(kit, click, replay_id, 0, _SNAPSHOT, **chunk_fields),
        _replay_chunk(kit, click, replay_id, 1, _CLICKS, **chunk_fields),
        _replay_chunk(kit, click, replay_id, 2, b"[{broken json", **chunk_fields),
        _replay_chunk(kit, click, replay_id, 3, b"[]", **chunk_fields, body=b"not zstd"),
    ]
    kit.store.write_batch([click], [], chunks)
    return click, replay_id


def test_replay_with_huge_timestamps_and_bad_text_reads(kit: Kit) -> None:
    click, replay_id = _hostile_replay(kit, first_ts=2**62, last_ts=2**62)
    listed = _get(kit, "/replays", session_id=click.session_id)
    assert [r["id"] for r in listed] == [replay_id]
    assert listed[0]["started_at"] is None
    assert listed[0]["duration_ms"] is None
    seed = _get(kit, f"/replays/{replay_id}")
    assert seed["started_at"] is None and seed["duration_ms"] is None
    assert seed["events"][0] == {"type": "click", "x": 5, "y": 6, "ts": 500, "target": "button#buy"}
    assert all(e["type"] in ("click", "mousemove") for e in seed["events"])


def test_rrweb_stream_is_valid_utf8_json_whatever_is_stored(kit: Kit) -> None:
    _, replay_id = _hostile_replay(kit)
    for encoding in ("identity", "gzip"):
        response = kit.http.get(
            f"/api/brands/{kit.brand.id}/replays/{replay_id}",
            params={"format": "rrweb"},
            headers={"EF-Access-Key": kit.read_key, "Accept-Encoding": encoding},
        )
        assert response.status_code == 200, response.text
        events = msgspec.json.decode(response.content)  # strict UTF-8, no lone surrogates
        assert events[0]["data"]["href"] == "https://shop.example/\ufffd"
        text = events[1]["data"]["node"]["childNodes"][0]["childNodes"][0]["textContent"]
        assert text == "\ufffd Buy \U0001f600"
        assert len(events) == 6  # the broken and the undecompressable chunks are left out


def test_replay_of_only_unreadable_parts_reads_as_empty(kit: Kit) -> None:
    click = _click(kit)
    replay_id = new_id()
    chunk = _replay_chunk(kit, click, replay_id, 0, b"[]", body=b"garbage")
    kit.store.write_batch([click], [], [chunk])
    assert _get(kit, f"/replays/{replay_id}", format="rrweb") == []
    assert _get(kit, f"/replays/{replay_id}")["events"] == []


# --- the UTF-8 clean-up itself ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        (rb'"\ud800"', rb'"\ufffd"'),
        (rb'"\uDC00x"', rb'"\ufffdx"'),
        (rb'"\\ud800"', rb'"\\ud800"'),  # an escaped backslash, then text
        (rb'"\\\ud800"', rb'"\\\ufffd"'),  # an escaped backslash, then a lone surrogate
        (rb'"\ud83d\ude00"', rb'"\ud83d\ude00"'),  # a pair stays
        (rb'"\ud800\ud83d\ude00"', rb'"\ufffd\ud83d\ude00"'),
        (rb'"\ude00\ud83d"', rb'"\ufffd\ufffd"'),  # wrong order: both lone
        (b'"plain"', b'"plain"'),
    ],
)
def test_lone_surrogate_escapes_become_replacement_characters(stored: bytes, shown: bytes):
    assert without_lone_surrogates(stored) == shown


def test_invalid_utf8_becomes_replacement_characters() -> None:
    assert clean_json(b'"a\xffb\xed\xa0\x80"') == '"a\ufffdb\ufffd\ufffd\ufffd"'.encode()
    assert clean_json('"é"'.encode()) == '"é"'.encode()


# --- numbers in paths and query parameters ---------------------------------------------------


def _status(kit: Kit, path: str, method: str = "GET", **query: Any) -> tuple[int, Any]:
    response = kit.http.request(
        method, path, params=query, headers={"EF-Access-Key": kit.admin_key}
    )
    body = response.json()
    assert set(body) == {"error"}, body
    return response.status_code, body["error"]


@pytest.mark.parametrize(
    "brand",
    ["%C2%B2", "%EF%BC%91", "%D9%A1", "-1", "0", "1.0", "+1", "9223372036854775808", "1e3", " 1"],
)
def test_brand_path_takes_ascii_digits_within_int64(kit: Kit, brand: str) -> None:
    for path in (f"/api/brands/{brand}", f"/api/brands/{brand}/clicks"):
        status, error = _status(kit, path)
        assert status == 404, (path, error)


@pytest.mark.parametrize(
    ("path", "param", "value"),
    [
        ("/clicks", "page", "307445734561825862"),
        ("/clicks", "page", "0"),
        ("/clicks", "page", "²"),
        ("/clicks", "page", "\uff11"),  # full-width 1
        ("/clicks", "funnel_id", "99999999999999999999"),
        ("/clicks", "funnel_id", "-99999999999999999999"),
        ("/clicks", "funnel_id", "٣"),
        ("/clicks", "funnel_id", "1_000"),
        ("/clicks", "per_page", "many"),
        ("/clicks", "start", "\uff12\uff10\uff12\uff14-12-10"),  # full-width 2024
        ("/replays/{replay}", "since_ms", "-1"),
        ("/replays/{replay}", "since_ms", "1e3"),
    ],
)
def test_number_parameters_out_of_shape_or_range_are_422(kit, path, param, value) -> None:
    _, replay_id = _hostile_replay(kit)
    full = f"/api/brands/{kit.brand.id}{path.format(replay=replay_id)}"
    query = {param: value, "format": "rrweb"} if "replay" in path else {param: value}
    status, error = _status(kit, full, **query)
    assert (status, error["param"]) == (422, param), error


def test_number_parameters_at_their_bounds_are_fine(kit: Kit) -> None:
    assert _get(kit, "/clicks", page="10000000")["data"] == []
    assert _get(kit, "/clicks", funnel_id=str(-(2**63)))["total"] == 0
    assert _get(kit, "/clicks", funnel_id=str(INT64_MAX))["total"] == 0


def test_a_method_not_allowed_says_which_are(kit: Kit) -> None:
    for path, allowed in (("/clicks", {"GET", "HEAD"}), ("", {"GET", "HEAD", "PATCH"})):
        response = kit.http.request("TRACE", f"/api/brands/{kit.brand.id}{path}")
        assert response.status_code == 405
        assert set(response.headers["allow"].split(", ")) == allowed
        assert response.json()["error"]["code"] == "method_not_allowed"


# --- brand settings --------------------------------------------------------------------------


def _patch(kit: Kit, settings: dict[str, Any]):
    return kit.http.patch(
        f"/api/brands/{kit.brand.id}",
        json={"settings": settings},
        headers={"EF-Access-Key": kit.admin_key},
    )


def test_short_domain_null_clears_it(kit: Kit) -> None:
    assert _patch(kit, {"short_domain": "go.shop.example"}).status_code == 200
    kept = _patch(kit, {"cookieless": True}).json()["settings"]["short_domain"]
    assert kept == "https://go.shop.example"  # a bare host name is taken as https
    cleared = _patch(kit, {"short_domain": None})
    assert cleared.status_code == 200
    assert cleared.json()["settings"]["short_domain"] is None
    assert kit.store.get_brand(kit.brand.id).settings.short_domain is None


@pytest.mark.parametrize(
    "selector",
    ["div[", ":foo", "", "a,", "div::before", ":-soup-contains(x)", "svg|a", "a" * 501],
)
@pytest.mark.parametrize("field", ["block_selector", "mask_text_selector"])
def test_masking_selectors_must_be_valid_css(kit: Kit, field: str, selector: str) -> None:
    response = _patch(kit, {field: selector})
    assert response.status_code == 422, response.text
    assert field in response.json()["error"]["message"]
    assert kit.store.get_brand(kit.brand.id).settings == kit.brand.settings


def test_valid_masking_selectors_are_kept(kit: Kit) -> None:
    selectors = {"block_selector": ".ad, #chat > iframe", "mask_text_selector": "[data-pii]:not(b)"}
    response = _patch(kit, selectors)
    assert response.status_code == 200, response.text
    settings = kit.store.get_brand(kit.brand.id).settings
    assert (settings.block_selector, settings.mask_text_selector) == tuple(selectors.values())
