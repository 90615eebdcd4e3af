"""``clicktrail keys create | list | revoke``: a brand's API keys.

``create`` prints the key once, with its id. ``list`` prints the brand's keys as a JSON array,
each with its id, prefix, scope, label, creation and last use, never a secret or its hash.
``revoke KEY_ID`` deletes the key: it is refused at once by every collector on the database
(``collector/http/auth.py``); an unknown id exits 1 with a message.
"""

from __future__ import annotations

import argparse
import re
from typing import Any

from collector.cli.common import add_settings, now_ms
from collector.cli.store import cli_store
from collector.config import Settings, SettingsError
from collector.http.auth import key_prefix, mint_api_key
from collector.http.params import iso
from collector.storage.base import KeyInfo, Scope, Store

_KEY_ID = re.compile(r"^[0-9a-f]{1,64}$")
MAX_LABEL = 64


class NotFound(SettingsError):
    """What a command was asked to act on does not exist (exit 1, not 2)."""

    exit_code = 1


def register(commands: argparse._SubParsersAction) -> None:
    keys = commands.add_parser("keys", help="manage API keys").add_subparsers(
        dest="action", required=True
    )
    create = keys.add_parser("create", help="create an API key; prints it once")
    create.add_argument("--brand", type=int, required=True)
    create.add_argument("--scope", choices=["read", "write", "admin"], default="read")
    create.add_argument("--label", default="", help=f"what it is for (≤ {MAX_LABEL} characters)")
    add_settings(create, ["database"])
    create.set_defaults(run=keys_create)

    listing = keys.add_parser("list", help="a brand's keys: prefix, scope, use; never a secret")
    listing.add_argument("--brand", type=int, required=True)
    add_settings(listing, ["database"])
    listing.set_defaults(run=keys_list)

    revoke = keys.add_parser("revoke", help="revoke a key: refused at once everywhere")
    revoke.add_argument("key_id", help="the key's id (ct_<id>_..., as `keys list` shows it)")
    add_settings(revoke, ["database"])
    revoke.set_defaults(run=keys_revoke)


def key_row(key: KeyInfo) -> dict[str, Any]:
    """A key as the commands print it (the API's fields, ``docs/API.md``)."""
    return {
        "id": key.id,
        "prefix": key_prefix(key.id),
        "scope": key.scope,
        "label": key.label,
        "created_at": iso(key.created_at),
        "last_used_at": iso(key.last_used_at) if key.last_used_at is not None else None,
    }


def add_key(store: Store, brand_id: int, scope: Scope, label: str = "") -> tuple[str, str]:
    """A new key of the brand: (its id, the full key to show once)."""
    api_key, record = mint_api_key(brand_id, scope, now_ms(), label=label)
    store.add_api_key(record)
    return record.id, api_key


def _existing_brand(store: Store, brand_id: int) -> None:
    if store.get_brand(brand_id) is None:
        raise SettingsError(f"--brand: no brand {brand_id} (`clicktrail brands list` shows them)")


def keys_create(args: argparse.Namespace, settings: Settings) -> dict[str, Any]:
    if len(args.label) > MAX_LABEL:
        raise SettingsError(f"--label: at most {MAX_LABEL} characters")
    with cli_store(settings.database) as store:
        _existing_brand(store, args.brand)
        key_id, api_key = add_key(store, args.brand, args.scope, args.label)
    return {"id": key_id, "brand_id": args.brand, "scope": args.scope, "api_key": api_key}


def keys_list(args: argparse.Namespace, settings: Settings) -> list[dict[str, Any]]:
    with cli_store(settings.database) as store:
        _existing_brand(store, args.brand)
        return [key_row(k) for k in store.api_keys_of_brand(args.brand)]


def keys_revoke(args: argparse.Namespace, settings: Settings) -> dict[str, Any]:
    key_id = args.key_id.removeprefix("ct_").partition("_")[0].lower()
    if not _KEY_ID.match(key_id):
        raise SettingsError(f"KEY_ID: {args.key_id[:80]!r} is not a key id (hex, ≤ 64 characters)")
    with cli_store(settings.database) as store:
        record = store.api_key_by_id(key_id)
        if record is None or not store.revoke_api_key(record.brand_id, key_id):
            raise NotFound(f"no API key {key_id!r} (`clicktrail keys list --brand ID` shows them)")
    return {"id": key_id, "brand_id": record.brand_id, "revoked": True}
