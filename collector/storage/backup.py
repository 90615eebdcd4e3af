"""``clicktrail backup`` and ``clicktrail restore``: a backup is a folder.

- ``manifest.json``: the format, the engine, the schema version, when, from which database, and
  the rows of each table;
- the engine's copy: ``clicktrail.db`` (SQLite's online backup API, ``sqlite/backup.py``) or
  ``tables/*.native`` (chDB, ``clickhouse/backup.py``); a ClickHouse server writes its own
  ``BACKUP`` on the server instead;
- ``replay-assets/``: the content-addressed stylesheets and fonts replays point to.

A restore runs the engine's part, then opens the store, which migrates a backup made by an
older Clicktrail up to this one's schema. A backup newer than this Clicktrail is refused.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import msgspec

from collector.storage import open_store, sqlite_path

if TYPE_CHECKING:
    from collector.storage.clickhouse import ClickHouseStore

MANIFEST = "manifest.json"
ASSETS_FOLDER = "replay-assets"
FORMAT = 1


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why and what to do."""


class BackupFacts(msgspec.Struct):
    engine: str  # sqlite | chdb | clickhouse
    schema_version: int
    rows: dict[str, int]


def backup_store(url: str, folder: Path, assets_dir: Path, shown: str) -> dict[str, Any]:
    """Write a backup of the store at ``url`` (and the replay assets) into the new ``folder``;
    ``shown``: the database as the manifest names it (no password)."""
    folder = folder.resolve()
    if folder.exists() and any(folder.iterdir()):
        raise BackupError(f"{folder} is not empty: give a new folder")
    folder.mkdir(parents=True, exist_ok=True)
    facts = _engine_backup(url, folder)
    assets = _copy_assets(assets_dir, folder / ASSETS_FOLDER)
    manifest = {
        "format": FORMAT,
        "engine": facts.engine,
        "schema_version": facts.schema_version,
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "database": shown,
        "rows": facts.rows,
        "replay_assets": assets,
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return {"backup": str(folder), **manifest}


def restore_store(
    folder: Path, url: str, assets_dir: Path, force: bool, shown: str
) -> dict[str, Any]:
    """Make the store at ``url`` hold the backup in ``folder`` (and put back its assets)."""
    folder = folder.resolve()
    manifest = _manifest(folder)
    version = manifest["schema_version"]
    if url.lower().startswith("sqlite:"):
        from collector.storage.sqlite import backup as sqlite_backup
        from collector.storage.sqlite.schema import SCHEMA_VERSION

        _check_version(version, SCHEMA_VERSION)
        sqlite_backup.restore(folder, Path(sqlite_path(url)).resolve(), version, force)
        open_store(url).close()  # migrates an older backup up to this Clicktrail's schema
    else:
        from collector.storage.clickhouse import backup as clickhouse_backup
        from collector.storage.clickhouse.schema import SCHEMA_VERSION as CH_VERSION

        _check_version(version, CH_VERSION)
        store = _open_clickhouse(url)
        try:
            clickhouse_backup.restore(store, folder, version, force)
        finally:
            store.close()
    assets = _copy_assets(folder / ASSETS_FOLDER, assets_dir)
    return {"restored": str(folder), "database": shown, "replay_assets": assets}


def _engine_backup(url: str, folder: Path) -> BackupFacts:
    if url.lower().startswith("sqlite:"):
        from collector.storage.sqlite import backup as sqlite_backup

        source = Path(sqlite_path(url)).resolve()
        if not source.is_file():
            raise BackupError(f"no database at {source}")
        return sqlite_backup.backup(source, folder)
    from collector.storage.clickhouse import backup as clickhouse_backup

    store = _open_clickhouse(url)
    try:
        return clickhouse_backup.backup(store, folder)
    finally:
        store.close()


def _manifest(folder: Path) -> dict[str, Any]:
    try:
        manifest: dict[str, Any] = json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError) as exc:
        raise BackupError(f"{folder / MANIFEST} cannot be read ({exc}): not a backup") from None
    if manifest.get("format") != FORMAT or not isinstance(manifest.get("schema_version"), int):
        raise BackupError(f"{folder / MANIFEST} is not a Clicktrail backup of format {FORMAT}")
    return manifest


def _check_version(backup_version: int, ours: int) -> None:
    if backup_version > ours:
        raise BackupError(
            f"the backup has schema version {backup_version}, newer than this Clicktrail's "
            f"({ours}): restore it with the Clicktrail that made it, or a newer one"
        )


def _copy_assets(source: Path, target: Path) -> int:
    """Copies the asset files (content-addressed: an existing file is the same); how many."""
    if not source.is_dir():
        return 0
    copied = 0
    for path in source.rglob("*"):
        if path.is_file():
            destination = target / path.relative_to(source)
            if not destination.exists():
                destination.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, destination)
            copied += 1
    return copied


def _open_clickhouse(url: str) -> ClickHouseStore:
    try:
        return cast("ClickHouseStore", open_store(url))
    except Exception as exc:
        if url.lower().startswith("chdb:") and "lock" in str(exc).lower():
            raise BackupError(
                "a running collector holds this chDB folder (the embedded engine belongs to one "
                "process): stop it, then run this again"
            ) from None
        raise
