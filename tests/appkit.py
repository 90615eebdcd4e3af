"""Test kit: a real collector over a real store on a loopback port, plus beacon builders."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from collector.app import create_app
from collector.cli import create_brand
from collector.config import Settings
from collector.http.auth import mint_api_key
from collector.ids import new_id
from collector.storage import open_store
from collector.storage.base import Brand, BrandSettings, Store
from tests.servers import serve_in_thread

CHROME_UA = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36"
)
LONDON_IP = "81.2.69.160"


@dataclass
class Kit:
    url: str
    store: Store
    brand: Brand
    admin_key: str
    read_key: str
    http: httpx.Client = field(repr=False)

    def beacon(self, **overrides: Any) -> dict[str, Any]:
        return make_beacon(self.brand.site_key, **overrides)

    def collect(self, beacon: dict[str, Any], **headers: str) -> httpx.Response:
        headers.setdefault("user-agent", CHROME_UA)
        headers.setdefault("content-type", "text/plain;charset=UTF-8")
        response = self.http.post("/collect", json=beacon, headers=headers)
        self.settle()
        return response

    def settle(self) -> None:
        """Wait until what was answered is enriched: a read waits for that (the inbox)."""
        self.http.get("/", follow_redirects=False)

    def api(self, path: str, key: str | None = None, **query: Any) -> httpx.Response:
        headers = {"EF-Access-Key": key or self.read_key}
        return self.http.get(f"/api/brands/{self.brand.id}{path}", params=query, headers=headers)

    def new_brand(self, settings: BrandSettings | None = None, domains=()) -> tuple[Brand, str]:
        brand = create_brand(
            self.store, f"brand-{new_id()}", list(domains), settings or BrandSettings()
        )
        key, record = mint_api_key(brand.id, "admin", now_ms())
        self.store.add_api_key(record)
        return brand, key


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def make_beacon(site_key: str, **overrides: Any) -> dict[str, Any]:
    """A first beacon of a page load with one page_view, as the tracker sends it."""
    ts = now_ms()
    beacon: dict[str, Any] = {
        "k": site_key,
        "v": new_id(ts - 3_600_000),
        "s": new_id(ts),
        "p": new_id(ts),
        "n": 1,
        "u": "https://shop.example/landing?utm_source=newsletter&sub1=abc",
        "r": "https://www.google.com/",
        "l": "en-GB",
        "w": 1440,
        "h": 900,
        "e": [{"t": "page_view", "ts": ts}],
    }
    beacon.update(overrides)
    return beacon


def geoip_settings(testdata: Path, **changes: Any) -> Settings:
    return Settings(
        geoip_db=str(testdata / "geoip" / "GeoIP2-City-Test.mmdb"),
        asn_db=str(testdata / "geoip" / "GeoLite2-ASN-Test.mmdb"),
        trusted_proxies="127.0.0.1",
    ).replace(**changes)


def run_kit(store: Store, settings: Settings) -> Iterator[Kit]:
    brand = create_brand(
        store, f"shop-{new_id()}", ["shop.example", "localhost", "127.0.0.1"], BrandSettings()
    )
    admin_key, admin = mint_api_key(brand.id, "admin", now_ms())
    read_key, read = mint_api_key(brand.id, "read", now_ms())
    store.add_api_key(admin)
    store.add_api_key(read)
    app = create_app(settings, store=store)
    with serve_in_thread(app) as url, httpx.Client(base_url=url, timeout=30) as http:
        yield Kit(url, store, brand, admin_key, read_key, http)


@contextlib.contextmanager
def engine_kit(engine: str, tmp: Path, testdata: Path) -> Iterator[Kit]:
    """A collector over a fresh store of ``engine`` (``sqlite`` or ``chdb``, skipped without
    chdb) with the test GeoIP databases: for module-scoped fixtures that seed once. The store
    is closed and a ClickHouse database dropped afterwards."""
    from tests.storage_fixtures import chdb_available, chdb_test_url, drop_database

    if engine == "sqlite":
        url = f"sqlite:///{tmp}/clicktrail.db"
    elif not chdb_available():
        pytest.skip("chdb is not installed")
    else:
        url = chdb_test_url()
    store = open_store(url)
    settings = geoip_settings(testdata, replay_assets_dir=str(tmp / "replay-assets"))
    try:
        with contextlib.contextmanager(run_kit)(store, settings) as kit:
            yield kit
    finally:
        store.close()
        if not url.startswith("sqlite"):
            drop_database(url)
