"""ClickHouse connections (a server, or embedded chDB), queries, inserts and the schema's life
cycle.

Times are ``DateTime64(3, 'UTC')``: exact milliseconds, readable in ``clickhouse-client`` and usable
by ClickHouse's date functions and partitioning. The store writes Python ``int`` milliseconds
(clickhouse-connect writes an int as the raw tick count) and reads them back as ints
(``query_formats={"DateTime64*": "int"}``), so callers only ever see ms integers.

Threads: the clickhouse-connect client is shared; the HTTP client runs without a session id (so
concurrent queries do not collide on a locked session) and the chDB client serialises calls on
its handle itself. A lock also guards write_batch and id allocation.

chDB in one process: the embedded engine opens one data path per process. Several clients on the
same path share it (each with its own current database); opening another path while a client is
open raises ``ProgrammingError``; once all clients are closed another path can be opened. Tests
therefore keep one path per test session and give each test its own database
(``chdb:///path?database=NAME``), removed with :meth:`ClickHouseBase.drop_database`.
"""

from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict
from typing import Any, Self
from urllib.parse import parse_qsl, urlencode, urlparse

from .schema import MIGRATIONS, SCHEMA_VERSION, TIME

DEFAULT_DATABASE = "clicktrail"

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_INT_TIMES = {"DateTime64*": "int"}
# Rows the API shows read text as bytes, decoded with U+FFFD for invalid UTF-8 (rows.text);
# clickhouse-connect would otherwise show such a string as hex.
_TEXT_AS_BYTES = {**_INT_TIMES, "String": "bytes"}


REPLICATED_PARAM = "replicated"
_ENGINE = re.compile(r"\bENGINE = (Replacing|Aggregating|Summing|Collapsing)?MergeTree\b")


def replicated_engines(statement: str) -> str:
    """A migration statement with each MergeTree-family engine made its Replicated* form,
    without Keeper arguments (a ``Replicated`` database gives them: docs/DEPLOY.md)."""
    return _ENGINE.sub(lambda m: f"ENGINE = Replicated{m.group(1) or ''}MergeTree", statement)


def wants_replicated(url: str) -> bool:
    """``?replicated=true`` on a ``clickhouse://`` URL: the tables are created replicated."""
    params = dict(parse_qsl(urlparse(url).query))
    value = params.get(REPLICATED_PARAM, "").lower()
    if value in ("", "0", "false", "no"):
        return False
    if urlparse(url).scheme.lower() == "chdb":
        raise ValueError(f"{url!r}: replicated tables need a ClickHouse server, not chDB")
    return True


def split_url(url: str) -> tuple[str, str]:
    """(clickhouse-connect DSN without the database, database name) of a store URL. The store
    connects without the database and creates it if missing."""
    parsed = urlparse(url)
    scheme = parsed.scheme.lower()
    if scheme not in ("clickhouse", "chdb"):
        raise ValueError(f"not a ClickHouse URL: {url!r}")
    params = parse_qsl(parsed.query, keep_blank_values=True)
    database = next((v for k, v in params if k == "database"), None)
    query = urlencode([(k, v) for k, v in params if k not in ("database", REPLICATED_PARAM)])
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


class ClickHouseBase:
    """What every domain mixin of :class:`~collector.storage.clickhouse.ClickHouseStore` builds
    on."""

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
        self.replicated = wants_replicated(url)

    @classmethod
    def from_url(cls, url: str) -> Self:
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
            self._ddl(
                "CREATE TABLE IF NOT EXISTS {db}.schema_version"
                f" (version UInt32, applied_at {TIME}) ENGINE = MergeTree ORDER BY version"
            )
            version = self.schema_version()
            if version > SCHEMA_VERSION:
                raise RuntimeError(
                    f"database {self.database} has schema version {version}, newer than this "
                    f"Clicktrail ({SCHEMA_VERSION}); upgrade Clicktrail"
                )
            for number in range(version + 1, SCHEMA_VERSION + 1):
                for statement in MIGRATIONS[number - 1]():
                    self._ddl(statement)
                self._column_types.clear()
                self._insert(
                    "schema_version",
                    ("version", "applied_at"),
                    [(number, time.time_ns() // 1_000_000)],
                )

    def _ddl(self, statement: str) -> None:
        self._command(replicated_engines(statement) if self.replicated else statement)

    def drop_database(self) -> None:
        """Delete the whole database (tests, and deliberate resets only)."""
        self._command(f"DROP DATABASE IF EXISTS {self._db} SYNC")

    def close(self) -> None:
        self.client.close()
