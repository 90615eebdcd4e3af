"""collector.replay.assets: URL extraction from rrweb events, the content-addressed store, the
SSRF-hardened fetcher against real loopback HTTP servers, the background collector, rewriting."""

from __future__ import annotations

import hashlib
import http.server
import ipaddress
import json
import logging
import shutil
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from collector.replay.assets import (
    AssetCollector,
    AssetFetcher,
    AssetStore,
    asset_urls,
    is_public_address,
)
from collector.replay.assets.sanitize import sanitize_stream

LOOPBACK = (ipaddress.ip_network("127.0.0.0/8"),)
PAGE = "https://shop.example/landing/page.html"
FONT = b"wOF2" + bytes(range(256)) * 4
CSS_TYPE = {"Content-Type": "text/css; charset=utf-8"}
WOFF2_TYPE = {"Content-Type": "font/woff2"}


# --- a real HTTP server on loopback -----------------------------------------------------------


@dataclass
class Route:
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    status: int = 200
    delay_s: float = 0.0
    close_delimited: bool = False  # no Content-Length: the body ends when the connection does


class _QuietServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that gave up (oversize, timeout) breaks the pipe: expected here


class Site:
    """A threaded ``http.server`` on 127.0.0.1 answering from ``routes``; counts hits by path."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.hits: dict[str, int] = {}
        self.hosts: list[str] = []
        site = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                site.hits[self.path] = site.hits.get(self.path, 0) + 1
                site.hosts.append(self.headers.get("Host", ""))
                route = site.routes.get(self.path, Route(b"not found", status=404))
                time.sleep(route.delay_s)
                self.send_response(route.status)
                for name, value in route.headers.items():
                    self.send_header(name, value)
                if route.close_delimited:
                    self.send_header("Connection", "close")
                    self.close_connection = True
                else:
                    self.send_header("Content-Length", str(len(route.body)))
                self.end_headers()
                self.wfile.write(route.body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = _QuietServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def url(self, path: str) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}{path}"

    scheme = "http"


@pytest.fixture
def site() -> Iterator[Site]:
    running = Site()
    running.thread.start()
    yield running
    running.server.shutdown()
    running.server.server_close()


@pytest.fixture
def store(tmp_path: Path) -> AssetStore:
    return AssetStore(tmp_path / "assets")


def fetcher_for(store: AssetStore, allowed=LOOPBACK, max_bytes: int = 1 << 20) -> AssetFetcher:
    return AssetFetcher(store, allowed, max_bytes=max_bytes, timeout_s=2.0)


def stored_files(store: AssetStore) -> list[Path]:
    if not store.root.exists():
        return []
    return sorted(p for p in store.root.rglob("*") if p.is_file())


# --- rrweb-shaped events ----------------------------------------------------------------------


def element(node_id: int, tag: str, attributes: dict, children: list | None = None) -> dict:
    return {
        "type": 2,
        "tagName": tag,
        "attributes": attributes,
        "childNodes": children or [],
        "id": node_id,
    }


def text(node_id: int, content: str, is_style: bool = False) -> dict:
    node = {"type": 3, "textContent": content, "id": node_id}
    if is_style:
        node["isStyle"] = True
    return node


def snapshot_events(head: list[dict], href: str = PAGE) -> list[dict]:
    html = element(2, "html", {}, [element(3, "head", {}, head), element(4, "body", {})])
    document = {"type": 0, "childNodes": [html], "id": 1}
    return [
        {"type": 4, "data": {"href": href, "width": 1200, "height": 800}, "timestamp": 1},
        {"type": 2, "data": {"node": document, "initialOffset": {"top": 0, "left": 0}}, "ts": 2},
    ]


def mutation(adds: list[dict] | None = None, texts: list[dict] | None = None) -> dict:
    data = {"source": 0, "adds": adds or [], "removes": [], "texts": texts or [], "attributes": []}
    return {"type": 3, "data": data, "timestamp": 3}


def encode(events: list[dict]) -> bytes:
    return json.dumps(events).encode()


# --- extraction -------------------------------------------------------------------------------


def test_asset_urls_from_a_synthetic_snapshot_and_its_mutations() -> None:
    inlined = (
        "/* @font-face { src: url(commented.woff2) } */"
        "@font-face { font-family: A; src: url('/fonts/a.woff2') format('woff2'),"
        ' url("data:font/woff2;base64,AAAA"), url(https://fonts.example/a.woff#iefix); }'
        "body { background: url(/img/bg.png); }"
    )
    head = [
        element(10, "link", {"rel": "stylesheet", "href": "https://cdn.example/site.css"}),
        element(11, "link", {"_cssText": inlined}),
        element(12, "link", {"rel": "icon", "href": "/favicon.png"}),
        element(13, "link", {"rel": "Alternate StyleSheet", "href": "print.css"}),
        element(14, "style", {}, [text(15, "@font-face{src:url(b.ttf)}", is_style=True)]),
        element(16, "style", {}, [text(17, "@font-face{src:url(c.otf)}")]),
        element(18, "link", {"rel": "stylesheet", "href": "javascript:alert(1)"}),
    ]
    events = snapshot_events(head)
    added_link = element(30, "link", {"rel": "stylesheet", "href": "/late.css"})
    events.append(
        mutation(
            adds=[
                {"parentId": 3, "nextId": None, "node": added_link},
                {"parentId": 14, "nextId": None, "node": text(31, "@font-face{src:url(d.woff)}")},
            ],
            texts=[{"id": 17, "value": "@font-face{src:url(e.woff)}"}],
        )
    )
    rule = {"source": 8, "id": 1, "adds": [{"rule": "@font-face{src:url(/f.woff2)}", "index": 0}]}
    events.append({"type": 3, "data": rule, "timestamp": 4})
    events.append(mutation(texts=[{"id": 99, "value": "@font-face{src:url(not-css.woff)}"}]))

    assert asset_urls(encode(events), "https://ignored.example/") == [
        "https://cdn.example/site.css",
        "https://shop.example/fonts/a.woff2",
        "https://fonts.example/a.woff",
        "https://shop.example/landing/print.css",
        "https://shop.example/landing/b.ttf",
        "https://shop.example/landing/c.otf",
        "https://shop.example/late.css",
        "https://shop.example/landing/d.woff",
        "https://shop.example/landing/e.woff",
        "https://shop.example/f.woff2",
    ]


def test_asset_urls_use_page_url_before_any_meta_event() -> None:
    events = snapshot_events([element(10, "link", {"rel": "stylesheet", "href": "s.css"})])[1:]
    assert asset_urls(encode(events), "https://a.example/x/") == ["https://a.example/x/s.css"]


def nested_divs(depth: int, leaf: dict) -> dict:
    node = leaf
    for n in range(depth):
        node = element(n + 10, "div", {}, [node])
    return node


def test_asset_urls_walk_deep_and_wide_trees() -> None:
    deepest = element(100_000, "link", {"rel": "stylesheet", "href": "/deep.css"})
    wide = element(5, "div", {}, [element(200_000 + n, "p", {}) for n in range(50_000)])
    events = snapshot_events([wide, nested_divs(400, deepest)])
    started = time.perf_counter()
    assert asset_urls(encode(events), PAGE) == ["https://shop.example/deep.css"]
    assert time.perf_counter() - started < 1.0


def test_asset_urls_of_json_nested_too_deep_for_the_decoder_are_empty() -> None:
    leaf = element(100_000, "link", {"rel": "stylesheet", "href": "/deep.css"})
    body = b"[" + b'{"type":2,"childNodes":[' * 5000 + json.dumps(leaf).encode()
    body += b"]}" * 5000 + b"]"
    assert asset_urls(body, PAGE) == []


def test_asset_urls_from_the_real_recording(testdata_dir: Path) -> None:
    body = (testdata_dir / "recordings" / "demoit-react-hooks.json").read_bytes()
    started = time.perf_counter()
    urls = asset_urls(body, "https://demoit.app/e/react")
    assert time.perf_counter() - started < 1.0
    assert urls == ["https://demoit.app/static/demoit/font/FiraMono.woff2"]


@pytest.mark.parametrize(
    "body", [b'[{"type":3,"data":{"source":1,"positions":[]}}]', b"not json url(", b"{}", b"[]"]
)
def test_asset_urls_of_chunks_without_assets_or_malformed_are_empty(body: bytes) -> None:
    assert asset_urls(body, PAGE) == []


# --- the walk shared by extraction and the viewer's stream --------------------------------------


def test_node_ids_are_read_as_the_player_reads_them() -> None:
    """``5.0`` is node 5 (JSON numbers, as in JavaScript); an id that is not a number is no
    node, and neither stops the walk."""
    script = element(20, "script", {}, [text(21, "init()")])
    script["id"], script["childNodes"][0]["id"] = 20.0, 21.0
    events = snapshot_events([script, element(22, "link", {"rel": "stylesheet", "href": "a.css"})])
    events.append(mutation(texts=[{"id": 21, "value": "steal()"}, {"id": [21], "value": "x"}]))
    change = {"id": {"n": 22}, "attributes": {"href": "b.css", "style": "color: red"}}
    events[-1]["data"]["attributes"] = [change]

    assert asset_urls(encode(events), PAGE) == ["https://shop.example/landing/a.css"]
    played = json.loads(sanitize_stream(encode(events), lambda ref, base: ref))
    assert played[-1]["data"]["texts"] == [{"id": 21, "value": ""}, {"id": [21], "value": "x"}]
    assert played[-1]["data"]["attributes"] == [change]


def test_an_attribute_change_that_makes_a_link_a_stylesheet_is_fetched() -> None:
    events = snapshot_events([element(20, "link", {"rel": "preload", "href": "early.css"})])
    change = {"id": 20, "attributes": {"rel": "stylesheet", "href": "sheet.css"}}
    events.append(mutation())
    events[-1]["data"]["attributes"] = [change]
    assert asset_urls(encode(events), PAGE) == ["https://shop.example/landing/sheet.css"]


# --- store ------------------------------------------------------------------------------------


def test_store_put_get_is_content_addressed_sharded_and_idempotent(store: AssetStore) -> None:
    sha = store.put(b"body{}", "text/css")
    assert sha == hashlib.sha256(b"body{}").hexdigest()
    assert (store.root / sha[:2] / sha[2:]).read_bytes() == b"body{}"
    assert store.get(sha) == ("text/css", b"body{}")
    assert store.put(b"body{}", "font/woff2") == sha
    assert store.get(sha) == ("text/css", b"body{}")
    assert [p.name for p in stored_files(store)] == [sha[2:], f"{sha[2:]}.type"]


@pytest.mark.parametrize(
    "name",
    [
        "../../etc/passwd",
        "a" * 63,
        "a" * 65,
        "A" * 64,
        "a" * 64 + "\n",
        "/" + "a" * 63,
        "ab/" + "c" * 61,
        "g" * 64,
        "",
    ],
)
def test_store_get_refuses_anything_but_a_lowercase_sha256(store: AssetStore, name: str) -> None:
    store.put(b"x", "text/css")
    assert store.get(name) is None


def test_store_get_of_an_unknown_hash_is_none(store: AssetStore) -> None:
    assert store.get("0" * 64) is None


@pytest.mark.parametrize("ctype", ["text/css\r\nX-Evil: 1", "", "nonsense", "a" * 300 + "/b"])
def test_store_put_refuses_malformed_content_types(store: AssetStore, ctype: str) -> None:
    with pytest.raises(ValueError, match="content type"):
        store.put(b"x", ctype)
    assert stored_files(store) == []


# --- fetching ---------------------------------------------------------------------------------


def test_fetch_stores_a_sheet_with_its_font_fetched_and_rewritten(
    site: Site, store: AssetStore
) -> None:
    site.routes["/font.woff2"] = Route(FONT, WOFF2_TYPE)
    sheet = (
        b"@font-face{font-family:F;src:url('font.woff2') format('woff2'),url(missing.woff)}"
        b"h1{background:url(img/bg.png)} .x{background:url(data:image/png;base64,AA)}"
    )
    site.routes["/site.css"] = Route(sheet, CSS_TYPE)
    fetcher = fetcher_for(store)

    sha = fetcher.fetch(site.url("/site.css"))

    assert sha is not None
    font_sha = hashlib.sha256(FONT).hexdigest()
    assert store.get(font_sha) == ("font/woff2", FONT)
    content_type, body = store.get(sha)
    assert content_type == "text/css; charset=utf-8"
    assert body.decode() == (
        f"@font-face{{font-family:F;src:url('/replay-assets/{font_sha}') format('woff2'),"
        f"url({site.url('/missing.woff')})}}"
        f"h1{{background:url({site.url('/img/bg.png')})}}"
        " .x{background:url(data:image/png;base64,AA)}"
    )
    assert sha == hashlib.sha256(body).hexdigest()


def test_fetch_dedupes_by_content_and_caches_by_url(site: Site, store: AssetStore) -> None:
    site.routes["/a.css"] = Route(b"p{color:red}", CSS_TYPE)
    site.routes["/b.css"] = Route(b"p{color:red}", CSS_TYPE)
    fetcher = fetcher_for(store)

    first = fetcher.fetch(site.url("/a.css"))
    assert first is not None
    assert fetcher.fetch(site.url("/b.css")) == first
    assert fetcher.fetch(site.url("/a.css")) == first
    assert site.hits == {"/a.css": 1, "/b.css": 1}
    assert len(stored_files(store)) == 2  # one body and its type


def test_fetch_follows_imports_in_a_fetched_sheet(site: Site, store: AssetStore) -> None:
    site.routes["/f.woff"] = Route(FONT, {"Content-Type": "application/font-woff"})
    site.routes["/fonts.css"] = Route(b"@font-face{src:url(/f.woff)}", CSS_TYPE)
    site.routes["/main.css"] = Route(b'@import "fonts.css"; p{}', CSS_TYPE)

    sha = fetcher_for(store).fetch(site.url("/main.css"))

    fonts_sha = hashlib.sha256(
        f"@font-face{{src:url(/replay-assets/{hashlib.sha256(FONT).hexdigest()})}}".encode()
    ).hexdigest()
    assert store.get(sha)[1] == f'@import "/replay-assets/{fonts_sha}"; p{{}}'.encode()
    assert store.get(fonts_sha)[0] == "text/css; charset=utf-8"


def test_fetch_follows_at_most_32_references_of_a_sheet(site: Site, store: AssetStore) -> None:
    faces = "".join(f"@font-face{{src:url(/f{n}.woff2)}}" for n in range(40))
    site.routes["/many.css"] = Route(faces.encode(), CSS_TYPE)
    for n in range(40):
        site.routes[f"/f{n}.woff2"] = Route(FONT + bytes([n]), WOFF2_TYPE)
    sha = fetcher_for(store).fetch(site.url("/many.css"))
    body = store.get(sha)[1].decode()
    assert body.count("/replay-assets/") == 32
    assert site.url("/f39.woff2") in body
    assert len(site.hits) == 33


def test_fetch_cache_expires_and_remembers_failures_briefly(site: Site, store: AssetStore) -> None:
    site.routes["/a.css"] = Route(b"p{}", CSS_TYPE)
    fetcher = AssetFetcher(store, LOOPBACK, cache_ttl_s=0.0, failure_ttl_s=60.0)
    assert fetcher.fetch(site.url("/a.css")) == fetcher.fetch(site.url("/a.css")) is not None
    assert site.hits["/a.css"] == 2
    assert fetcher.fetch(site.url("/late.css")) is None
    site.routes["/late.css"] = Route(b"q{}", CSS_TYPE)
    assert fetcher.fetch(site.url("/late.css")) is None
    assert site.hits["/late.css"] == 1


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "127.1.2.3",
        "localhost",
        "10.0.0.1",
        "172.16.5.4",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "224.0.0.1",
        "240.0.0.1",
        "[::1]",
        "[::ffff:127.0.0.1]",
        "[::ffff:10.0.0.1]",
        "[fe80::1]",
        "[fd00::1]",
        "[::]",
        "2130706433",  # 127.0.0.1 as one number
        "0x7f.1",
    ],
)
def test_fetch_refuses_non_public_addresses(site: Site, store: AssetStore, host: str) -> None:
    site.routes["/a.css"] = Route(b"p{}", CSS_TYPE)
    fetcher = fetcher_for(store, allowed=())
    started = time.monotonic()
    assert fetcher.fetch(f"http://{host}:{site.port}/a.css") is None
    assert time.monotonic() - started < 1.0  # refused before any connection attempt
    assert site.hits == {}
    assert stored_files(store) == []


@pytest.mark.parametrize(
    "address",
    ["2002:7f00:1::1", "64:ff9b::a00:1", "::ffff:192.168.0.1", "2001::1", "::127.0.0.1"],
)
def test_addresses_embedding_private_ipv4_are_not_public(address: str) -> None:
    assert not is_public_address(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:4700::1111", "::ffff:8.8.8.8"])
def test_global_addresses_are_public(address: str) -> None:
    assert is_public_address(ipaddress.ip_address(address))


def test_allowed_networks_admit_their_addresses_only(site: Site, store: AssetStore) -> None:
    site.routes["/a.css"] = Route(b"p{}", CSS_TYPE)
    fetcher = fetcher_for(store, allowed=(ipaddress.ip_network("127.0.0.1/32"),))
    assert fetcher.fetch(site.url("/a.css")) is not None
    assert fetcher.fetch(f"http://127.0.0.2:{site.port}/a.css") is None


@pytest.mark.parametrize(
    "url",
    [
        "ftp://127.0.0.1/a.css",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "data:text/css,p{}",
        "gopher://127.0.0.1:70/",
        "//127.0.0.1/a.css",
        "http:///a.css",
        "http://user:pw@127.0.0.1/a.css",
        "http://127.0.0.1:99999/a.css",
    ],
)
def test_fetch_refuses_other_schemes_and_malformed_urls(store: AssetStore, url: str) -> None:
    assert fetcher_for(store).fetch(url) is None
    assert stored_files(store) == []


@pytest.mark.parametrize("close_delimited", [False, True])
def test_fetch_refuses_oversize_bodies_and_stores_nothing(
    site: Site, store: AssetStore, close_delimited: bool
) -> None:
    site.routes["/big.css"] = Route(b"p{}" * 1000, CSS_TYPE, close_delimited=close_delimited)
    fetcher = fetcher_for(store, max_bytes=2999)
    assert fetcher.fetch(site.url("/big.css")) is None
    assert stored_files(store) == []
    assert fetcher_for(store, max_bytes=3000).fetch(site.url("/big.css")) is not None


def test_fetch_follows_up_to_three_redirects(site: Site, store: AssetStore) -> None:
    site.routes["/a.css"] = Route(b"p{}", CSS_TYPE)
    for n in range(4):
        site.routes[f"/r{n}"] = Route(status=302, headers={"Location": f"/r{n - 1}"})
    site.routes["/r0"] = Route(status=301, headers={"Location": site.url("/a.css")})
    fetcher = fetcher_for(store)
    assert fetcher.fetch(site.url("/r2")) is not None  # three redirects
    assert fetcher.fetch(site.url("/r3")) is None  # four
    assert site.hits["/a.css"] == 1


@pytest.mark.parametrize(
    "location", ["http://10.0.0.1/a.css", "http://[::1]:{port}/a.css", "file:///etc/passwd"]
)
def test_fetch_refuses_redirects_to_private_addresses(
    site: Site, store: AssetStore, location: str
) -> None:
    site.routes["/a.css"] = Route(b"p{}", CSS_TYPE)
    site.routes["/go"] = Route(status=302, headers={"Location": location.format(port=site.port)})
    assert fetcher_for(store).fetch(site.url("/go")) is None
    assert stored_files(store) == []
    assert "/a.css" not in site.hits


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/a.css", "text/html"),
        ("/a.css", "image/svg+xml"),
        ("/a.css", "application/javascript"),
        ("/a.css", None),
        ("/a.css", "application/octet-stream"),
        ("/a.woff2", "text/plain"),
    ],
)
def test_fetch_refuses_wrong_content_types(
    site: Site, store: AssetStore, path: str, content_type: str | None
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    site.routes[path] = Route(b"p{}", headers)
    assert fetcher_for(store).fetch(site.url(path)) is None
    assert stored_files(store) == []


@pytest.mark.parametrize(
    ("path", "content_type", "stored_type"),
    [
        ("/a.woff2", "application/octet-stream", "font/woff2"),
        ("/a.eot", "application/vnd.ms-fontobject", "application/vnd.ms-fontobject"),
        ("/a.ttf", "application/x-font-ttf", "application/x-font-ttf"),
        ("/a", "font/otf", "font/otf"),
    ],
)
def test_fetch_accepts_font_types(
    site: Site, store: AssetStore, path: str, content_type: str, stored_type: str
) -> None:
    site.routes[path] = Route(FONT, {"Content-Type": content_type})
    sha = fetcher_for(store).fetch(site.url(path))
    assert store.get(sha) == (stored_type, FONT)


def test_fetch_gives_up_on_slow_servers(site: Site, store: AssetStore) -> None:
    site.routes["/slow.css"] = Route(b"p{}", CSS_TYPE, delay_s=1.5)
    fetcher = AssetFetcher(store, LOOPBACK, max_bytes=1000, timeout_s=0.3)
    started = time.monotonic()
    assert fetcher.fetch(site.url("/slow.css")) is None
    assert time.monotonic() - started < 1.2


def test_fetch_names_the_host_but_connects_to_the_vetted_address(
    site: Site, store: AssetStore
) -> None:
    site.routes["/a.css"] = Route(b"p{}", CSS_TYPE)
    allowed = (*LOOPBACK, ipaddress.ip_network("::1/128"))
    fetcher = AssetFetcher(store, allowed, max_bytes=1000, timeout_s=2.0)
    assert fetcher.fetch(f"http://localhost:{site.port}/a.css") is not None
    assert site.hosts == [f"localhost:{site.port}"]


@pytest.fixture
def tls_site(site: Site, tmp_path: Path) -> Iterator[tuple[Site, ssl.SSLContext]]:
    """``site`` over TLS with a fresh self-signed certificate for IP 127.0.0.1, and a client
    context that trusts it."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    command = "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1"
    names = ["-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"]
    subprocess.run(
        [*command.split(), "-keyout", str(key), "-out", str(cert), *names],
        check=True,
        capture_output=True,
    )
    server_side = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_side.load_cert_chain(cert, key)
    site.server.socket = server_side.wrap_socket(site.server.socket, server_side=True)
    site.scheme = "https"
    yield site, ssl.create_default_context(cafile=str(cert))


