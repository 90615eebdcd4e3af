"""Deleting a visitor on request (issue 16) on both engines, over traffic sent through the real
paths: page views to ``/collect`` (a unique token in the URL, an ``identify`` id), a replay
through ``/collect/replay``, a lead and a sale through ``track/lead`` and ``track/sale``, a
webhook destination (so the outbox holds items), and a finished CSV export.

After ``DELETE visitors/{id}`` no API answer holds the visitor's id, token or click ids;
another visitor is untouched; a repeat answers zeros; by ``externalId`` and by ``customerId``
too; a read key is refused. On SQLite the id and the token are in none of the database files'
bytes; on ClickHouse no part holds the rows (read without the deleted-rows mask).
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from collector.ids import new_id
from collector.storage import open_store
from tests.appkit import Kit, geoip_settings, now_ms, run_kit
from tests.linkkit import lead, sale, write
from tests.replay_samples import checkout_recording
from tests.storage_fixtures import ENGINES, chdb_available, chdb_test_url, drop_database

STREAM_TIME = "%Y-%m-%d %H:%M:%S"


@dataclass
class Visitor:
    id: str
    token: str  # in the page's URL only
    external_id: str
    customer: str
    clicks: list[str]
    session: str


@pytest.fixture(params=ENGINES)
def kit(request: pytest.FixtureRequest, tmp_path: Path, testdata_dir: Path) -> Iterator[Kit]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/db/clicktrail.db"
    elif not chdb_available():
        pytest.skip("chdb is not installed")
    else:
        url = chdb_test_url()
    store = open_store(url)
    settings = geoip_settings(
        testdata_dir,
        replay_assets_dir=str(tmp_path / "assets"),
        export_dir=str(tmp_path / "exports"),
        webhook_networks="127.0.0.0/8",
    )
    try:
        yield from run_kit(store, settings)
    finally:
        store.close()
        if not url.startswith("sqlite"):
            drop_database(url)


def visit(kit: Kit, name: str, replay: bool = True) -> Visitor:
    """Two page views of a new visitor (the first with a replay), a lead and a sale."""
    at = now_ms() - 60_000
    token = f"tok{name}{new_id(at)}"
    person = Visitor(new_id(at), token, f"ext-{token}", f"cus-{token}", [], new_id(at))
    for n in range(2):
        beacon = kit.beacon(
            v=person.id,
            s=person.session,
            p=new_id(at + n),
            u=f"https://shop.example/landing?sub1={token}&n={n}",
            i=person.external_id,
            e=[{"t": "page_view", "ts": at + n}],
        )
        assert kit.collect(beacon).status_code == 204
        person.clicks.append(beacon["p"])
        if replay and n == 0:
            _replay(kit, beacon, at + 10)
    assert lead(kit, person.clicks[0], customer=person.customer).status_code == 200
    assert sale(kit, customer=person.customer, invoiceId=f"inv-{token}").status_code == 200
    return person


def _replay(kit: Kit, beacon: dict[str, Any], at: int) -> None:
    envelope = {
        "k": kit.brand.site_key,
        "r": new_id(at),
        "p": beacon["p"],
        "v": beacon["v"],
        "s": beacon["s"],
        "q": 0,
        "u": beacon["u"],
        "e": checkout_recording(at),
    }
    answer = kit.http.post(
        "/collect/replay",
        content=json.dumps(envelope).encode(),
        headers={"user-agent": "Mozilla/5.0", "content-type": "text/plain"},
    )
    assert answer.status_code == 204, answer.text


def webhook(kit: Kit) -> None:
    answer = write(kit, "/webhooks", {"url": "https://93.184.216.34/hook"})
    assert answer.status_code == 201, answer.text


def export(kit: Kit) -> str:
    answer = write(kit, "/clicks/export", {"columns": ["id", "url", "visitor_id"]})
    assert answer.status_code == 202, answer.text
    job = answer.json()["id"]
    for _ in range(200):
        status = kit.api(f"/exports/{job}").json()["status"]
        if status == "done":
            return str(job)
        time.sleep(0.05)
    raise AssertionError("the export did not finish")


def delete(kit: Kit, path: str = "", key: str | None = None, **query: str) -> httpx.Response:
    return kit.http.delete(
        f"/api/brands/{kit.brand.id}/visitors{path}",
        params=query,
        headers={"EF-Access-Key": key or kit.admin_key},
    )


def answers(kit: Kit, person: Visitor) -> list[str]:
    """Every read API's answer about the brand's traffic, as one text."""
    now = datetime.now(UTC)
    window = {
        "from": (now - timedelta(hours=2)).strftime(STREAM_TIME),
        "to": (now + timedelta(minutes=5)).strftime(STREAM_TIME),
        "timezone_id": 67,
    }
    headers = {"EF-Access-Key": kit.read_key}
    base = f"/api/brands/{kit.brand.id}"
    explorer = {
        "visitorId": person.id,
        "timeStart": (now - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "timeEnd": (now + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    texts = [
        kit.api("/clicks", limit=500).text,
        kit.api("/clicks", visitor_id=person.id).text,
        kit.api("/clicks", external_id=person.external_id).text,
        kit.api(f"/clicks/{person.clicks[0]}").text,
        kit.api(f"/clicks/session/{person.session}").text,
        kit.api("/replays", session_id=person.session).text,
        kit.api("/sessions", interval="30d").text,
        kit.api("/events", limit=1000).text,
        kit.api("/events", event="lead", limit=1000).text,
        kit.api("/events", event="sale", limit=1000).text,
        kit.http.post(f"{base}/clicks/stream", json=window, headers=headers).text,
        kit.http.post(f"{base}/explorer/visitor", json=explorer, headers=headers).text,
        kit.http.post(
            f"{base}/explorer/hit", json={"hitId": person.clicks[0]}, headers=headers
        ).text,
    ]
    return texts


def mentions(texts: list[str], person: Visitor) -> list[str]:
    """The answers that show the person's id, token or clicks (an answer that only repeats
    what was asked, a 404's message naming the id, does not count)."""
    return [
        t[:300]
        for t in texts
        if any(s in _shown(t) for s in (person.id, person.token, *person.clicks))
    ]


