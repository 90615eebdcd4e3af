"""SQLite schema: the migrations, and the DDL of the declared tables.

Schema versions: ``MIGRATIONS`` is an append-only list; ``PRAGMA user_version`` holds how many of
them the file has applied. Never edit an applied migration, add a new one.

Declared tables: the columns of ``clicks`` and ``events`` come from the fields of ``Click`` and
``Event`` (``storage/columns.py``), their SQLite types from :data:`SQL_TYPES`. Migration 1 creates
them without the columns a later :class:`AddColumns` migration adds, so a fresh file and an old
one reach the same table. A new field: ``AddColumns("clicks", ("page_title",))`` appended to
``MIGRATIONS`` (the field needs a default, or ``| None``: SQLite adds no NOT NULL column without
one); its ``then`` runs statements once the columns are there (a backfill, an index). The
hand-tuned parts (indexes, ``click_days`` and its triggers) stay written out below.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import msgspec
import sqlite_utils

from ..columns import Column, Kind, columns, without
from ..model import CLICK_FACTS, NETWORK_FACTS, Click, Conversion, Event, ShortLink
from ..rows import json_text
from . import rollups
from .outbox import OUTBOX_DDL
from .rollups import DAY_MS

SQL_TYPES: dict[Kind, str] = {
    "text": "TEXT",
    "int": "INTEGER",
    "float": "REAL",
    "bool": "INTEGER",  # 0 or 1
    "time": "INTEGER",  # ms since the epoch
    "map": "TEXT",  # a JSON object
    "json": "TEXT",
}
DECLARED: dict[str, type[msgspec.Struct]] = {
    "clicks": Click,
    "events": Event,
    "links": ShortLink,
    "conversions": Conversion,
}


def _literal(column: Column) -> str:
    value = column.default
    if column.kind in ("map", "json"):
        value = json_text(value)
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return str(int(value) if isinstance(value, bool) else value)


def column_sql(column: Column, *, default: bool = True) -> str:
    """``TYPE [NOT NULL] [DEFAULT value]`` of a declared column; the default is the field's
    (none for a nullable column)."""
    sql = SQL_TYPES[column.kind]
    if not column.nullable:
        sql += " NOT NULL"
        if default and column.default is not msgspec.NODEFAULT:
            sql += f" DEFAULT {_literal(column)}"
    return sql


@dataclass(frozen=True)
class AddColumns:
    """A migration adding fields of a declared table's struct as columns, then running the
    statements of ``then`` (filling the new columns of old rows, indexing them)."""

    table: str
    names: tuple[str, ...]
    then: tuple[str, ...] = ()

    def __call__(self, db: sqlite_utils.Database) -> None:
        by_name = {c.name: c for c in columns(DECLARED[self.table])}
        for name in self.names:
            db.execute(f'ALTER TABLE {self.table} ADD COLUMN "{name}" {column_sql(by_name[name])}')
        for statement in self.then:
            db.execute(statement)


def initial_columns(table: str) -> tuple[Column, ...]:
    """The declared columns migration 1 creates: all but those later migrations add."""
    later = [
        n for m in MIGRATIONS if isinstance(m, AddColumns) and m.table == table for n in m.names
    ]
    return without(columns(DECLARED[table]), later)


def _clicks_table_sql(declared: Sequence[Column]) -> str:
    """``clicks`` as migration 1 created it (in sqlite-utils' layout, which wrote it then)."""
    lines = []
    for column in declared:
        if column.name == "id":
            # a TEXT primary key on a rowid table: a unique index, INSERT OR IGNORE uses it
            lines.append('"id" TEXT PRIMARY KEY')
        else:
            # migration 1 gave referrer_type no DEFAULT (inserts always name every column)
            sql = column_sql(column, default=column.name != "referrer_type")
            lines.append(f'"{column.name}" {sql}')
    return 'CREATE TABLE "clicks" (\n   ' + ",\n   ".join(lines) + "\n)"


def _events_table_sql(declared: Sequence[Column]) -> str:
    return "CREATE TABLE events (" + ",".join(f" {c.name} {column_sql(c)}" for c in declared) + ")"


# --- migrations ------------------------------------------------------------------------------


def _migration_1(db: sqlite_utils.Database) -> None:
    db.table("brands").create(
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
    db.table("brands").create_index(["site_key"], index_name="brands_site_key", unique=True)

    db.table("api_keys").create(
        {"id": str, "brand_id": int, "scope": str, "key_hash": str, "created_at": int},
        pk="id",
        not_null={"brand_id", "scope", "key_hash", "created_at"},
    )
    db.table("api_keys").create_index(["brand_id"], index_name="api_keys_brand")

    # AUTOINCREMENT: a domain id is never handed out twice, even after deletions.
    db.execute(
        "CREATE TABLE domains ("
        " id INTEGER PRIMARY KEY AUTOINCREMENT,"
        " brand_id INTEGER NOT NULL,"
        " domain TEXT NOT NULL,"
        " UNIQUE (brand_id, domain))"
    )

    db.execute(_clicks_table_sql(initial_columns("clicks")))
    clicks = db.table("clicks")
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

    db.execute(_events_table_sql(initial_columns("events")))
    db.execute("CREATE INDEX events_brand_click ON events (brand_id, click_id, timestamp, seq)")
    db.execute("CREATE INDEX events_brand_session ON events (brand_id, session_id, timestamp, seq)")

    # Clicks per brand and UTC day (and how many of them are bots), so that totals need not count
    # a brand's whole index (see clicks.py). write_batch adds the clicks it inserts (a per-row
    # INSERT trigger would cost a third of the ingest speed); triggers subtract the rows other
    # modules delete (retention, visitor deletion) or move.
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


def _migration_3(db: sqlite_utils.Database) -> None:
    """A replay segment's codec (collector/replay/codec.py); segments stored before are JSON."""
    db.execute("ALTER TABLE replay_segments ADD COLUMN codec INTEGER NOT NULL DEFAULT 0")


def _declared_table_sql(table: str, primary_key: str) -> str:
    """``CREATE TABLE`` of a declared table, ``primary_key`` (a column) as its TEXT key."""
    lines = [
        f'"{c.name}" TEXT PRIMARY KEY' if c.name == primary_key else f'"{c.name}" {column_sql(c)}'
        for c in initial_columns(table)
    ]
    return f"CREATE TABLE {table} (" + ", ".join(lines) + ")"


def _migration_5(db: sqlite_utils.Database) -> None:
    """Short links, their unknown codes, and conversions (leads and sales)."""
    db.execute(_declared_table_sql("links", "id"))
    # (domain, code) is unique; a generated code is also checked against every domain.
    db.execute("CREATE UNIQUE INDEX links_domain_code ON links (domain, code)")
    db.execute("CREATE INDEX links_code ON links (code)")
    db.execute("CREATE INDEX links_brand ON links (brand_id, created_at)")
    # Requests for codes that no link answers (unknown, expired or deleted), per brand and code;
    # brand 0 when the request's host is no brand's short domain.
    db.execute(
        "CREATE TABLE link_misses ("
        " brand_id INTEGER NOT NULL,"
        " code TEXT NOT NULL,"
        " n INTEGER NOT NULL,"
        " last_at INTEGER NOT NULL,"
        " PRIMARY KEY (brand_id, code)) WITHOUT ROWID"
    )
    db.execute(_declared_table_sql("conversions", "id"))
    # The first lead of a customer and event name, the first sale of an invoice: one row each.
    db.execute("CREATE UNIQUE INDEX conversions_dedupe ON conversions (brand_id, dedupe_key)")
    db.execute("CREATE INDEX conversions_brand ON conversions (brand_id, created_at)")
    db.execute("CREATE INDEX conversions_session ON conversions (brand_id, session_id, created_at)")
    db.execute(
        "CREATE INDEX conversions_customer"
        " ON conversions (brand_id, customer_external_id, kind, created_at)"
    )
    db.execute("CREATE INDEX conversions_click ON conversions (brand_id, click_id)")
    db.execute("CREATE INDEX clicks_brand_link ON clicks (brand_id, link_id, created_at)")


def _migration_6(db: sqlite_utils.Database) -> None:
    """Clicks by external id, stored with the click or given later (``identify`` events):
    partial indexes, so they cost nothing for the rows without one."""
    db.execute(
        "CREATE INDEX clicks_external_id ON clicks (brand_id, external_id)"
        " WHERE external_id IS NOT NULL"
    )
    db.execute("CREATE INDEX events_identify ON events (brand_id, data) WHERE type = 'identify'")


# Migration 7: conversions stored before it take their click's facts (a click deleted since
# leaves the defaults); the events API reads a brand's leads or sales over a time range.
_BACKFILL_CLICK_FACTS = (
    "UPDATE conversions SET "
    + ", ".join(f'"{name}" = clicks."{name}"' for name in CLICK_FACTS)
    + " FROM clicks WHERE clicks.id = conversions.click_id"
    " AND clicks.brand_id = conversions.brand_id"
)
_CONVERSIONS_BY_KIND = (
    "CREATE INDEX conversions_brand_kind ON conversions (brand_id, kind, created_at)"
)


def _migration_9(db: sqlite_utils.Database) -> None:
    """The hourly analytics rollups (``rollups.py``): tables, the triggers that subtract deleted
    clicks and conversions, and what is stored already."""
    for rollup in rollups.ANALYTICS:
        db.execute(rollup.create_sql())
        for table, measures in (
            ("clicks", rollups.CLICK_SQL),
            ("conversions", rollups.CONVERSION_SQL),
        ):
            for trigger in rollups.delete_triggers(rollup, table, measures):
                db.execute(trigger)
            db.execute(rollups.backfill_sql(rollup, table, measures))


def _migration_10(db: sqlite_utils.Database) -> None:
    """Dashboard users (issue 12): users (unique by ``email_key``, the lower-cased email; their
    brands a JSON list of ids), sign-in sessions by the sha256 of their token, and when each API
    key was last used. A revoked key is deleted."""
    db.execute(
        "CREATE TABLE users ("
        " id INTEGER PRIMARY KEY AUTOINCREMENT,"
        " email TEXT NOT NULL,"
        " email_key TEXT NOT NULL UNIQUE,"
        " password_hash TEXT NOT NULL,"
        " role TEXT NOT NULL,"
        " brands TEXT NOT NULL DEFAULT '[]',"
        " created_at INTEGER NOT NULL)"
    )
    db.execute(
        "CREATE TABLE login_sessions ("
        " token_hash TEXT PRIMARY KEY,"
        " user_id INTEGER NOT NULL,"
        " csrf_token TEXT NOT NULL,"
        " created_at INTEGER NOT NULL,"
        " expires_at INTEGER NOT NULL) WITHOUT ROWID"
    )
    db.execute("CREATE INDEX login_sessions_expiry ON login_sessions (expires_at)")
    db.execute("ALTER TABLE api_keys ADD COLUMN last_used_at INTEGER")


def _migration_11(db: sqlite_utils.Database) -> None:
    """Funnels (issue 12): custom events by type and time. Partial, so that page views, clicks
    and identify events (nearly every row) cost the writer nothing more; a funnel's event step
    says ``type NOT IN`` the same list (``query/funnel_sqlite.py``)."""
    db.execute(
        "CREATE INDEX events_custom ON events (brand_id, type, timestamp)"
        " WHERE type NOT IN ('page_view', 'click', 'identify')"
    )


def _migration_12(db: sqlite_utils.Database) -> None:
    """Clickstream webhooks (issue 13): destinations (``events`` a JSON list of kinds), the
    delivery log (one row per attempt, read newest first), and the outbox with its cursors
    (``outbox.py``), in this file so that an item commits with its click."""
    db.execute(
        "CREATE TABLE webhook_destinations ("
        " id TEXT PRIMARY KEY,"
        " brand_id INTEGER NOT NULL,"
        " url TEXT NOT NULL,"
        " method TEXT NOT NULL,"
        " header_key TEXT,"
        " header_value TEXT,"
        " secret TEXT NOT NULL,"
        " public_key TEXT NOT NULL,"
        " events TEXT NOT NULL DEFAULT '[]',"
        " enabled INTEGER NOT NULL,"
        " disabled_reason TEXT,"
        " disabled_at INTEGER,"
        " failing_since INTEGER,"
        " created_at INTEGER NOT NULL,"
        " updated_at INTEGER NOT NULL)"
    )
    db.execute("CREATE INDEX webhook_destinations_brand ON webhook_destinations (brand_id)")
    db.execute(
        "CREATE TABLE webhook_deliveries ("
        " id TEXT PRIMARY KEY,"
        " brand_id INTEGER NOT NULL,"
        " dest_id TEXT NOT NULL,"
        " batch_id TEXT NOT NULL,"
        " attempt INTEGER NOT NULL,"
        " items INTEGER NOT NULL,"
        " kinds TEXT NOT NULL DEFAULT '[]',"
        " status INTEGER,"
        " error TEXT,"
        " latency_ms INTEGER NOT NULL,"
        " response TEXT NOT NULL,"
        " attempted_at INTEGER NOT NULL,"
        " next_attempt_at INTEGER,"
        " outcome TEXT NOT NULL)"
    )
    db.execute(
        "CREATE INDEX webhook_deliveries_dest"
        " ON webhook_deliveries (brand_id, dest_id, attempted_at)"
    )
    for statement in OUTBOX_DDL:
        db.execute(statement)


def _migration_exports(db: sqlite_utils.Database) -> None:
    """CSV export jobs (issue 14, ``exports.py``): one row per job; the runner reads them by
    status."""
    db.execute(
        "CREATE TABLE export_jobs ("
        " id TEXT PRIMARY KEY, brand_id INTEGER NOT NULL, status TEXT NOT NULL,"
        " columns TEXT NOT NULL, filters TEXT NOT NULL, click_codes TEXT,"
        ' "rows" INTEGER NOT NULL DEFAULT 0, error TEXT, created_at INTEGER NOT NULL,'
        " started_at INTEGER, finished_at INTEGER, expires_at INTEGER)"
    )
    db.execute("CREATE INDEX export_jobs_status ON export_jobs (status, created_at)")


def _migration_key_labels(db: sqlite_utils.Database) -> None:
    """A label per API key (issue 16): what made it ("demo" keys are revoked at the demo's next
    start) or what it is for."""
    db.execute("ALTER TABLE api_keys ADD COLUMN label TEXT NOT NULL DEFAULT ''")


# Each migration takes the database inside migrate()'s transaction (connection.py).
MIGRATIONS: list[Callable[[sqlite_utils.Database], None]] = [
    _migration_1,
    _migration_2,
    _migration_3,
    AddColumns("clicks", ("link_id", "is_repeat")),
    _migration_5,
    _migration_6,
    AddColumns("conversions", CLICK_FACTS, then=(_BACKFILL_CLICK_FACTS, _CONVERSIONS_BY_KIND)),
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
