"""``clicktrail replays import`` and ``clicktrail replays compact``."""

from __future__ import annotations

import argparse
from typing import Any

from collector.cli.common import add_settings, now_ms
from collector.config import Settings, SettingsError
from collector.errors import DomainError
from collector.storage import open_store


def register(commands: argparse._SubParsersAction) -> None:
    replays = commands.add_parser("replays", help="manage replays").add_subparsers(
        dest="action", required=True
    )
    imp = replays.add_parser("import", help="import an rrweb event array (JSON file) as a replay")
    imp.add_argument("file", help="a JSON file holding an array of rrweb events")
    imp.add_argument("--brand", type=int, required=True)
    add_settings(imp, ["database"])
    imp.set_defaults(run=replays_import)
    compact = replays.add_parser("compact", help="compact replays that have ended, now")
    compact.add_argument(
        "--all", action="store_true", help="also replays still recording (idle or not)"
    )
    add_settings(compact, ["database", "replay_idle_minutes"])
    compact.set_defaults(run=replays_compact)


def replays_import(args: argparse.Namespace, settings: Settings) -> dict[str, Any]:
    from collector.replay.importer import import_replay

    try:
        with open(args.file, "rb") as file:
            events = file.read()
    except OSError as exc:
        raise SettingsError(f"{args.file}: {exc.strerror}") from None
    store = open_store(settings.database)
    try:
        if store.get_brand(args.brand) is None:
            raise SettingsError(f"--brand: no brand {args.brand}")
        try:
            return {"id": import_replay(store, args.brand, events, now_ms())}
        except DomainError as exc:
            raise SettingsError(f"{args.file}: {exc.message}") from None
    finally:
        store.close()


def replays_compact(args: argparse.Namespace, settings: Settings) -> dict[str, Any]:
    from collector.replay.compaction import compact_ended

    store = open_store(settings.database)
    try:
        if args.all:  # every replay with live chunks, even one that got a chunk this millisecond
            return {"compacted": compact_ended(store, now_ms() + 1, idle_ms=0)}
        idle_ms = settings.replay_idle_minutes * 60_000
        return {"compacted": compact_ended(store, now_ms(), idle_ms=idle_ms)}
    finally:
        store.close()
