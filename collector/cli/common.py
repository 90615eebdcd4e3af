"""What the commands share: the settings flags and the clock."""

from __future__ import annotations

import argparse
import time
from collections.abc import Iterable

from collector.config import SETTINGS


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def add_settings(parser: argparse.ArgumentParser, names: Iterable[str]) -> None:
    """A flag for each named setting (``--database``...), with its variable and default."""
    wanted = set(names)
    for setting in SETTINGS:
        if setting.name in wanted:
            parser.add_argument(
                setting.flag,
                dest=setting.name,
                default=None,
                help=f"{setting.help} [env {setting.env}; default {setting.default!r}]",
            )