def test_fetch_over_https_verifies_the_certificate(
    tls_site: tuple[Site, ssl.SSLContext], store: AssetStore
) -> None:
    site, trusting = tls_site
    site.routes["/a.css"] = Route(b"p{}", CSS_TYPE)
    assert fetcher_for(store).fetch(site.url("/a.css")) is None  # self-signed: not trusted
    fetcher = AssetFetcher(store, LOOPBACK, max_bytes=1000, timeout_s=2.0, tls=trusting)
    sha = fetcher.fetch(site.url("/a.css"))
    assert store.get(sha) == ("text/css; charset=utf-8", b"p{}")


def test_fetch_of_an_http_error_is_none(site: Site, store: AssetStore) -> None:
    assert fetcher_for(store).fetch(site.url("/nowhere.css")) is None


# --- background collector ---------------------------------------------------------------------


def chunk_with_assets(site: Site) -> bytes:
    head = [
        element(10, "link", {"rel": "stylesheet", "href": site.url("/site.css")}),
        element(11, "style", {}, [text(12, "@font-face{src:url(/f.woff2)}", is_style=True)]),
        element(13, "link", {"rel": "stylesheet", "href": site.url("/gone.css")}),
    ]
    return encode(snapshot_events(head, href=site.url("/page.html")))


