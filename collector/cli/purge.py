"""``clicktrail purge``: one pass of the retention purger, now."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from collector.cli.common import add_settings, now_ms
from collector.cli.store import absolute_database, shown_database
from collector.config import Settings, SettingsError
from collector.replay.assets import AssetStore
from collector.storage import open_store


def register(commands: argparse._SubParsersAction) -> None:
    purge = commands.add_parser(
        "purge",
        help="delete now what is past each brand's retention_days (the purger does it hourly)",
    )
    add_settings(purge, ["database", "replay_assets_dir"])
    purge.set_defaults(run=run_purge)


def run_purge(args: argparse.Namespace, settings: Settings) -> dict[str, Any]:
    """The database and what the pass deleted, by kind (clicks, events, conversions, replays,
    replay_dicts, assets)."""
    from collector.control import RemoteStore
    from collector.retention.purger import purge_once

    database = absolute_database(settings.database)
    if RemoteStore.of(database) is not None:
        raise SettingsError(
            f"{shown_database(database)} is held by a running collector: its purger runs every "
            "--purge-interval-seconds (CLICKTRAIL_PURGE_INTERVAL_SECONDS); stop it to purge now"
        )
    store = open_store(database)
    try:
        deleted = purge_once(store, AssetStore(Path(settings.replay_assets_dir)), now_ms())
    finally:
        store.close()
    return {"database": shown_database(database), "deleted": deleted}
