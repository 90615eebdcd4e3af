"""Fixtures that run a test once per storage engine: SQLite and ClickHouse (embedded chDB).

- ``store_url`` (function scope, parametrised ``[sqlite]`` / ``[chdb]``): a database URL of an
  empty, not yet opened store: a SQLite file in ``tmp_path``, or a fresh chDB database (dropped
  after the test). Use it when the code under test opens the store itself (``open_store``).
- ``store``: that URL opened with ``open_store`` (schema migrated), closed after the test.
- ``chdb_path``: the process's one chDB data directory (see below).

Set ``CLICKTRAIL_TEST_CLICKHOUSE_URL=clickhouse://user:pass@host:8123`` to add a third engine,
``[clickhouse]``: a real server, one throw-away database per test.

chDB hosts one engine per process, bound to the first data path opened; a client on another path
fails while any client is open. So every chDB store in a test process lives under one directory
(``chdb_engine_path()``), each test in its own database (``chdb:///DIR?database=t_<hex>``), and a
keeper client holds the engine open for the whole run. The directory is derived from the process
id, not from a fixture, so it is the same however this module is imported.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from collector.storage import open_store
from collector.storage.base import Store

CLICKHOUSE_URL = os.environ.get("CLICKTRAIL_TEST_CLICKHOUSE_URL", "")
ENGINES = ("sqlite", "chdb", "clickhouse") if CLICKHOUSE_URL else ("sqlite", "chdb")

_keeper: list[Any] = []


def chdb_available() -> bool:
    try:
        import chdb  # noqa: F401
    except ImportError:
        return False
    return True


def chdb_engine_path() -> Path:
    """The chDB data directory of this test process (created, and its engine opened, on first
    use; removed at exit)."""
    path = Path(tempfile.gettempdir()) / f"clicktrail-test-chdb-{os.getpid()}"
    if not _keeper:
        import clickhouse_connect

        path.mkdir(parents=True, exist_ok=True)
        _keeper.append(clickhouse_connect.get_client(dsn=f"chdb://{path}"))

        def cleanup() -> None:
            for client in _keeper:
                with contextlib.suppress(Exception):
                    client.close()
            shutil.rmtree(path, ignore_errors=True)

        atexit.register(cleanup)
    return path


def chdb_test_url() -> str:
    """A URL of a fresh, uniquely named database in the process's chDB engine."""
    return f"chdb://{chdb_engine_path()}?database=t_{uuid.uuid4().hex}"


def clickhouse_test_url() -> str:
    """A URL of a fresh, uniquely named database on the CLICKTRAIL_TEST_CLICKHOUSE_URL server."""
    separator = "&" if "?" in CLICKHOUSE_URL else "?"
    return f"{CLICKHOUSE_URL}{separator}database=t_{uuid.uuid4().hex}"  # wins over a URL path


def drop_database(url: str) -> None:
    """Drop the ClickHouse (or chDB) database a test URL names."""
    from collector.storage.clickhouse import ClickHouseStore

    store = ClickHouseStore.from_url(url)
    try:
        store.drop_database()
    finally:
        store.close()


@pytest.fixture
def chdb_path() -> Path:
    if not chdb_available():
        pytest.skip("chdb is not installed")
    return chdb_engine_path()


@pytest.fixture(params=ENGINES)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/clicktrail.db"  # tmp_path is absolute: sqlite:////tmp/...
        return
    if request.param == "clickhouse":
        url = clickhouse_test_url()
    else:
        if not chdb_available():
            pytest.skip("chdb is not installed")
        url = chdb_test_url()
    yield url
    drop_database(url)


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    opened = open_store(store_url)
    yield opened
    opened.close()
