"""``clicktrail`` command line: serve, demo, brands create, keys create, replays import/compact,
users create/list."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from collector.cli import backup, brands, keys, purge, replays, serve, users, visitors
from collector.cli.store import absolute_database, shown_database
from collector.config import SETTINGS, SettingsError, load_settings


def build_parser() -> argparse.ArgumentParser:
    """Each command sets ``run(args, settings)``: it returns what to print as JSON, or None."""
    parser = argparse.ArgumentParser(prog="clicktrail", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve.register(commands)
    brands.register(commands)
    keys.register(commands)
    replays.register(commands)
    users.register(commands)
    visitors.register(commands)
    purge.register(commands)
    backup.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; 2 (and a message on stderr) when a setting or argument is unusable."""
    args = build_parser().parse_args(argv)
    given = {s.name: getattr(args, s.name, None) for s in SETTINGS}
    try:
        settings = load_settings(given)
        # Absolute, and named on stderr: run from another folder, a relative path is seen.
        settings = settings.replace(database=absolute_database(settings.database))
        if hasattr(args, "database"):
            print(f"clicktrail: database {shown_database(settings.database)}", file=sys.stderr)
        printed = args.run(args, settings)
    except SettingsError as exc:
        print(f"clicktrail: {exc}", file=sys.stderr)
        return getattr(exc, "exit_code", 2)
    if printed is not None:
        print(json.dumps(printed))
    return 0
