"""``clicktrail brands create | list``. ``list`` prints a JSON array of the brands, each with its
id, name, site key, domains and creation time (its keys: ``clicktrail keys list``)."""

from __future__ import annotations

import argparse
import secrets
from typing import Any, get_args
from urllib.parse import urlsplit

from collector.cli.common import add_settings, now_ms
from collector.cli.keys import add_key
from collector.cli.store import cli_store
from collector.config import Settings, SettingsError
from collector.http.params import iso
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

    listing = brands.add_parser("list", help="every brand: id, name, site key, domains")
    add_settings(listing, ["database"])
    listing.set_defaults(run=brands_list)


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
    with cli_store(settings.database) as store:
        brand = create_brand(store, args.name, args.domain, brand_settings)
        api_key = add_key(store, brand.id, "admin")[1]
    return {"id": brand.id, "name": brand.name, "site_key": brand.site_key, "api_key": api_key}


def brand_row(brand: Brand) -> dict[str, Any]:
    return {
        "id": brand.id,
        "name": brand.name,
        "site_key": brand.site_key,
        "domains": list(brand.domains),
        "created_at": iso(brand.created_at),
    }


def brands_list(args: argparse.Namespace, settings: Settings) -> list[dict[str, Any]]:
    with cli_store(settings.database) as store:
        return [brand_row(b) for b in store.list_brands()]
