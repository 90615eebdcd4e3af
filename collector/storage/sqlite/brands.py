"""SQLite: brands, API keys, domains and database-wide secrets.

Domain ids come from an AUTOINCREMENT key (never handed out twice) and are cached per process.
A secret is created with INSERT OR IGNORE under the write transaction: the first process wins.
"""

from __future__ import annotations

import os
import sqlite3
from typing import Any

import msgspec

from ..model import ApiKey, Brand, BrandSettings
from ..rows import json_text
from .connection import SQLiteBase

_decode_domains = msgspec.json.Decoder(list[str]).decode
_decode_settings = msgspec.json.Decoder(BrandSettings).decode

_BRAND_COLUMNS_SQL = "id, name, site_key, domains, settings, created_at"


def _to_brand(row: tuple[Any, ...]) -> Brand:
    id_, name, site_key, domains, settings, created_at = row
    return Brand(
        id=id_,
        name=name,
        site_key=site_key,
        domains=_decode_domains(domains),
        settings=_decode_settings(settings),
        created_at=created_at,
    )


class BrandsMixin(SQLiteBase):
    """:class:`~collector.storage.base.BrandStore` and ``SecretStore`` on SQLite."""

    # brands and keys ---------------------------------------------------------------------
    def create_brand(
        self, name: str, site_key: str, domains: list[str], settings: BrandSettings, now: int
    ) -> Brand:
        try:
            with self._write() as conn:
                cursor = conn.execute(
                    "INSERT INTO brands (name, site_key, domains, settings, created_at)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (name, site_key, json_text(list(domains)), json_text(settings), now),
                )
                brand_id = cursor.lastrowid
        except sqlite3.IntegrityError as exc:
            raise ValueError(f"site key {site_key!r} is taken") from exc
        assert brand_id is not None
        return Brand(
            id=brand_id,
            name=name,
            site_key=site_key,
            domains=list(domains),
            settings=settings,
            created_at=now,
        )

    def get_brand(self, brand_id: int) -> Brand | None:
        row = self._one(f"SELECT {_BRAND_COLUMNS_SQL} FROM brands WHERE id = ?", (brand_id,))
        return _to_brand(row) if row else None

    def brand_by_site_key(self, site_key: str) -> Brand | None:
        row = self._one(f"SELECT {_BRAND_COLUMNS_SQL} FROM brands WHERE site_key = ?", (site_key,))
        return _to_brand(row) if row else None

    def list_brands(self) -> list[Brand]:
        return [
            _to_brand(r) for r in self._all(f"SELECT {_BRAND_COLUMNS_SQL} FROM brands ORDER BY id")
        ]

    def update_brand(self, brand: Brand) -> None:
        with self._write() as conn:
            cursor = conn.execute(
                "UPDATE brands SET name = ?, domains = ?, settings = ? WHERE id = ?",
                (brand.name, json_text(list(brand.domains)), json_text(brand.settings), brand.id),
            )
            if cursor.rowcount == 0:
                raise KeyError(f"no brand {brand.id}")

    def add_api_key(self, key: ApiKey) -> None:
        try:
            with self._write() as conn:
                conn.execute(
                    "INSERT INTO api_keys (id, brand_id, scope, key_hash, created_at, label)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    (key.id, key.brand_id, key.scope, key.key_hash, key.created_at, key.label),
                )
        except sqlite3.IntegrityError as exc:
            raise ValueError(f"API key id {key.id!r} is taken") from exc

    def api_key_by_id(self, key_id: str) -> ApiKey | None:
        row = self._one(
            "SELECT id, brand_id, scope, key_hash, created_at, label FROM api_keys WHERE id = ?",
            (key_id,),
        )
        if row is None:
            return None
        id_, brand_id, scope, key_hash, created_at, label = row
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
        cached = self._domain_ids.get(key)
        if cached is not None:
            return cached
        sql = "SELECT id FROM domains WHERE brand_id = ? AND domain = ?"
        row = self._one(sql, key)
        if row is None:
            with self._write() as conn:
                conn.execute("INSERT OR IGNORE INTO domains (brand_id, domain) VALUES (?, ?)", key)
                row = conn.execute(sql, key).fetchone()
        domain_id: int = row[0]
        self._domain_ids[key] = domain_id
        return domain_id

    def domains_by_id(self, brand_id: int, ids: list[int]) -> dict[int, str]:
        if not ids:
            return {}
        rows = self._all(
            "SELECT id, domain FROM domains WHERE brand_id = ?"
            " AND id IN (SELECT value FROM json_each(?))",
            (brand_id, json_text(list(ids))),
        )
        return dict(rows)

    # secrets -----------------------------------------------------------------------------
    def secret(self, name: str) -> bytes:
        row = self._one("SELECT value FROM secrets WHERE name = ?", (name,))
        if row is None:
            # INSERT OR IGNORE under the write transaction: the first process to store one wins.
            with self._write() as conn:
                conn.execute(
                    "INSERT OR IGNORE INTO secrets (name, value) VALUES (?, ?)",
                    (name, os.urandom(32)),
                )
                row = conn.execute("SELECT value FROM secrets WHERE name = ?", (name,)).fetchone()
        return bytes(row[0])
