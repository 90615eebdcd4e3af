"""ClickHouse: brands, API keys, domains and database-wide secrets.

``brands``, ``api_keys``, ``domains``: ReplacingMergeTree, read with ``FINAL``; an update is a
newer row (``brands.version``), identical re-inserts (domains) collapse. A domain's id is a hash
of (brand, domain), so every collector computes the same one without coordination.

Secrets: the first process to create a secret wins through insert deduplication: every process
inserts its random candidate with the same ``insert_deduplication_token`` into a table with a
deduplication window, ClickHouse keeps the first block and drops the others, and everyone reads
back the kept value.
"""

from __future__ import annotations

import hashlib
import os
import time
from typing import Any

import msgspec

from ..model import ApiKey, Brand, BrandSettings
from ..rows import json_text
from .connection import ClickHouseBase

_decode_settings = msgspec.json.Decoder(BrandSettings).decode

_BRAND_COLUMNS_SQL = "id, name, site_key, domains, settings, created_at"


def domain_id(brand_id: int, domain: str) -> int:
    """A domain's id: 52 bits of a hash of (brand, domain), so every collector computes the same
    id without coordination, and it stays exact in JavaScript numbers."""
    digest = hashlib.blake2b(f"{brand_id}\x00{domain}".encode(), digest_size=8).digest()
    return (int.from_bytes(digest, "big") >> 12) or 1


def _to_brand(row: tuple[Any, ...]) -> Brand:
    id_, name, site_key, domains, settings, created_at = row
    return Brand(
        id=id_,
        name=name,
        site_key=site_key,
        domains=list(domains),
        settings=_decode_settings(settings),
        created_at=created_at,
    )


class BrandsMixin(ClickHouseBase):
    """:class:`~collector.storage.base.BrandStore` and ``SecretStore`` on ClickHouse."""

    # brands and keys ---------------------------------------------------------------------
    def _write_brand(self, brand: Brand) -> None:
        self._insert(
            "brands",
            ("id", "name", "site_key", "domains", "settings", "created_at", "version"),
            [
                (
                    brand.id,
                    brand.name,
                    brand.site_key,
                    list(brand.domains),
                    json_text(brand.settings),
                    brand.created_at,
                    self._next_version(),
                )
            ],
        )

    def create_brand(
        self, name: str, site_key: str, domains: list[str], settings: BrandSettings, now: int
    ) -> Brand:
        with self._lock:
            if self.brand_by_site_key(site_key) is not None:
                raise ValueError(f"site key {site_key!r} is taken")
            rows = self._rows("SELECT max(id) FROM {db}.brands")
            brand = Brand(
                id=int(rows[0][0] or 0) + 1,
                name=name,
                site_key=site_key,
                domains=list(domains),
                settings=settings,
                created_at=now,
            )
            self._write_brand(brand)
        return brand

    def _brands(self, where: str = "", params: dict[str, Any] | None = None) -> list[Brand]:
        rows = self._rows(
            f"SELECT {_BRAND_COLUMNS_SQL} FROM {{db}}.brands FINAL {where} ORDER BY id", params
        )
        return [_to_brand(r) for r in rows]

    def get_brand(self, brand_id: int) -> Brand | None:
        found = self._brands("WHERE id = {id:UInt64}", {"id": brand_id})
        return found[0] if found else None

    def brand_by_site_key(self, site_key: str) -> Brand | None:
        found = self._brands("WHERE site_key = {key:String}", {"key": site_key})
        return found[0] if found else None

    def list_brands(self) -> list[Brand]:
        return self._brands()

    def update_brand(self, brand: Brand) -> None:
        with self._lock:
            current = self.get_brand(brand.id)
            if current is None:
                raise KeyError(f"no brand {brand.id}")
            self._write_brand(
                Brand(
                    id=current.id,
                    name=brand.name,
                    site_key=current.site_key,
                    domains=list(brand.domains),
                    settings=brand.settings,
                    created_at=current.created_at,
                )
            )

    def add_api_key(self, key: ApiKey) -> None:
        with self._lock:
            if self.api_key_by_id(key.id) is not None:
                raise ValueError(f"API key id {key.id!r} is taken")
            self._insert(
                "api_keys",
                ("id", "brand_id", "scope", "key_hash", "created_at", "label"),
                [(key.id, key.brand_id, key.scope, key.key_hash, key.created_at, key.label)],
            )

    def api_key_by_id(self, key_id: str) -> ApiKey | None:
        rows = self._rows(
            "SELECT id, brand_id, scope, key_hash, created_at, label FROM {db}.api_keys FINAL"
            " WHERE id = {id:String}",
            {"id": key_id},
        )
        if not rows:
            return None
        id_, brand_id, scope, key_hash, created_at, label = rows[0]
        return ApiKey(
            id=id_,
            brand_id=brand_id,
            scope=scope,
            key_hash=key_hash,
            created_at=created_at,
            label=label,
        )

    # domains -----------------------------------------------------------------------------
    def ensure_domain(self, brand_id: int, domain: str) -> int:
        key = (brand_id, domain)
        known = self._domain_ids.get(key)
        if known is not None:
            return known
        new_id = domain_id(brand_id, domain)
        rows = self._rows(
            "SELECT id FROM {db}.domains FINAL"
            " WHERE brand_id = {brand:UInt64} AND domain = {domain:String}",
            {"brand": brand_id, "domain": domain},
        )
        if not rows:
            # Idempotent: any collector writes the same row, ReplacingMergeTree keeps one.
            self._insert("domains", ("brand_id", "domain", "id"), [(brand_id, domain, new_id)])
        self._domain_ids[key] = new_id
        return new_id

    def domains_by_id(self, brand_id: int, ids: list[int]) -> dict[int, str]:
        if not ids:
            return {}
        rows = self._rows(
            "SELECT id, domain FROM {db}.domains FINAL"
            " WHERE brand_id = {brand:UInt64} AND id IN {ids:Array(UInt64)}",
            {"brand": brand_id, "ids": [int(i) for i in ids]},
        )
        return dict(rows)

    # secrets -----------------------------------------------------------------------------
    def secret(self, name: str) -> bytes:
        known = self._secrets.get(name)
        if known is not None:
            return known
        sql = (
            "SELECT value FROM {db}.secrets WHERE name = {name:String}"
            " ORDER BY created_at, value LIMIT 1"
        )
        rows = self._rows(sql, {"name": name})
        if not rows:
            # Every process inserts with the same deduplication token: the table keeps the
            # first insert and silently drops the others, so all read back the same value.
            self._insert(
                "secrets",
                ("name", "value", "created_at"),
                [(name, os.urandom(32).hex(), time.time_ns() // 1_000_000)],
                settings={"insert_deduplication_token": f"secret:{name}"},
            )
            rows = self._rows(sql, {"name": name})
        value = bytes.fromhex(rows[0][0])
        self._secrets[name] = value
        return value
