"""ClickHouse schema: the migrations, and the DDL of the declared tables.

Each migration is a function giving its statements (``{db}`` stands for the validated database
identifier), append-only: never edit an applied one. Statements must be idempotent (IF NOT
EXISTS), so a migration interrupted half way can simply run again. ``schema_version`` holds one
row per applied migration.

Declared tables: the columns of ``clicks``, ``events``, ``links`` and ``conversions`` come from
the fields of ``Click``, ``Event``, ``ShortLink`` and ``Conversion`` (``storage/columns.py``),
their types from :data:`CLICKHOUSE_TYPES`, tuned per table where ClickHouse pays for it:
narrower integers (:data:`CLICK_TYPES`) and ``LowCardinality`` for text of few distinct values
(:data:`CLICK_LOW_CARDINALITY`). The migration that creates a declared table (1 for clicks and
events, 5 for links and conversions) leaves out the columns a later :class:`AddColumns`
migration adds, so a fresh database and an old one reach the same table. A new field:
``AddColumns("clicks", ("page_title",))`` appended to ``MIGRATIONS``. Sort keys, partitions,
skip indexes and codecs stay written out below.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import msgspec

from ..columns import Column, Kind, columns, without
from ..model import CLICK_FACTS, NETWORK_FACTS, Click, Conversion, Event, ShortLink
from ..rows import json_text

TIME = "DateTime64(3, 'UTC')"

CLICKHOUSE_TYPES: dict[Kind, str] = {
    "text": "String",
    "int": "Int64",
    "float": "Float64",
    "bool": "Bool",
    "time": TIME,  # exact ms; written and read as int ms (connection.py)
    "map": "Map(String, String)",
    "json": "String",  # JSON text
}


@dataclass(frozen=True)
class Tuning:
    """How a declared table departs from the plain types: a type per column (before Nullable),
    and the text columns stored as LowCardinality."""

    types: Mapping[str, str]
    low_cardinality: frozenset[str]


CLICK_TYPES = {
    "brand_id": "UInt64",
    "domain_id": "UInt64",
    "viewport_width": "Int32",
    "viewport_height": "Int32",
}
CLICK_LOW_CARDINALITY = frozenset(
    {
        "trigger",
        "ad_network",
        "referrer_type",
        "referrer_name",
        "country",
        "region",
        "city",
        "time_zone",
        "continent",
        "isp",
        "device_type",
        "device_brand",
        "device_model",
        "os",
        "os_version",
        "browser",
        "browser_version",
        "language",
        "organization",
        "connection_type",
        "mobile_carrier",
        "proxy_type",
        "bot_reason",
    }
)
LINK_LOW_CARDINALITY = frozenset({"domain", "base_url", "folder"})
# A conversion's copy of its click's facts (CLICK_FACTS) is stored as the click's is.
CONVERSION_LOW_CARDINALITY = frozenset(
    {"kind", "event_name", "currency", "payment_processor", "sale_type"}
) | (CLICK_LOW_CARDINALITY & frozenset(CLICK_FACTS))
DECLARED: dict[str, tuple[type[msgspec.Struct], Tuning]] = {
    "clicks": (Click, Tuning(CLICK_TYPES, CLICK_LOW_CARDINALITY)),
    "events": (Event, Tuning({"brand_id": "UInt64"}, frozenset({"type"}))),
    "links": (ShortLink, Tuning({"brand_id": "UInt64"}, LINK_LOW_CARDINALITY)),
    "conversions": (Conversion, Tuning({"brand_id": "UInt64"}, CONVERSION_LOW_CARDINALITY)),
}


def column_type(column: Column, tuning: Tuning) -> str:
    """The ClickHouse type of a declared column."""
    sql = tuning.types.get(column.name, CLICKHOUSE_TYPES[column.kind])
    if column.nullable:
        sql = f"Nullable({sql})"
    if column.name in tuning.low_cardinality:
        sql = f"LowCardinality({sql})"
    return sql


def _default_sql(column: Column) -> str:
    """`` DEFAULT value`` that gives the rows a column is added to the field's default."""
    if column.nullable or column.default is msgspec.NODEFAULT or column.kind == "map":
        return ""  # NULL, or ClickHouse's own default (an empty map)
    value = json_text(column.default) if column.kind == "json" else column.default
    if isinstance(value, str):
        return " DEFAULT '" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    return f" DEFAULT {int(value) if isinstance(value, bool) else value}"


