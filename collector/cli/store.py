"""The database a command works on: its URL made absolute, shown without a password, and
opened (or reached through the collector that holds it, :mod:`collector.control`)."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import cast
from urllib.parse import urlsplit, urlunsplit

from collector.control import RemoteStore
from collector.storage import open_store, sqlite_path
from collector.storage.base import Store


def absolute_database(url: str) -> str:
    """``url`` with a relative SQLite path resolved against the current folder
    (``sqlite:///data/ct.db`` run in ``/srv`` is ``sqlite:////srv/data/ct.db``), so that the
    same command run from another folder cannot quietly open a second database. Other URLs
    (and ones that are not valid, left for ``open_store`` to refuse) are returned as given."""
    if not url.lower().startswith("sqlite://"):
        return url
    try:
        path = sqlite_path(url)
    except ValueError:
        return url
    return "sqlite:///" + str(Path(path).expanduser().resolve())


def shown_database(url: str) -> str:
    """``url`` as printed: a password is replaced by ``***``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:***@{host}"))


@contextlib.contextmanager
def cli_store(database: str) -> Iterator[Store]:
    """The store of ``database`` for one command, closed afterwards. A chDB directory a
    running collector holds is reached through that collector's control socket. A SQLite file
    that did not exist yet is made, and stderr says so (a typo, or another folder, is seen)."""
    remote = RemoteStore.of(database)
    if remote is not None:
        yield cast(Store, remote)
        return
    new_file = _new_sqlite_file(database)
    store = open_store(database)
    if new_file is not None:
        print(f"clicktrail: made a new database at {new_file}", file=sys.stderr)
    try:
        yield store
    finally:
        store.close()


def _new_sqlite_file(database: str) -> str | None:
    try:
        path = Path(sqlite_path(database))
    except ValueError:
        return None
    return None if path.exists() else str(path.resolve())
