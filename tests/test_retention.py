"""Retention (issue 16): with the clock moved forward, one purge pass removes exactly what is past
each brand's ``retention_days``, on both engines; a second pass removes nothing; replay
dictionaries and stored assets no replay uses go, used ones stay."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import httpx
import pytest

from collector.app import create_app
from collector.cli.main import main as cli_main
from collector.config import Settings
from collector.http.auth import mint_api_key
from collector.ids import new_id
from collector.replay.assets import AssetStore
from collector.replay.codec import compress_chunk
from collector.retention.assets import ASSET_GRACE_MS
from collector.retention.purger import DAY_MS, Purger, purge_once
from collector.storage.base import BrandSettings, Store
from collector.storage.model import Click, ClickQuery, Conversion, Event, ReplayChunk, ReplaySegment
from tests.appkit import geoip_settings, now_ms
from tests.servers import serve_in_thread

NOW0 = now_ms()
AGES = (0, 15, 50, 100)  # days before NOW0
FORWARD = 20 * DAY_MS  # the clock of the purge: ages become 20, 35, 70 and 120 days
KEPT = {30: {0}, 90: {0, 15, 50}}  # by retention_days: the ages that survive


def _rows(brand_id: int, age: int) -> tuple[Click, list[Event], Conversion, ReplayChunk]:
    at = NOW0 - age * DAY_MS
    session = f"s-{brand_id}-{age}"
    click = Click(
        id=new_id(at), brand_id=brand_id, session_id=session, visitor_id=f"v-{age}", created_at=at
    )
    events = [
        Event(brand_id=brand_id, click_id=click.id, session_id=session, type=t, timestamp=at + i)
        for i, t in enumerate(("page_view", "click"))
    ]
    conversion = Conversion(
        id=new_id(at),
        brand_id=brand_id,
        kind="lead",
        dedupe_key=f"lead-{brand_id}-{age}",
        event_name="signup",
        click_id=click.id,
        session_id=session,
        visitor_id=click.visitor_id,
        customer_external_id=f"c-{age}",
        created_at=at + 5,
    )
    body = b'[{"type":4,"timestamp":1,"data":{"width":800,"height":600}}]'
    chunk = ReplayChunk(
        brand_id=brand_id,
        replay_id=f"r-{age}",
        seq=0,
        session_id=session,
        page_session_id=f"p-{age}",
        visitor_id=click.visitor_id,
        url="https://shop.example/",
        received_at=at + 10,
        first_ts=1,
        last_ts=1,
        event_count=1,
        raw_bytes=len(body),
        body=compress_chunk(body),
    )
    return click, events, conversion, chunk


def _seed(store: Store, brand_id: int) -> None:
    for age in AGES:
        click, events, conversion, chunk = _rows(brand_id, age)
        store.write_batch([click], events, [chunk], [conversion])


def _segment(brand_id: int, replay_id: str, dict_id: int) -> ReplaySegment:
    return ReplaySegment(
        brand_id=brand_id,
        replay_id=replay_id,
        idx=0,
        first_ts=1,
        last_ts=1,
        event_count=1,
        raw_bytes=10,
        dict_id=dict_id,
        body=b"segment",
    )


def _present(store: Store, brand_id: int, age: int) -> dict[str, int]:
    session = f"s-{brand_id}-{age}"
    return {
        "clicks": len(store.session_clicks(brand_id, session)),
        "events": len(store.session_events(brand_id, session)),
        "conversions": len(store.session_conversions(brand_id, session)),
        "replays": len(store.replays_for_session(brand_id, session)),
    }


def _assets(root: Path, bodies: list[bytes]) -> tuple[AssetStore, list[str]]:
    assets = AssetStore(root)
    hashes = [assets.put(body, "text/css") for body in bodies]
    return assets, hashes


@pytest.fixture
def world(store: Store, tmp_path: Path):
    """Two brands (retention 30 and 90 days) with data at four ages, dictionaries and assets."""
    short = store.create_brand("short", "k-short", [], BrandSettings(retention_days=30), NOW0)
    long = store.create_brand("long", "k-long", [], BrandSettings(retention_days=90), NOW0)
    for brand in (short, long):
        _seed(store, brand.id)
    # short: an old dictionary used by its 100-day replay, an unused one, the newest used by r-0
    old = store.add_dictionary(short.id, b"old", NOW0 - 100 * DAY_MS)
    unused = store.add_dictionary(short.id, b"unused", NOW0 - 50 * DAY_MS)
    newest = store.add_dictionary(short.id, b"newest", NOW0 - DAY_MS)
    store.compact_replay(short.id, "r-100", [_segment(short.id, "r-100", old)], 0)
    store.compact_replay(short.id, "r-0", [_segment(short.id, "r-0", newest)], 0)
    # long: its only (newest) dictionary, used by the replay that goes: the brand still has
    # replays, so its next compaction may use it
    long_dict = store.add_dictionary(long.id, b"long", NOW0 - 120 * DAY_MS)
    store.compact_replay(long.id, "r-100", [_segment(long.id, "r-100", long_dict)], 0)
    assets, hashes = _assets(tmp_path / "assets", [b"a{}", b"b{}", b"c{}", b"d{}"])
    store.link_replay_assets(short.id, "r-0", {"https://shop.example/a.css": hashes[0]})
    store.link_replay_assets(short.id, "r-100", {"https://shop.example/b.css": hashes[1]})
    store.link_replay_assets(long.id, "r-15", {"https://shop.example/c.css": hashes[2]})
    # hashes[3]: linked by nothing
    return {
        "brands": (short, long),
        "dicts": {"old": old, "unused": unused, "newest": newest, "long": long_dict},
        "assets": assets,
        "hashes": hashes,
    }


def _api_counts(store: Store, brand_id: int) -> dict[str, int]:
    key, record = mint_api_key(brand_id, "read", now_ms())
    store.add_api_key(record)
    app = create_app(Settings(), store=store)
    with serve_in_thread(app) as url, httpx.Client(base_url=url, timeout=30) as http:
        headers = {"EF-Access-Key": key}
        page = http.get(f"/api/brands/{brand_id}/clicks", headers=headers).json()
        replays = 0
        for age in AGES:
            found = http.get(
                f"/api/brands/{brand_id}/replays",
                params={"session_id": f"s-{brand_id}-{age}"},
                headers=headers,
            )
            replays += len(found.json())
        return {"clicks": page["total"], "replays": replays}


def test_one_pass_removes_exactly_what_is_past_retention(store, world):
    short, long = world["brands"]
    assert _api_counts(store, short.id) == {"clicks": 4, "replays": 4}
    before = {(b.id, age): _present(store, b.id, age) for b in (short, long) for age in AGES}
    assert all(
        v == {"clicks": 1, "events": 2, "conversions": 1, "replays": 1} for v in before.values()
    )

    report = purge_once(store, world["assets"], NOW0 + FORWARD)

    gone = {"clicks": 1, "events": 2, "conversions": 1, "replays": 1}
    expected = {"clicks": 3 + 1, "events": 6 + 2, "conversions": 3 + 1, "replays": 3 + 1}
    assert {k: report[k] for k in expected} == expected
    for brand in (short, long):
        kept = KEPT[brand.settings.retention_days]
        for age in AGES:
            want = before[(brand.id, age)] if age in kept else {k: 0 for k in gone}
            assert _present(store, brand.id, age) == want, (brand.name, age)
        total, _ = store.list_clicks(brand.id, ClickQuery(limit=1))
        assert total == len(kept)
        assert store.count_replays(brand.id) == len(kept)
    assert _api_counts(store, short.id) == {"clicks": 1, "replays": 1}
    assert _api_counts(store, long.id) == {"clicks": 3, "replays": 3}

    dicts = world["dicts"]
    assert report["replay_dicts"] == 2
    assert store.get_dictionary(dicts["old"]) is None
    assert store.get_dictionary(dicts["unused"]) is None
    assert store.get_dictionary(dicts["newest"]) == b"newest"
    assert store.get_dictionary(dicts["long"]) == b"long"  # newest of a brand with replays
    assert store.replay_assets(short.id, "r-100") == {}
    hashes, assets = world["hashes"], world["assets"]
    assert report["assets"] == 2
    assert [assets.has(h) for h in hashes] == [True, False, True, False]

    again = purge_once(store, assets, NOW0 + FORWARD)
    assert again == {k: 0 for k in again}


def test_a_brand_without_replays_loses_its_last_dictionary(store, tmp_path):
    brand = store.create_brand("b", "k-b", [], BrandSettings(retention_days=30), NOW0)
    _seed(store, brand.id)
    only = store.add_dictionary(brand.id, b"only", NOW0 - 100 * DAY_MS)
    store.compact_replay(brand.id, "r-100", [_segment(brand.id, "r-100", only)], 0)
    purge_once(store, None, NOW0 + 200 * DAY_MS)
    assert store.count_replays(brand.id) == 0
    assert store.get_dictionary(only) is None


def test_a_fresh_unlinked_asset_stays(tmp_path):
    assets, (sha,) = _assets(tmp_path, [b"fresh"])
    from collector.retention.assets import sweep_assets

    assert sweep_assets(assets, set(), now_ms()) == 0
    assert sweep_assets(assets, set(), now_ms() + ASSET_GRACE_MS + 1_000) == 1
    assert not assets.has(sha)


def test_sqlite_deletes_in_batches_that_leave_room_for_the_writer(store_url, tmp_path):
    if not store_url.startswith("sqlite"):
        pytest.skip("SQLite's batching")
    from collector.storage import open_store
    from collector.storage.sqlite.purge import SQLitePurge

    store = open_store(store_url)
    try:
        brand = store.create_brand("many", "k-many", [], BrandSettings(retention_days=1), NOW0)
        clicks = [
            Click(
                id=new_id(NOW0 - 10 * DAY_MS),
                brand_id=brand.id,
                session_id=f"s{i}",
                visitor_id="v",
                created_at=NOW0 - 10 * DAY_MS + i,
            )
            for i in range(250)
        ]
        events = [
            Event(
                brand_id=brand.id,
                click_id=c.id,
                session_id=c.session_id,
                type="x",
                timestamp=c.created_at,
            )
            for c in clicks
        ]
        store.write_batch(clicks, events)
        commits = []
        engine = SQLitePurge(store, batch_rows=100)  # type: ignore[arg-type]
        real_write = store._write  # type: ignore[attr-defined]

        def counting_write():
            commits.append(1)
            return real_write()

        store._write = counting_write  # type: ignore[attr-defined]
        counts = engine.purge_rows({brand.id: NOW0})
        assert counts["clicks"] == 250 and counts["events"] == 250
        assert len(commits) >= 6  # at most 100 rows per transaction, each table
        store.write_batch(clicks, events)
        stopped = SQLitePurge(store, batch_rows=100, stopping=lambda: True)  # type: ignore[arg-type]
        assert stopped.purge_rows({brand.id: NOW0})["clicks"] == 100  # one batch, then it ends
    finally:
        store.close()


def test_the_purger_service_runs_passes_on_its_clock(store, tmp_path):
    brand = store.create_brand("svc", "k-svc", [], BrandSettings(retention_days=30), NOW0)
    _seed(store, brand.id)
    purger = Purger(store, None, interval_s=3600, clock=lambda: NOW0 + FORWARD)
    report = purger.run_once()
    assert report is not None and report["clicks"] == 3
    purger.start()
    purger.stop(5)


def test_clicktrail_purge_runs_one_pass(tmp_path, capsys):
    from collector.storage import open_store

    db = f"sqlite:///{tmp_path}/ct.db"
    store = open_store(db)
    try:
        brand = store.create_brand("cli", "k-cli", [], BrandSettings(retention_days=30), NOW0)
        _seed(store, brand.id)  # the CLI's clock is now: only the 50- and 100-day rows are past
    finally:
        store.close()
    assets = tmp_path / "assets"
    os.makedirs(assets)
    assert cli_main(["purge", "--database", db, "--replay-assets-dir", str(assets)]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["database"] == db
    assert printed["deleted"] == {
        "clicks": 2,
        "events": 4,
        "conversions": 2,
        "replays": 2,
        "replay_dicts": 0,
        "assets": 0,
    }


# --- the demo brand ------------------------------------------------------------------------------


def _fill_demo(store: Store, settings: Settings, brand, clock_ms: int) -> dict:
    from collector.demo.sample import SampleData
    from collector.site.routes import DemoPage

    key, record = mint_api_key(brand.id, "read", now_ms())
    store.add_api_key(record)
    sample = SampleData(
        brand.id, "http://127.0.0.1:8000", visits=60, out=None, clock=lambda: clock_ms
    )
    app = create_app(settings, store=store, demo=DemoPage(brand.id, brand.site_key, key, sample))
    with serve_in_thread(app) as url, httpx.Client(base_url=url, timeout=30) as http:
        deadline = time.monotonic() + 120
        while True:
            status = http.get("/demo/status").json()
            if status["state"] in ("done", "skipped", "failed") or time.monotonic() > deadline:
                return status
            time.sleep(0.1)


def _click_days(store: Store, brand_id: int, start: int) -> set[int]:
    _, clicks = store.list_clicks(brand_id, ClickQuery(start=start, limit=10_000))
    return {c.created_at // DAY_MS for c in clicks}


def test_the_demo_brand_keeps_fresh_data(store, testdata_dir, tmp_path):
    from collector.demo.sample import DAYS

    settings = geoip_settings(testdata_dir, replay_assets_dir=str(tmp_path / "assets"))
    brand = store.create_brand(
        "Clicktrail demo", "k-demo", [], BrandSettings(replay_sample_rate=1.0), NOW0
    )
    first = _fill_demo(store, settings, brand, NOW0 - 40 * DAY_MS)  # a demo started 40 days ago
    assert first == {"state": "done", "done": 60, "total": 60}
    assert _click_days(store, brand.id, NOW0 - DAYS * DAY_MS) == set()  # aged: nothing recent

    again = _fill_demo(store, settings, brand, NOW0)  # started again today: topped up
    assert again["state"] == "done" and again["total"] == 60
    recent = _click_days(store, brand.id, NOW0 - DAYS * DAY_MS)
    assert len(recent) >= 20 and max(recent) >= (NOW0 - DAY_MS) // DAY_MS
    assert _fill_demo(store, settings, brand, NOW0)["state"] == "skipped"  # fresh already

    brand.settings.retention_days = DAYS
    store.update_brand(brand)
    purge_once(store, None, NOW0)
    assert _click_days(store, brand.id, 0) == recent  # the aged batch went, the fresh stayed