@dataclass(frozen=True)
class AddColumns:
    """A migration adding fields of a declared table's struct as columns; existing rows get the
    field's default."""

    table: str
    names: tuple[str, ...]

    def __call__(self) -> list[str]:
        struct, tuning = DECLARED[self.table]
        by_name = {c.name: c for c in columns(struct)}
        return [
            f"ALTER TABLE {{db}}.{self.table} ADD COLUMN IF NOT EXISTS `{name}`"
            f" {column_type(by_name[name], tuning)}{_default_sql(by_name[name])}"
            for name in self.names
        ]


def initial_columns_sql(table: str) -> str:
    """The column list the migration that creates a declared table gives it: all but those
    later migrations add."""
    later = [
        n for m in MIGRATIONS if isinstance(m, AddColumns) and m.table == table for n in m.names
    ]
    struct, tuning = DECLARED[table]
    declared: Sequence[Column] = without(columns(struct), later)
    return ", ".join(f"`{c.name}` {column_type(c, tuning)}" for c in declared)


def _migration_1() -> list[str]:
    """Brands, keys, domains, clicks and events."""
    return [
        "CREATE TABLE IF NOT EXISTS {db}.brands ("
        " id UInt64, name String, site_key String, domains Array(String),"
        f" settings String, created_at {TIME}, version UInt64"
        ") ENGINE = ReplacingMergeTree(version) ORDER BY id",
        "CREATE TABLE IF NOT EXISTS {db}.api_keys ("
        " id String, brand_id UInt64, scope LowCardinality(String), key_hash String,"
        f" created_at {TIME}"
        ") ENGINE = ReplacingMergeTree ORDER BY id",
        "CREATE TABLE IF NOT EXISTS {db}.domains ("
        " brand_id UInt64, domain String, id UInt64"
        ") ENGINE = ReplacingMergeTree ORDER BY (brand_id, domain)",
        f"CREATE TABLE IF NOT EXISTS {{db}}.clicks ({initial_columns_sql('clicks')},"
        " INDEX clicks_id id TYPE bloom_filter(0.001) GRANULARITY 1,"
        " INDEX clicks_session session_id TYPE bloom_filter(0.001) GRANULARITY 1,"
        " INDEX clicks_visitor visitor_id TYPE bloom_filter(0.001) GRANULARITY 1"
        ") ENGINE = MergeTree PARTITION BY toYYYYMM(created_at)"
        " ORDER BY (brand_id, created_at, id)",
        f"CREATE TABLE IF NOT EXISTS {{db}}.events ({initial_columns_sql('events')},"
        " INDEX events_click click_id TYPE bloom_filter(0.001) GRANULARITY 1"
        ") ENGINE = MergeTree PARTITION BY toYYYYMM(timestamp)"
        " ORDER BY (brand_id, session_id, timestamp, seq)",
    ]


def _migration_2() -> list[str]:
    """Session replay: live chunks, compacted segments, dictionaries, asset links, secrets."""
    return [
        # Live chunks, one row each; ``stored_bytes`` = length(body), so summaries never read
        # bodies. Compacted chunks are deleted (lightweight DELETE) once their segments exist;
        # until then readers skip them (seq <= the segments' upto_seq).
        "CREATE TABLE IF NOT EXISTS {db}.replay_chunks ("
        " brand_id UInt64, replay_id String, seq Int64, session_id String,"
        " page_session_id String, visitor_id String, url String,"
        f" received_at {TIME}, first_ts Int64, last_ts Int64, event_count UInt32,"
        " viewport_width Nullable(Int32), viewport_height Nullable(Int32),"
        " raw_bytes UInt64, stored_bytes UInt64, body String CODEC(NONE),"
        " INDEX replay_chunks_session session_id TYPE bloom_filter(0.001) GRANULARITY 1"
        ") ENGINE = MergeTree ORDER BY (brand_id, replay_id, seq)",
        # Segments of one compaction form a generation: every row carries the generation, the
        # seq it covers up to, how many segments it has and the replay's header (the chunks it
        # came from are deleted). Readers use the complete generation with the highest
        # (upto_seq, generation); see replays.py.
        "CREATE TABLE IF NOT EXISTS {db}.replay_segments ("
        " brand_id UInt64, replay_id String, generation UInt64, upto_seq Int64,"
        " segment_count UInt32, idx UInt32, first_ts Int64, last_ts Int64, event_count UInt32,"
        " raw_bytes UInt64, stored_bytes UInt64, dict_id Nullable(UInt64),"
        " body String CODEC(NONE),"
        " session_id String, page_session_id String, visitor_id String, url String,"
        " started_at Int64, ended_at Int64,"
        " viewport_width Nullable(Int32), viewport_height Nullable(Int32),"
        f" updated_at {TIME},"
        " INDEX replay_segments_session session_id TYPE bloom_filter(0.001) GRANULARITY 1"
        ") ENGINE = MergeTree ORDER BY (brand_id, replay_id, generation, idx)",
        "CREATE TABLE IF NOT EXISTS {db}.replay_dicts ("
        f" id UInt64, brand_id UInt64, created_at {TIME}, body String CODEC(NONE)"
        ") ENGINE = MergeTree ORDER BY (brand_id, id)",
        "CREATE TABLE IF NOT EXISTS {db}.replay_assets ("
        f" brand_id UInt64, replay_id String, url String, sha256 String, linked_at {TIME}"
        ") ENGINE = MergeTree ORDER BY (brand_id, replay_id, url)",
        # Deduplication by insert token makes "the first secret stored wins" (brands.py).
        "CREATE TABLE IF NOT EXISTS {db}.secrets ("
        f" name String, value String, created_at {TIME}"
        ") ENGINE = MergeTree ORDER BY name"
        " SETTINGS non_replicated_deduplication_window = 1000",
    ]