def test_collector_links_what_it_stored(site: Site, store: AssetStore) -> None:
    site.routes["/site.css"] = Route(b"p{}", CSS_TYPE)
    site.routes["/f.woff2"] = Route(FONT, WOFF2_TYPE)
    calls: list[tuple[int, str, dict[str, str]]] = []
    collector = AssetCollector(fetcher_for(store), lambda *args: calls.append(args), workers=2)
    collector.start()
    try:
        collector.submit(7, "01HREPLAY", chunk_with_assets(site), site.url("/page.html"))
        assert collector.wait_idle(10)
    finally:
        assert collector.stop(10)
    assert calls == [
        (
            7,
            "01HREPLAY",
            {
                site.url("/site.css"): hashlib.sha256(b"p{}").hexdigest(),
                site.url("/f.woff2"): hashlib.sha256(FONT).hexdigest(),
            },
        )
    ]


def test_collector_drops_chunks_when_its_queue_is_full(
    site: Site, store: AssetStore, caplog: pytest.LogCaptureFixture
) -> None:
    site.routes["/site.css"] = Route(b"p{}", CSS_TYPE)
    calls: list[str] = []
    collector = AssetCollector(
        fetcher_for(store), lambda b, r, m: calls.append(r), workers=1, queue_size=1
    )
    chunk = chunk_with_assets(site)
    with caplog.at_level(logging.WARNING, logger="clicktrail.assets"):
        started = time.monotonic()
        collector.submit(1, "first", chunk, PAGE)
        collector.submit(1, "second", chunk, PAGE)
        assert time.monotonic() - started < 0.5
    assert "asset queue full" in caplog.text
    collector.start()
    assert collector.wait_idle(10)
    assert collector.stop(10)
    assert calls == ["first"]


