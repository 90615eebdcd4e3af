"""Record the replays in bench/recordings/: local documentation pages the code was never tuned on,
visited in Chromium with the real tracker and recorder through a real collector.

Each page is served from its own documentation tree (so its stylesheets and scripts load), with
the Clicktrail tag added to its HTML on the way out. A visit is scripted from a seed: mouse moves,
wheel scrolls, clicks on things that are no links, and typing into the page's search field when
it has one (``s`` focuses it on rustdoc and mdBook pages). The rrweb export of each replay is
written as ``bench/recordings/<name>.json.zst`` (zstd 19).

    python bench/record_unseen.py              # all pages, 25 s each
    python bench/record_unseen.py --seconds 5 rust-std-option

The sources are Debian's Node.js documentation (/usr/share/doc/nodejs, MIT), npm's bundled docs
(/usr/lib/node_modules/npm/docs, Artistic-2.0) and the Rust toolchain's documentation
(~/.rustup/toolchains/stable-*/share/doc/rust/html, MIT or Apache-2.0); see the README there.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import threading
import time
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import zstandard

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from e2e.conftest import CHROMIUM, CHROMIUM_ARGS, DESKTOP_UA  # noqa: E402
from e2e.recording import local_only, replay_of_page  # noqa: E402
from tests.servers import clicktrail_cli, start_collector  # noqa: E402

OUT = ROOT / "bench" / "recordings"
RUST = next(Path.home().glob(".rustup/toolchains/stable-*/share/doc/rust/html"), Path("/missing"))
TREES = {
    "node": Path("/usr/share/doc/nodejs/api"),
    "npm": Path("/usr/lib/node_modules/npm/docs/output"),
    "rust": RUST,
}
PAGES = {  # name -> (tree, page inside it)
    "node-path": ("node", "path.html"),
    "node-url": ("node", "url.html"),
    "npm-install": ("npm", "commands/npm-install.html"),
    "npm-package-json": ("npm", "configuring-npm/package-json.html"),
    "rust-book-ownership": ("rust", "book/ch04-01-what-is-ownership.html"),
    "rust-reference-expressions": ("rust", "reference/expressions.html"),
    "rust-std-option": ("rust", "std/option/index.html"),
    "rust-std-hashmap": ("rust", "std/collections/struct.HashMap.html"),
}
VIEWPORT = {"width": 1280, "height": 800}
STEP_S = 0.25
WORDS = ["iter", "map", "option", "insert", "parse", "resolve", "borrow", "config"]
PAGE_SESSION = (
    "() => { const p = window.clicktrail._r.p; return typeof p === 'function' ? p() : p; }"
)
NOT_ACTIVE = """([x, y]) => {
  const el = document.elementFromPoint(x, y);
  return !!el && !el.closest('a, button, input, select, textarea, label, summary, iframe');
}"""
TYPING = "() => !!document.activeElement && document.activeElement.matches('input, textarea')"


def tagging_handler(collector: str, site_key: str):
    tag = f'<script defer src="{collector}/t.js" data-site="{site_key}" data-replay="1"></script>'

    class Handler(SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def end_headers(self) -> None:
            self.send_header("Cache-Control", "no-store")
            super().end_headers()

        def do_GET(self) -> None:
            path = Path(self.translate_path(self.path))
            if path.suffix != ".html" or not path.is_file():
                super().do_GET()
                return
            html = path.read_text(errors="replace")
            at = html.lower().find("<head")
            at = html.find(">", at) + 1 if at >= 0 else 0
            body = (html[:at] + tag + html[at:]).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


def serve(directory: Path, handler) -> tuple[ThreadingHTTPServer, str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(directory)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://localhost:{server.server_address[1]}"


def act(page, rng: random.Random) -> None:
    """One scripted action."""
    width, height = VIEWPORT["width"], VIEWPORT["height"]
    roll = rng.random()
    if roll < 0.55:
        page.mouse.move(rng.randrange(width), rng.randrange(height), steps=4)
    elif roll < 0.8:
        page.mouse.wheel(0, rng.choice((300, 450, 600, -250)))
    elif roll < 0.9:
        point = [rng.randrange(20, width - 20), rng.randrange(20, height - 20)]
        if page.evaluate(NOT_ACTIVE, point):
            page.mouse.click(*point)
    else:
        page.keyboard.press("Escape")
        page.keyboard.press("s")
        if page.evaluate(TYPING):
            page.keyboard.type(rng.choice(WORDS), delay=120)


def visit(page, seconds: float, seed: int) -> None:
    rng = random.Random(seed)
    start = time.monotonic()
    for step in range(int(seconds / STEP_S)):
        delay = start + step * STEP_S - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        act(page, rng)


def record(browser, api: httpx.Client, url: str, seconds: float, seed: int) -> bytes:
    context = browser.new_context(user_agent=DESKTOP_UA, viewport=VIEWPORT)
    local_only(context)
    page = context.new_page()
    page.goto(url, wait_until="load")
    page.wait_for_function("() => window.clicktrail && window.clicktrail._r", timeout=30_000)
    visit(page, seconds, seed)
    page_session = page.evaluate(PAGE_SESSION)
    page.close()
    replay_id = replay_of_page(api, page_session, timeout=30)["id"]
    context.close()
    time.sleep(3)  # the last beacon
    return api.get(f"/replays/{replay_id}", params={"format": "rrweb"}).raise_for_status().content


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", default=list(PAGES))
    parser.add_argument("--seconds", type=float, default=25.0)
    options = parser.parse_args()
    from playwright.sync_api import sync_playwright

    work = Path(tempfile.mkdtemp(prefix="clicktrail-record-"))
    database = f"sqlite:///{work}/record.db"
    brand = clicktrail_cli("brands", "create", "Unseen", "--domain", "localhost", database=database)
    collector = start_collector("serve", database, work / "collector.log")
    api = httpx.Client(
        base_url=f"{collector.url}/api/brands/{brand['id']}",
        headers={"EF-Access-Key": brand["api_key"]},
        timeout=60,
    )
    handler = tagging_handler(collector.url, brand["site_key"])
    servers = {tree: serve(path, handler) for tree, path in TREES.items()}
    OUT.mkdir(exist_ok=True)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for seed, name in enumerate(options.names):
                tree, path = PAGES[name]
                events = record(browser, api, f"{servers[tree][1]}/{path}", options.seconds, seed)
                body = zstandard.ZstdCompressor(level=19).compress(events)
                (OUT / f"{name}.json.zst").write_bytes(body)
                print(f"{name}: {len(events):,} bytes of events, {len(body):,} stored")
            browser.close()
    finally:
        for server, _ in servers.values():
            server.shutdown()
        api.close()
        collector.stop()


if __name__ == "__main__":
    main()
