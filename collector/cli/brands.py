"""``clicktrail brands create`` and ``clicktrail keys create``."""

from __future__ import annotations

import argparse
import secrets
from typing import Any, get_args
from urllib.parse import urlsplit

from collector.cli.common import add_settings, now_ms
from collector.config import Settings, SettingsError
from collector.http.auth import mint_api_key
from collector.storage import open_store
from collector.storage.base import Brand, BrandSettings, ExternalAssets, Store


def register(commands: argparse._SubParsersAction) -> None:
    brands = commands.add_parser("brands", help="manage brands").add_subparsers(
        dest="action", required=True
    )
    create = brands.add_parser("create", help="create a brand; prints it with an admin key")
    create.add_argument("name")
    create.add_argument("--domain", action="append", default=[], help="allowed host (repeat)")
    create.add_argument("--ip-mode", choices=["full", "truncated", "off"], default="full")
    create.add_argument("--cookieless", action="store_true", help="no visitor storage")
    create.add_argument("--respect-dnt", action="store_true", help="honour DNT / GPC")
    create.add_argument("--replay-sample-rate", type=float, default=0.0)
    create.add_argument(
        "--replay-external-assets",
        choices=get_args(ExternalAssets),
        default="proxy",
        help="what replays load from the recorded site (docs/REPLAY.md)",
    )
    add_settings(create, ["database"])
    create.set_defaults(run=brands_create)

    keys = commands.add_parser("keys", help="manage API keys").add_subparsers(
        dest="action", required=True
    )
    key = keys.add_parser("create", help="create an API key; prints it once")
    key.add_argument("--brand", type=int, required=True)
    key.add_argument("--scope", choices=["read", "write", "admin"], default="read")
    add_settings(key, ["database"])
    key.set_defaults(run=keys_create)


def _host(domain: str) -> str:
    domain = domain.strip().lower()
    if "//" in domain:
        return urlsplit(domain).hostname or ""
    return domain.split("/")[0]


def create_brand(store: Store, name: str, domains: list[str], settings: BrandSettings) -> Brand:
    """A new brand with a fresh site key; ``domains`` may be hosts or URLs."""
    return store.create_brand(
        name=name,
        site_key=secrets.token_urlsafe(12),
        domains=[h for h in (_host(d) for d in domains) if h],
        settings=settings,
        now=now_ms(),
    )


def brands_create(args: argparse.Namespace, settings: Settings) -> dict[str, Any]:
    brand_settings = BrandSettings(
        ip_mode=args.ip_mode,
        cookieless=args.cookieless,
        respect_dnt=args.respect_dnt,
        replay_sample_rate=args.replay_sample_rate,
        replay_external_assets=args.replay_external_assets,
    )
    if not 0.0 <= args.replay_sample_rate <= 1.0:
        raise SettingsError("--replay-sample-rate must be between 0 and 1")
    store = open_store(settings.database)
    try:
        brand = create_brand(store, args.name, args.domain, brand_settings)
        api_key, record = mint_api_key(brand.id, "admin", now_ms())
        store.add_api_key(record)
    finally:
        store.close()
    return {"id": brand.id, "name": brand.name, "site_key": brand.site_key, "api_key": api_key}


def keys_create(args: argparse.Namespace, settings: Settings) -> dict[str, Any]:
    store = open_store(settings.database)
    try:
        if store.get_brand(args.brand) is None:
            raise SettingsError(f"--brand: no brand {args.brand}")
        api_key, record = mint_api_key(args.brand, args.scope, now_ms())
        store.add_api_key(record)
    finally:
        store.close()
    return {"id": record.id, "brand_id": args.brand, "scope": args.scope, "api_key": api_key}
