"""Brand look-ups for the hot paths, remembered for a few seconds so a beacon costs no read."""

from __future__ import annotations

import time

from collector.storage.base import Brand, Store

_TTL_SECONDS = 10.0


class BrandCache:
    def __init__(self, store: Store, ttl: float = _TTL_SECONDS) -> None:
        self._store = store
        self._ttl = ttl
        self._by_key: dict[str, tuple[float, Brand | None]] = {}
        self._by_id: dict[int, tuple[float, Brand | None]] = {}
        self.version = 0  # counts forget(): an enrichment process forgets when it moves

    def by_site_key(self, site_key: str) -> Brand | None:
        now = time.monotonic()
        cached = self._by_key.get(site_key)
        if cached is not None and now - cached[0] < self._ttl:
            return cached[1]
        brand = self._store.brand_by_site_key(site_key)
        self._bound(self._by_key)
        self._by_key[site_key] = (now, brand)
        return brand

    def by_id(self, brand_id: int) -> Brand | None:
        """The brand with this id (blocking when not remembered)."""
        now = time.monotonic()
        cached = self._by_id.get(brand_id)
        if cached is not None and now - cached[0] < self._ttl:
            return cached[1]
        brand = self._store.get_brand(brand_id)
        self._bound(self._by_id)
        self._by_id[brand_id] = (now, brand)
        return brand

    def is_fresh(self, site_key: str) -> bool:
        cached = self._by_key.get(site_key)
        return cached is not None and time.monotonic() - cached[0] < self._ttl

    def is_fresh_id(self, brand_id: int) -> bool:
        cached = self._by_id.get(brand_id)
        return cached is not None and time.monotonic() - cached[0] < self._ttl

    def forget(self) -> None:
        self.version += 1
        self._by_key.clear()
        self._by_id.clear()

    @staticmethod
    def _bound(cache: dict) -> None:
        if len(cache) > 10_000:
            cache.clear()


def host_allowed(host: str | None, allowed: list[str]) -> bool:
    """True when ``host`` is one of the brand's domains or a subdomain of one. A brand with no
    domains accepts every host."""
    if not allowed:
        return True
    if not host:
        return False
    host = host.lower()
    return any(host == domain or host.endswith("." + domain) for domain in allowed)
