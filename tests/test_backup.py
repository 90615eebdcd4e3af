"""``clicktrail backup`` and ``clicktrail restore`` on both engines: a backup taken while a real
collector runs holds exactly what was stored by then, and restoring it into another database
gives that back through the API; what came after the backup is not in it."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import pytest

from collector.cli import create_brand
from collector.cli.main import main as clicktrail
from collector.ids import new_id
from collector.storage import open_store
from collector.storage.base import BrandSettings, ClickQuery
from tests.appkit import Kit, now_ms, run_kit
from tests.storage_fixtures import chdb_test_url


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any] | str]:
    code = clicktrail(list(argv))
    out, err = capsys.readouterr()
    return code, (json.loads(out) if code == 0 else err)


def _visit(kit: Kit, marker: str) -> str:
    at = now_ms()
    beacon = kit.beacon(v=new_id(at), s=new_id(at), p=new_id(at))
    beacon["u"] = f"https://shop.example/p?m={marker}"
    beacon["e"] = [{"t": "page_view", "ts": at}, {"t": "signup", "ts": at + 1}]
    assert kit.collect(beacon).status_code == 204
    return beacon["p"]


def _other_url(kit_url: str, tmp_path: Path) -> str:
    if kit_url.startswith("sqlite:"):
        return f"sqlite:///{tmp_path / 'restored' / 'clicktrail.db'}"
    return chdb_test_url()


def test_a_backup_taken_while_collecting_restores_into_another_database(
    store, testdata_dir, tmp_path, capsys
):
    from tests.appkit import geoip_settings

    assets = tmp_path / "assets"
    (assets / "ab").mkdir(parents=True)
    (assets / "ab" / "abcd.css").write_text("body{color:red}")
    settings = geoip_settings(testdata_dir, replay_assets_dir=str(assets))
    with contextlib.contextmanager(run_kit)(store, settings) as kit:
        before = [_visit(kit, "before-1"), _visit(kit, "before-2")]
        code, made = _cli(
            capsys, "backup", str(tmp_path / "bk"), "--database", store.url,
            "--replay-assets-dir", str(assets),
        )  # fmt: skip
        assert code == 0, made
        _visit(kit, "after")
        brand_id = kit.brand.id

    assert isinstance(made, dict)
    assert made["backup"] == str((tmp_path / "bk").resolve())
    assert made["rows"]["clicks"] == 2
    assert made["replay_assets"] == 1

    target = _other_url(store.url, tmp_path)
    restored_assets = tmp_path / "restored-assets"
    code, done = _cli(
        capsys, "restore", str(tmp_path / "bk"), "--database", target,
        "--replay-assets-dir", str(restored_assets),
    )  # fmt: skip
    assert code == 0, done
    assert (restored_assets / "ab" / "abcd.css").read_text() == "body{color:red}"
    again = open_store(target)
    try:
        _, clicks = again.list_clicks(brand_id, ClickQuery(limit=100))
        assert sorted(c.id for c in clicks) == sorted(before)
        assert again.get_brand(brand_id) is not None
    finally:
        if target.startswith("chdb:"):
            again.drop_database()  # type: ignore[attr-defined]
        again.close()


def test_a_restore_over_a_database_with_brands_is_refused_without_force(store, tmp_path, capsys):
    create_brand(store, "Kept", ["shop.example"], BrandSettings())
    code, made = _cli(capsys, "backup", str(tmp_path / "bk"), "--database", store.url)
    assert code == 0, made
    code, said = _cli(capsys, "restore", str(tmp_path / "bk"), "--database", store.url)
    assert code == 2
    assert "already holds brands" in str(said) and "--force" in str(said)
    code, done = _cli(capsys, "restore", str(tmp_path / "bk"), "--database", store.url, "--force")
    assert code == 0, done


def test_a_backup_into_a_folder_that_is_not_empty_is_refused(store, tmp_path, capsys):
    (tmp_path / "bk").mkdir()
    (tmp_path / "bk" / "x").write_text("mine")
    code, said = _cli(capsys, "backup", str(tmp_path / "bk"), "--database", store.url)
    assert code == 2 and "not empty" in str(said)
    assert (tmp_path / "bk" / "x").read_text() == "mine"


def test_a_folder_without_a_manifest_is_no_backup(store, tmp_path, capsys):
    (tmp_path / "bk").mkdir()
    code, said = _cli(capsys, "restore", str(tmp_path / "bk"), "--database", store.url)
    assert code == 2 and "not a backup" in str(said)