def test_collector_bounds_the_bytes_it_holds_and_skips_oversized_chunks(
    site: Site, store: AssetStore, caplog: pytest.LogCaptureFixture
) -> None:
    site.routes["/site.css"] = Route(b"p{}", CSS_TYPE)
    calls: list[str] = []
    chunk = chunk_with_assets(site)
    collector = AssetCollector(
        fetcher_for(store),
        lambda b, r, m: calls.append(r),
        max_queued_bytes=2 * len(chunk),
        max_chunk_bytes=len(chunk),
    )
    with caplog.at_level(logging.WARNING, logger="clicktrail.assets"):
        for replay in ("first", "second", "third"):
            collector.submit(1, replay, chunk, PAGE)
        collector.submit(1, "huge", chunk + b" ", PAGE)
    assert caplog.text.count("holds too much") == 2
    collector.start()
    assert collector.wait_idle(10)
    collector.submit(1, "after", chunk, PAGE)  # what was processed no longer counts
    assert collector.wait_idle(10)
    assert collector.stop(10)
    assert sorted(calls) == ["after", "first", "second"]


def test_collector_stop_drains_the_queue(site: Site, store: AssetStore) -> None:
    site.routes["/site.css"] = Route(b"p{}", CSS_TYPE, delay_s=0.2)
    calls: list[str] = []
    collector = AssetCollector(fetcher_for(store), lambda b, r, m: calls.append(r), workers=1)
    collector.start()
    collector.submit(1, "a", chunk_with_assets(site), PAGE)
    collector.submit(1, "b", chunk_with_assets(site), PAGE)
    assert collector.stop(10)
    assert calls == ["a", "b"]
    collector.submit(1, "late", chunk_with_assets(site), PAGE)  # ignored, never blocks
    assert collector.wait_idle(1)


