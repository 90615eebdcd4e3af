"""Hostile beacons on ``/collect``, on both engines: each defect an attacker found is refused at
the door with a 4xx naming the field, stores nothing, costs no other beacon its data, and leaves
every read answering 200. Plus the writer's isolation of a job that fails inside a commit."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest

from collector.ids import new_id
from collector.ingest.writer import Writer
from collector.storage.base import Click, ClickQuery, Event
from tests.appkit import CHROME_UA, now_ms


def _post_raw(kit, body: bytes) -> httpx.Response:
    headers = {"content-type": "text/plain", "user-agent": CHROME_UA}
    return kit.http.post("/collect", content=body, headers=headers)


def _custom(kit, data: Any, ts: int | None = None) -> dict[str, Any]:
    return kit.beacon(e=[{"t": "signup", "ts": ts or now_ms(), "d": data}])


def _with_raw_data(kit, raw: bytes) -> bytes:
    """A beacon whose custom event's ``d`` is ``raw``, byte for byte."""
    text = json.dumps(_custom(kit, "PLACEHOLDER")).encode()
    return text.replace(b'"PLACEHOLDER"', raw)


def _stored_count(kit) -> int:
    """Clicks in the store once every answered beacon is enriched (behind the inbox)."""
    kit.settle()
    return kit.store.list_clicks(kit.brand.id, ClickQuery())[0]


def _hostile_bodies(kit) -> dict[str, bytes]:
    now = now_ms()
    deep = b'{"a":' * 975 + b"1" + b"}" * 975
    return {
        "invalid UTF-8 in d": _with_raw_data(kit, b'{"a": "\xff\xfe"}'),
        "lone surrogate in d": _with_raw_data(kit, b'{"a": "\\ud800"}'),
        "ts 0 and 10**30": json.dumps(
            kit.beacon(e=[{"t": "page_view", "ts": 0}, {"t": "x", "ts": 10**30}])
        ).encode(),
        "ts 0 and 2**63-1": json.dumps(
            kit.beacon(e=[{"t": "page_view", "ts": 0}, {"t": "x", "ts": 2**63 - 1}])
        ).encode(),
        "ts a year apart": json.dumps(
            kit.beacon(e=[{"t": "page_view", "ts": now}, {"t": "x", "ts": now - 365 * 86_400_000}])
        ).encode(),
        "d nested 975 deep": _with_raw_data(kit, deep),
        "body nested 10,000 deep": _with_raw_data(kit, b"[" * 10_000 + b"]" * 10_000),
        "page id of 26 x": json.dumps(kit.beacon(p="x" * 26)).encode(),
        "funnel id past int64": json.dumps(kit.beacon(f=10**20)).encode(),
        "n of 2": json.dumps(kit.beacon(n=2)).encode(),
        "d of 20 KB": json.dumps(_custom(kit, {"a": "x" * 20_000})).encode(),
        "click x of 1e300": json.dumps(
            kit.beacon(e=[{"t": "click", "ts": now, "d": {"x": 1e300}}])
        ).encode(),
    }


HOSTILE = [
    "invalid UTF-8 in d",
    "lone surrogate in d",
    "ts 0 and 10**30",
    "ts 0 and 2**63-1",
    "ts a year apart",
    "d nested 975 deep",
    "body nested 10,000 deep",
    "page id of 26 x",
    "funnel id past int64",
    "n of 2",
    "d of 20 KB",
    "click x of 1e300",
]


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_beacon_is_422_naming_the_field_and_nothing_is_stored(kit, name):
    response = _post_raw(kit, _hostile_bodies(kit)[name])
    expected = 400 if name == "lone surrogate in d" else 422  # msgspec: not JSON at all
    assert response.status_code == expected, response.text
    error = response.json()["error"]
    assert error["message"].startswith("invalid beacon" if expected == 422 else "the body is not")
    assert "truncated" not in error["message"]
    assert _stored_count(kit) == 0
    for path in ("/clicks", "/clicks?direction=asc"):
        assert kit.api(path).status_code == 200


def test_custom_data_nested_32_deep_is_stored_and_reads_back(kit):
    data: Any = 1
    for _ in range(32):
        data = {"a": data}
    beacon = _custom(kit, data)
    assert kit.collect(beacon).status_code == 204
    response = kit.api(f"/clicks/{beacon['p']}")
    assert response.status_code == 200


