"""``clicktrail purge``: one pass of the retention purger, now."""

from __future__ import annotations

import argparse
from pathlib import Path

from collector.cli.common import add_settings, now_ms
from collector.config import Settings
from collector.replay.assets import AssetStore
from collector.storage import open_store


def register(commands: argparse._SubParsersAction) -> None:
    purge = commands.add_parser(
        "purge",
        help="delete now what is past each brand's retention_days (the purger does it hourly)",
    )
    add_settings(purge, ["database", "replay_assets_dir"])
    purge.set_defaults(run=run_purge)


def run_purge(args: argparse.Namespace, settings: Settings) -> dict[str, int]:
    """What the pass deleted, by kind (clicks, events, conversions, replays, replay_dicts,
    assets)."""
    from collector.retention.purger import purge_once

    store = open_store(settings.database)
    try:
        return purge_once(store, AssetStore(Path(settings.replay_assets_dir)), now_ms())
    finally:
        store.close()
