"""SQLite storage engine (the embedded default), schema through sqlite-utils.

Durability: the database runs in WAL mode with ``synchronous=NORMAL``. A committed transaction is
in the WAL file (the operating system's page cache) before ``COMMIT`` returns, so it survives the
collector process being killed at any point; only a power loss or kernel crash can drop the last
transactions not yet checkpointed. ``synchronous=FULL`` would also cover power loss but costs an
fsync per group commit; the project accepts "an answered beacon survives a process kill".

Threads: every thread gets its own connection (``threading.local``); readers never block the
writer in WAL mode. Writes in this process are serialised by one lock, and ``busy_timeout`` makes
writers of other processes wait instead of failing. ``check_same_thread=False`` is set only so
that :meth:`SQLiteStore.close` can close the connections of all threads.

Ingest speed: :meth:`SQLiteStore.write_batch` binds prepared tuples with plain ``executemany``
inside one ``BEGIN IMMEDIATE`` transaction (sqlite-utils' ``insert_all`` is far slower).

Schema versions: ``MIGRATIONS`` is an append-only list; ``PRAGMA user_version`` holds how many of
them the file has applied. Never edit an applied migration, add a new one.

Counting: the total is the slow part of the clicks page on a large brand (a million-row COUNT
takes ~50-100 ms even on a covering index). ``click_days`` holds clicks (and bots) per brand and UTC
day: write_batch adds what it inserts, triggers subtract what other code deletes or moves. A list
filtered by nothing but dates and "exclude bots" adds up at most a few hundred day rows plus the
two partial edge days, read from the ``(brand_id, created_at, is_bot)`` index. Insert clicks only
through write_batch (or add to ``click_days`` too). Other filters count through their index.

Replays (migration 2): ``replays`` holds one summary row per replay, kept exact by write_batch
(in the same transaction as the chunk rows and the clicks) and by compact_replay, so listing a
session's replays or finding ended ones never adds up chunks. ``replay_chunks`` holds live
chunks, ``replay_segments`` compacted ones; compact_replay swaps them in one transaction, and
replay_parts reads both in one read transaction, so readers see the old parts or the new ones.
``replay_dicts`` (AUTOINCREMENT ids, never reused), ``replay_assets`` and ``secrets`` (created
with INSERT OR IGNORE: the first process wins) complete it.

Every query starts with ``brand_id = ?`` and every index with ``brand_id``: a brand never sees
another's rows, and a small brand's queries stay fast next to a big one.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import msgspec
import sqlite_utils

from collector.utf8 import clean_json

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
from .rows import EVENT_COLUMNS, event_from_row, text

DAY_MS = 86_400_000

_json_encode = msgspec.json.Encoder().encode
_decode_query = msgspec.json.Decoder(dict[str, str]).decode
_decode_domains = msgspec.json.Decoder(list[str]).decode
_decode_settings = msgspec.json.Decoder(BrandSettings).decode

CLICK_FIELDS: tuple[str, ...] = Click.__struct_fields__
_QUERY_INDEX = CLICK_FIELDS.index("query")
_IS_BOT_INDEX = CLICK_FIELDS.index("is_bot")
_CLICK_COLUMNS_SQL = ", ".join(f'"{name}"' for name in CLICK_FIELDS)
_CLICK_COLUMNS_SQL_C = ", ".join(f'c."{name}"' for name in CLICK_FIELDS)
_INSERT_CLICK_SQL = (
    f"INSERT OR IGNORE INTO clicks ({_CLICK_COLUMNS_SQL}) "
    f"VALUES ({', '.join('?' for _ in CLICK_FIELDS)})"
)
_EVENT_COLUMNS = EVENT_COLUMNS
_EVENT_COLUMNS_SQL = ", ".join(f'"{name}"' for name in _EVENT_COLUMNS)
_INSERT_EVENT_SQL = (
    f"INSERT INTO events ({_EVENT_COLUMNS_SQL}) VALUES ({', '.join('?' for _ in _EVENT_COLUMNS)})"
)
_BRAND_COLUMNS_SQL = "id, name, site_key, domains, settings, created_at"
# Add n clicks (b of them bots) to a brand's day: ?1 brand, ?2 day, ?3 n, ?4 b.
_ADD_DAY_SQL = (
    "INSERT INTO click_days (brand_id, day, n, bots) VALUES (?1, ?2, ?3, ?4)"
    " ON CONFLICT (brand_id, day) DO UPDATE SET n = n + excluded.n, bots = bots + excluded.bots"
)


# The clicks columns as migration 1 created them. Frozen: a new Click field needs a new migration
# (``ALTER TABLE clicks ADD COLUMN``), and inserts name ``Click.__struct_fields__``, so a field
# without its column fails loudly instead of being dropped.
_CLICK_COLUMNS_V1: dict[str, type] = {
    "id": str,
    "brand_id": int,
    "session_id": str,
    "visitor_id": str,
    "created_at": int,
    "trigger": str,
    "ip_address": str,
    "url": str,
    "domain_id": int,
    "funnel_id": int,
    **{f"sub{n}": str for n in range(1, 6)},
    "affiliate": str,
    "external_id": str,
    **{f"utm_{part}": str for part in ("source", "medium", "campaign", "term", "content")},
    "ad_click_id": str,
    "ad_network": str,
    "query": str,  # JSON object
    "referrer": str,
    "referrer_host": str,
    "referrer_type": str,
    "referrer_name": str,
    "country": str,
    "region": str,
    "city": str,
    "zip": str,
    "lat": float,
    "lon": float,
    "time_zone": str,
    "continent": str,
    "asn": int,
    "isp": str,
    "device_type": str,
    "device_brand": str,
    "device_model": str,
    "os": str,
    "os_version": str,
    "browser": str,
    "browser_version": str,
    "user_agent": str,
    "language": str,
    "viewport_width": int,
    "viewport_height": int,
    "is_bot": int,  # 0 or 1
}


# --- migrations ------------------------------------------------------------------------------


def _migration_1(db: sqlite_utils.Database) -> None:
    db["brands"].create(
        {
            "id": int,
            "name": str,
            "site_key": str,
            "domains": str,
            "settings": str,
            "created_at": int,
        },
        pk="id",
        not_null={"name", "site_key", "domains", "settings", "created_at"},
    )
    db["brands"].create_index(["site_key"], index_name="brands_site_key", unique=True)

    db["api_keys"].create(
        {"id": str, "brand_id": int, "scope": str, "key_hash": str, "created_at": int},
        pk="id",
        not_null={"brand_id", "scope", "key_hash", "created_at"},
    )
    db["api_keys"].create_index(["brand_id"], index_name="api_keys_brand")

    # AUTOINCREMENT: a domain id is never handed out twice, even after deletions.
    db.execute(
        "CREATE TABLE domains ("
        " id INTEGER PRIMARY KEY AUTOINCREMENT,"
        " brand_id INTEGER NOT NULL,"
        " domain TEXT NOT NULL,"
        " UNIQUE (brand_id, domain))"
    )

    db["clicks"].create(
        _CLICK_COLUMNS_V1,
        pk="id",  # a TEXT primary key on a rowid table: a unique index, INSERT OR IGNORE uses it
        not_null={
            "brand_id",
            "session_id",
            "visitor_id",
            "created_at",
            "trigger",
            "url",
            "query",
            "referrer_type",
            "is_bot",
        },
        defaults={"is_bot": 0, "query": "{}", "url": "", "trigger": "pageview"},
    )
    clicks = db["clicks"]
    # The list's default order and its date range; is_bot makes "exclude bots" index-only.
    clicks.create_index(["brand_id", "created_at", "is_bot"], index_name="clicks_brand_created")
    # Equality filters, each followed by the default sort column; is_bot last, so that counting
    # a filtered list with "exclude bots" reads only the index.
    for column in ("session_id", "visitor_id", "funnel_id", "sub1"):
        clicks.create_index(
            ["brand_id", column, "created_at", "is_bot"], index_name=f"clicks_brand_{column}"
        )
    # The other sort columns, ties broken by id.
    for column in ("funnel_id", "country", "browser", "os", "device_type"):
        clicks.create_index(["brand_id", column, "id"], index_name=f"clicks_sort_{column}")

    db.execute(
        "CREATE TABLE events ("
        " brand_id INTEGER NOT NULL,"
        " click_id TEXT NOT NULL,"
        " session_id TEXT NOT NULL,"
        " type TEXT NOT NULL,"
        " url TEXT,"
        " timestamp INTEGER NOT NULL,"
        " seq INTEGER NOT NULL DEFAULT 0,"
        " data TEXT NOT NULL DEFAULT '{}')"
    )
    db.execute("CREATE INDEX events_brand_click ON events (brand_id, click_id, timestamp, seq)")
    db.execute("CREATE INDEX events_brand_session ON events (brand_id, session_id, timestamp, seq)")

    # Clicks per brand and UTC day (and how many of them are bots), so that totals need not count
    # a brand's whole index (see the module docstring). write_batch adds the clicks it inserts
    # (a per-row INSERT trigger would cost a third of the ingest speed); triggers subtract the
    # rows other modules delete (retention, visitor deletion) or move.
    db.execute(
        "CREATE TABLE click_days ("
        " brand_id INTEGER NOT NULL,"
        " day INTEGER NOT NULL,"
        " n INTEGER NOT NULL,"
        " bots INTEGER NOT NULL,"
        " PRIMARY KEY (brand_id, day)) WITHOUT ROWID"
    )
    db.execute(
        f"CREATE TRIGGER clicks_count_delete AFTER DELETE ON clicks BEGIN"
        f" UPDATE click_days SET n = n - 1, bots = bots - OLD.is_bot"
        f" WHERE brand_id = OLD.brand_id AND day = OLD.created_at / {DAY_MS};"
        f" END"
    )
    db.execute(
        f"CREATE TRIGGER clicks_count_update"
        f" AFTER UPDATE OF brand_id, created_at, is_bot ON clicks BEGIN"
        f" UPDATE click_days SET n = n - 1, bots = bots - OLD.is_bot"
        f" WHERE brand_id = OLD.brand_id AND day = OLD.created_at / {DAY_MS};"
        f" INSERT INTO click_days (brand_id, day, n, bots)"
        f" VALUES (NEW.brand_id, NEW.created_at / {DAY_MS}, 1, NEW.is_bot)"
        f" ON CONFLICT (brand_id, day) DO UPDATE SET n = n + 1, bots = bots + NEW.is_bot;"
        f" END"
    )


def _migration_2(db: sqlite_utils.Database) -> None:
    """Session replay: a summary row per replay, live chunks, compacted segments, trained
    dictionaries, fetched assets, and database-wide secrets."""
    # One row per replay, kept exact by write_batch and compact_replay (same transaction as the
    # bodies), so summaries never add up chunks. ``first_seq`` / ``viewport_seq``: the seq of the
    # chunk the header fields / the viewport came from (the lowest one wins).
    db.execute(
        "CREATE TABLE replays ("
        " brand_id INTEGER NOT NULL,"
        " id TEXT NOT NULL,"
        " session_id TEXT NOT NULL,"
        " page_session_id TEXT NOT NULL,"
        " visitor_id TEXT NOT NULL,"
        " url TEXT NOT NULL,"
        " first_seq INTEGER NOT NULL,"
        " started_at INTEGER NOT NULL,"
        " ended_at INTEGER NOT NULL,"
        " viewport_width INTEGER,"
        " viewport_height INTEGER,"
        " viewport_seq INTEGER,"
        " event_count INTEGER NOT NULL,"
        " raw_bytes INTEGER NOT NULL,"
        " stored_bytes INTEGER NOT NULL,"
        " live_chunks INTEGER NOT NULL,"
        " compacted_seq INTEGER NOT NULL,"
        " updated_at INTEGER NOT NULL,"
        " PRIMARY KEY (brand_id, id))"
    )
    db.execute("CREATE INDEX replays_brand_session ON replays (brand_id, session_id, started_at)")
    db.execute("CREATE INDEX replays_brand_updated ON replays (brand_id, updated_at)")
    # ended_replays (all brands): only replays with live chunks, a small set.
    db.execute("CREATE INDEX replays_live ON replays (updated_at) WHERE live_chunks > 0")
    # Bodies are large: rowid tables with a unique key, not WITHOUT ROWID.
    db.execute(
        "CREATE TABLE replay_chunks ("
        " brand_id INTEGER NOT NULL,"
        " replay_id TEXT NOT NULL,"
        " seq INTEGER NOT NULL,"
        " received_at INTEGER NOT NULL,"
        " first_ts INTEGER NOT NULL,"
        " last_ts INTEGER NOT NULL,"
        " event_count INTEGER NOT NULL,"
        " raw_bytes INTEGER NOT NULL,"
        " body BLOB NOT NULL,"
        " UNIQUE (brand_id, replay_id, seq))"
    )
    db.execute(
        "CREATE TABLE replay_segments ("
        " brand_id INTEGER NOT NULL,"
        " replay_id TEXT NOT NULL,"
        " idx INTEGER NOT NULL,"
        " first_ts INTEGER NOT NULL,"
        " last_ts INTEGER NOT NULL,"
        " event_count INTEGER NOT NULL,"
        " raw_bytes INTEGER NOT NULL,"
        " dict_id INTEGER,"
        " body BLOB NOT NULL,"
        " UNIQUE (brand_id, replay_id, idx))"
    )
    # AUTOINCREMENT: a dictionary id is never reused (segments name theirs).
    db.execute(
        "CREATE TABLE replay_dicts ("
        " id INTEGER PRIMARY KEY AUTOINCREMENT,"
        " brand_id INTEGER NOT NULL,"
        " created_at INTEGER NOT NULL,"
        " body BLOB NOT NULL)"
    )
    db.execute("CREATE INDEX replay_dicts_brand ON replay_dicts (brand_id, id)")
    db.execute(
        "CREATE TABLE replay_assets ("
        " brand_id INTEGER NOT NULL,"
        " replay_id TEXT NOT NULL,"
        " url TEXT NOT NULL,"
        " sha256 TEXT NOT NULL,"
        " PRIMARY KEY (brand_id, replay_id, url)) WITHOUT ROWID"
    )
    db.execute("CREATE TABLE secrets (name TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID")


MIGRATIONS: list[Callable[[sqlite_utils.Database], None]] = [_migration_1, _migration_2]
SCHEMA_VERSION = len(MIGRATIONS)


# --- row conversion --------------------------------------------------------------------------


def _click_row(click: Click) -> tuple[Any, ...]:
    row = list(msgspec.structs.astuple(click))
    row[_QUERY_INDEX] = _json_encode(row[_QUERY_INDEX]).decode()
    return tuple(row)


def _event_row(event: Event) -> tuple[Any, ...]:
    return (
        event.brand_id,
        event.click_id,
        event.session_id,
        event.type,
        event.url,
        event.timestamp,
        event.seq,
        _json_encode(event.data).decode(),
    )


def _query_params(stored: str | None) -> dict[str, str]:
    """The click's ``query`` column; {} when it is not a JSON object of strings."""
    if not stored:
        return {}
    try:
        return _decode_query(clean_json(stored.encode()))
    except (msgspec.DecodeError, msgspec.ValidationError, RecursionError):
        return {}