def test_custom_data_nested_33_deep_names_the_depth_limit(kit):
    data: Any = 1
    for _ in range(33):
        data = {"a": data}
    response = kit.collect(_custom(kit, data))
    assert response.status_code == 422
    assert response.json()["error"]["param"] == "e[0].d"
    assert "deeper than 32" in response.json()["error"]["message"]


def test_timestamps_hours_apart_within_a_day_are_kept_in_order(kit):
    now = now_ms()
    beacon = kit.beacon(e=[{"t": "page_view", "ts": now - 3 * 3_600_000}, {"t": "x", "ts": now}])
    assert kit.collect(beacon).status_code == 204
    events = kit.store.events_for_clicks(kit.brand.id, [beacon["p"]])
    assert events[1].timestamp - events[0].timestamp == 3 * 3_600_000


def test_a_wrong_browser_clock_is_corrected_to_the_servers(kit):
    beacon = kit.beacon(e=[{"t": "page_view", "ts": 0}, {"t": "x", "ts": 1000}])
    before = now_ms()
    assert kit.collect(beacon).status_code == 204
    click = kit.store.get_click(kit.brand.id, beacon["p"])
    assert click is not None and before - 2000 <= click.created_at <= now_ms()


async def _send_all(url: str, bodies: list[tuple[bool, bytes]]) -> dict[bool, list[int]]:
    statuses: dict[bool, list[int]] = {True: [], False: []}
    headers = {"content-type": "text/plain", "user-agent": CHROME_UA}
    limits = httpx.Limits(max_connections=32)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as client:

        async def one(hostile: bool, body: bytes) -> None:
            response = await client.post("/collect", content=body, headers=headers)
            statuses[hostile].append(response.status_code)

        await asyncio.gather(*(one(hostile, body) for hostile, body in bodies))
    return statuses


def test_hostile_beacons_among_concurrent_good_ones_cost_the_good_ones_nothing(kit):
    good = [json.dumps(kit.beacon()).encode() for _ in range(120)]
    bodies: list[tuple[bool, bytes]] = [(False, body) for body in good]
    for index, body in enumerate(_hostile_bodies(kit).values()):
        bodies.insert(index * 10, (True, body))
    statuses = asyncio.run(_send_all(kit.url, bodies))
    assert statuses[False] == [204] * len(good)
    assert all(400 <= status < 500 for status in statuses[True]), statuses[True]
    assert _stored_count(kit) == len(good)
    assert kit.api("/clicks").status_code == 200


def _click(brand_id: int, created_at: int) -> Click:
    page = new_id()
    return Click(
        id=page,
        brand_id=brand_id,
        session_id=new_id(),
        visitor_id=new_id(),
        created_at=created_at,
        trigger="pageview",
        url="https://shop.example/",
    )


def _event(click: Click) -> Event:
    return Event(
        brand_id=click.brand_id,
        click_id=click.id,
        session_id=click.session_id,
        type="page_view",
        timestamp=click.created_at,
        url=click.url,
        data={},
        seq=0,
    )


async def _submit_many(store, jobs: list[Click]) -> list[BaseException | None]:
    writer = Writer(store)
    writer.start()
    try:
        results = await asyncio.gather(
            *(writer.submit([click], [_event(click)]) for click in jobs), return_exceptions=True
        )
    finally:
        await writer.stop()
    return [r if isinstance(r, BaseException) else None for r in results]


def test_a_job_that_fails_inside_a_group_commit_fails_alone(store, caplog):
    """A row that passed validation but cannot be stored (here a time past int64) costs only
    its own request: the rest of the group commit is stored, and the offender is logged once."""
    from collector.cli import create_brand
    from collector.storage.base import BrandSettings

    brand = create_brand(store, "writer", ["shop.example"], BrandSettings())
    good = [_click(brand.id, now_ms()) for _ in range(40)]
    poisoned = _click(brand.id, 10**30)
    jobs = [*good[:20], poisoned, *good[20:]]
    results = asyncio.run(_submit_many(store, jobs))
    assert results[20] is not None
    assert [r for i, r in enumerate(results) if i != 20] == [None] * 40
    assert store.list_clicks(brand.id, ClickQuery())[0] == 40
    stored_events = store.events_for_clicks(brand.id, [c.id for c in good])
    assert len(stored_events) == 40
    offenders = [r for r in caplog.records if "could not be stored" in r.getMessage()]
    assert len(offenders) == 1 and f"brand {brand.id}" in offenders[0].getMessage()