def test_collector_survives_a_failing_link(site: Site, store: AssetStore) -> None:
    site.routes["/site.css"] = Route(b"p{}", CSS_TYPE)

    def link(brand: int, replay: str, mapping: dict[str, str]) -> None:
        raise RuntimeError("database down")

    collector = AssetCollector(fetcher_for(store), link)
    collector.start()
    collector.submit(1, "r", chunk_with_assets(site), PAGE)
    assert collector.wait_idle(10)
    assert collector.stop(10)


def test_collector_scans_a_pages_snapshot_once_and_links_its_assets_to_later_visits(
    site: Site, store: AssetStore
) -> None:
    site.routes["/site.css"] = Route(b"p{}", CSS_TYPE)
    site.routes["/f.woff2"] = Route(FONT, WOFF2_TYPE)
    calls: dict[str, dict[str, str]] = {}
    collector = AssetCollector(fetcher_for(store), lambda b, r, m: calls.update({r: m}), workers=1)
    page = site.url("/page.html")
    no_assets = encode(snapshot_events([], href=page))
    collector.start()
    try:
        collector.submit(1, "first", chunk_with_assets(site), page)
        assert collector.wait_idle(10)
        # Later visitors of the same page (any query string): their snapshot is not decoded
        # again; the page's assets are linked to their replays as found the first time.
        collector.submit(1, "second", no_assets, page + "?utm_source=mail")
        # Another brand's page is its own: scanned, and this snapshot names no assets.
        collector.submit(2, "other brand", no_assets, page)
        assert collector.wait_idle(10)
    finally:
        assert collector.stop(10)
    assert calls["second"] == calls["first"] and len(calls["first"]) == 2
    assert "other brand" not in calls
