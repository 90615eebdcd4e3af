"""A ClickHouse collector's local outbox: the clickstream items it ingested, and its delivery
cursors, in a SQLite file beside it (ClickHouse has no transaction an item could share with its
click, and each collector delivers what it ingested).

The file runs the SQLite engine's outbox statements (``sqlite/outbox.py``) on its own
connection, in WAL mode with ``synchronous=FULL``: ``write_batch`` writes a batch's items after
its ClickHouse inserts and before it returns, and the commit is on disk (fsync) by then, so an
answered click's item survives ``kill -9`` and a power loss alike. One connection, one lock:
every statement is short (an index range, a few rows), and the writer and the dispatcher are
its only users.

Where: :attr:`LocalOutboxBase.outbox_path`, set by the runtime from the ``webhook_outbox``
setting, else derived from the URL (:func:`default_outbox_path`). The file is opened (and
created) at first use, so a collector without webhooks never makes one.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlparse

from ..sqlite import outbox as sql
from .connection import DEFAULT_DATABASE, ClickHouseBase

T = TypeVar("T")


def default_outbox_path(url: str, database: str) -> tuple[Path, bool]:
    """(the outbox file of a store URL, whether it is a temporary file): ``<dir>/webhook-outbox.db``
    for ``chdb:///dir``, ``./data/webhook-outbox.db`` for a ClickHouse server, a file in the
    temporary directory for ``chdb://memory`` (gone with the process's data). A database other
    than the default adds its name (``webhook-outbox-<database>.db``): collectors of two
    databases never share an outbox."""
    name = "webhook-outbox.db" if database == DEFAULT_DATABASE else f"webhook-outbox-{database}.db"
    parsed = urlparse(url)
    if parsed.scheme.lower() == "chdb":
        if parsed.netloc:  # chdb://memory
            temporary = f"clicktrail-{os.getpid()}-{uuid.uuid4().hex[:12]}-{name}"
            return Path(tempfile.gettempdir()) / temporary, True
        return Path(parsed.path) / name, False
    return Path("data") / name, False


class LocalOutbox:
    """The outbox and cursors of one SQLite file (see the module docstring)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._closed = False

    def _connection(self) -> sqlite3.Connection:
        """The open connection (under the lock), creating the file and its tables at first."""
        if self._conn is None:
            if self._closed:
                raise RuntimeError("the outbox is closed")
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=30.0, check_same_thread=False)
            conn.isolation_level = None  # transactions only where this class begins them
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = FULL")  # a commit is on disk when it returns
            conn.execute("PRAGMA busy_timeout = 30000")
            for statement in sql.OUTBOX_DDL:
                conn.execute(statement)
            self._conn = conn
        return self._conn

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            conn = self._connection()
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

    def write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """``fn(connection)`` in one committed transaction."""
        with self._transaction() as conn:
            return fn(conn)

    def read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        with self._lock:
            return fn(self._connection())

    def close(self) -> None:
        with self._lock:
            self._closed = True
            if self._conn is not None:
                with contextlib.suppress(sqlite3.Error):
                    self._conn.close()
                self._conn = None


class LocalOutboxBase(ClickHouseBase):
    """The store's local outbox (``write_batch`` writes to it, ``webhooks.py`` reads it)."""

    def __init__(self, client: Any, database: str = DEFAULT_DATABASE, url: str = "") -> None:
        super().__init__(client, database, url)
        path, temporary = default_outbox_path(url, database)
        # Settable until the first use (the runtime's ``webhook_outbox`` setting).
        self.outbox_path: Path = path
        self._outbox_temporary = path if temporary else None
        self._outbox: LocalOutbox | None = None
        self._outbox_guard = threading.Lock()

    def local_outbox(self) -> LocalOutbox:
        with self._outbox_guard:
            if self._outbox is None:
                self._outbox = LocalOutbox(Path(self.outbox_path))
            return self._outbox

    def close(self) -> None:
        with self._outbox_guard:
            outbox, self._outbox = self._outbox, None
        if outbox is not None:
            outbox.close()
            if self._outbox_temporary is not None and outbox.path == self._outbox_temporary:
                for suffix in ("", "-wal", "-shm"):
                    with contextlib.suppress(OSError):
                        os.remove(f"{outbox.path}{suffix}")
        super().close()