# Each migration gives the statements to run, ``{db}`` still to be filled in (connection.py).
def _migration_3() -> list[str]:
    """A replay segment's codec (collector/replay/codec.py); segments stored before are JSON."""
    return ["ALTER TABLE {db}.replay_segments ADD COLUMN IF NOT EXISTS codec UInt8 DEFAULT 0"]


def _migration_5() -> list[str]:
    """Short links, the codes nobody answers, conversions (leads and sales); see links.py and
    conversions.py for how each table stands in for SQLite's unique keys."""
    bloom = "TYPE bloom_filter(0.001) GRANULARITY 1"
    return [
        # One row per saved version of a link; FINAL keeps the highest updated_at (the last
        # inserted of equal ones). A link's brand, id and code never change.
        f"CREATE TABLE IF NOT EXISTS {{db}}.links ({initial_columns_sql('links')},"
        f" INDEX links_code code {bloom}"
        ") ENGINE = ReplacingMergeTree(updated_at) ORDER BY (brand_id, id)",
        # Merges add up the counts and keep the latest request; reads still GROUP BY.
        "CREATE TABLE IF NOT EXISTS {db}.link_misses ("
        " brand_id UInt64, code String, n SimpleAggregateFunction(sum, UInt64),"
        f" last_at SimpleAggregateFunction(max, {TIME})"
        ") ENGINE = AggregatingMergeTree ORDER BY (brand_id, code)",
        f"CREATE TABLE IF NOT EXISTS {{db}}.conversions ({initial_columns_sql('conversions')},"
        f" INDEX conversions_dedupe dedupe_key {bloom},"
        f" INDEX conversions_session session_id {bloom},"
        f" INDEX conversions_customer customer_external_id {bloom},"
        f" INDEX conversions_click click_id {bloom}"
        ") ENGINE = MergeTree PARTITION BY toYYYYMM(created_at)"
        " ORDER BY (brand_id, created_at, id)",
        # link_clicks: parts written from now on (and merged ones) skip granules by link id.
        f"ALTER TABLE {{db}}.clicks ADD INDEX IF NOT EXISTS clicks_link link_id {bloom}",
    ]


def _migration_6() -> list[str]:
    """Clicks by external id: a bloom filter (identify events are found through ``events``)."""
    return [
        "ALTER TABLE {db}.clicks ADD INDEX IF NOT EXISTS clicks_external_id external_id"
        " TYPE bloom_filter(0.001) GRANULARITY 1"
    ]


def _migration_9() -> list[str]:
    """SQLite's analytics rollups (``sqlite/rollups.py``) have nothing to match here: ClickHouse
    answers the events API from the raw columns (``analytics.py``). Kept so that both engines
    count the same migrations."""
    return []


