"""The runtime: services start in the order they are declared and stop in reverse."""

from __future__ import annotations

import logging
from pathlib import Path

import anyio
import pytest

from collector.cli import create_brand
from collector.config import Settings
from collector.ingest.writer import Writer
from collector.runtime import Runtime
from collector.storage import open_store
from collector.storage.base import BrandSettings, Store


class Recorder:
    """A background worker declared after the writer: it writes through it when it stops, as a
    dispatcher flushing its last batch would."""

    def __init__(self, writer: Writer, log: list[str], fail: bool = False) -> None:
        self.writer = writer
        self.log = log
        self.fail = fail

    def start(self) -> None:
        self.log.append("started while the writer runs" if _running(self.writer) else "too early")

    async def stop(self) -> None:
        await self.writer.submit([], [])  # raises when the writer has stopped already
        self.log.append("stopped before the writer")
        if self.fail:
            raise RuntimeError("recorder broke")


def _running(writer: Writer) -> bool:
    task = writer._task
    return task is not None and not task.done()


class WithRecorder(Runtime):
    def __init__(self, settings: Settings, store: Store, log: list[str], fail: bool) -> None:
        self.log, self.fail = log, fail
        super().__init__(settings, store)

    def _declare(self, settings: Settings, store: Store, owns_store: bool) -> None:
        super()._declare(settings, store, owns_store)
        self.recorder = self._worker("recorder", Recorder(self.writer, self.log, self.fail))


@pytest.fixture
def sqlite_store(tmp_path: Path):
    store = open_store(f"sqlite:///{tmp_path}/runtime.db")
    yield store
    store.close()


def _settings(tmp_path: Path) -> Settings:
    return Settings(database="unused", replay_assets_dir=str(tmp_path / "assets"))


@pytest.mark.parametrize("fail", [False, True], ids=["clean", "a-stop-fails"])
def test_a_worker_declared_last_starts_after_and_stops_before_what_it_needs(
    tmp_path: Path, sqlite_store: Store, fail: bool, caplog: pytest.LogCaptureFixture
) -> None:
    log: list[str] = []

    async def run() -> WithRecorder:
        runtime = WithRecorder(_settings(tmp_path), sqlite_store, log, fail)
        runtime.start()
        assert runtime.compactor._thread is not None and runtime.assets._threads
        await runtime.stop()
        await runtime.stop()  # a second stop does nothing
        return runtime

    with caplog.at_level(logging.ERROR, logger="clicktrail"):
        runtime = anyio.run(run)
    assert log == ["started while the writer runs", "stopped before the writer"]
    assert ("stopping recorder failed" in caplog.text) is fail
    assert not _running(runtime.writer)  # stopped all the same
    assert runtime.compactor._thread is None and not runtime.assets._threads
    assert sqlite_store.get_brand(1) is None  # a store it was given stays open


def test_running_serves_until_the_block_ends_and_leaves_a_given_store_open(
    tmp_path: Path, sqlite_store: Store
) -> None:
    brand = create_brand(sqlite_store, "runtime", [], BrandSettings())

    async def run() -> Runtime:
        async with Runtime.running(_settings(tmp_path), sqlite_store) as runtime:
            assert runtime.keys.share is runtime.share
            assert runtime.brands.by_id(brand.id) == brand
            await runtime.writer.submit([], [])
        return runtime

    runtime = anyio.run(run)
    assert not _running(runtime.writer)
    assert sqlite_store.get_brand(brand.id) == brand


def test_a_runtime_that_cannot_be_built_closes_what_it_opened(tmp_path: Path) -> None:
    settings = _settings(tmp_path).replace(
        database=f"sqlite:///{tmp_path}/owned.db", geoip_db=str(tmp_path / "missing.mmdb")
    )

    async def run() -> None:
        async with Runtime.running(settings):
            pass

    with pytest.raises((OSError, ValueError)):
        anyio.run(run)
    assert (tmp_path / "owned.db").exists()  # opened, then closed: SQLite removes its WAL file
    assert not (tmp_path / "owned.db-wal").exists()
