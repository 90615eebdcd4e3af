"""Backing up and restoring a SQLite store with SQLite's online backup API.

The backup reads one consistent snapshot while the collector keeps writing: in WAL mode a reader
never blocks the writer, and the whole copy runs as one step (``pages=-1``), so a write during
the copy cannot make it restart. The copy is checked (``PRAGMA integrity_check``) before it is
given its final name. A restore copies the backup into the target the same way, into a file
that is renamed over the target only once complete.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path

from collector.storage.backup import BackupError, BackupFacts

DATABASE_FILE = "clicktrail.db"


def backup(source: Path, folder: Path) -> BackupFacts:
    """Copy the database at ``source`` into ``folder/clicktrail.db``."""
    target = folder / DATABASE_FILE
    part = target.with_name(target.name + ".part")
    with contextlib.closing(sqlite3.connect(source, timeout=30.0)) as src:
        version = _schema_version(src)
        _copy(src, part)
    os.replace(part, target)
    return BackupFacts(engine="sqlite", schema_version=version, rows=_row_counts(target))


def restore(folder: Path, target: Path, schema_version: int, force: bool) -> BackupFacts:
    """Make ``target`` a copy of the backup in ``folder`` (refused over a database that holds
    any brand, unless ``force``)."""
    source = folder / DATABASE_FILE
    if not source.is_file():
        raise BackupError(f"{folder} holds no {DATABASE_FILE}: not a SQLite backup")
    if target.exists() and not force and _has_brands(target):
        raise BackupError(f"{target} already holds brands; pass --force to replace it")
    with contextlib.closing(sqlite3.connect(source)) as src:
        version = _schema_version(src)
        if version != schema_version:
            raise BackupError(f"the backup's schema version {version} is not its manifest's")
        part = target.with_name(target.name + ".restore")
        target.parent.mkdir(parents=True, exist_ok=True)
        _copy(src, part)
    for stale in (Path(f"{target}-wal"), Path(f"{target}-shm")):
        stale.unlink(missing_ok=True)
    os.replace(part, target)
    return BackupFacts(engine="sqlite", schema_version=version, rows=_row_counts(target))


def _copy(src: sqlite3.Connection, part: Path) -> None:
    part.unlink(missing_ok=True)
    with contextlib.closing(sqlite3.connect(part)) as dst:
        src.backup(dst)  # pages=-1: the whole snapshot in one step
        (verdict,) = dst.execute("PRAGMA integrity_check").fetchone()
        if verdict != "ok":
            raise BackupError(f"the copy failed its integrity check: {verdict}")
        dst.execute("PRAGMA journal_mode = DELETE")  # one self-contained file, no -wal beside it


def _schema_version(conn: sqlite3.Connection) -> int:
    version: int = conn.execute("PRAGMA user_version").fetchone()[0]
    if version == 0:
        raise BackupError("not a Clicktrail database (schema version 0)")
    return version


def _has_brands(path: Path) -> bool:
    with contextlib.closing(sqlite3.connect(path)) as conn:
        try:
            return conn.execute("SELECT 1 FROM brands LIMIT 1").fetchone() is not None
        except sqlite3.DatabaseError:
            return False  # no brands table: nothing of Clicktrail's to lose


def _row_counts(path: Path) -> dict[str, int]:
    with contextlib.closing(sqlite3.connect(path)) as conn:
        tables = [
            name
            for (name,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'"
                " AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]
        return {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}
