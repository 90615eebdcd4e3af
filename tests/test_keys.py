"""API keys (issue 16) on both engines: listed without secrets, revoked at once, in this
collector and in another process on the same database; the keys API's scopes."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from collector.cli.main import main
from collector.control import socket_path
from collector.storage import open_store
from tests.appkit import Kit, geoip_settings, run_kit
from tests.servers import start_collector


def _keys_url(kit: Kit) -> str:
    return f"/api/brands/{kit.brand.id}/keys"


def _admin(kit: Kit) -> dict[str, str]:
    return {"X-Api-Key": kit.admin_key}


def _make_key(kit: Kit, scope: str = "read", label: str = "") -> dict:
    made = kit.http.post(_keys_url(kit), json={"scope": scope, "label": label}, headers=_admin(kit))
    assert made.status_code == 201, made.text
    return made.json()


def _reads(kit: Kit, key: str, http: httpx.Client | None = None) -> int:
    client = http or kit.http
    return client.get(f"/api/brands/{kit.brand.id}", headers={"X-Api-Key": key}).status_code


def _listed(kit: Kit, key_id: str) -> dict:
    listed = kit.http.get(_keys_url(kit), headers=_admin(kit))
    assert listed.status_code == 200
    return next(k for k in listed.json() if k["id"] == key_id)


def test_a_listed_key_shows_prefix_scope_label_times_and_never_its_secret(kit: Kit) -> None:
    key = _make_key(kit, "write", label="ci deploys")
    assert _reads(kit, key["key"]) == 200
    deadline = time.monotonic() + 5
    while (row := _listed(kit, key["id"]))["lastUsedAt"] is None:  # written by a worker thread
        assert time.monotonic() < deadline, "the key's use was never recorded"
        time.sleep(0.05)
    assert row["prefix"] == f"ct_{key['id']}_" and key["key"].startswith(row["prefix"])
    assert (row["scope"], row["label"]) == ("write", "ci deploys")
    assert row["createdAt"].endswith("Z") and row["lastUsedAt"] >= row["createdAt"]
    body = kit.http.get(_keys_url(kit), headers=_admin(kit)).text
    secret = key["key"][len(row["prefix"]) :]
    assert secret not in body and "hash" not in body
    stored = kit.store.api_key_by_id(key["id"])
    assert stored is not None and stored.key_hash not in body


def test_a_revoked_key_gets_401_at_once_and_is_no_longer_listed(kit: Kit) -> None:
    key = _make_key(kit)
    assert _reads(kit, key["key"]) == 200  # now in the collector's memory, if anywhere
    gone = kit.http.delete(f"{_keys_url(kit)}/{key['id']}", headers=_admin(kit))
    assert gone.status_code == 204
    assert _reads(kit, key["key"]) == 401
    ids = [k["id"] for k in kit.http.get(_keys_url(kit), headers=_admin(kit)).json()]
    assert key["id"] not in ids


def test_revoking_an_unknown_or_malformed_key_is_404(kit: Kit) -> None:
    unknown = kit.http.delete(f"{_keys_url(kit)}/0123456789ab", headers=_admin(kit))
    assert unknown.status_code == 404 and "0123456789ab" in unknown.json()["error"]["message"]
    junk = kit.http.delete(f"{_keys_url(kit)}/{'z' * 300}", headers=_admin(kit))
    assert 400 <= junk.status_code < 500


def test_only_an_admin_key_of_the_brand_lists_or_revokes_keys(kit: Kit) -> None:
    victim = _make_key(kit)
    url = f"{_keys_url(kit)}/{victim['id']}"
    read = {"X-Api-Key": kit.read_key}
    assert kit.http.get(_keys_url(kit), headers=read).status_code == 403
    assert kit.http.delete(url, headers=read).status_code == 403
    assert kit.http.get(_keys_url(kit)).status_code == 401
    assert kit.http.delete(url).status_code == 401
    _, foreign_admin = kit.new_brand()
    assert kit.http.get(_keys_url(kit), headers={"X-Api-Key": foreign_admin}).status_code == 404
    assert kit.http.delete(url, headers={"X-Api-Key": foreign_admin}).status_code == 404
    assert _reads(kit, victim["key"]) == 200  # none of that revoked it


def test_a_label_is_bounded(kit: Kit) -> None:
    too_long = {"scope": "read", "label": "x" * 65}
    answer = kit.http.post(_keys_url(kit), json=too_long, headers=_admin(kit))
    assert answer.status_code == 422


@pytest.fixture
def sqlite_kit(tmp_path: Path, testdata_dir: Path) -> Iterator[tuple[Kit, str]]:
    url = f"sqlite:///{tmp_path}/clicktrail.db"
    store = open_store(url)
    settings = geoip_settings(testdata_dir, replay_assets_dir=str(tmp_path / "assets"))
    try:
        for kit in run_kit(store, settings):
            yield kit, url
    finally:
        store.close()


def test_a_key_revoked_here_gets_401_at_once_in_another_collector_on_the_file(
    sqlite_kit: tuple[Kit, str], tmp_path: Path
) -> None:
    kit, url = sqlite_kit
    inbox = ("--inbox", str(tmp_path / "other-inbox"))  # one collector per inbox
    other = start_collector("serve", url, tmp_path / "other.log", *inbox)
    try:
        with httpx.Client(base_url=other.url, timeout=10) as http:
            key = _make_key(kit)
            for _ in range(3):  # used, so cached if the other process cached keys at all
                assert _reads(kit, key["key"], http) == 200
            revoked = kit.http.delete(f"{_keys_url(kit)}/{key['id']}", headers=_admin(kit))
            assert revoked.status_code == 204
            assert _reads(kit, key["key"], http) == 401  # the very next request
            assert _reads(kit, kit.read_key, http) == 200  # other keys unaffected
    finally:
        other.stop()


def test_a_key_revoked_by_the_command_gets_401_at_once_in_the_running_collector(
    kit: Kit, capsys: pytest.CaptureFixture[str]
) -> None:
    """On chDB the command reaches the collector holding the engine through its control
    socket; on SQLite it opens the file. Either way the collector refuses the key at once."""
    key = _make_key(kit)
    assert _reads(kit, key["key"]) == 200
    database = kit.store.url  # type: ignore[attr-defined]
    if database.startswith("chdb"):
        served = socket_path(database)
        assert served is not None and served.exists()  # the collector's control socket
    assert main(["keys", "revoke", key["id"], "--database", database]) == 0
    assert f'"id": "{key["id"]}"' in capsys.readouterr().out
    assert _reads(kit, key["key"]) == 401
    assert kit.store.api_key_by_id(key["id"]) is None
