"""The operator's commands (issue 16), run as a person runs them: brands list, keys list and
revoke (also beside a running chDB collector), the demo revoking its previous start's keys, a
taken port refused before the database is touched, and absolute database paths."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from collector.cli.store import absolute_database, shown_database
from collector.storage import open_store
from tests.servers import ROOT, start_collector
from tests.storage_fixtures import chdb_available


def _cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "collector", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
        timeout=120,
    )


def _json(*args: str, cwd: Path = ROOT) -> object:
    done = _cli(*args, cwd=cwd)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def test_brands_list_prints_every_brand_as_a_json_array(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/ct.db"
    first = _json("brands", "create", "Acme", "--domain", "acme.example", "--database", db)
    second = _json("brands", "create", "Globex", "--database", db)
    listed = _json("brands", "list", "--database", db)
    assert isinstance(listed, list) and isinstance(first, dict) and isinstance(second, dict)
    assert [(b["id"], b["name"], b["site_key"]) for b in listed] == [
        (first["id"], "Acme", first["site_key"]),
        (second["id"], "Globex", second["site_key"]),
    ]
    assert listed[0]["domains"] == ["acme.example"] and listed[0]["created_at"].endswith("Z")
    assert "api_key" not in json.dumps(listed)


def test_keys_list_hides_secrets_and_revoke_removes_the_key(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/ct.db"
    brand = _json("brands", "create", "Acme", "--database", db)
    assert isinstance(brand, dict)
    made = _json("keys", "create", "--brand", str(brand["id"]), "--label", "ci", "--database", db)
    assert isinstance(made, dict)
    listing = _cli("keys", "list", "--brand", str(brand["id"]), "--database", db)
    assert made["api_key"] not in listing.stdout and brand["api_key"] not in listing.stdout
    rows = json.loads(listing.stdout)
    assert [(r["scope"], r["label"]) for r in rows] == [("admin", ""), ("read", "ci")]
    assert rows[1]["prefix"] == f"ct_{made['id']}_" and rows[1]["last_used_at"] is None
    revoked = _json("keys", "revoke", made["id"], "--database", db)
    assert revoked == {"id": made["id"], "brand_id": brand["id"], "revoked": True}
    again = _cli("keys", "revoke", made["id"], "--database", db)
    assert again.returncode == 1 and "no API key" in again.stderr
    junk = _cli("keys", "revoke", "not-a-key", "--database", db)
    assert junk.returncode == 2 and "KEY_ID" in junk.stderr
    missing = _cli("keys", "list", "--brand", "99", "--database", db)
    assert missing.returncode == 2 and "no brand 99" in missing.stderr
    store = open_store(db)
    try:
        assert store.api_key_by_id(made["id"]) is None
    finally:
        store.close()


@pytest.mark.skipif(not chdb_available(), reason="chdb is not installed")
def test_keys_commands_work_beside_a_running_chdb_collector(tmp_path: Path) -> None:
    """chDB opens a directory in one process: the commands go through the collector's control
    socket, and a key they revoke is refused by that collector at once."""
    db = f"chdb:///{tmp_path}/ch"
    brand = _json("brands", "create", "Acme", "--database", db)
    assert isinstance(brand, dict)
    collector = start_collector("serve", db, tmp_path / "collector.log")
    try:
        made = _json("keys", "create", "--brand", str(brand["id"]), "--database", db)
        assert isinstance(made, dict)
        api = f"{collector.url}/api/brands/{brand['id']}/clicks"
        assert httpx.get(api, headers={"X-Api-Key": made["api_key"]}).status_code == 200
        listing = _cli("keys", "list", "--brand", str(brand["id"]), "--database", db)
        assert listing.returncode == 0 and made["api_key"] not in listing.stdout
        assert made["id"] in listing.stdout
        second = _json("brands", "create", "Beta", "--domain", "beta.example", "--database", db)
        assert isinstance(second, dict) and second["name"] == "Beta"  # keyword store calls too
        brands = json.loads(_cli("brands", "list", "--database", db).stdout)
        assert [b["name"] for b in brands] == ["Acme", "Beta"]
        _json("keys", "revoke", made["id"], "--database", db)
        assert httpx.get(api, headers={"X-Api-Key": made["api_key"]}).status_code == 401
    finally:
        collector.stop()
    assert not list((tmp_path / "ch").glob("*.sock"))  # removed when the collector stopped


def _demo_keys(db: str, brand_name: str = "Clicktrail demo") -> set[str]:
    store = open_store(db)
    try:
        brand = next(b for b in store.list_brands() if b.name == brand_name)
        return {k.id for k in store.api_keys_of_brand(brand.id) if k.label == "demo"}
    finally:
        store.close()


def test_the_demo_revokes_the_keys_of_its_previous_start(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/ct.db"
    starts = []
    for n in range(3):
        demo = start_collector("demo", db, tmp_path / f"demo{n}.log", "--sample-visits", "0")
        demo.stop()
        starts.append(_demo_keys(db))
    assert all(len(keys) == 2 for keys in starts)  # an admin key and the page's read key
    assert not starts[0] & starts[1] and not starts[1] & starts[2]
    banner = (tmp_path / "demo2.log").read_text()
    assert "previous start's revoked: 2" in banner
    assert f"database       sqlite:///{tmp_path}/ct.db" in banner


def test_the_demo_keeps_keys_it_did_not_make(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/ct.db"
    start_collector("demo", db, tmp_path / "a.log", "--sample-visits", "0").stop()
    store = open_store(db)
    try:
        brand = next(b for b in store.list_brands() if b.name == "Clicktrail demo")
    finally:
        store.close()
    mine = _json("keys", "create", "--brand", str(brand.id), "--database", db)
    assert isinstance(mine, dict)
    start_collector("demo", db, tmp_path / "b.log", "--sample-visits", "0").stop()
    store = open_store(db)
    try:
        assert store.api_key_by_id(mine["id"]) is not None
    finally:
        store.close()


@pytest.mark.parametrize("command", ["serve", "demo"])
def test_a_taken_port_is_refused_before_the_database_is_touched(
    command: str, tmp_path: Path, taken_port: int
) -> None:
    db = tmp_path / "never" / "ct.db"
    done = _cli(command, "--port", str(taken_port), "--database", f"sqlite:///{db}")
    assert done.returncode == 2
    assert f"port {taken_port} on 127.0.0.1 is taken" in done.stderr
    assert "--port" in done.stderr and "CLICKTRAIL_PORT" in done.stderr
    assert not db.parent.exists()  # no folder, no file, no migration


def test_a_relative_database_is_made_absolute_in_the_output(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    done = _cli("brands", "create", "Acme", "--database", "sqlite:///rel/ct.db", cwd=elsewhere)
    assert done.returncode == 0, done.stderr
    absolute = elsewhere / "rel" / "ct.db"
    assert f"database sqlite:///{absolute}" in done.stderr
    assert f"made a new database at {absolute}" in done.stderr
    assert absolute.is_file()
    again = _cli("brands", "list", "--database", f"sqlite:///{absolute}", cwd=tmp_path)
    assert "made a new database" not in again.stderr  # the same file, found


def test_database_urls_as_shown() -> None:
    assert absolute_database("sqlite:////srv/ct.db") == "sqlite:////srv/ct.db"
    assert absolute_database("sqlite:///data/ct.db") == f"sqlite:///{Path.cwd()}/data/ct.db"
    assert absolute_database("chdb:///srv/ch") == "chdb:///srv/ch"
    assert absolute_database("sqlite://") == "sqlite://"  # left for open_store to refuse
    shown = shown_database("clickhouse://ana:s3cret@db.example:8123/ct")
    assert shown == "clickhouse://ana:***@db.example:8123/ct"
    assert shown_database("clickhouse://db.example:8123/ct") == "clickhouse://db.example:8123/ct"