def _shown(text: str) -> str:
    try:
        body = json.loads(text)
    except ValueError:
        return text
    return "" if isinstance(body, dict) and "error" in body else text


def wait_for_replay(kit: Kit, person: Visitor) -> None:
    for _ in range(100):
        if kit.api("/replays", session_id=person.session).json():
            return
        time.sleep(0.05)
    raise AssertionError("the replay was not stored")


def test_a_visitor_deleted_is_gone_from_every_api_and_others_stay(kit: Kit) -> None:
    webhook(kit)
    gone, kept = visit(kit, "gone"), visit(kit, "kept")
    wait_for_replay(kit, gone)
    job = export(kit)
    assert mentions(answers(kit, gone), gone)
    answer = delete(kit, f"/{gone.id}")
    assert answer.status_code == 200, answer.text
    counts = answer.json()
    assert counts["visitors"] == 1 and counts["clicks"] == 2 and counts["conversions"] == 2
    assert counts["events"] >= 2 and counts["replays"] == 1 and counts["exports"] == 1
    assert counts["outbox_items"] == 4  # 2 page views, a lead and a sale
    assert counts["replay_chunks"] + counts["replay_segments"] >= 1
    assert mentions(answers(kit, gone), gone) == []
    assert kit.api(f"/exports/{job}").status_code == 404
    assert mentions(answers(kit, kept), kept), "the other visitor went too"
    assert kit.api(f"/clicks/{kept.clicks[0]}").status_code == 200
    again = delete(kit, f"/{gone.id}")
    assert again.status_code == 200 and set(again.json().values()) == {0}
    if kit.store.url.startswith("sqlite"):
        assert_not_in_files(kit, gone)
    else:
        assert_no_part_holds(kit, gone)


def assert_not_in_files(kit: Kit, person: Visitor) -> None:
    folder = Path(kit.store.path).parent  # type: ignore[attr-defined]
    names = sorted(p.name for p in folder.iterdir())
    assert any(n.endswith("-wal") for n in names), names  # the collector is still running
    blob = b"".join(p.read_bytes() for p in folder.iterdir() if p.is_file())
    for needle in (person.id, person.token, *person.clicks):
        assert needle.encode() not in blob, f"{needle} is still in {names}"


def assert_no_part_holds(kit: Kit, person: Visitor) -> None:
    store: Any = kit.store
    for table, column in (("clicks", "visitor_id"), ("conversions", "visitor_id")):
        rows = store._rows(
            f"SELECT count() FROM {{db}}.{table} WHERE {column} = {{v:String}}"
            " SETTINGS apply_deleted_mask = 0",
            {"v": person.id},
        )
        assert rows[0][0] == 0, table
    for table in ("replay_chunks", "replay_segments"):
        rows = store._rows(
            f"SELECT count() FROM {{db}}.{table} WHERE visitor_id = {{v:String}}"
            " SETTINGS apply_deleted_mask = 0",
            {"v": person.id},
        )
        assert rows[0][0] == 0, table


