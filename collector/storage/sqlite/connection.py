"""SQLite connections, write transactions and the schema's life cycle.

Durability: the database runs in WAL mode with ``synchronous=NORMAL``. A committed transaction is
in the WAL file (the operating system's page cache) before ``COMMIT`` returns, so it survives the
collector process being killed at any point; only a power loss or kernel crash can drop the last
transactions not yet checkpointed. ``synchronous=FULL`` would also cover power loss but costs an
fsync per group commit; the project accepts "an answered beacon survives a process kill".

Threads: every thread gets its own connection (``threading.local``); readers never block the
writer in WAL mode. Writes in this process are serialised by one lock, and ``busy_timeout`` makes
writers of other processes wait instead of failing. ``check_same_thread=False`` is set only so
that :meth:`SQLiteBase.close` can close the connections of all threads.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import sqlite_utils

from ..rows import text
from .schema import MIGRATIONS, SCHEMA_VERSION

# Python's sqlite3 binds an exact int, float or str at once; anything else goes through the adapter
# protocol, where None and bool (many of a click's columns) cost two failed attribute lookups
# each, under the GIL, in the writer's thread: a third of its GIL time while enriched batches
# were stored (bench/README.md). Adapters found at once bind the same values: NULL, and 0 or 1.
# Both are C callables (``{}.get`` answers None for anything): a Python function would cost
# half the saving back (a 40-column row of Nones and bools: 28.6 us, 14.3, 8.4 with these).
sqlite3.register_adapter(type(None), {}.get)  # type: ignore[arg-type]
sqlite3.register_adapter(bool, int)


class SQLiteBase:
    """What every domain mixin of :class:`~collector.storage.sqlite.SQLiteStore` builds on."""

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
        # freed cells and pages are zeroed: a deleted visitor leaves no bytes (deletion.py)
        conn.execute("PRAGMA secure_delete = ON")
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

    # checkpoints -------------------------------------------------------------------------
    def defer_checkpoints(self) -> None:
        """This thread's commits no longer copy the WAL into the database file themselves
        (SQLite does it inside the ``COMMIT`` that passes 1,000 WAL pages, syncing both files,
        which held up every request waiting on that group commit for 10-300 ms); whoever calls
        this runs :meth:`checkpoint` from another thread instead. The group-commit writer does,
        for its own thread."""
        self._conn().execute("PRAGMA wal_autocheckpoint = 0")

    def checkpoint(self) -> None:
        """Copy the committed WAL into the database file as far as readers allow (PASSIVE: it
        waits for no one, and commits go on meanwhile). Blocking: call from a thread."""
        self._conn().execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()

    # lifecycle ---------------------------------------------------------------------------
    def schema_version(self) -> int:
        version: int = self._one("PRAGMA user_version")[0]
        return version

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
