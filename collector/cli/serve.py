"""``clicktrail serve`` and ``clicktrail demo``: the collector under uvicorn.

Both check first that the port is free, before the database is opened: a second ``make run``
says the port is taken and how to pick another, and exits 2 having touched nothing. The demo's
keys carry the label ``demo``; each start revokes the ones the previous start made.
"""

from __future__ import annotations

import argparse
import errno
import socket
from typing import TYPE_CHECKING

from collector.cli.brands import create_brand
from collector.cli.common import add_settings, now_ms
from collector.cli.keys import add_key
from collector.cli.store import shown_database
from collector.config import SETTINGS, Settings, SettingsError, with_default_geoip_db
from collector.demo.sample import VISITS, SampleData
from collector.demo.signin import ensure_demo_user
from collector.ops.tuning import tune_process
from collector.storage import open_store
from collector.storage.base import Brand, BrandSettings, Store

if TYPE_CHECKING:
    from collector.site.routes import DemoPage

DEMO_BRAND = "Clicktrail demo"
DEMO_KEY_LABEL = "demo"


def register(commands: argparse._SubParsersAction) -> None:
    every_setting = [s.name for s in SETTINGS]
    serve = commands.add_parser("serve", help="run the collector")
    add_settings(serve, every_setting)
    serve.set_defaults(run=lambda args, settings: serve_checked(settings))
    demo = commands.add_parser(
        "demo", help="run the collector with a demo brand, its page, sample data and user"
    )
    add_settings(demo, every_setting)
    demo.add_argument(
        "--sample-visits",
        type=int,
        default=VISITS,
        help=f"visits of sample data (30 days) added once to the demo brand; 0: none ({VISITS})",
    )
    demo.set_defaults(run=lambda args, settings: run_demo(settings, args.sample_visits))


def check_port(settings: Settings) -> None:
    """SettingsError (exit 2) when ``settings.port`` cannot be listened on, naming the flag and
    the variable that change it. Checked before anything else, so nothing was touched."""
    family = socket.AF_INET6 if ":" in settings.host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind((settings.host, settings.port))
        except OSError as exc:
            taken = exc.errno == errno.EADDRINUSE
            why = "is taken (another collector running?)" if taken else f"is not usable ({exc})"
            raise SettingsError(
                f"port {settings.port} on {settings.host} {why}: pick another with "
                f"--port N or the CLICKTRAIL_PORT variable (make run: CLICKTRAIL_PORT=8001 "
                f"make run); the database was not opened"
            ) from None


def serve_checked(settings: Settings) -> None:
    check_port(settings)
    print(f"  database       {shown_database(settings.database)}", flush=True)
    run_server(settings)


def run_server(settings: Settings, demo: DemoPage | None = None) -> None:
    """Serve until interrupted (SIGINT or SIGTERM: the app drains its writer first)."""
    import uvicorn

    tune_process()

    from collector.app import create_app
    from collector.ops.logging import log_format, logging_config

    app = create_app(with_default_geoip_db(settings), demo=demo)
    # proxy_headers=False: only --trusted-proxies decides whom X-Forwarded-For is taken from.
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_level="info",
        log_config=logging_config(log_format(settings.log_format)),  # ours: one line a request
        access_log=False,
        proxy_headers=False,
    )


DEMO_LINK_KEY = "demo"


def _demo_short_link(store: Store, brand: Brand, base: str) -> str:
    """The demo's short link to its landing page (made on first use): ``{base}/g/demo``."""
    from collector.errors import Conflict
    from collector.links.schema import LinkCreate
    from collector.links.service import create_link, link_url

    body = LinkCreate(
        destination_url=f"{base}/demo?utm_source=demo-link&utm_medium=short-link",
        key=DEMO_LINK_KEY,
        tags=["demo"],
    )
    try:
        return link_url(create_link(store, brand, body, base, now_ms()))
    except Conflict:
        return f"{base}/g/{DEMO_LINK_KEY}"


def revoke_demo_keys(store: Store, brand_id: int) -> int:
    """Revoke the keys an earlier start of the demo made (label ``demo``); how many."""
    made = [k for k in store.api_keys_of_brand(brand_id) if k.label == DEMO_KEY_LABEL]
    return sum(store.revoke_api_key(brand_id, k.id) for k in made)


def run_demo(settings: Settings, sample_visits: int = VISITS) -> None:
    """The demo brand (made on first use) with a new admin key and the demo user, printed, and
    the collector serving the dashboard and the brand's landing page at ``/demo``, filling
    ``sample_visits`` visits of sample data in the background (once per database)."""
    check_port(settings)
    store = open_store(settings.database)
    try:
        brand = next((b for b in store.list_brands() if b.name == DEMO_BRAND), None)
        if brand is None:
            brand = create_brand(store, DEMO_BRAND, [], BrandSettings(replay_sample_rate=1.0))
        revoked = revoke_demo_keys(store, brand.id)
        api_key = add_key(store, brand.id, "admin", DEMO_KEY_LABEL)[1]
        read_key = add_key(store, brand.id, "read", DEMO_KEY_LABEL)[1]
        base = settings.public_url.rstrip("/") or f"http://{settings.host}:{settings.port}"
        short_link = _demo_short_link(store, brand, base)
        sign_in = ensure_demo_user(store, brand.id)
    finally:
        store.close()
    password = sign_in.password or "(changed since it was made; `clicktrail users create` another)"
    print(
        f"\n  Clicktrail demo\n"
        f"  dashboard      {base}/\n"
        f"  sign in        {sign_in.email}   password {password}\n"
        f"  landing page   {base}/demo   (click around, then see your visit in the dashboard)\n"
        f"  short link     {short_link}   (QR code: /api/brands/{brand.id}/short-links/demo/qr)\n"
        f"  API docs       {base}/docs\n"
        f"  brand          {brand.id} (site key {brand.site_key})\n"
        f"  API key        {api_key}   (shown once; a new one each start, the previous "
        f"start's revoked: {revoked})\n"
        f"  database       {shown_database(settings.database)}\n\n"
        f"  curl -H 'X-Api-Key: {api_key}' {base}/api/brands/{brand.id}/clicks\n",
        flush=True,
    )
    from collector.site.routes import DemoPage

    sample = None
    if sample_visits > 0:
        print(
            f"  sample data: {sample_visits:,} visits over 30 days, added once in the "
            f"background (progress: {base}/demo/status)",
            flush=True,
        )
        sample = SampleData(brand.id, base, visits=sample_visits)
    run_server(settings, demo=DemoPage(brand.id, brand.site_key, read_key, sample))
