"""End-to-end fixtures: the real collector as a subprocess, a reverse proxy in front of it, a
landing page on another origin, and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
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

from tests.servers import serve_in_thread

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
]
DESKTOP_UA = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36"
)
VISITOR_IP = "81.2.69.160"  # London in MaxMind's test City database


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Collector:
    url: str
    database: str
    process: subprocess.Popen

    def cli(self, *args: str) -> dict:
        done = subprocess.run(
            [sys.executable, "-m", "collector", *args, "--database", self.database],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        )
        return json.loads(done.stdout)


def wait_until_up(url: str, process: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return
        time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"the collector did not start:\n{log_path.read_text()}")


@pytest.fixture(scope="session")
def collector(tmp_path_factory) -> Iterator[Collector]:
    workdir = tmp_path_factory.mktemp("collector")
    database = f"sqlite:///{workdir}/clicktrail.db"
    port = free_port()
    log_path = workdir / "collector.log"
    command = [
        sys.executable,
        "-m",
        "collector",
        "serve",
        "--port",
        str(port),
        "--database",
        database,
        "--geoip-db",
        str(TESTDATA / "geoip" / "GeoIP2-City-Test.mmdb"),
        "--asn-db",
        str(TESTDATA / "geoip" / "GeoLite2-ASN-Test.mmdb"),
        "--trusted-proxies",
        "127.0.0.1",
    ]
    with open(log_path, "w") as log:
        process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    wait_until_up(url, process, log_path)
    yield Collector(url, database, process)
    process.terminate()
    process.wait(timeout=20)


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
