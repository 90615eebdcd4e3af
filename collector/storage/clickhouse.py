"""ClickHouse storage engine through clickhouse-connect: a server (``clickhouse://``) or the
embedded chDB engine (``chdb://``, registered with clickhouse-connect when ``chdb`` is installed).

Layout (all tables in one database, ``clicktrail`` unless the URL names another):

- ``clicks``: MergeTree, ``PARTITION BY toYYYYMM(created_at)`` (retention drops old months),
  ``ORDER BY (brand_id, created_at, id)``: the clicks list reads a brand's newest rows in key order
  and stops after a page; the trailing ``id`` is the list's tie-break, so even ties need no sort.
  Bloom-filter skip indexes on ``id``, ``session_id`` and ``visitor_id`` serve the click detail,
  the session detail, the visitor filter and ``last_session`` without a scan of the brand.
- ``events``: MergeTree ``ORDER BY (brand_id, session_id, timestamp, seq)``. A session's events
  are one contiguous key range already in display order, so the session detail is a primary-key
  read with no sort. Session ids are time-ordered, which keeps recent sessions together. A
  click's events lie inside its session's range, so the click detail (bloom filter on
  ``click_id``) touches only a granule or two.
- ``brands``, ``api_keys``, ``domains``: ReplacingMergeTree, read with ``FINAL``; an update is a
  newer row (``brands.version``), identical re-inserts (domains) collapse.
- ``schema_version``: one row per applied migration; the schema version is ``max(version)``.
- Replays (migration 2): ``replay_chunks`` (one row per live chunk, ``ORDER BY (brand_id,
  replay_id, seq)``), ``replay_segments`` (compacted segments, ``ORDER BY (brand_id, replay_id,
  generation, idx)``), ``replay_dicts``, ``replay_assets`` and ``secrets``. There is no summary
  row: a replay's summary adds up its chunk heads and its segment generation (never the bodies:
  both tables keep ``stored_bytes``), a few rows per replay.

Replay chunks: write_batch skips a chunk whose (brand, replay, seq) is stored or whose seq is at
or below the replay's highest segment ``upto_seq`` (one query each, under the write lock).
A batch is three inserts, not one transaction, so they go in the order that makes a retry safe:
chunks and clicks (both skipped when already stored) before events (not deduplicated), which go
last: a batch that fails part-way and is written again stores each row once. As for clicks, only
two collectors writing the same chunk at the same instant can store it twice; reads take one row
per seq (``LIMIT 1 BY``).

Compaction without transactions: the segments of one compaction are a *generation* (a
``_next_version`` number); every row carries the generation, its ``upto_seq`` and its
``segment_count``. A generation is complete when it has ``segment_count`` distinct idx, and
readers use the complete generation with the highest ``(upto_seq, generation)``, plus the
chunks with ``seq > upto_seq``. :meth:`ClickHouseStore.compact_replay` (1) inserts the new
generation (an insert may land as several parts; until the last one is there the generation is
incomplete and invisible), then (2) deletes older generations and the chunks it covers with
lightweight ``DELETE`` (not waited for: readers already skip them). A reader therefore sees the
old parts or the new ones, never a mix; :meth:`ClickHouseStore.replay_parts` reads the
generation again after its reads and starts over if a compaction switched it meanwhile (the
chunks it read might have been deleted). A compaction with a lower ``upto_seq`` than the current
one is ignored, so a slow compactor cannot bring back fewer chunks.

Secrets: the first process to create a secret wins through insert deduplication: every process
inserts its random candidate with the same ``insert_deduplication_token`` into a table with a
deduplication window, ClickHouse keeps the first block and drops the others, and everyone reads
back the kept value.

Times are ``DateTime64(3, 'UTC')``: exact milliseconds, readable in ``clickhouse-client`` and usable
by ClickHouse's date functions and partitioning. The store writes Python ``int`` milliseconds
(clickhouse-connect writes an int as the raw tick count) and reads them back as ints
(``query_formats={"DateTime64*": "int"}``), so callers only ever see ms integers.

Duplicate clicks ("a click whose id is already stored is ignored"): ClickHouse has no unique key,
so :meth:`ClickHouseStore.write_batch` drops ids it wrote recently (a bounded in-process set) and,
for the rest, asks the table which ids already exist (a bloom-filter lookup) before inserting,
all under the store's write lock. Only two collectors writing the same new click id at the same
instant can still store it twice; reads that return rows stay exact anyway (``LIMIT 1 BY id``),
and only the list's ``total`` could count such a twin.

Atomicity: ClickHouse has no multi-table transaction. Each ``INSERT`` block is atomic, clicks are
inserted before events, and a retried batch does not duplicate its clicks (above). Durability: an
insert returns once its part is written; like SQLite's WAL with ``synchronous=NORMAL`` that
survives a killed process (a server's ``fsync_after_insert`` setting extends it to power loss).

Threads: the clickhouse-connect client is shared; the HTTP client runs without a session id (so
concurrent queries do not collide on a locked session) and the chDB client serialises calls on
its handle itself. A lock also guards write_batch and id allocation.

chDB in one process: the embedded engine opens one data path per process. Several clients on the
same path share it (each with its own current database); opening another path while a client is
open raises ``ProgrammingError``; once all clients are closed another path can be opened. Tests
therefore keep one path per test session and give each test its own database
(``chdb:///path?database=NAME``), removed with :meth:`ClickHouseStore.drop_database`.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets as _random
import threading
import time
from collections import OrderedDict
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlparse

import msgspec

from .base import (
    SORT_COLUMNS,
    ApiKey,
    Brand,
    BrandSettings,
    Click,
    ClickQuery,
    Event,
    Replay,
    ReplayChunk,
    ReplayPart,
    ReplaySegment,
)
from .rows import event_from_row, text

DEFAULT_DATABASE = "clicktrail"
RECENT_CLICK_IDS = 200_000  # ids remembered per process to skip re-sent clicks cheaply

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_INT_TIMES = {"DateTime64*": "int"}
# Rows the API shows read text as bytes, decoded with U+FFFD for invalid UTF-8 (rows.text);
# clickhouse-connect would otherwise show such a string as hex.
_TEXT_AS_BYTES = {**_INT_TIMES, "String": "bytes"}

_json_encode = msgspec.json.Encoder().encode
_decode_settings = msgspec.json.Decoder(BrandSettings).decode

CLICK_FIELDS: tuple[str, ...] = Click.__struct_fields__
_QUERY_INDEX = CLICK_FIELDS.index("query")

_TIME = "DateTime64(3, 'UTC')"
_NS = "Nullable(String)"
_LCNS = "LowCardinality(Nullable(String))"

# The clicks columns as migration 1 created them. Frozen: a new Click field needs a new migration
# (``ALTER TABLE ... ADD COLUMN``); inserts name every Click field, so a missing column fails
# loudly instead of dropping data.
_CLICK_COLUMNS_V1: dict[str, str] = {
    "id": "String",
    "brand_id": "UInt64",
    "session_id": "String",
    "visitor_id": "String",
    "created_at": _TIME,
    "trigger": "LowCardinality(String)",
    "ip_address": _NS,
    "url": "String",
    "domain_id": "Nullable(UInt64)",
    "funnel_id": "Nullable(Int64)",
    **{f"sub{n}": _NS for n in range(1, 6)},
    "affiliate": _NS,
    "external_id": _NS,
    **{f"utm_{part}": _NS for part in ("source", "medium", "campaign", "term", "content")},
    "ad_click_id": _NS,
    "ad_network": _LCNS,
    "query": "Map(String, String)",
    "referrer": _NS,
    "referrer_host": _NS,
    "referrer_type": "LowCardinality(String)",
    "referrer_name": _LCNS,
    "country": _LCNS,
    "region": _LCNS,
    "city": _LCNS,
    "zip": _NS,
    "lat": "Nullable(Float64)",
    "lon": "Nullable(Float64)",
    "time_zone": _LCNS,
    "continent": _LCNS,
    "asn": "Nullable(Int64)",
    "isp": _LCNS,
    "device_type": _LCNS,
    "device_brand": _LCNS,
    "device_model": _LCNS,
    "os": _LCNS,
    "os_version": _LCNS,
    "browser": _LCNS,
    "browser_version": _LCNS,
    "user_agent": _NS,
    "language": _LCNS,
    "viewport_width": "Nullable(Int32)",
    "viewport_height": "Nullable(Int32)",
    "is_bot": "Bool",
}
_EVENT_COLUMNS_V1: dict[str, str] = {
    "brand_id": "UInt64",
    "click_id": "String",
    "session_id": "String",
    "type": "LowCardinality(String)",
    "url": _NS,
    "timestamp": _TIME,
    "seq": "Int64",
    "data": "String",  # JSON object
}
_EVENT_FIELDS = tuple(_EVENT_COLUMNS_V1)


def _event_values(e: Event) -> tuple[Any, ...]:
    data = _json_encode(e.data).decode()
    return (e.brand_id, e.click_id, e.session_id, e.type, e.url, e.timestamp, e.seq, data)


_CLICK_COLUMNS_SQL = ", ".join(f"`{name}`" for name in CLICK_FIELDS)
_EVENT_COLUMNS_SQL = ", ".join(f"`{name}`" for name in _EVENT_FIELDS)
_BRAND_COLUMNS_SQL = "id, name, site_key, domains, settings, created_at"


def domain_id(brand_id: int, domain: str) -> int:
    """A domain's id: 52 bits of a hash of (brand, domain), so every collector computes the same
    id without coordination, and it stays exact in JavaScript numbers."""
    digest = hashlib.blake2b(f"{brand_id}\x00{domain}".encode(), digest_size=8).digest()
    return (int.from_bytes(digest, "big") >> 12) or 1


def split_url(url: str) -> tuple[str, str]:
    """(clickhouse-connect DSN without the database, database name) of a store URL. The store
    connects without the database and creates it if missing."""
    parsed = urlparse(url)
    scheme = parsed.scheme.lower()
    if scheme not in ("clickhouse", "chdb"):
        raise ValueError(f"not a ClickHouse URL: {url!r}")
    params = parse_qsl(parsed.query, keep_blank_values=True)
    database = next((v for k, v in params if k == "database"), None)
    query = urlencode([(k, v) for k, v in params if k != "database"])
    if scheme == "chdb" and not parsed.netloc:
        # chdb:///abs/path: the whole path is the engine's data directory
        if not parsed.path:
            raise ValueError(f"bad chDB URL {url!r}: expected chdb:///path/to/data")
        dsn = f"chdb://{parsed.path}"
    else:
        # clickhouse://user:pass@host:port/db or chdb://memory/db: the path names the database
        database = database or (parsed.path.strip("/").split("/")[0] or None)
        dsn = f"{scheme}://{parsed.netloc}"
    if query:
        dsn += f"?{query}"
    database = database or DEFAULT_DATABASE
    if not _IDENTIFIER.match(database):
        raise ValueError(f"bad ClickHouse database name {database!r} in {url!r}")
    return dsn, database


def _columns_sql(columns: dict[str, str]) -> str:
    return ", ".join(f"`{name}` {type_}" for name, type_ in columns.items())


# --- migrations ------------------------------------------------------------------------------
# Each migration is a list of statements; ``{db}`` is the (validated) database identifier. They
# must be idempotent (IF NOT EXISTS), so a migration interrupted half way can simply run again.

MIGRATIONS: list[list[str]] = [
    [
        "CREATE TABLE IF NOT EXISTS {db}.brands ("
        " id UInt64, name String, site_key String, domains Array(String),"
        f" settings String, created_at {_TIME}, version UInt64"
        ") ENGINE = ReplacingMergeTree(version) ORDER BY id",
        "CREATE TABLE IF NOT EXISTS {db}.api_keys ("
        " id String, brand_id UInt64, scope LowCardinality(String), key_hash String,"
        f" created_at {_TIME}"
        ") ENGINE = ReplacingMergeTree ORDER BY id",
        "CREATE TABLE IF NOT EXISTS {db}.domains ("
        " brand_id UInt64, domain String, id UInt64"
        ") ENGINE = ReplacingMergeTree ORDER BY (brand_id, domain)",
        f"CREATE TABLE IF NOT EXISTS {{db}}.clicks ({_columns_sql(_CLICK_COLUMNS_V1)},"
        " INDEX clicks_id id TYPE bloom_filter(0.001) GRANULARITY 1,"
        " INDEX clicks_session session_id TYPE bloom_filter(0.001) GRANULARITY 1,"
        " INDEX clicks_visitor visitor_id TYPE bloom_filter(0.001) GRANULARITY 1"
        ") ENGINE = MergeTree PARTITION BY toYYYYMM(created_at)"
        " ORDER BY (brand_id, created_at, id)",
        f"CREATE TABLE IF NOT EXISTS {{db}}.events ({_columns_sql(_EVENT_COLUMNS_V1)},"
        " INDEX events_click click_id TYPE bloom_filter(0.001) GRANULARITY 1"
        ") ENGINE = MergeTree PARTITION BY toYYYYMM(timestamp)"
        " ORDER BY (brand_id, session_id, timestamp, seq)",
    ],
    [
        # Live chunks, one row each; ``stored_bytes`` = length(body), so summaries never read
        # bodies. Compacted chunks are deleted (lightweight DELETE) once their segments exist;
        # until then readers skip them (seq <= the segments' upto_seq).
        "CREATE TABLE IF NOT EXISTS {db}.replay_chunks ("
        " brand_id UInt64, replay_id String, seq Int64, session_id String,"
        " page_session_id String, visitor_id String, url String,"
        f" received_at {_TIME}, first_ts Int64, last_ts Int64, event_count UInt32,"
        " viewport_width Nullable(Int32), viewport_height Nullable(Int32),"
        " raw_bytes UInt64, stored_bytes UInt64, body String CODEC(NONE),"
        " INDEX replay_chunks_session session_id TYPE bloom_filter(0.001) GRANULARITY 1"
        ") ENGINE = MergeTree ORDER BY (brand_id, replay_id, seq)",
        # Segments of one compaction form a generation: every row carries the generation, the
        # seq it covers up to, how many segments it has and the replay's header (the chunks it
        # came from are deleted). Readers use the complete generation with the highest
        # (upto_seq, generation); see the module docstring.
        "CREATE TABLE IF NOT EXISTS {db}.replay_segments ("
        " brand_id UInt64, replay_id String, generation UInt64, upto_seq Int64,"
        " segment_count UInt32, idx UInt32, first_ts Int64, last_ts Int64, event_count UInt32,"
        " raw_bytes UInt64, stored_bytes UInt64, dict_id Nullable(UInt64),"
        " body String CODEC(NONE),"
        " session_id String, page_session_id String, visitor_id String, url String,"
        " started_at Int64, ended_at Int64,"
        " viewport_width Nullable(Int32), viewport_height Nullable(Int32),"
        f" updated_at {_TIME},"
        " INDEX replay_segments_session session_id TYPE bloom_filter(0.001) GRANULARITY 1"
        ") ENGINE = MergeTree ORDER BY (brand_id, replay_id, generation, idx)",
        "CREATE TABLE IF NOT EXISTS {db}.replay_dicts ("
        f" id UInt64, brand_id UInt64, created_at {_TIME}, body String CODEC(NONE)"
        ") ENGINE = MergeTree ORDER BY (brand_id, id)",
        "CREATE TABLE IF NOT EXISTS {db}.replay_assets ("
        f" brand_id UInt64, replay_id String, url String, sha256 String, linked_at {_TIME}"
        ") ENGINE = MergeTree ORDER BY (brand_id, replay_id, url)",
        # Deduplication by insert token makes "the first secret stored wins" (module docstring).
        "CREATE TABLE IF NOT EXISTS {db}.secrets ("
        f" name String, value String, created_at {_TIME}"
        ") ENGINE = MergeTree ORDER BY name"
        " SETTINGS non_replicated_deduplication_window = 1000",
    ],
]
SCHEMA_VERSION = len(MIGRATIONS)


# --- row conversion --------------------------------------------------------------------------


def _to_click(row: tuple[Any, ...]) -> Click:
    """A Click from a row of _CLICK_COLUMNS_SQL read by ``_text_rows`` (text as bytes)."""
    values = {name: text(value) for name, value in zip(CLICK_FIELDS, row, strict=True)}
    values["query"] = {text(k): text(v) for k, v in row[_QUERY_INDEX].items()}
    return Click(**values)


def _to_brand(row: tuple[Any, ...]) -> Brand:
    id_, name, site_key, domains, settings, created_at = row
    return Brand(
        id=id_,
        name=name,
        site_key=site_key,
        domains=list(domains),
        settings=_decode_settings(settings),
        created_at=created_at,
    )


REPLAY_FIELDS: tuple[str, ...] = Replay.__struct_fields__
_CHUNK_COLUMNS = (
    "brand_id",
    "replay_id",
    "seq",
    "session_id",
    "page_session_id",
    "visitor_id",
    "url",
    "received_at",
    "first_ts",
    "last_ts",
    "event_count",
    "viewport_width",
    "viewport_height",
    "raw_bytes",
    "stored_bytes",
    "body",
)
_SEGMENT_COLUMNS = (
    "brand_id",
    "replay_id",
    "generation",
    "upto_seq",
    "segment_count",
    "idx",
    "first_ts",
    "last_ts",
    "event_count",
    "raw_bytes",
    "stored_bytes",
    "dict_id",
    "body",
    "session_id",
    "page_session_id",
    "visitor_id",
    "url",
    "started_at",
    "ended_at",
    "viewport_width",
    "viewport_height",
    "updated_at",
)
_BYTES = {"body": "bytes"}
# The newest complete generation of each replay's segments, with the totals of that generation
# and the replay header it carries. ``{ids}``: the replays asked for.
_GENERATIONS_SQL = (
    "SELECT replay_id, generation, upto_seq, sum(event_count), sum(raw_bytes),"
    " sum(stored_bytes), any(session_id), any(page_session_id), any(visitor_id),"
    " toValidUTF8(any(url)),"
    " any(started_at), any(ended_at), any(viewport_width), any(viewport_height), any(updated_at)"
    " FROM (SELECT * EXCEPT body FROM {db}.replay_segments"
    "  WHERE brand_id = {brand:UInt64} AND replay_id IN {ids:Array(String)}"
    "  LIMIT 1 BY replay_id, generation, idx)"
    " GROUP BY replay_id, generation, upto_seq HAVING count() = any(segment_count)"
    " ORDER BY replay_id, upto_seq DESC, generation DESC LIMIT 1 BY replay_id"
)
_CHUNK_HEADS_SQL = (
    "SELECT replay_id, seq, session_id, page_session_id, visitor_id, toValidUTF8(url), received_at,"
    " first_ts, last_ts, event_count, viewport_width, viewport_height, raw_bytes, stored_bytes"
    " FROM {db}.replay_chunks"
    " WHERE brand_id = {brand:UInt64} AND replay_id IN {ids:Array(String)}"
    " ORDER BY replay_id, seq LIMIT 1 BY replay_id, seq"
)

# (replay_id, updated_at) of every replay of ``{brand}``
_BRAND_REPLAYS_SQL = (
    "SELECT replay_id, max(t) AS updated FROM ("
    " SELECT replay_id, received_at AS t FROM {db}.replay_chunks WHERE brand_id = {brand:UInt64}"
    " UNION ALL SELECT replay_id, updated_at FROM {db}.replay_segments"
    "  WHERE brand_id = {brand:UInt64}) GROUP BY replay_id"
)


def _summarise(
    brand_id: int,
    replay_id: str,
    generation: tuple[Any, ...] | None,
    chunks: list[tuple[Any, ...]],
) -> Replay | None:
    """A Replay from its newest complete segment generation (a row of _GENERATIONS_SQL) and its
    chunk heads (rows of _CHUNK_HEADS_SQL in seq order); compacted chunks are skipped."""
    upto = generation[2] if generation else -1
    live = [c for c in chunks if c[1] > upto]
    if generation is None and not live:
        return None
    replay = Replay(
        id=replay_id,
        brand_id=brand_id,
        session_id="",
        page_session_id="",
        visitor_id="",
        url="",
        started_at=2**62,
        ended_at=-(2**62),
        compacted_seq=upto,
    )
    if generation is not None:
        (_, _, _, n, raw, stored, session, page, visitor, url, start, end, vw, vh, updated) = (
            generation
        )
        replay.session_id, replay.page_session_id, replay.visitor_id, replay.url = (
            session,
            page,
            visitor,
            url,
        )
        replay.started_at, replay.ended_at = start, end
        replay.viewport_width, replay.viewport_height = vw, vh
        replay.event_count, replay.raw_bytes, replay.stored_bytes = int(n), int(raw), int(stored)
        replay.updated_at = updated
    elif live:
        replay.session_id, replay.page_session_id, replay.visitor_id, replay.url = live[0][2:6]
    for c in live:
        (_, _, _, _, _, _, received, first, last, n, vw, vh, raw, stored) = c
        if replay.viewport_width is None and vw is not None:
            replay.viewport_width, replay.viewport_height = vw, vh
        replay.started_at = min(replay.started_at, first)
        replay.ended_at = max(replay.ended_at, last)
        replay.event_count += n
        replay.raw_bytes += raw
        replay.stored_bytes += stored
        replay.live_chunks += 1
        replay.updated_at = max(replay.updated_at, received)
    return replay


# --- the store -------------------------------------------------------------------------------


class ClickHouseStore:
    """The :class:`~collector.storage.base.Store` on a ClickHouse database."""

    local_reads = False  # every read is a query of milliseconds (chDB) or a network round trip

    def __init__(self, client: Any, database: str = DEFAULT_DATABASE, url: str = "") -> None:
        if not _IDENTIFIER.match(database):
            raise ValueError(f"bad ClickHouse database name {database!r}")
        self.client = client
        self.database = database
        self.url = url
        self._db = f"`{database}`"
        self._lock = threading.RLock()
        self._recent: OrderedDict[str, None] = OrderedDict()
        self._domain_ids: dict[tuple[int, str], int] = {}
        self._last_version = 0
        self._column_types: dict[str, dict[str, str]] = {}
        self._secrets: dict[str, bytes] = {}

    @classmethod
    def from_url(cls, url: str) -> ClickHouseStore:
        """``clickhouse://user:pass@host:8123/db[?secure=true]`` or ``chdb:///path[?database=db]``
        (``chdb://memory/db`` also works). The database defaults to ``clicktrail``."""
        import clickhouse_connect

        dsn, database = split_url(url)
        if dsn.startswith("chdb:"):
            client = clickhouse_connect.get_client(dsn=dsn)
        else:
            # no session id: concurrent queries from several threads would collide on it
            client = clickhouse_connect.get_client(dsn=dsn, autogenerate_session_id=False)
        return cls(client, database, url)

    # helpers -----------------------------------------------------------------------------
    def _rows(
        self,
        sql: str,
        params: dict[str, Any] | None = None,
        column_formats: dict[str, str] | None = None,
    ) -> list[tuple[Any, ...]]:
        result = self.client.query(
            sql.replace("{db}", self._db),
            parameters=params or {},
            query_formats=_INT_TIMES,
            column_formats=column_formats,
        )
        return result.result_rows

    def _text_rows(self, sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        """As ``_rows``, with every String column as bytes (for ``_to_click`` and events)."""
        result = self.client.query(
            sql.replace("{db}", self._db), parameters=params, query_formats=_TEXT_AS_BYTES
        )
        return result.result_rows

    def _command(self, sql: str, params: dict[str, Any] | None = None) -> Any:
        return self.client.command(sql.replace("{db}", self._db), parameters=params or None)

    def _insert(
        self,
        table: str,
        columns: tuple[str, ...],
        rows: list[tuple[Any, ...]],
        settings: dict[str, Any] | None = None,
    ) -> None:
        # clickhouse-connect runs DESCRIBE TABLE before every insert unless given the column
        # types: read them once per table (migrate() forgets them).
        types = self._column_types.get(table)
        if types is None:
            types = dict(
                self._rows(
                    "SELECT name, type FROM system.columns"
                    " WHERE database = {db:String} AND table = {table:String}",
                    {"db": self.database, "table": table},
                )
            )
            self._column_types[table] = types
        missing = [c for c in columns if c not in types]
        if missing:
            raise RuntimeError(f"{self.database}.{table} has no column {missing}: add a migration")
        self.client.insert(
            table,
            rows,
            column_names=list(columns),
            column_type_names=[types[c] for c in columns],
            database=self.database,
            settings=settings,
        )

    def _next_version(self) -> int:
        with self._lock:
            self._last_version = max(self._last_version + 1, time.time_ns())
            return self._last_version

    # lifecycle ---------------------------------------------------------------------------
    def schema_version(self) -> int:
        rows = self._rows("SELECT max(version) FROM {db}.schema_version")
        return int(rows[0][0]) if rows else 0

    def migrate(self) -> None:
        with self._lock:
            self._column_types.clear()
            self._command(f"CREATE DATABASE IF NOT EXISTS {self._db}")
            self._command(
                "CREATE TABLE IF NOT EXISTS {db}.schema_version"
                f" (version UInt32, applied_at {_TIME}) ENGINE = MergeTree ORDER BY version"
            )
            version = self.schema_version()
            if version > SCHEMA_VERSION:
                raise RuntimeError(
                    f"database {self.database} has schema version {version}, newer than this "
                    f"Clicktrail ({SCHEMA_VERSION}); upgrade Clicktrail"
                )
            for number in range(version + 1, SCHEMA_VERSION + 1):
                for statement in MIGRATIONS[number - 1]:
                    self._command(statement)
                self._column_types.clear()
                self._insert(
                    "schema_version",
                    ("version", "applied_at"),
                    [(number, time.time_ns() // 1_000_000)],
                )

    def drop_database(self) -> None:
        """Delete the whole database (tests, and deliberate resets only)."""
        self._command(f"DROP DATABASE IF EXISTS {self._db} SYNC")

    def close(self) -> None:
        self.client.close()

    # brands and keys ---------------------------------------------------------------------
    def _write_brand(self, brand: Brand) -> None:
        self._insert(
            "brands",
            ("id", "name", "site_key", "domains", "settings", "created_at", "version"),
            [
                (
                    brand.id,
                    brand.name,
                    brand.site_key,
                    list(brand.domains),
                    _json_encode(brand.settings).decode(),
                    brand.created_at,
                    self._next_version(),
                )
            ],
        )

    def create_brand(
        self, name: str, site_key: str, domains: list[str], settings: BrandSettings, now: int
    ) -> Brand:
        with self._lock:
            if self.brand_by_site_key(site_key) is not None:
                raise ValueError(f"site key {site_key!r} is taken")
            rows = self._rows("SELECT max(id) FROM {db}.brands")
            brand = Brand(
                id=int(rows[0][0] or 0) + 1,
                name=name,
                site_key=site_key,
                domains=list(domains),
                settings=settings,
                created_at=now,
            )
            self._write_brand(brand)
        return brand

    def _brands(self, where: str = "", params: dict[str, Any] | None = None) -> list[Brand]:
        rows = self._rows(
            f"SELECT {_BRAND_COLUMNS_SQL} FROM {{db}}.brands FINAL {where} ORDER BY id", params
        )
        return [_to_brand(r) for r in rows]

    def get_brand(self, brand_id: int) -> Brand | None:
        found = self._brands("WHERE id = {id:UInt64}", {"id": brand_id})
        return found[0] if found else None

    def brand_by_site_key(self, site_key: str) -> Brand | None:
        found = self._brands("WHERE site_key = {key:String}", {"key": site_key})
        return found[0] if found else None

    def list_brands(self) -> list[Brand]:
        return self._brands()

    def update_brand(self, brand: Brand) -> None:
        with self._lock:
            current = self.get_brand(brand.id)
            if current is None:
                raise KeyError(f"no brand {brand.id}")
            self._write_brand(
                Brand(
                    id=current.id,
                    name=brand.name,
                    site_key=current.site_key,
                    domains=list(brand.domains),
                    settings=brand.settings,
                    created_at=current.created_at,
                )
            )

    def add_api_key(self, key: ApiKey) -> None:
        with self._lock:
            if self.api_key_by_id(key.id) is not None:
                raise ValueError(f"API key id {key.id!r} is taken")
            self._insert(
                "api_keys",
                ("id", "brand_id", "scope", "key_hash", "created_at"),
                [(key.id, key.brand_id, key.scope, key.key_hash, key.created_at)],
            )

    def api_key_by_id(self, key_id: str) -> ApiKey | None:
        rows = self._rows(
            "SELECT id, brand_id, scope, key_hash, created_at FROM {db}.api_keys FINAL"
            " WHERE id = {id:String}",
            {"id": key_id},
        )
        if not rows:
            return None
        id_, brand_id, scope, key_hash, created_at = rows[0]
        return ApiKey(
            id=id_, brand_id=brand_id, scope=scope, key_hash=key_hash, created_at=created_at
        )

    # domains -----------------------------------------------------------------------------
    def ensure_domain(self, brand_id: int, domain: str) -> int:
        key = (brand_id, domain)
        known = self._domain_ids.get(key)
        if known is not None:
            return known
        new_id = domain_id(brand_id, domain)
        rows = self._rows(
            "SELECT id FROM {db}.domains FINAL"
            " WHERE brand_id = {brand:UInt64} AND domain = {domain:String}",
            {"brand": brand_id, "domain": domain},
        )
        if not rows:
            # Idempotent: any collector writes the same row, ReplacingMergeTree keeps one.
            self._insert("domains", ("brand_id", "domain", "id"), [(brand_id, domain, new_id)])
        self._domain_ids[key] = new_id
        return new_id

    def domains_by_id(self, brand_id: int, ids: list[int]) -> dict[int, str]:
        if not ids:
            return {}
        rows = self._rows(
            "SELECT id, domain FROM {db}.domains FINAL"
            " WHERE brand_id = {brand:UInt64} AND id IN {ids:Array(UInt64)}",
            {"brand": brand_id, "ids": [int(i) for i in ids]},
        )
        return dict(rows)

    # ingest ------------------------------------------------------------------------------
    def _remember(self, ids: list[str]) -> None:
        recent = self._recent
        for click_id in ids:
            recent[click_id] = None
        while len(recent) > RECENT_CLICK_IDS:
            recent.popitem(last=False)

    def write_batch(
        self, clicks: list[Click], events: list[Event], chunks: list[ReplayChunk] | None = None
    ) -> None:
        if not clicks and not events and not chunks:
            return
        event_rows = [_event_values(e) for e in events]  # a row that cannot be encoded fails first
        with self._lock:
            if chunks:
                self._write_chunks(chunks)
            fresh: dict[str, Click] = {}
            for click in clicks:
                if click.id not in self._recent and click.id not in fresh:
                    fresh[click.id] = click
            if fresh:
                stored = self._rows(
                    "SELECT DISTINCT id FROM {db}.clicks"
                    " WHERE brand_id IN {brands:Array(UInt64)} AND id IN {ids:Array(String)}",
                    {
                        "brands": sorted({c.brand_id for c in fresh.values()}),
                        "ids": list(fresh),
                    },
                )
                for (click_id,) in stored:
                    fresh.pop(click_id, None)
            if fresh:
                self._insert(
                    "clicks",
                    CLICK_FIELDS,
                    [msgspec.structs.astuple(c) for c in fresh.values()],
                )
            self._remember([c.id for c in clicks])
            if event_rows:
                self._insert("events", _EVENT_FIELDS, event_rows)

    def _write_chunks(self, chunks: list[ReplayChunk]) -> None:
        """Insert the chunks not stored yet and above their replay's compacted seq (one insert,
        after clicks and events; see the module docstring)."""
        params = {
            "brands": sorted({c.brand_id for c in chunks}),
            "ids": sorted({c.replay_id for c in chunks}),
        }
        stored = {
            (b, r, q)
            for b, r, q in self._rows(
                "SELECT brand_id, replay_id, seq FROM {db}.replay_chunks"
                " WHERE brand_id IN {brands:Array(UInt64)} AND replay_id IN {ids:Array(String)}"
                " AND seq IN {seqs:Array(Int64)}",
                {**params, "seqs": sorted({c.seq for c in chunks})},
            )
        }
        compacted = {
            (b, r): upto
            for b, r, upto in self._rows(
                "SELECT brand_id, replay_id, max(upto_seq) FROM {db}.replay_segments"
                " WHERE brand_id IN {brands:Array(UInt64)} AND replay_id IN {ids:Array(String)}"
                " GROUP BY brand_id, replay_id",
                params,
            )
        }
        rows = []
        for c in chunks:
            key = (c.brand_id, c.replay_id, c.seq)
            if key in stored or c.seq <= compacted.get(key[:2], -1):
                continue
            stored.add(key)
            rows.append(
                (
                    c.brand_id,
                    c.replay_id,
                    c.seq,
                    c.session_id,
                    c.page_session_id,
                    c.visitor_id,
                    c.url,
                    c.received_at,
                    c.first_ts,
                    c.last_ts,
                    c.event_count,
                    c.viewport_width,
                    c.viewport_height,
                    c.raw_bytes,
                    len(c.body),
                    c.body,
                )
            )
        if rows:
            self._insert("replay_chunks", _CHUNK_COLUMNS, rows)

    def last_session(self, brand_id: int, visitor_id: str) -> tuple[str, int] | None:
        params = {"brand": brand_id, "visitor": visitor_id}
        rows = self._rows(
            "SELECT session_id FROM {db}.clicks"
            " WHERE brand_id = {brand:UInt64} AND visitor_id = {visitor:String}"
            " ORDER BY created_at DESC, id DESC LIMIT 1",
            params,
        )
        if not rows:
            return None
        session_id = rows[0][0]
        params = {"brand": brand_id, "session": session_id}
        (last_click, last_event) = self._rows(
            "SELECT"
            " (SELECT max(toUnixTimestamp64Milli(created_at)) FROM {db}.clicks"
            "  WHERE brand_id = {brand:UInt64} AND session_id = {session:String}),"
            " (SELECT max(toUnixTimestamp64Milli(timestamp)) FROM {db}.events"
            "  WHERE brand_id = {brand:UInt64} AND session_id = {session:String})",
            params,
        )[0]
        return session_id, max(int(last_click or 0), int(last_event or 0))

    # queries -----------------------------------------------------------------------------
    def list_clicks(self, brand_id: int, query: ClickQuery) -> tuple[int, list[Click]]:
        if query.sort not in SORT_COLUMNS:
            raise ValueError(f"cannot sort by {query.sort!r}")
        direction = "ASC" if query.direction == "asc" else "DESC"
        # SQLite's order: NULL is the smallest value
        nulls = "NULLS FIRST" if direction == "ASC" else "NULLS LAST"
        limit = max(0, int(query.limit))
        offset = max(0, int(query.offset))

        where = ["brand_id = {brand:UInt64}"]
        params: dict[str, Any] = {"brand": brand_id, "limit": limit, "offset": offset}
        if query.funnel_id is not None:
            where.append("funnel_id = {funnel:Int64}")
            params["funnel"] = query.funnel_id
        if query.url:
            # ASCII case-insensitive, as SQLite's LIKE
            where.append("positionCaseInsensitive(url, {url:String}) > 0")
            params["url"] = query.url
        if query.sub1 is not None:
            where.append("sub1 = {sub1:String}")
            params["sub1"] = query.sub1
        if query.visitor_id is not None:
            where.append("visitor_id = {visitor:String}")
            params["visitor"] = query.visitor_id
        if query.exclude_bots:
            where.append("NOT is_bot")
        if query.start is not None:
            where.append("created_at >= fromUnixTimestamp64Milli({start:Int64}, 'UTC')")
            params["start"] = query.start
        if query.end is not None:
            where.append("created_at <= fromUnixTimestamp64Milli({end:Int64}, 'UTC')")
            params["end"] = query.end
        where_sql = " AND ".join(where)
        # The sort column comes from the whitelist above, never from the request as such.
        order = f"`{query.sort}` {direction} {nulls}, id {direction}"

        if query.click_or_session is None:
            total = self._rows(f"SELECT count() FROM {{db}}.clicks WHERE {where_sql}", params)
            total_n = int(total[0][0])
            if total_n == 0 or limit == 0:
                return total_n, []
            # Late materialisation: find the page's ids reading only the sort columns, then read
            # the ~60 columns of those rows alone (10x faster than sorting whole rows).
            keys = self._rows(
                f"SELECT id, created_at FROM {{db}}.clicks WHERE {where_sql}"
                f" ORDER BY {order} LIMIT 1 BY id"
                " LIMIT {limit:UInt64} OFFSET {offset:UInt64}",
                params,
            )
            return total_n, self._clicks_by_key(brand_id, keys)

        # One row per session: its first matching click. Two lookups (each with its own skip
        # index) rather than an OR, which no single skip index could serve.
        params["value"] = query.click_or_session
        matching = (
            f"SELECT {_CLICK_COLUMNS_SQL} FROM {{db}}.clicks"
            f" WHERE {where_sql} AND id = {{value:String}}"
            f" UNION ALL SELECT {_CLICK_COLUMNS_SQL} FROM {{db}}.clicks"
            f" WHERE {where_sql} AND session_id = {{value:String}}"
        )
        firsts = (
            f"SELECT * FROM ({matching}) ORDER BY session_id, created_at, id LIMIT 1 BY session_id"
        )
        total = self._rows(f"SELECT count() FROM ({firsts})", params)
        total_n = int(total[0][0])
        if total_n == 0 or limit == 0:
            return total_n, []
        rows = self._text_rows(
            f"SELECT {_CLICK_COLUMNS_SQL} FROM ({firsts}) ORDER BY {order}"
            " LIMIT {limit:UInt64} OFFSET {offset:UInt64}",
            params,
        )
        return total_n, [_to_click(r) for r in rows]

    def _clicks_by_key(self, brand_id: int, keys: list[tuple[Any, ...]]) -> list[Click]:
        """The clicks of (id, created_at) pairs, in the order of ``keys``."""
        if not keys:
            return []
        rows = self._text_rows(
            f"SELECT {_CLICK_COLUMNS_SQL} FROM {{db}}.clicks"
            " WHERE brand_id = {brand:UInt64} AND id IN {ids:Array(String)}"
            " AND created_at >= fromUnixTimestamp64Milli({first:Int64}, 'UTC')"
            " AND created_at <= fromUnixTimestamp64Milli({last:Int64}, 'UTC')"
            " LIMIT 1 BY id",
            {
                "brand": brand_id,
                "ids": [k[0] for k in keys],
                "first": min(k[1] for k in keys),
                "last": max(k[1] for k in keys),
            },
        )
        by_id = {click.id: click for click in map(_to_click, rows)}
        return [by_id[k[0]] for k in keys if k[0] in by_id]

    def get_click(self, brand_id: int, click_id: str) -> Click | None:
        rows = self._text_rows(
            f"SELECT {_CLICK_COLUMNS_SQL} FROM {{db}}.clicks"
            " WHERE brand_id = {brand:UInt64} AND id = {id:String} LIMIT 1",
            {"brand": brand_id, "id": click_id},
        )
        return _to_click(rows[0]) if rows else None

    def events_for_clicks(self, brand_id: int, click_ids: list[str]) -> list[Event]:
        if not click_ids:
            return []
        rows = self._text_rows(
            f"SELECT {_EVENT_COLUMNS_SQL} FROM {{db}}.events"
            " WHERE brand_id = {brand:UInt64} AND click_id IN {ids:Array(String)}"
            " ORDER BY timestamp, seq",
            {"brand": brand_id, "ids": list(click_ids)},
        )
        return [event_from_row(r) for r in rows]

    def session_clicks(self, brand_id: int, session_id: str) -> list[Click]:
        rows = self._text_rows(
            f"SELECT {_CLICK_COLUMNS_SQL} FROM {{db}}.clicks"
            " WHERE brand_id = {brand:UInt64} AND session_id = {session:String}"
            " ORDER BY created_at, id LIMIT 1 BY id",
            {"brand": brand_id, "session": session_id},
        )
        return [_to_click(r) for r in rows]

    def session_events(self, brand_id: int, session_id: str) -> list[Event]:
        rows = self._text_rows(
            f"SELECT {_EVENT_COLUMNS_SQL} FROM {{db}}.events"
            " WHERE brand_id = {brand:UInt64} AND session_id = {session:String}"
            " ORDER BY timestamp, seq",
            {"brand": brand_id, "session": session_id},
        )
        return [event_from_row(r) for r in rows]

    # replays -------------------------------------------------------------------------------
    def _summaries(self, brand_id: int, replay_ids: list[str]) -> dict[str, Replay]:
        if not replay_ids:
            return {}
        params = {"brand": brand_id, "ids": sorted(set(replay_ids))}
        generations = {r[0]: r for r in self._rows(_GENERATIONS_SQL, params)}
        chunks: dict[str, list[tuple[Any, ...]]] = {}
        for row in self._rows(_CHUNK_HEADS_SQL, params):
            chunks.setdefault(row[0], []).append(row)
        found = {}
        for replay_id in params["ids"]:
            replay = _summarise(
                brand_id, replay_id, generations.get(replay_id), chunks.get(replay_id, [])
            )
            if replay is not None:
                found[replay_id] = replay
        return found

    def replays_for_session(self, brand_id: int, session_id: str) -> list[Replay]:
        params = {"brand": brand_id, "session": session_id}
        ids = self._rows(
            "SELECT DISTINCT replay_id FROM {db}.replay_chunks"
            " WHERE brand_id = {brand:UInt64} AND session_id = {session:String}"
            " UNION DISTINCT SELECT DISTINCT replay_id FROM {db}.replay_segments"
            " WHERE brand_id = {brand:UInt64} AND session_id = {session:String}",
            params,
        )
        found = self._summaries(brand_id, [r[0] for r in ids])
        return sorted(found.values(), key=lambda r: (r.started_at, r.id))

    def get_replay(self, brand_id: int, replay_id: str) -> Replay | None:
        return self._summaries(brand_id, [replay_id]).get(replay_id)

    def _generation(self, brand_id: int, replay_id: str) -> tuple[int, int, int] | None:
        """(generation, upto_seq, segment_count) of the replay's newest complete segments."""
        rows = self._rows(
            "SELECT generation, upto_seq, any(segment_count) FROM"
            " (SELECT generation, upto_seq, segment_count, idx FROM {db}.replay_segments"
            "  WHERE brand_id = {brand:UInt64} AND replay_id = {replay:String}"
            "  LIMIT 1 BY generation, idx)"
            " GROUP BY generation, upto_seq HAVING count() = any(segment_count)"
            " ORDER BY upto_seq DESC, generation DESC LIMIT 1",
            {"brand": brand_id, "replay": replay_id},
        )
        return (int(rows[0][0]), int(rows[0][1]), int(rows[0][2])) if rows else None

    def replay_parts(self, brand_id: int, replay_id: str) -> list[ReplayPart]:
        # Three reads: the generation, its segments, the chunks above it. A compaction
        # finishing in between changes the generation (and may delete what was read against
        # the old one), so read again until the generation held still.
        params: dict[str, Any] = {"brand": brand_id, "replay": replay_id}
        for _ in range(5):
            generation = self._generation(brand_id, replay_id)
            segments: list[tuple[Any, ...]] = []
            if generation is not None:
                segments = self._rows(
                    "SELECT idx, first_ts, last_ts, dict_id, body FROM {db}.replay_segments"
                    " WHERE brand_id = {brand:UInt64} AND replay_id = {replay:String}"
                    " AND generation = {generation:UInt64} ORDER BY idx LIMIT 1 BY idx",
                    {**params, "generation": generation[0]},
                    _BYTES,
                )
                if len(segments) != generation[2]:
                    continue  # the generation was replaced and deleted meanwhile
            chunks = self._rows(
                "SELECT seq, first_ts, last_ts, body FROM {db}.replay_chunks"
                " WHERE brand_id = {brand:UInt64} AND replay_id = {replay:String}"
                " AND seq > {upto:Int64} ORDER BY seq LIMIT 1 BY seq",
                {**params, "upto": generation[1] if generation else -1},
                _BYTES,
            )
            if self._generation(brand_id, replay_id) == generation:
                break
        else:
            raise RuntimeError(f"replay {replay_id!r} keeps changing while being read")
        return [
            ReplayPart(kind="segment", number=i, first_ts=f, last_ts=la, dict_id=d, body=b)
            for i, f, la, d, b in segments
        ] + [
            ReplayPart(kind="chunk", number=q, first_ts=f, last_ts=la, dict_id=None, body=b)
            for q, f, la, b in chunks
        ]

    def ended_replays(self, idle_since: int, limit: int) -> list[Replay]:
        # Live chunks: above the highest upto_seq of the replay's segments.
        rows = self._rows(
            "SELECT c.brand_id, c.replay_id, max(c.received_at) AS last"
            " FROM {db}.replay_chunks AS c LEFT JOIN"
            " (SELECT brand_id, replay_id, max(upto_seq) AS upto FROM {db}.replay_segments"
            "  GROUP BY brand_id, replay_id) AS s"
            " ON c.brand_id = s.brand_id AND c.replay_id = s.replay_id"
            " WHERE c.seq > coalesce(s.upto, -1)"
            " GROUP BY c.brand_id, c.replay_id"
            " HAVING last < fromUnixTimestamp64Milli({idle:Int64}, 'UTC')"
            " ORDER BY last, c.brand_id, c.replay_id LIMIT {limit:UInt64}"
            " SETTINGS join_use_nulls = 1",
            {"idle": idle_since, "limit": max(0, int(limit))},
        )
        by_brand: dict[int, list[str]] = {}
        for brand_id, replay_id, _ in rows:
            by_brand.setdefault(brand_id, []).append(replay_id)
        found = {
            (b, r.id): r for b, ids in by_brand.items() for r in self._summaries(b, ids).values()
        }
        return [found[(b, r)] for b, r, _ in rows if (b, r) in found]

    def brand_replays(self, brand_id: int, limit: int) -> list[Replay]:
        """The brand's replays, most recently updated first (compaction picks dictionary
        samples from them). Not part of the Store protocol."""
        rows = self._rows(
            f"{_BRAND_REPLAYS_SQL} ORDER BY updated DESC, replay_id DESC LIMIT {{limit:UInt64}}",
            {"brand": brand_id, "limit": max(0, int(limit))},
        )
        found = self._summaries(brand_id, [r[0] for r in rows])
        return [found[r[0]] for r in rows if r[0] in found]

    def count_replays(self, brand_id: int, before: int | None = None) -> int:
        """How many replays the brand has (only those updated before ``before`` ms, if given).
        Not part of the Store protocol."""
        where = (
            ""
            if before is None
            else " WHERE updated < fromUnixTimestamp64Milli({before:Int64}, 'UTC')"
        )
        rows = self._rows(
            f"SELECT count() FROM ({_BRAND_REPLAYS_SQL}){where}",
            {"brand": brand_id, "before": before or 0},
        )
        return int(rows[0][0])

    def compact_replay(
        self, brand_id: int, replay_id: str, segments: list[ReplaySegment], upto_seq: int
    ) -> None:
        if not segments:
            raise ValueError("a compacted replay needs at least one segment")
        with self._lock:
            current = self.get_replay(brand_id, replay_id)
            if current is None:
                raise KeyError(f"no replay {replay_id!r} in brand {brand_id}")
            if upto_seq < current.compacted_seq:
                return  # a newer compaction already covers more chunks
            generation = self._next_version()
            # 1. the new generation; invisible to readers until all its rows are there
            self._insert(
                "replay_segments",
                _SEGMENT_COLUMNS,
                [
                    (
                        brand_id,
                        replay_id,
                        generation,
                        upto_seq,
                        len(segments),
                        s.idx,
                        s.first_ts,
                        s.last_ts,
                        s.event_count,
                        s.raw_bytes,
                        len(s.body),
                        s.dict_id,
                        s.body,
                        current.session_id,
                        current.page_session_id,
                        current.visitor_id,
                        current.url,
                        current.started_at,
                        current.ended_at,
                        current.viewport_width,
                        current.viewport_height,
                        current.updated_at,
                    )
                    for s in segments
                ],
            )
            # 2. what it replaces; readers already skip it, so the deletes need not wait
            params = {
                "brand": brand_id,
                "replay": replay_id,
                "upto": upto_seq,
                "generation": generation,
            }
            self._command(
                "DELETE FROM {db}.replay_segments"
                " WHERE brand_id = {brand:UInt64} AND replay_id = {replay:String}"
                " AND (upto_seq < {upto:Int64}"
                "  OR (upto_seq = {upto:Int64} AND generation < {generation:UInt64}))"
                " SETTINGS lightweight_deletes_sync = 0",
                params,
            )
            self._command(
                "DELETE FROM {db}.replay_chunks"
                " WHERE brand_id = {brand:UInt64} AND replay_id = {replay:String}"
                " AND seq <= {upto:Int64} SETTINGS lightweight_deletes_sync = 0",
                params,
            )

    def brand_dictionary(self, brand_id: int) -> tuple[int, bytes] | None:
        rows = self._rows(
            "SELECT id, body FROM {db}.replay_dicts WHERE brand_id = {brand:UInt64}"
            " ORDER BY created_at DESC, id DESC LIMIT 1",
            {"brand": brand_id},
            _BYTES,
        )
        return (int(rows[0][0]), rows[0][1]) if rows else None

    def dictionary_created_at(self, brand_id: int, dict_id: int) -> int | None:
        """When the dictionary was stored (ms). Not part of the Store protocol."""
        rows = self._rows(
            "SELECT created_at FROM {db}.replay_dicts"
            " WHERE brand_id = {brand:UInt64} AND id = {id:UInt64} LIMIT 1",
            {"brand": brand_id, "id": dict_id},
        )
        return rows[0][0] if rows else None

    def get_dictionary(self, dict_id: int) -> bytes | None:
        rows = self._rows(
            "SELECT body FROM {db}.replay_dicts WHERE id = {id:UInt64} LIMIT 1",
            {"id": dict_id},
            _BYTES,
        )
        return rows[0][0] if rows else None

    def add_dictionary(self, brand_id: int, body: bytes, now: int) -> int:
        # 52 random bits: unique without coordination, exact in JavaScript numbers.
        dict_id = _random.randbits(52) or 1
        self._insert(
            "replay_dicts",
            ("id", "brand_id", "created_at", "body"),
            [(dict_id, brand_id, now, body)],
        )
        return dict_id

    def link_replay_assets(self, brand_id: int, replay_id: str, links: dict[str, str]) -> None:
        if not links:
            return
        known = self.replay_assets(brand_id, replay_id)
        now = time.time_ns() // 1_000_000
        rows = [(brand_id, replay_id, u, h, now) for u, h in links.items() if u not in known]
        if rows:
            self._insert(
                "replay_assets", ("brand_id", "replay_id", "url", "sha256", "linked_at"), rows
            )

    def replay_assets(self, brand_id: int, replay_id: str) -> dict[str, str]:
        # the first link of a URL wins, also if two collectors linked it at once
        rows = self._rows(
            "SELECT url, argMin(sha256, (linked_at, sha256)) FROM {db}.replay_assets"
            " WHERE brand_id = {brand:UInt64} AND replay_id = {replay:String} GROUP BY url",
            {"brand": brand_id, "replay": replay_id},
        )
        return dict(rows)

    def secret(self, name: str) -> bytes:
        known = self._secrets.get(name)
        if known is not None:
            return known
        sql = (
            "SELECT value FROM {db}.secrets WHERE name = {name:String}"
            " ORDER BY created_at, value LIMIT 1"
        )
        rows = self._rows(sql, {"name": name})
        if not rows:
            # Every process inserts with the same deduplication token: the table keeps the
            # first insert and silently drops the others, so all read back the same value.
            self._insert(
                "secrets",
                ("name", "value", "created_at"),
                [(name, os.urandom(32).hex(), time.time_ns() // 1_000_000)],
                settings={"insert_deduplication_token": f"secret:{name}"},
            )
            rows = self._rows(sql, {"name": name})
        value = bytes.fromhex(rows[0][0])
        self._secrets[name] = value
        return value
