"""Backing up and restoring a ClickHouse store.

Embedded chDB: the collector's own process holds the data folder, and ClickHouse's ``BACKUP``
needs a server setting (``backups.allowed_path``) chDB cannot be given. So a chDB backup is
logical: every table of the database is written to ``tables/NAME.native`` (ClickHouse's Native
format: exact types, aggregate states included) through the ``file()`` table function, and a
restore inserts them into a freshly migrated database of the same schema version. A backup of a
ReplacingMergeTree table keeps its superseded row versions too; the merges drop them as usual.

A ClickHouse server: ``BACKUP DATABASE ... TO File(PATH)``, run by the server, so ``PATH`` is a
path on the server below its ``backups.allowed_path`` (``docs/DEPLOY.md``), and ``RESTORE``
reads it back. Not exercised by the tests (they run chDB).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from collector.storage.backup import BackupError, BackupFacts

if TYPE_CHECKING:
    from collector.storage.clickhouse.connection import ClickHouseBase

TABLES_FOLDER = "tables"


def backup(store: ClickHouseBase, folder: Path) -> BackupFacts:
    version = store.schema_version()
    if not _embedded(store):
        _server_statement(store, "BACKUP DATABASE {db} TO File({path:String})", folder)
        return BackupFacts(engine="clickhouse", schema_version=version, rows={})
    tables_folder = folder / TABLES_FOLDER
    tables_folder.mkdir()
    rows = {}
    for table in _tables(store):
        path = str(tables_folder / f"{table}.native")
        store._command(
            f"INSERT INTO FUNCTION file({{path:String}}, 'Native')"
            f" SELECT {_columns(store, table)} FROM {{db}}.`{table}`",
            {"path": path},
        )
        empty = Path(path).stat().st_size == 0  # an empty table writes an empty file
        rows[table] = 0 if empty else _count(store, f"file({_quoted(path)}, 'Native')")
    return BackupFacts(engine="chdb", schema_version=version, rows=rows)


def restore(store: ClickHouseBase, folder: Path, schema_version: int, force: bool) -> BackupFacts:
    """Fill ``store`` (migrated to ``schema_version``) from the backup in ``folder``."""
    if not _embedded(store):
        _server_statement(store, "RESTORE DATABASE {db} FROM File({path:String})", folder)
        return BackupFacts(engine="clickhouse", schema_version=schema_version, rows={})
    tables_folder = folder / TABLES_FOLDER
    if not tables_folder.is_dir():
        raise BackupError(f"{folder} holds no {TABLES_FOLDER}/: not a chDB backup")
    if not force and _count(store, "{db}.brands") > 0:
        raise BackupError(f"database {store.database} already holds brands; pass --force")
    rows = {}
    for table in _tables(store):
        source = tables_folder / f"{table}.native"
        if not source.is_file():
            continue  # a table the backup had no rows file for
        store._command(f"TRUNCATE TABLE {{db}}.`{table}`")
        if source.stat().st_size == 0:
            rows[table] = 0
            continue
        # A backup of an older schema lacks the newer columns: they take their defaults.
        in_file = set(_file_columns(store, source))
        columns = ", ".join(c for c in _columns(store, table).split(", ") if c in in_file)
        store._command(
            f"INSERT INTO {{db}}.`{table}` ({columns})"
            f" SELECT {columns} FROM file({{path:String}}, 'Native')",
            {"path": str(source)},
        )
        rows[table] = _count(store, f"{{db}}.`{table}`")
    return BackupFacts(engine="chdb", schema_version=schema_version, rows=rows)


def _embedded(store: ClickHouseBase) -> bool:
    return store.url.lower().startswith("chdb:")


def _server_statement(store: ClickHouseBase, sql: str, folder: Path) -> None:
    store._command(sql, {"path": str(folder)})


def _tables(store: ClickHouseBase) -> list[str]:
    rows = store._rows(
        "SELECT name FROM system.tables WHERE database = {db:String}"
        " AND engine LIKE '%MergeTree' ORDER BY name",
        {"db": store.database},
    )
    return [name for (name,) in rows]


def _columns(store: ClickHouseBase, table: str) -> str:
    """The stored columns (not MATERIALIZED or ALIAS ones), in table order, quoted."""
    rows = store._rows(
        "SELECT name FROM system.columns WHERE database = {db:String} AND table = {table:String}"
        " AND default_kind NOT IN ('MATERIALIZED', 'ALIAS') ORDER BY position",
        {"db": store.database, "table": table},
    )
    return ", ".join(f"`{name}`" for (name,) in rows)


def _file_columns(store: ClickHouseBase, source: Path) -> list[str]:
    rows = store._rows(f"DESCRIBE file({_quoted(str(source))}, 'Native')")
    return [f"`{row[0]}`" for row in rows]


def _count(store: ClickHouseBase, source: str) -> int:
    return int(store._rows(f"SELECT count() FROM {source}")[0][0])


def _quoted(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"
