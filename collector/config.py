"""Settings: declared once, read from CLI flags, then ``CLICKTRAIL_*`` environment variables,
then the default. Casts are strict; a bad value fails loudly at start-up.

The README's settings table is checked against :data:`SETTINGS` by a test, so a setting cannot
be added without being documented.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any


class SettingsError(ValueError):
    """A setting has a value that cannot be used."""


def _port(value: str) -> int:
    port = int(value)
    if not 0 <= port <= 65535:
        raise ValueError("must be between 0 and 65535")
    return port


def _positive_int(value: str) -> int:
    number = int(value)
    if number <= 0:
        raise ValueError("must be a positive integer")
    return number


def _optional_path(value: str) -> str | None:
    return value or None


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    help: str
    cast: Callable[[str], Any] = str

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    @property
    def env(self) -> str:
        return "CLICKTRAIL_" + self.name.upper()


SETTINGS: tuple[Setting, ...] = (
    Setting("host", "127.0.0.1", "Interface to listen on."),
    Setting("port", 8000, "TCP port to listen on.", _port),
    Setting(
        "database",
        "sqlite:///./data/clicktrail.db",
        "Storage URL: sqlite:///path.db, clickhouse://user:pass@host:8123/db or chdb:///path.",
    ),
    Setting(
        "geoip_db", None, "Path to a MaxMind-format City (or Country) database.", _optional_path
    ),
    Setting("asn_db", None, "Optional path to a MaxMind ASN or ISP database.", _optional_path),
    Setting(
        "trusted_proxies",
        "",
        "Comma-separated IPs/CIDRs allowed to set X-Forwarded-For (default: none).",
    ),
    Setting("max_body_bytes", 65536, "Largest accepted /collect body, in bytes.", _positive_int),
    Setting(
        "writer_max_batch",
        5000,
        "Most events committed in one group commit.",
        _positive_int,
    ),
    Setting(
        "replay_max_body_bytes",
        2 * 1024 * 1024,
        "Largest accepted /collect/replay body as sent (compressed), in bytes.",
        _positive_int,
    ),
    Setting(
        "replay_max_chunk_bytes",
        16 * 1024 * 1024,
        "Largest replay chunk once decompressed, in bytes (a bigger one gets 413).",
        _positive_int,
    ),
    Setting(
        "replay_inflight_bytes",
        64 * 1024 * 1024,
        "Memory replay chunks being checked may hold, in bytes (past it: 503 and Retry-After).",
        _positive_int,
    ),
    Setting(
        "replay_idle_minutes",
        30,
        "A replay with no chunk for this long has ended and is compacted.",
        _positive_int,
    ),
    Setting(
        "compact_interval_seconds",
        300,
        "How often the background compaction looks for ended replays.",
        _positive_int,
    ),
    Setting(
        "replay_assets_dir",
        "./data/replay-assets",
        "Directory of the content-addressed store of fetched stylesheets and fonts.",
    ),
    Setting(
        "replay_asset_networks",
        "",
        "Comma-separated private CIDRs assets may be fetched from (default: none; tests only).",
    ),
    Setting(
        "replay_asset_max_bytes",
        5 * 1024 * 1024,
        "Largest stylesheet or font fetched for replays, in bytes.",
        _positive_int,
    ),
    Setting(
        "public_url",
        "",
        "Base URL of the collector as users reach it, for share links (default: the request's).",
    ),
)


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8000
    database: str = "sqlite:///./data/clicktrail.db"
    geoip_db: str | None = None
    asn_db: str | None = None
    trusted_proxies: str = ""
    max_body_bytes: int = 65536
    writer_max_batch: int = 5000
    replay_max_body_bytes: int = 2 * 1024 * 1024
    replay_max_chunk_bytes: int = 16 * 1024 * 1024
    replay_inflight_bytes: int = 64 * 1024 * 1024
    replay_idle_minutes: int = 30
    compact_interval_seconds: int = 300
    replay_assets_dir: str = "./data/replay-assets"
    replay_asset_networks: str = ""
    replay_asset_max_bytes: int = 5 * 1024 * 1024
    public_url: str = ""

    def replace(self, **changes: Any) -> Settings:
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values.update(changes)
        return Settings(**values)


def load_settings(
    cli: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None
) -> Settings:
    """Settings from CLI values (already parsed, ``None`` = not given), then the environment,
    then defaults."""
    cli = cli or {}
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for setting in SETTINGS:
        given = cli.get(setting.name)
        raw = given if given is not None else environ.get(setting.env)
        if raw is None:
            values[setting.name] = setting.default
            continue
        try:
            values[setting.name] = setting.cast(str(raw))
        except ValueError as exc:
            source = setting.flag if given is not None else setting.env
            raise SettingsError(f"{source}: {raw!r} is not valid ({exc})") from None
    return Settings(**values)
