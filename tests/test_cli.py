"""The clicktrail command line, run as a user runs it."""

from __future__ import annotations

import json
import subprocess
import sys

from collector.storage import open_store


def _cli(*args: str, env_db: str | None = None) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/bin:/bin"}
    if env_db:
        env["CLICKTRAIL_DATABASE"] = env_db
    return subprocess.run(
        [sys.executable, "-m", "collector", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_brands_create_prints_one_json_object_with_a_working_key(tmp_path):
    db = f"sqlite:///{tmp_path}/ct.db"
    done = _cli("brands", "create", "Acme", "--domain", "acme.example", "--database", db)
    assert done.returncode == 0, done.stderr
    brand = json.loads(done.stdout)
    assert set(brand) == {"id", "name", "site_key", "api_key"}
    store = open_store(db)
    try:
        stored = store.brand_by_site_key(brand["site_key"])
        assert stored.name == "Acme" and stored.domains == ["acme.example"]
    finally:
        store.close()


def test_keys_create_reads_the_database_from_the_environment(tmp_path):
    db = f"sqlite:///{tmp_path}/ct.db"
    brand = json.loads(_cli("brands", "create", "Acme", env_db=db).stdout)
    done = _cli("keys", "create", "--brand", str(brand["id"]), "--scope", "write", env_db=db)
    assert done.returncode == 0, done.stderr
    key = json.loads(done.stdout)
    assert key["scope"] == "write" and key["api_key"].startswith("ct_")


def test_keys_create_for_a_missing_brand_fails_with_a_message(tmp_path):
    done = _cli("keys", "create", "--brand", "99", "--database", f"sqlite:///{tmp_path}/x.db")
    assert done.returncode == 2 and "no brand 99" in done.stderr


def test_bad_setting_exits_2_with_a_message(tmp_path):
    done = _cli("serve", "--port", "eighty")
    assert done.returncode == 2 and "--port" in done.stderr


def test_replays_import_prints_the_new_replay_id_and_compact_reports_a_count(
    tmp_path, testdata_dir
):
    db = f"sqlite:///{tmp_path}/ct.db"
    brand = json.loads(_cli("brands", "create", "Acme", "--database", db).stdout)
    recording = testdata_dir / "recordings" / "demoit-react-hooks.json"
    done = _cli("replays", "import", str(recording), "--brand", str(brand["id"]), "--database", db)
    assert done.returncode == 0, done.stderr
    replay_id = json.loads(done.stdout)["id"]
    store = open_store(db)
    try:
        replay = store.get_replay(brand["id"], replay_id)
        assert replay is not None and replay.live_chunks == 0 and replay.event_count == 272
    finally:
        store.close()
    compacted = _cli("replays", "compact", "--all", "--database", db)
    assert compacted.returncode == 0, compacted.stderr
    assert json.loads(compacted.stdout) == {"compacted": 0}


def test_replays_import_of_a_file_that_is_not_rrweb_events_fails_with_a_message(tmp_path):
    db = f"sqlite:///{tmp_path}/ct.db"
    brand = json.loads(_cli("brands", "create", "Acme", "--database", db).stdout)
    bad = tmp_path / "bad.json"
    bad.write_text('{"not": "an array"}')
    done = _cli("replays", "import", str(bad), "--brand", str(brand["id"]), "--database", db)
    assert done.returncode == 2
    assert "not an rrweb event array" in done.stderr