def _to_click(row: tuple[Any, ...] | sqlite3.Row) -> Click:
    values = dict(zip(CLICK_FIELDS, row, strict=True))
    values["query"] = _query_params(values["query"])
    values["is_bot"] = bool(values["is_bot"])
    return Click(**values)


def _to_brand(row: tuple[Any, ...]) -> Brand:
    id_, name, site_key, domains, settings, created_at = row
    return Brand(
        id=id_,
        name=name,
        site_key=site_key,
        domains=_decode_domains(domains),
        settings=_decode_settings(settings),
        created_at=created_at,
    )


REPLAY_FIELDS: tuple[str, ...] = Replay.__struct_fields__
_REPLAY_COLUMNS_SQL = ", ".join(REPLAY_FIELDS)
# A replays row as write_batch keeps it: the Replay fields, then the seqs its header came from.
_REPLAY_STATE_COLUMNS = (*REPLAY_FIELDS, "first_seq", "viewport_seq")
_UPSERT_REPLAY_SQL = (
    f"INSERT INTO replays ({', '.join(_REPLAY_STATE_COLUMNS)})"
    f" VALUES ({', '.join('?' for _ in _REPLAY_STATE_COLUMNS)})"
    " ON CONFLICT (brand_id, id) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in _REPLAY_STATE_COLUMNS if c not in ("brand_id", "id"))
)
_INSERT_CHUNK_SQL = (
    "INSERT OR IGNORE INTO replay_chunks (brand_id, replay_id, seq, received_at, first_ts,"
    " last_ts, event_count, raw_bytes, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def _to_replay(row: tuple[Any, ...]) -> Replay:
    return Replay(**dict(zip(REPLAY_FIELDS, row, strict=True)))


def _new_replay_state(chunk: ReplayChunk) -> dict[str, Any]:
    return {
        "id": chunk.replay_id,
        "brand_id": chunk.brand_id,
        "session_id": chunk.session_id,
        "page_session_id": chunk.page_session_id,
        "visitor_id": chunk.visitor_id,
        "url": chunk.url,
        "started_at": chunk.first_ts,
        "ended_at": chunk.last_ts,
        "viewport_width": None,
        "viewport_height": None,
        "event_count": 0,
        "raw_bytes": 0,
        "stored_bytes": 0,
        "live_chunks": 0,
        "compacted_seq": -1,
        "updated_at": chunk.received_at,
        "first_seq": chunk.seq,
        "viewport_seq": None,
    }


def _add_chunk(state: dict[str, Any], chunk: ReplayChunk) -> None:
    """Fold a newly stored chunk into its replay's summary row."""
    if chunk.seq < state["first_seq"]:
        state["first_seq"] = chunk.seq
        for name in ("session_id", "page_session_id", "visitor_id", "url"):
            state[name] = getattr(chunk, name)
    if chunk.viewport_width is not None and (
        state["viewport_seq"] is None or chunk.seq < state["viewport_seq"]
    ):
        state["viewport_seq"] = chunk.seq
        state["viewport_width"] = chunk.viewport_width
        state["viewport_height"] = chunk.viewport_height
    state["started_at"] = min(state["started_at"], chunk.first_ts)
    state["ended_at"] = max(state["ended_at"], chunk.last_ts)
    state["event_count"] += chunk.event_count
    state["raw_bytes"] += chunk.raw_bytes
    state["stored_bytes"] += len(chunk.body)
    state["live_chunks"] += 1
    state["updated_at"] = max(state["updated_at"], chunk.received_at)


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


# --- the store -------------------------------------------------------------------------------


class SQLiteStore:
    """The :class:`~collector.storage.base.Store` on one SQLite file."""

    local_reads = True  # keyed reads take microseconds: callers may skip the thread hop

    def __init__(self, path: str | Path, url: str | None = None) -> None:
        self.path = Path(path)
        self.url = url or f"sqlite:///{self.path}"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._conns: list[sqlite3.Connection] = []
        self._conns_lock = threading.Lock()
        self._write_lock = threading.RLock()
        self._domain_ids: dict[tuple[int, str], int] = {}
        self._closed = False

    # connections -------------------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=30.0, check_same_thread=False)
        # Text that is not valid UTF-8 (another writer, raw SQL) reads with U+FFFD, not an error.
        conn.text_factory = text
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")  # see the module docstring
        conn.execute("PRAGMA busy_timeout = 30000")
        conn.execute("PRAGMA temp_store = MEMORY")
        conn.execute("PRAGMA cache_size = -65536")  # up to 64 MiB of pages per connection
        conn.execute("PRAGMA mmap_size = 268435456")
        return conn

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            if self._closed:
                raise RuntimeError("the store is closed")
            conn = self._connect()
            self._local.conn = conn
            with self._conns_lock:
                self._conns.append(conn)
        return conn

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, serialised with the other writers of this process."""
        conn = self._conn()
        with self._write_lock:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

    def _all(self, sql: str, params: tuple[Any, ...] | list[Any] = ()) -> list[Any]:
        return self._conn().execute(sql, params).fetchall()

    def _one(self, sql: str, params: tuple[Any, ...] | list[Any] = ()) -> Any:
        return self._conn().execute(sql, params).fetchone()

    # lifecycle ---------------------------------------------------------------------------
    def schema_version(self) -> int:
        return self._one("PRAGMA user_version")[0]

    def migrate(self) -> None:
        conn = self._conn()
        with self._write_lock:
            conn.execute("BEGIN IMMEDIATE")  # also serialises migrating processes
            try:
                version = conn.execute("PRAGMA user_version").fetchone()[0]
                if version > SCHEMA_VERSION:
                    raise RuntimeError(
                        f"{self.path} has schema version {version}, newer than this "
                        f"Clicktrail ({SCHEMA_VERSION}); upgrade Clicktrail"
                    )
                db = sqlite_utils.Database(conn, recursive_triggers=False, execute_plugins=False)
                for number in range(version + 1, SCHEMA_VERSION + 1):
                    MIGRATIONS[number - 1](db)
                    # PRAGMA takes no parameters; ``number`` is an int from this module.
                    conn.execute(f"PRAGMA user_version = {int(number)}")
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

    def close(self) -> None:
        self._closed = True
        with self._conns_lock:
            conns, self._conns = self._conns, []
        for conn in conns:
            with contextlib.suppress(sqlite3.Error):
                conn.close()
        self._local = threading.local()

    # brands and keys ---------------------------------------------------------------------
    def create_brand(
        self, name: str, site_key: str, domains: list[str], settings: BrandSettings, now: int
    ) -> Brand:
        try:
            with self._write() as conn:
                cursor = conn.execute(
                    "INSERT INTO brands (name, site_key, domains, settings, created_at)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (
                        name,
                        site_key,
                        _json_encode(list(domains)).decode(),
                        _json_encode(settings).decode(),
                        now,
                    ),
                )
                brand_id = cursor.lastrowid
        except sqlite3.IntegrityError as exc:
            raise ValueError(f"site key {site_key!r} is taken") from exc
        assert brand_id is not None
        return Brand(
            id=brand_id,
            name=name,
            site_key=site_key,
            domains=list(domains),
            settings=settings,
            created_at=now,
        )

    def get_brand(self, brand_id: int) -> Brand | None:
        row = self._one(f"SELECT {_BRAND_COLUMNS_SQL} FROM brands WHERE id = ?", (brand_id,))
        return _to_brand(row) if row else None

    def brand_by_site_key(self, site_key: str) -> Brand | None:
        row = self._one(f"SELECT {_BRAND_COLUMNS_SQL} FROM brands WHERE site_key = ?", (site_key,))
        return _to_brand(row) if row else None

    def list_brands(self) -> list[Brand]:
        return [
            _to_brand(r) for r in self._all(f"SELECT {_BRAND_COLUMNS_SQL} FROM brands ORDER BY id")
        ]

    def update_brand(self, brand: Brand) -> None:
        with self._write() as conn:
            cursor = conn.execute(
                "UPDATE brands SET name = ?, domains = ?, settings = ? WHERE id = ?",
                (
                    brand.name,
                    _json_encode(list(brand.domains)).decode(),
                    _json_encode(brand.settings).decode(),
                    brand.id,
                ),
            )
            if cursor.rowcount == 0:
                raise KeyError(f"no brand {brand.id}")

    def add_api_key(self, key: ApiKey) -> None:
        try:
            with self._write() as conn:
                conn.execute(
                    "INSERT INTO api_keys (id, brand_id, scope, key_hash, created_at)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (key.id, key.brand_id, key.scope, key.key_hash, key.created_at),
                )
        except sqlite3.IntegrityError as exc:
            raise ValueError(f"API key id {key.id!r} is taken") from exc

    def api_key_by_id(self, key_id: str) -> ApiKey | None:
        row = self._one(
            "SELECT id, brand_id, scope, key_hash, created_at FROM api_keys WHERE id = ?",
            (key_id,),
        )
        if row is None:
            return None
        return ApiKey(id=row[0], brand_id=row[1], scope=row[2], key_hash=row[3], created_at=row[4])

    # domains -----------------------------------------------------------------------------
    def ensure_domain(self, brand_id: int, domain: str) -> int:
        key = (brand_id, domain)
        cached = self._domain_ids.get(key)
        if cached is not None:
            return cached
        sql = "SELECT id FROM domains WHERE brand_id = ? AND domain = ?"
        row = self._one(sql, key)
        if row is None:
            with self._write() as conn:
                conn.execute("INSERT OR IGNORE INTO domains (brand_id, domain) VALUES (?, ?)", key)
                row = conn.execute(sql, key).fetchone()
        self._domain_ids[key] = row[0]
        return row[0]

    def domains_by_id(self, brand_id: int, ids: list[int]) -> dict[int, str]:
        if not ids:
            return {}
        rows = self._all(
            "SELECT id, domain FROM domains WHERE brand_id = ?"
            " AND id IN (SELECT value FROM json_each(?))",
            (brand_id, _json_encode(list(ids)).decode()),
        )
        return dict(rows)

    # ingest ------------------------------------------------------------------------------
    def write_batch(
        self, clicks: list[Click], events: list[Event], chunks: list[ReplayChunk] | None = None
    ) -> None:
        if not clicks and not events and not chunks:
            return
        event_rows = [_event_row(e) for e in events]
        with self._write() as conn:
            if chunks:
                self._write_chunks(conn, chunks)
            if clicks:
                # Inside the write transaction nobody else can insert: the ids found here are
                # exactly the ones INSERT OR IGNORE would skip, so the day counts stay exact.
                stored = {
                    row[0]
                    for row in conn.execute(
                        "SELECT id FROM clicks WHERE id IN (SELECT value FROM json_each(?))",
                        (_json_encode([c.id for c in clicks]).decode(),),
                    )
                }
                fresh: dict[str, Click] = {}
                for c in clicks:
                    if c.id not in stored and c.id not in fresh:
                        fresh[c.id] = c
                if fresh:
                    conn.executemany(_INSERT_CLICK_SQL, [_click_row(c) for c in fresh.values()])
                    days: dict[tuple[int, int], list[int]] = {}
                    for c in fresh.values():
                        counts = days.setdefault((c.brand_id, c.created_at // DAY_MS), [0, 0])
                        counts[0] += 1
                        counts[1] += c.is_bot
                    conn.executemany(
                        _ADD_DAY_SQL, [(b, d, n, bots) for (b, d), (n, bots) in days.items()]
                    )
            if event_rows:
                conn.executemany(_INSERT_EVENT_SQL, event_rows)

    def _write_chunks(self, conn: sqlite3.Connection, chunks: list[ReplayChunk]) -> None:
        """Store new chunks and fold them into their replays' rows (inside write_batch's
        transaction). A stored (brand, replay, seq) or a seq at or below compacted_seq is
        skipped."""
        states: dict[tuple[int, str], dict[str, Any] | None] = {}
        changed: set[tuple[int, str]] = set()
        for chunk in sorted(chunks, key=lambda c: c.seq):
            key = (chunk.brand_id, chunk.replay_id)
            if key not in states:
                row = conn.execute(
                    f"SELECT {', '.join(_REPLAY_STATE_COLUMNS)} FROM replays"
                    " WHERE brand_id = ? AND id = ?",
                    key,
                ).fetchone()
                states[key] = dict(zip(_REPLAY_STATE_COLUMNS, row, strict=True)) if row else None
            state = states[key]
            if state is not None and chunk.seq <= state["compacted_seq"]:
                continue
            cursor = conn.execute(
                _INSERT_CHUNK_SQL,
                (
                    chunk.brand_id,
                    chunk.replay_id,
                    chunk.seq,
                    chunk.received_at,
                    chunk.first_ts,
                    chunk.last_ts,
                    chunk.event_count,
                    chunk.raw_bytes,
                    chunk.body,
                ),
            )
            if cursor.rowcount == 0:
                continue  # sent twice
            if state is None:
                state = states[key] = _new_replay_state(chunk)
            _add_chunk(state, chunk)
            changed.add(key)
        if changed:
            conn.executemany(
                _UPSERT_REPLAY_SQL,
                [tuple(states[k][c] for c in _REPLAY_STATE_COLUMNS) for k in changed],  # type: ignore[index]
            )

    def last_session(self, brand_id: int, visitor_id: str) -> tuple[str, int] | None:
        row = self._one(
            "SELECT session_id FROM clicks WHERE brand_id = ? AND visitor_id = ?"
            " ORDER BY created_at DESC, id DESC LIMIT 1",
            (brand_id, visitor_id),
        )
        if row is None:
            return None
        session_id = row[0]
        last_click, last_event = self._one(
            "SELECT (SELECT max(created_at) FROM clicks WHERE brand_id = ?1 AND session_id = ?2),"
            " (SELECT max(timestamp) FROM events WHERE brand_id = ?1 AND session_id = ?2)",
            (brand_id, session_id),
        )
        return session_id, max(last_click, last_event or 0)

    # queries -----------------------------------------------------------------------------
    def _count_range(
        self, brand_id: int, start: int | None, end: int | None, exclude_bots: bool
    ) -> int:
        """Clicks of a brand in [start, end] (either end may be open): whole days from
        ``click_days``, the partial days at the edges from the ``(brand_id, created_at, is_bot)``
        index."""
        bots = " AND is_bot = 0" if exclude_bots else ""
        edge_sql = (
            "SELECT count(*) FROM clicks WHERE brand_id = ? AND created_at >= ?"
            f" AND created_at <= ?{bots}"
        )
        first_day = None if start is None else -(-start // DAY_MS)  # first whole day
        last_day = None if end is None else (end + 1) // DAY_MS - 1  # last whole day
        if first_day is not None and last_day is not None and first_day > last_day:
            return self._one(edge_sql, (brand_id, start, end))[0]
        sql = "SELECT coalesce(sum(n - bots), 0)" if exclude_bots else "SELECT coalesce(sum(n), 0)"
        sql += " FROM click_days WHERE brand_id = ? AND day >= ? AND day <= ?"
        total = self._one(
            sql,
            (
                brand_id,
                -(2**62) if first_day is None else first_day,
                2**62 if last_day is None else last_day,
            ),
        )[0]
        if start is not None and first_day is not None and start < first_day * DAY_MS:
            total += self._one(edge_sql, (brand_id, start, first_day * DAY_MS - 1))[0]
        if end is not None and last_day is not None and end >= (last_day + 1) * DAY_MS:
            total += self._one(edge_sql, (brand_id, (last_day + 1) * DAY_MS, end))[0]
        return total

    def list_clicks(self, brand_id: int, query: ClickQuery) -> tuple[int, list[Click]]:
        if query.sort not in SORT_COLUMNS:
            raise ValueError(f"cannot sort by {query.sort!r}")
        direction = "ASC" if query.direction == "asc" else "DESC"
        limit = max(0, int(query.limit))
        offset = max(0, int(query.offset))

        where = ["c.brand_id = ?"]
        params: list[Any] = [brand_id]
        if query.funnel_id is not None:
            where.append("c.funnel_id = ?")
            params.append(query.funnel_id)
        if query.url:
            where.append("c.url LIKE ? ESCAPE '\\'")
            params.append(_like_pattern(query.url))
        if query.sub1 is not None:
            where.append("c.sub1 = ?")
            params.append(query.sub1)
        if query.visitor_id is not None:
            where.append("c.visitor_id = ?")
            params.append(query.visitor_id)
        if query.exclude_bots:
            where.append("c.is_bot = 0")
        if query.start is not None:
            where.append("c.created_at >= ?")
            params.append(query.start)
        if query.end is not None:
            where.append("c.created_at <= ?")
            params.append(query.end)
        # The sort column comes from the whitelist above, never from the request as such.
        order = f'"{query.sort}" {direction}, id {direction}'

        if query.click_or_session is not None:
            return self._list_sessions(query, where, params, order, limit, offset)

        where_sql = " AND ".join(where)
        only_dates_and_bots = len(where) == (
            1 + query.exclude_bots + (query.start is not None) + (query.end is not None)
        )
        if only_dates_and_bots:
            # add up day summaries instead of counting rows
            total = self._count_range(brand_id, query.start, query.end, query.exclude_bots)
        else:
            total = self._one(f"SELECT count(*) FROM clicks AS c WHERE {where_sql}", params)[0]
        if total == 0 or limit == 0:
            return total, []
        rows = self._all(
            f"SELECT {_CLICK_COLUMNS_SQL_C} FROM clicks AS c WHERE {where_sql}"
            f" ORDER BY {order} LIMIT ? OFFSET ?",
            [*params, limit, offset],
        )
        return total, [_to_click(r) for r in rows]

    def _list_sessions(
        self,
        query: ClickQuery,
        where: list[str],
        params: list[Any],
        order: str,
        limit: int,
        offset: int,
    ) -> tuple[int, list[Click]]:
        """Clicks whose id or session id is ``click_or_session``, one row per session (its first
        matching click), ``total`` counting sessions."""
        value = query.click_or_session
        brand_id = params[0]
        where_sql = " AND ".join(where)
        # Driven by two index lookups (the id, then (brand_id, session_id)); CROSS JOIN keeps
        # SQLite from walking the brand's index instead.
        matching = (
            "WITH k AS ("
            " SELECT rowid AS rid FROM clicks WHERE id = ? AND brand_id = ?"
            " UNION SELECT rowid FROM clicks WHERE brand_id = ? AND session_id = ?),"
            f" m AS (SELECT c.* FROM k CROSS JOIN clicks AS c ON c.rowid = k.rid"
            f" WHERE {where_sql}),"
            " firsts AS (SELECT m.*, row_number() OVER"
            " (PARTITION BY session_id ORDER BY created_at, id) AS rn FROM m)"
        )
        m_params = [value, brand_id, brand_id, value, *params]
        total = self._one(f"{matching} SELECT count(*) FROM firsts WHERE rn = 1", m_params)[0]
        if total == 0 or limit == 0:
            return total, []
        rows = self._all(
            f"{matching} SELECT {_CLICK_COLUMNS_SQL} FROM firsts WHERE rn = 1"
            f" ORDER BY {order} LIMIT ? OFFSET ?",
            [*m_params, limit, offset],
        )
        return total, [_to_click(r) for r in rows]

    def get_click(self, brand_id: int, click_id: str) -> Click | None:
        row = self._one(
            f"SELECT {_CLICK_COLUMNS_SQL} FROM clicks WHERE id = ? AND brand_id = ?",
            (click_id, brand_id),
        )
        return _to_click(row) if row else None

    def events_for_clicks(self, brand_id: int, click_ids: list[str]) -> list[Event]:
        if not click_ids:
            return []
        rows = self._all(
            f"SELECT {_EVENT_COLUMNS_SQL} FROM events WHERE brand_id = ?"
            " AND click_id IN (SELECT value FROM json_each(?))"
            " ORDER BY timestamp, seq, rowid",
            (brand_id, _json_encode(list(click_ids)).decode()),
        )
        return [event_from_row(r) for r in rows]

    def session_clicks(self, brand_id: int, session_id: str) -> list[Click]:
        rows = self._all(
            f"SELECT {_CLICK_COLUMNS_SQL} FROM clicks WHERE brand_id = ? AND session_id = ?"
            " ORDER BY created_at, id",
            (brand_id, session_id),
        )
        return [_to_click(r) for r in rows]

    def session_events(self, brand_id: int, session_id: str) -> list[Event]:
        rows = self._all(
            f"SELECT {_EVENT_COLUMNS_SQL} FROM events WHERE brand_id = ? AND session_id = ?"
            " ORDER BY timestamp, seq, rowid",
            (brand_id, session_id),
        )
        return [event_from_row(r) for r in rows]

    # replays -------------------------------------------------------------------------------
    def replays_for_session(self, brand_id: int, session_id: str) -> list[Replay]:
        rows = self._all(
            f"SELECT {_REPLAY_COLUMNS_SQL} FROM replays WHERE brand_id = ? AND session_id = ?"
            " ORDER BY started_at, id",
            (brand_id, session_id),
        )
        return [_to_replay(r) for r in rows]

    def get_replay(self, brand_id: int, replay_id: str) -> Replay | None:
        row = self._one(
            f"SELECT {_REPLAY_COLUMNS_SQL} FROM replays WHERE brand_id = ? AND id = ?",
            (brand_id, replay_id),
        )
        return _to_replay(row) if row else None

    def replay_parts(self, brand_id: int, replay_id: str) -> list[ReplayPart]:
        # One read transaction, so a compaction committing in between cannot show both halves.
        conn = self._conn()
        own = not conn.in_transaction
        if own:
            conn.execute("BEGIN")
        try:
            segments = conn.execute(
                "SELECT idx, first_ts, last_ts, dict_id, body FROM replay_segments"
                " WHERE brand_id = ? AND replay_id = ? ORDER BY idx",
                (brand_id, replay_id),
            ).fetchall()
            chunks = conn.execute(
                "SELECT seq, first_ts, last_ts, body FROM replay_chunks"
                " WHERE brand_id = ?1 AND replay_id = ?2 AND seq > coalesce("
                "  (SELECT compacted_seq FROM replays WHERE brand_id = ?1 AND id = ?2), -1)"
                " ORDER BY seq",
                (brand_id, replay_id),
            ).fetchall()
        finally:
            if own:
                conn.execute("COMMIT")
        return [
            ReplayPart(kind="segment", number=i, first_ts=f, last_ts=la, dict_id=d, body=bytes(b))
            for i, f, la, d, b in segments
        ] + [
            ReplayPart(kind="chunk", number=q, first_ts=f, last_ts=la, dict_id=None, body=bytes(b))
            for q, f, la, b in chunks
        ]

    def ended_replays(self, idle_since: int, limit: int) -> list[Replay]:
        rows = self._all(
            f"SELECT {_REPLAY_COLUMNS_SQL} FROM replays"
            " WHERE live_chunks > 0 AND updated_at < ? ORDER BY updated_at, brand_id, id LIMIT ?",
            (idle_since, max(0, int(limit))),
        )
        return [_to_replay(r) for r in rows]

    def brand_replays(self, brand_id: int, limit: int) -> list[Replay]:
        """The brand's replays, most recently updated first (compaction picks dictionary
        samples from them). Not part of the Store protocol."""
        rows = self._all(
            f"SELECT {_REPLAY_COLUMNS_SQL} FROM replays WHERE brand_id = ?"
            " ORDER BY updated_at DESC, id DESC LIMIT ?",
            (brand_id, max(0, int(limit))),
        )
        return [_to_replay(r) for r in rows]

    def count_replays(self, brand_id: int, before: int | None = None) -> int:
        """How many replays the brand has (only those updated before ``before`` ms, if given).
        Not part of the Store protocol."""
        return self._one(
            "SELECT count(*) FROM replays WHERE brand_id = ? AND updated_at < ?",
            (brand_id, 2**62 if before is None else before),
        )[0]

    def compact_replay(
        self, brand_id: int, replay_id: str, segments: list[ReplaySegment], upto_seq: int
    ) -> None:
        if not segments:
            raise ValueError("a compacted replay needs at least one segment")
        key = (brand_id, replay_id)
        with self._write() as conn:  # one transaction: readers see the old parts or the new
            row = conn.execute(
                "SELECT compacted_seq FROM replays WHERE brand_id = ? AND id = ?", key
            ).fetchone()
            if row is None:
                raise KeyError(f"no replay {replay_id!r} in brand {brand_id}")
            if upto_seq < row[0]:
                return  # a newer compaction already covers more chunks
            conn.execute("DELETE FROM replay_segments WHERE brand_id = ? AND replay_id = ?", key)
            conn.execute(
                "DELETE FROM replay_chunks WHERE brand_id = ? AND replay_id = ? AND seq <= ?",
                (*key, upto_seq),
            )
            conn.executemany(
                "INSERT INTO replay_segments (brand_id, replay_id, idx, first_ts, last_ts,"
                " event_count, raw_bytes, dict_id, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        brand_id,
                        replay_id,
                        s.idx,
                        s.first_ts,
                        s.last_ts,
                        s.event_count,
                        s.raw_bytes,
                        s.dict_id,
                        s.body,
                    )
                    for s in segments
                ],
            )
            conn.execute(
                "UPDATE replays SET"
                " event_count = s.n + c.n, raw_bytes = s.raw + c.raw,"
                " stored_bytes = s.stored + c.stored, live_chunks = c.live, compacted_seq = ?3"
                " FROM (SELECT coalesce(sum(event_count), 0) AS n,"
                "  coalesce(sum(raw_bytes), 0) AS raw, coalesce(sum(length(body)), 0) AS stored"
                "  FROM replay_segments WHERE brand_id = ?1 AND replay_id = ?2) AS s,"
                " (SELECT coalesce(sum(event_count), 0) AS n,"
                "  coalesce(sum(raw_bytes), 0) AS raw, coalesce(sum(length(body)), 0) AS stored,"
                "  count(*) AS live"
                "  FROM replay_chunks WHERE brand_id = ?1 AND replay_id = ?2) AS c"
                " WHERE replays.brand_id = ?1 AND replays.id = ?2",
                (*key, upto_seq),
            )

    def brand_dictionary(self, brand_id: int) -> tuple[int, bytes] | None:
        row = self._one(
            "SELECT id, body FROM replay_dicts WHERE brand_id = ? ORDER BY id DESC LIMIT 1",
            (brand_id,),
        )
        return (row[0], bytes(row[1])) if row else None

    def dictionary_created_at(self, brand_id: int, dict_id: int) -> int | None:
        """When the dictionary was stored (ms). Not part of the Store protocol."""
        row = self._one(
            "SELECT created_at FROM replay_dicts WHERE brand_id = ? AND id = ?", (brand_id, dict_id)
        )
        return row[0] if row else None

    def get_dictionary(self, dict_id: int) -> bytes | None:
        row = self._one("SELECT body FROM replay_dicts WHERE id = ?", (dict_id,))
        return bytes(row[0]) if row else None

    def add_dictionary(self, brand_id: int, body: bytes, now: int) -> int:
        with self._write() as conn:
            cursor = conn.execute(
                "INSERT INTO replay_dicts (brand_id, created_at, body) VALUES (?, ?, ?)",
                (brand_id, now, body),
            )
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def link_replay_assets(self, brand_id: int, replay_id: str, links: dict[str, str]) -> None:
        if not links:
            return
        with self._write() as conn:
            conn.executemany(
                "INSERT OR IGNORE INTO replay_assets (brand_id, replay_id, url, sha256)"
                " VALUES (?, ?, ?, ?)",
                [(brand_id, replay_id, url, sha) for url, sha in links.items()],
            )

    def replay_assets(self, brand_id: int, replay_id: str) -> dict[str, str]:
        return dict(
            self._all(
                "SELECT url, sha256 FROM replay_assets WHERE brand_id = ? AND replay_id = ?",
                (brand_id, replay_id),
            )
        )

    def secret(self, name: str) -> bytes:
        row = self._one("SELECT value FROM secrets WHERE name = ?", (name,))
        if row is None:
            # INSERT OR IGNORE under the write transaction: the first process to store one wins.
            with self._write() as conn:
                conn.execute(
                    "INSERT OR IGNORE INTO secrets (name, value) VALUES (?, ?)",
                    (name, os.urandom(32)),
                )
                row = conn.execute("SELECT value FROM secrets WHERE name = ?", (name,)).fetchone()
        return bytes(row[0])
