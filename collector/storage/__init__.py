"""Storage engines behind one interface (:class:`~collector.storage.base.Store`).

``open_store(url)`` picks the engine from the database URL:

- ``sqlite:///relative/path.db`` or ``sqlite:////absolute/path.db`` (SQLAlchemy's convention: the
  path is what follows the third slash) - the embedded default;
- ``clickhouse://user:pass@host:8123/db`` - a ClickHouse server (``?secure=true`` for TLS);
- ``chdb:///absolute/path`` (or ``chdb://memory``) - embedded ClickHouse; ``?database=NAME``
  picks a database inside it.

The ClickHouse database defaults to ``clicktrail`` and is created if missing.
"""

from __future__ import annotations

from .base import Store

__all__ = ["DEFAULT_CLICKHOUSE_DATABASE", "Store", "open_store", "sqlite_path"]

DEFAULT_CLICKHOUSE_DATABASE = "clicktrail"


def sqlite_path(url: str) -> str:
    """The file path of a ``sqlite:///`` URL."""
    rest = url[len("sqlite://") :]
    if not url.startswith("sqlite://") or not rest.startswith("/") or len(rest) < 2:
        raise ValueError(
            f"bad SQLite database URL {url!r}: expected sqlite:///relative/path.db "
            "or sqlite:////absolute/path.db"
        )
    path = rest[1:]
    if path == ":memory:" or path.startswith("file:"):
        raise ValueError(f"bad SQLite database URL {url!r}: a file path is required")
    return path


def open_store(url: str) -> Store:
    """Open the store a database URL names, and bring its schema up to date."""
    scheme = url.partition("://")[0].lower() if "://" in url else ""
    store: Store
    if scheme == "sqlite":
        from .sqlite import SQLiteStore

        store = SQLiteStore(sqlite_path(url), url=url)
    elif scheme in ("clickhouse", "chdb"):
        from .clickhouse import ClickHouseStore

        store = ClickHouseStore.from_url(url)
    else:
        raise ValueError(
            f"unsupported database URL {url!r}: use sqlite:///path.db, "
            "clickhouse://user:pass@host:8123/db or chdb:///path"
        )
    try:
        store.migrate()
    except BaseException:
        store.close()
        raise
    return store
