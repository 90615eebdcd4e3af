"""A hostile recording replayed in the viewer, in real Chromium: it is uploaded the way anyone
with the public site key can (``POST /collect/replay``), and every URL in it points at a second
loopback server standing in for the attacker (127.0.0.2). The viewer must show no dialog, run
no script, and make no request to any host but the collector; the attacker's own log must hold
nothing from the browser. With ``replay_external_assets=proxy`` the collector may fetch from
the attacker (with no cookie and no referrer); with ``off`` nothing fetches from it at all."""

from __future__ import annotations

import contextlib
import http.server
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from collector.ids import new_id
from e2e.conftest import DESKTOP_UA
from tests.appkit import now_ms
from tests.hostile_replay import HostileRecording

pytestmark = pytest.mark.e2e

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
VIEWPORT = {"width": 1400, "height": 900}
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108020000009077"
    "53de0000000c4944415408d763f8cfc0000003010100c9fe92ef0000000049454e44ae426082"
)
_BODIES = {
    ".png": ("image/png", PNG),
    ".ico": ("image/png", PNG),
    ".webp": ("image/png", PNG),
    ".css": ("text/css", b"@import 'nested.css'; p { background: url(from-sheet.png) }"),
    ".svg": (
        "image/svg+xml",
        b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(9)</script></svg>",
    ),
    ".html": ("text/html", b"<script>alert('frame')</script><img src='/from-frame.png'>"),
    ".js": ("application/javascript", b"alert('script'); window.parent.pwned = 2;"),
    ".woff2": ("font/woff2", b"wOF2" + bytes(64)),
    ".mp4": ("video/mp4", bytes(64)),
    ".webm": ("video/webm", bytes(64)),
    ".mp3": ("audio/mpeg", bytes(64)),
    ".vtt": ("text/vtt", b"WEBVTT\n"),
}


@dataclass
class Attacker:
    url: str
    log: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def from_browser(self) -> list[str]:
        """Paths asked for by anything but the collector's fetcher."""
        return [p for p, h in self.log if not h.get("User-Agent", "").startswith("Clicktrail-")]


@contextlib.contextmanager
def attacker_server() -> Iterator[Attacker]:
    server = http.server.ThreadingHTTPServer(("127.0.0.2", 0), http.server.BaseHTTPRequestHandler)
    attacker = Attacker(f"http://127.0.0.2:{server.server_address[1]}")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            attacker.log.append((self.path, dict(self.headers.items())))
            suffix = Path(urlsplit(self.path).path).suffix
            content_type, body = _BODIES.get(suffix, ("text/plain", b"nothing here"))
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Set-Cookie", "attacker=1; SameSite=None")
            self.end_headers()
            self.wfile.write(body)

        do_POST = do_GET

        def log_message(self, format: str, *args: object) -> None:
            pass

    server.RequestHandlerClass = Handler
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield attacker
    finally:
        server.shutdown()
        server.server_close()


def _upload(collector, site_key: str, attacker: Attacker) -> str:
    """The recording as one chunk through the public ingest path; returns the replay id."""
    replay_id = new_id()
    envelope = {
        "k": site_key,
        "r": replay_id,
        "p": new_id(),
        "q": 0,
        "u": f"{attacker.url}/page.html",
        "e": HostileRecording(attacker.url, now_ms() - 5_000).events,
    }
    response = httpx.post(
        f"{collector.url}/collect/replay",
        content=json.dumps(envelope),
        headers={"content-type": "text/plain", "user-agent": DESKTOP_UA},
    )
    assert response.status_code == 204, response.text
    return replay_id


@dataclass
class Watched:
    requests: list[str]
    dialogs: list[str]
    pwned: object
    image_width: int
    console: list[str]


def _watch(browser, link: str, name: str) -> Watched:
    """Opens the viewer at ``link``, plays to the end, and reports what the browser did."""
    context = browser.new_context(viewport=VIEWPORT)
    requests: list[str] = []
    dialogs: list[str] = []
    console: list[str] = []
    context.on("request", lambda r: requests.append(r.url))
    page = context.new_page()
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.on("console", lambda m: console.append(m.text))
    page.goto(link)
    page.wait_for_function("() => window.viewer && window.viewer.readyState === 'ready'")
    page.evaluate("() => window.viewer.seek(window.viewer.durationMs)")
    page.wait_for_timeout(2000)
    frame = next(f for f in page.frames if f != page.main_frame)
    image_width = frame.evaluate(
        "() => { const i = document.querySelector('img[alt=img]'); return i ? i.naturalWidth : -1 }"
    )
    pwned = page.evaluate("() => window.pwned ?? null")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"hostile-{name}.png"))
    context.close()
    return Watched(requests, dialogs, pwned, image_width, console)


def _foreign(requests: list[str], collector_url: str) -> list[str]:
    own = urlsplit(collector_url).netloc
    return [
        u
        for u in requests
        if urlsplit(u).scheme in ("http", "https", "ws", "wss") and urlsplit(u).netloc != own
    ]


@pytest.mark.parametrize("mode", ["proxy", "off"])
def test_a_hostile_recording_reaches_no_one_but_the_collector(collector, browser, mode):
    brand = collector.cli("brands", "create", f"Hostile {mode}", "--replay-external-assets", mode)
    api = collector.api(brand)
    with attacker_server() as attacker:
        replay_id = _upload(collector, brand["site_key"], attacker)
        link = api.post(f"/replays/{replay_id}/share").json()["url"]
        watched = _watch(browser, link, mode)
        time.sleep(0.5)  # anything the collector fetches in the background has had its time
        log = list(attacker.log)

    assert watched.dialogs == []
    assert watched.pwned is None, "a script of the recording ran"
    assert _foreign(watched.requests, collector.url) == []
    assert attacker.from_browser() == []
    for path, headers in log:
        sent = {name.lower() for name in headers}
        assert not sent & {"cookie", "referer", "origin", "authorization"}, (path, headers)
    if mode == "proxy":
        assert watched.image_width == 1, "the proxied image shows"
        fetched = {path for path, _ in log}
        assert {"/img-1x.png", "/sheet.css", "/from-sheet.png", "/style-attr.png"} <= fetched, (
            fetched
        )
        assert not fetched & {"/script.js", "/frame.html", "/srcdoc.png", "/refresh.html"}
    else:
        assert log == [], "nothing fetches from the recorded site when the brand says off"
        assert watched.image_width == 0
