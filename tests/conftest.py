"""Shared pytest fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

# Storage engines: ``store`` / ``store_url`` run a test once on SQLite and once on chDB.
# The spec audit: every API answer of the run is checked against /openapi.json, last.
pytest_plugins = ["tests.storage_fixtures", "tests.spec_audit"]


@pytest.fixture(scope="session")
def testdata_dir() -> Path:
    """``../shared/testdata`` beside the repository: MaxMind test DBs, uap-core cases, pages."""
    path = Path(__file__).resolve().parents[1].parent / "shared" / "testdata"
    if not path.is_dir():
        pytest.fail(f"test data not found at {path} (expected shared/ beside the repository)")
    return path


@pytest.fixture(scope="session")
def geoip_city_db(testdata_dir: Path) -> str:
    """Path of MaxMind's GeoIP2-City test database (81.2.69.160 is London, GB)."""
    return str(testdata_dir / "geoip" / "GeoIP2-City-Test.mmdb")


@pytest.fixture(scope="session")
def geoip_asn_db(testdata_dir: Path) -> str:
    """Path of MaxMind's GeoLite2-ASN test database (1.128.0.0/11 is AS1221, Telstra)."""
    return str(testdata_dir / "geoip" / "GeoLite2-ASN-Test.mmdb")


@pytest.fixture
def kit(store, testdata_dir: Path, tmp_path: Path):
    """A real collector on a loopback port over ``store`` (both engines), with a brand whose
    allowed domains are shop.example, localhost and 127.0.0.1, and its admin and read keys."""
    from tests.appkit import geoip_settings, run_kit

    settings = geoip_settings(testdata_dir, replay_assets_dir=str(tmp_path / "replay-assets"))
    yield from run_kit(store, settings)