def test_by_external_id_and_by_customer(kit: Kit) -> None:
    first, second, kept = (
        visit(kit, "a", replay=False),
        visit(kit, "b", replay=False),
        visit(kit, "k", replay=False),
    )
    by_id = delete(kit, externalId=first.external_id)
    assert by_id.status_code == 200, by_id.text
    assert by_id.json()["visitors"] == 1 and by_id.json()["clicks"] == 2
    assert mentions(answers(kit, first), first) == []
    by_customer = delete(kit, customerId=second.customer)
    assert by_customer.status_code == 200, by_customer.text
    assert by_customer.json()["conversions"] == 2 and by_customer.json()["clicks"] == 2
    assert mentions(answers(kit, second), second) == []
    assert mentions(answers(kit, kept), kept)
    assert set(delete(kit, customerId=second.customer).json().values()) == {0}


def test_keys_and_bad_requests_are_refused(kit: Kit) -> None:
    person = visit(kit, "r", replay=False)
    assert delete(kit, f"/{person.id}", key=kit.read_key).status_code == 403
    assert delete(kit, f"/{person.id}", key="ct_wrong").status_code == 401
    both = delete(kit, externalId="x", customerId="y")
    assert both.status_code == 422 and "exactly one" in both.json()["error"]["message"]
    assert delete(kit).status_code == 422
    assert delete(kit, "/" + "v" * 129).status_code == 422
    assert delete(kit, externalId="x" * 129).status_code == 422
    assert mentions(answers(kit, person), person)


def test_the_cli_deletes_and_prints_the_same_counts(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path}/cli.db"
    cli = [sys.executable, "-m", "collector"]

    def run(*args: str) -> dict[str, Any]:
        done = subprocess.run([*cli, *args], capture_output=True, text=True, check=True)
        return json.loads(done.stdout.strip().splitlines()[-1])

    brand = run("brands", "create", "Shop", "--domain", "shop.example", "--database", database)
    store = open_store(database)
    try:
        from collector.storage.base import Click

        now = now_ms()
        click = Click(id=new_id(now), brand_id=brand["id"], session_id="s1", visitor_id="v-cli",
                      created_at=now, url="https://shop.example/?sub1=clitoken")  # fmt: skip
        store.write_batch([click], [])
    finally:
        store.close()
    common = ["--brand", str(brand["id"]), "--database", database,
              "--export-dir", str(tmp_path / "exports")]  # fmt: skip
    printed = run("visitors", "delete", "v-cli", *common)
    assert printed["visitors"] == 1 and printed["clicks"] == 1
    assert set(run("visitors", "delete", "v-cli", *common).values()) == {0}
    refused = subprocess.run([*cli, "visitors", "delete", *common], capture_output=True, text=True)
    assert refused.returncode == 2 and "exactly one" in refused.stderr


def test_a_failure_part_way_leaves_a_deletion_a_retry_finishes(kit: Kit) -> None:
    """SQLite: a failing statement rolls the whole deletion back. ClickHouse: the steps before
    it stay done, the clicks stay, and the same request sent again finishes."""
    webhook(kit)
    person = visit(kit, "f", replay=False)
    store: Any = kit.store
    if store.url.startswith("sqlite"):
        conn = store._conn()  # this thread's connection: the deletion below runs on it
        conn.execute(
            "CREATE TEMP TRIGGER fail_clicks BEFORE DELETE ON main.clicks"
            " BEGIN SELECT RAISE(ABORT, 'injected'); END"
        )
        with pytest.raises(sqlite3.IntegrityError, match="injected"):
            store.delete_visitors(kit.brand.id, [person.id], None, None)
        conn.execute("DROP TRIGGER temp.fail_clicks")
        left = [
            conn.execute(f"SELECT count(*) FROM {table} WHERE brand_id = ?", (kit.brand.id,))
            for table in ("clicks", "events", "conversions", "webhook_outbox")
        ]
        assert [row.fetchone()[0] for row in left] == [2, 2, 2, 4]  # nothing went
    else:
        command = store.client.command

        def fail_on_clicks(sql: str, *args: Any, **kwargs: Any) -> Any:
            if sql.startswith("DELETE FROM") and ".clicks " in sql:
                raise RuntimeError("injected")
            return command(sql, *args, **kwargs)

        store.client.command = fail_on_clicks
        try:
            with pytest.raises(RuntimeError, match="injected"):
                store.delete_visitors(kit.brand.id, [person.id], None, None)
        finally:
            store.client.command = command
        assert kit.api(f"/clicks/{person.clicks[0]}").status_code == 200  # the clicks stay
    retried = delete(kit, f"/{person.id}")
    assert retried.status_code == 200, retried.text
    assert retried.json()["clicks"] == 2 and retried.json()["visitors"] == 1
    assert mentions(answers(kit, person), person) == []
    assert set(delete(kit, f"/{person.id}").json().values()) == {0}
