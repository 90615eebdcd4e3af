"""``clicktrail`` command line: serve, demo, brands create, keys create, replays import/compact."""

from __future__ import annotations

import argparse
import json
import secrets
import sys
import time
from collections.abc import Sequence
from typing import get_args
from urllib.parse import urlsplit

from collector.config import SETTINGS, Settings, SettingsError, load_settings
from collector.http.auth import mint_api_key
from collector.storage import open_store
from collector.storage.base import Brand, BrandSettings, ExternalAssets, Store

DEMO_BRAND = "Clicktrail demo"
_SERVER_SETTINGS = {s.name for s in SETTINGS}


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def _add_settings(parser: argparse.ArgumentParser, names: set[str]) -> None:
    for setting in SETTINGS:
        if setting.name in names:
            parser.add_argument(
                setting.flag,
                dest=setting.name,
                default=None,
                help=f"{setting.help} [env {setting.env}; default {setting.default!r}]",
            )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="clicktrail", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the collector")
    _add_settings(serve, _SERVER_SETTINGS)
    demo = commands.add_parser("demo", help="run the collector with a demo brand and page")
    _add_settings(demo, _SERVER_SETTINGS)

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
    _add_settings(create, {"database"})

    keys = commands.add_parser("keys", help="manage API keys").add_subparsers(
        dest="action", required=True
    )
    key = keys.add_parser("create", help="create an API key; prints it once")
    key.add_argument("--brand", type=int, required=True)
    key.add_argument("--scope", choices=["read", "write", "admin"], default="read")
    _add_settings(key, {"database"})

    replays = commands.add_parser("replays", help="manage replays").add_subparsers(
        dest="action", required=True
    )
    imp = replays.add_parser("import", help="import an rrweb event array (JSON file) as a replay")
    imp.add_argument("file", help="a JSON file holding an array of rrweb events")
    imp.add_argument("--brand", type=int, required=True)
    _add_settings(imp, {"database"})
    compact = replays.add_parser("compact", help="compact replays that have ended, now")
    compact.add_argument(
        "--all", action="store_true", help="also replays still recording (idle or not)"
    )
    _add_settings(compact, {"database", "replay_idle_minutes"})
    return parser


def _host(domain: str) -> str:
    domain = domain.strip().lower()
    if "//" in domain:
        return urlsplit(domain).hostname or ""
    return domain.split("/")[0]


def create_brand(store: Store, name: str, domains: list[str], settings: BrandSettings) -> Brand:
    return store.create_brand(
        name=name,
        site_key=secrets.token_urlsafe(12),
        domains=[h for h in (_host(d) for d in domains) if h],
        settings=settings,
        now=_now_ms(),
    )


def _brands_create(args: argparse.Namespace, settings: Settings) -> dict:
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
        api_key, record = mint_api_key(brand.id, "admin", _now_ms())
        store.add_api_key(record)
    finally:
        store.close()
    return {"id": brand.id, "name": brand.name, "site_key": brand.site_key, "api_key": api_key}


def _keys_create(args: argparse.Namespace, settings: Settings) -> dict:
    store = open_store(settings.database)
    try:
        if store.get_brand(args.brand) is None:
            raise SettingsError(f"--brand: no brand {args.brand}")
        api_key, record = mint_api_key(args.brand, args.scope, _now_ms())
        store.add_api_key(record)
    finally:
        store.close()
    return {"id": record.id, "brand_id": args.brand, "scope": args.scope, "api_key": api_key}


def _replays_import(args: argparse.Namespace, settings: Settings) -> dict:
    from collector.http.errors import ApiError
    from collector.replay.importer import import_replay

    try:
        with open(args.file, "rb") as file:
            events = file.read()
    except OSError as exc:
        raise SettingsError(f"{args.file}: {exc.strerror}") from None
    store = open_store(settings.database)
    try:
        if store.get_brand(args.brand) is None:
            raise SettingsError(f"--brand: no brand {args.brand}")
        try:
            return {"id": import_replay(store, args.brand, events, _now_ms())}
        except ApiError as exc:
            raise SettingsError(f"{args.file}: {exc.message}") from None
    finally:
        store.close()


def _replays_compact(args: argparse.Namespace, settings: Settings) -> dict:
    from collector.replay.compaction import compact_ended

    store = open_store(settings.database)
    try:
        if args.all:  # every replay with live chunks, even one that got a chunk this millisecond
            return {"compacted": compact_ended(store, _now_ms() + 1, idle_ms=0)}
        idle_ms = settings.replay_idle_minutes * 60_000
        return {"compacted": compact_ended(store, _now_ms(), idle_ms=idle_ms)}
    finally:
        store.close()


def _serve(settings: Settings, demo: object | None = None) -> None:
    import uvicorn

    from collector.app import create_app

    app = create_app(settings, demo=demo)  # type: ignore[arg-type]
    # proxy_headers=False: only --trusted-proxies decides whom X-Forwarded-For is taken from.
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_level="info",
        access_log=False,
        proxy_headers=False,
    )


def _demo(settings: Settings) -> None:
    store = open_store(settings.database)
    try:
        brand = next((b for b in store.list_brands() if b.name == DEMO_BRAND), None)
        if brand is None:
            brand = create_brand(store, DEMO_BRAND, [], BrandSettings(replay_sample_rate=1.0))
        api_key, record = mint_api_key(brand.id, "admin", _now_ms())
        store.add_api_key(record)
        read_key, read_record = mint_api_key(brand.id, "read", _now_ms())
        store.add_api_key(read_record)
    finally:
        store.close()
    base = f"http://{settings.host}:{settings.port}"
    print(
        f"\n  Clicktrail demo\n"
        f"  landing page   {base}/demo\n"
        f"  API docs       {base}/docs\n"
        f"  brand          {brand.id} (site key {brand.site_key})\n"
        f"  API key        {api_key}   (shown once; a new one each start)\n\n"
        f"  curl -H 'X-Api-Key: {api_key}' {base}/api/brands/{brand.id}/clicks\n",
        flush=True,
    )
    from collector.app import DemoPage

    _serve(settings, demo=DemoPage(brand.id, brand.site_key, read_key))


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    given = {s.name: getattr(args, s.name, None) for s in SETTINGS}
    try:
        settings = load_settings(given)
        if args.command == "serve":
            _serve(settings)
        elif args.command == "demo":
            _demo(settings)
        elif args.command == "brands":
            print(json.dumps(_brands_create(args, settings)))
        elif args.command == "keys":
            print(json.dumps(_keys_create(args, settings)))
        elif args.command == "replays" and args.action == "import":
            print(json.dumps(_replays_import(args, settings)))
        elif args.command == "replays":
            print(json.dumps(_replays_compact(args, settings)))
    except SettingsError as exc:
        print(f"clicktrail: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
