"""``clicktrail backup PATH`` and ``clicktrail restore PATH`` (collector/storage/backup.py)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from collector.cli.common import add_settings
from collector.cli.store import absolute_database, shown_database
from collector.config import Settings, SettingsError
from collector.storage.backup import BackupError, backup_store, restore_store


def register(commands: argparse._SubParsersAction) -> None:
    made = commands.add_parser(
        "backup",
        help="back up the database and the replay assets into a new folder",
        description="SQLite: an online backup, safe while the collector runs. chDB: stop the "
        "collector first (the embedded engine belongs to one process). A ClickHouse server "
        "runs BACKUP itself: PATH is then a path on the server (docs/DEPLOY.md).",
    )
    made.add_argument("path", help="a new (or empty) folder for the backup")
    add_settings(made, ["database", "replay_assets_dir"])
    made.set_defaults(run=run_backup)
    back = commands.add_parser(
        "restore",
        help="restore a backup folder into the database (stop the collector first)",
        description="Refused over a database that already holds brands, unless --force.",
    )
    back.add_argument("path", help="a folder written by `clicktrail backup`")
    back.add_argument("--force", action="store_true", help="replace a database holding brands")
    add_settings(back, ["database", "replay_assets_dir"])
    back.set_defaults(run=run_restore)


def run_backup(args: argparse.Namespace, settings: Settings) -> dict[str, Any]:
    url = absolute_database(settings.database)
    try:
        return backup_store(
            url, Path(args.path), Path(settings.replay_assets_dir), shown_database(url)
        )
    except BackupError as exc:
        raise SettingsError(f"backup: {exc}") from None


def run_restore(args: argparse.Namespace, settings: Settings) -> dict[str, Any]:
    url = absolute_database(settings.database)
    try:
        return restore_store(
            Path(args.path), url, Path(settings.replay_assets_dir), args.force, shown_database(url)
        )
    except BackupError as exc:
        raise SettingsError(f"restore: {exc}") from None