def _migration_10() -> list[str]:
    """Dashboard users (issue 12): users (one row per saved version, FINAL keeps the last; the
    email's uniqueness is checked under the store's lock by ``email_key``), sign-in sessions by
    the sha256 of their token (deleted on sign-out), and API keys' last use (the latest row per
    key wins, so recording a use never rewrites the key itself). A revoked key is deleted."""
    return [
        "CREATE TABLE IF NOT EXISTS {db}.users ("
        " id UInt64, email String, email_key String, password_hash String,"
        f" role LowCardinality(String), brands Array(UInt64), created_at {TIME}"
        ") ENGINE = ReplacingMergeTree ORDER BY id",
        "CREATE TABLE IF NOT EXISTS {db}.login_sessions ("
        f" token_hash String, user_id UInt64, csrf_token String, created_at {TIME},"
        f" expires_at {TIME}"
        ") ENGINE = MergeTree ORDER BY token_hash",
        "CREATE TABLE IF NOT EXISTS {db}.api_key_uses ("
        f" key_id String, last_used_at {TIME}"
        ") ENGINE = ReplacingMergeTree(last_used_at) ORDER BY key_id",
    ]


def _migration_11() -> list[str]:
    """SQLite's index of custom events (funnels, issue 12) has nothing to match here: a funnel
    reads a brand's events of the range's months. Kept so that both engines count the same
    migrations."""
    return []


def _migration_12() -> list[str]:
    """Clickstream webhooks (issue 13): destinations (one row per saved version, FINAL keeps
    the highest ``version``; a deleted destination's rows are removed by a DELETE that is waited
    for) and the delivery log (one row per attempt). The outbox and its cursors are not here:
    each collector keeps them in a local SQLite file (``outbox.py``)."""
    return [
        "CREATE TABLE IF NOT EXISTS {db}.webhook_destinations ("
        " id String, brand_id UInt64, url String, method LowCardinality(String),"
        " header_key Nullable(String), header_value Nullable(String), secret String,"
        " public_key String, events Array(LowCardinality(String)), enabled Bool,"
        f" disabled_reason Nullable(String), disabled_at Nullable({TIME}),"
        f" failing_since Nullable({TIME}), created_at {TIME}, updated_at {TIME}, version UInt64"
        ") ENGINE = ReplacingMergeTree(version) ORDER BY (brand_id, id)",
        "CREATE TABLE IF NOT EXISTS {db}.webhook_deliveries ("
        " id String, brand_id UInt64, dest_id String, batch_id String, attempt UInt32,"
        " items UInt32, kinds Array(LowCardinality(String)), status Nullable(Int32),"
        " error Nullable(String), latency_ms Int64, response String,"
        f" attempted_at {TIME}, next_attempt_at Nullable({TIME}),"
        " outcome LowCardinality(String)"
        ") ENGINE = MergeTree ORDER BY (brand_id, dest_id, attempted_at, id)",
    ]


def _migration_exports() -> list[str]:
    """CSV export jobs (issue 14, ``exports.py``): one row per saved version, FINAL keeps the
    highest ``version``; an expired job's rows are removed by a DELETE."""
    return [
        "CREATE TABLE IF NOT EXISTS {db}.export_jobs ("
        " id String, brand_id UInt64, status LowCardinality(String), columns Array(String),"
        " filters Map(String, String), click_codes Nullable(String), rows UInt64,"
        f" error Nullable(String), created_at {TIME}, started_at Nullable({TIME}),"
        f" finished_at Nullable({TIME}), expires_at Nullable({TIME}), version UInt64"
        ") ENGINE = ReplacingMergeTree(version) ORDER BY (brand_id, id)",
    ]


def _migration_key_labels() -> list[str]:
    """A label per API key (issue 16): what made it ("demo" keys are revoked at the demo's next
    start) or what it is for."""
    return ["ALTER TABLE {db}.api_keys ADD COLUMN IF NOT EXISTS label String DEFAULT ''"]


MIGRATIONS: list[Callable[[], list[str]]] = [
    _migration_1,
    _migration_2,
    _migration_3,
    AddColumns("clicks", ("link_id", "is_repeat")),
    _migration_5,
    _migration_6,
    # No backfill: conversions stored before keep the defaults (docs/DECISIONS.md, issue 11).
    AddColumns("conversions", CLICK_FACTS),
    AddColumns("links", ("group_id", "partner_id")),
    _migration_9,
    _migration_10,
    _migration_11,
    _migration_12,
    AddColumns("clicks", NETWORK_FACTS),
    _migration_exports,
    _migration_key_labels,
    AddColumns("clicks", ("bot_reason",)),
]
SCHEMA_VERSION = len(MIGRATIONS)
