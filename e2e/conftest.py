"""End-to-end fixtures: the real collector as a subprocess, a reverse proxy in front of it, a
landing page on another origin, and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.servers import clicktrail_cli, serve_in_thread, start_collector

ROOT = Path(__file__).resolve().parents[1]
TESTDATA = ROOT.parent / "shared" / "testdata"
CHROMIUM = os.environ.get("CLICKTRAIL_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # Playwright's Chromium says navigator.webdriver, which the collector flags as a bot
    # ("automation: navigator.webdriver"); these tests play people.
    "--disable-blink-features=AutomationControlled",
]
DESKTOP_UA = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36"
)
VISITOR_IP = "81.2.69.160"  # London in MaxMind's test City database


@dataclass
class Collector:
    url: str
    database: str

    def cli(self, *args: str) -> dict:
        return clicktrail_cli(*args, database=self.database)

    def api(self, brand: dict) -> httpx.Client:
        """A client of ``/api/brands/{id}`` with the brand's key (from ``brands create``)."""
        return httpx.Client(
            base_url=f"{self.url}/api/brands/{brand['id']}",
            headers={"EF-Access-Key": brand["api_key"]},
            timeout=30,
        )


@pytest.fixture(scope="session")
def collector(tmp_path_factory) -> Iterator[Collector]:
    workdir = tmp_path_factory.mktemp("collector")
    database = f"sqlite:///{workdir}/clicktrail.db"
    running = start_collector(
        "serve",
        database,
        workdir / "collector.log",
        "--geoip-db",
        str(TESTDATA / "geoip" / "GeoIP2-City-Test.mmdb"),
        "--asn-db",
        str(TESTDATA / "geoip" / "GeoLite2-ASN-Test.mmdb"),
        "--trusted-proxies",
        "127.0.0.1",
        # Test pages' cross-origin stylesheets live on loopback: let the asset fetcher reach them.
        "--replay-asset-networks",
        "127.0.0.0/8",
        "--replay-assets-dir",
        str(workdir / "replay-assets"),
    )
    yield Collector(running.url, database)
    running.stop()


def forwarding_proxy(upstream: str, client_ip: str) -> Starlette:
    """A reverse proxy as a load balancer would run it: it appends the visitor's address to
    X-Forwarded-For. Here every visitor 'comes from' ``client_ip``."""
    client = httpx.AsyncClient(base_url=upstream, timeout=30)

    async def forward(request: Request) -> Response:
        headers = {k: v for k, v in request.headers.items() if k not in ("host", "content-length")}
        headers["x-forwarded-for"] = client_ip
        upstream_response = await client.request(
            request.method,
            request.url.path,
            params=request.query_params,
            content=await request.body(),
            headers=headers,
        )
        excluded = {"content-length", "content-encoding", "transfer-encoding", "connection"}
        return Response(
            upstream_response.content,
            status_code=upstream_response.status_code,
            headers={k: v for k, v in upstream_response.headers.items() if k not in excluded},
        )

    methods = ["GET", "POST", "OPTIONS", "HEAD", "PATCH"]
    return Starlette(routes=[Route("/{path:path}", forward, methods=methods)])


@pytest.fixture(scope="session")
def proxy(collector) -> Iterator[str]:
    with serve_in_thread(forwarding_proxy(collector.url, VISITOR_IP)) as url:
        yield url


@contextlib.contextmanager
def static_site(directory: Path, host: str = "localhost") -> Iterator[str]:
    """Serves ``directory`` over HTTP on ``host`` (another origin than the collector's)."""
    handler = partial(_QuietHandler, directory=str(directory))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
