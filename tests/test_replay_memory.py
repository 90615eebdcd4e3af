"""Replay ingest bounds the memory it holds: a burst of 32 concurrent chunks that each inflate
from ~55 KB to 16 MB, sent to a real `clicktrail serve` process on both storage engines, gets
503 + Retry-After past the in-flight budget, and the process's resident memory comes back to
its baseline (before the budget: +700 MB at the peak, +350 MB for good; bench/README.md)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.replay_burst import burst, start
from tests.storage_fixtures import chdb_available

MB = 1024  # in kB, as /proc reports


@pytest.fixture(params=["sqlite", "chdb"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "chdb" and not chdb_available():
        pytest.skip("chdb is not installed")
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/clicktrail.db"
    return f"chdb://{tmp_path}/chdb"  # its own process: its own engine


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_burst_of_inflating_chunks_is_turned_away_and_memory_comes_back(database, tmp_path):
    process, site_key = start(tmp_path, database, "--replay-assets-dir", str(tmp_path / "a"))
    try:
        result = burst(process.url, process.process.pid, site_key)
    finally:
        process.stop()
    assert set(result.statuses) <= {204, 413, 503}, result.statuses
    assert result.statuses.count(503) >= 16, "each chunk costs more than the default budget"
    assert result.retry_after == {"5"}
    assert result.peak_kb - result.baseline_kb < 300 * MB, result
    assert result.after_kb - result.baseline_kb < 64 * MB, result
