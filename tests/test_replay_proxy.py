"""What a replay loads comes through the collector: the viewer's stream (``?format=rrweb&
assets=stored``) points every reference at stored copies or signed proxy links, and the proxy
(``/replay-proxy/...``) serves only what it signed, under the asset fetcher's rules. A real
collector on loopback over both engines, and a real HTTP server standing in for the third
party."""

from __future__ import annotations

import hashlib
import http.server
import ipaddress
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import msgspec
import pytest

from collector.replay.assets import AssetCollector, AssetFetcher, AssetStore
from collector.replay.assets.css import sanitize_css
from collector.replay.assets.proxy import LinkSigner, ViewerLinks, link_expiry
from collector.replay.assets.sanitize import sanitize_srcset, sanitize_stream
from collector.replay.importer import import_replay
from tests.appkit import Kit, geoip_settings, now_ms, run_kit
from tests.hostile_replay import HostileRecording
from tests.replay_samples import real_recording_path

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201a5e1"
    "7a2a0000000049454e44ae426082"
)
MAX_BYTES = 4096


# --- the third party: a real HTTP server on loopback that logs what it is asked -----------------


@dataclass
class Origin:
    url: str
    routes: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def paths(self) -> list[str]:
        return [path for path, _ in self.requests]


@pytest.fixture
def origin() -> Iterator[Origin]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    served = Origin(f"http://127.0.0.1:{server.server_address[1]}")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            served.requests.append((self.path, dict(self.headers.items())))
            content_type, body = served.routes.get(self.path, ("text/plain", b""))
            if content_type == "redirect":
                self.send_response(302)
                self.send_header("Location", body.decode())
                body = b""
            else:
                self.send_response(200 if self.path in served.routes else 404)
                self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Set-Cookie", "tracker=1")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server.RequestHandlerClass = Handler
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield served
    server.shutdown()
    server.server_close()


@pytest.fixture
def pkit(store, testdata_dir: Path, tmp_path: Path) -> Iterator[Kit]:
    """The collector with loopback open to the asset fetcher (the third party lives there)."""
    settings = geoip_settings(
        testdata_dir,
        replay_assets_dir=str(tmp_path / "replay-assets"),
        replay_asset_networks="127.0.0.0/8",
        replay_asset_max_bytes=MAX_BYTES,
    )
    yield from run_kit(store, settings)


def _signer(kit: Kit) -> LinkSigner:
    return LinkSigner(kit.store.secret("replay-proxy"))


def _signed(kit: Kit, target: str, brand_id: int | None = None, expires: int | None = None) -> str:
    brand = kit.brand.id if brand_id is None else brand_id
    return _signer(kit).link(brand, expires or link_expiry(), target)


def _error(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["status"] == status and error["code"] and error["message"]
    return error


def _viewer_stream(kit: Kit, replay_id: str) -> bytes:
    response = kit.api(f"/replays/{replay_id}", format="rrweb", assets="stored")
    assert response.status_code == 200, response.text
    return response.content


def _import_hostile(kit: Kit, attacker: str) -> tuple[str, bytes]:
    recording = msgspec.json.encode(HostileRecording(attacker, now_ms() - 60_000).events)
    return import_replay(kit.store, kit.brand.id, recording, now_ms()), recording


def _strings(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, f"{path}.{key}")
    elif isinstance(value, list):
        for n, item in enumerate(value):
            yield from _strings(item, f"{path}[{n}]")
    elif isinstance(value, str):
        yield path, value


def _set_mode(kit: Kit, mode: str) -> httpx.Response:
    return kit.http.patch(
        f"/api/brands/{kit.brand.id}",
        json={"settings": {"replay_external_assets": mode}},
        headers={"EF-Access-Key": kit.admin_key},
    )


# --- the viewer's stream -------------------------------------------------------------------------


def test_the_viewers_stream_names_no_other_host_and_runs_nothing(pkit: Kit) -> None:
    attacker = "http://attacker.example:8080"
    replay_id, _ = _import_hostile(pkit, attacker)
    events = msgspec.json.decode(_viewer_stream(pkit, replay_id))
    leaks = [(p, v) for p, v in _strings(events) if "//attacker.example" in v]
    # Left: the page's own address (Meta) and a plain link's target, which load nothing.
    assert {p.rsplit(".", 1)[-1] for p, _ in leaks} == {"href"}
    assert all(v in (f"{attacker}/page.html", f"{attacker}/page") for _, v in leaks), leaks
    text = msgspec.json.encode(events).decode()
    assert "javascript:" not in text.lower()
    assert not re.search(r'"on[a-z]+":', text), "no inline handler is left"
    assert "alert(" not in text and "pwned" not in text
    for gone in ('"srcdoc"', '"formaction"', '"action"', '"ping"', '"http-equiv"', "rr_dataURL"):
        assert gone not in text, gone
    assert text.count("/replay-proxy/") >= 30


def test_every_proxy_link_of_the_stream_is_signed_for_the_brand(pkit: Kit, origin: Origin) -> None:
    origin.routes["/img.png"] = ("image/png", PNG)
    replay_id, _ = _import_hostile(pkit, origin.url)
    text = _viewer_stream(pkit, replay_id).decode()
    link = re.search(r'/replay-proxy/[^"\\ ]*img\.png', text)
    assert link is not None
    response = pkit.http.get(link.group(0))
    assert response.status_code == 200
    assert response.content == PNG


def test_raw_rrweb_stays_as_recorded(pkit: Kit) -> None:
    replay_id, recording = _import_hostile(pkit, "http://attacker.example")
    raw = pkit.api(f"/replays/{replay_id}", format="rrweb")
    assert msgspec.json.decode(raw.content) == msgspec.json.decode(recording)


def _snapshot_with_link(href: str, ts: int) -> dict[str, Any]:
    link = {"type": 2, "tagName": "link", "attributes": {"rel": "stylesheet", "href": href}}
    head = {"type": 2, "tagName": "head", "attributes": {}, "childNodes": [link | {"id": 3}]}
    document = {"type": 0, "childNodes": [head | {"id": 2}], "id": 1}
    return {"type": 2, "data": {"node": document}, "timestamp": ts}


def test_stored_sheets_are_served_through_signed_links_with_their_references_rewritten(
    pkit: Kit, tmp_path: Path
) -> None:
    font = "/replay-assets/" + "a" * 64
    sheet = (
        f"body {{ background: url(https://cdn.example/bg.png) }} @font-face {{ src: url({font}) }}"
    )
    sha = AssetStore(tmp_path / "replay-assets").put(sheet.encode(), "text/css")
    events = [
        {"type": 4, "data": {"href": "https://shop.example/"}, "timestamp": now_ms() - 1000},
        _snapshot_with_link("https://cdn.example/site.css", now_ms() - 900),
    ]
    replay_id = import_replay(pkit.store, pkit.brand.id, msgspec.json.encode(events), now_ms())
    pkit.store.link_replay_assets(pkit.brand.id, replay_id, {"https://cdn.example/site.css": sha})
    link = re.search(r'/replay-proxy/[^"]*asset%3A' + sha, _viewer_stream(pkit, replay_id).decode())
    assert link is not None
    served = pkit.http.get(link.group(0))
    assert served.status_code == 200
    assert served.headers["content-type"].startswith("text/css")
    assert "cdn.example" not in served.text.replace("cdn.example%2Fbg.png", "")
    assert served.text.count("/replay-proxy/") == 2 and f"asset%3A{'a' * 64}" in served.text


def test_a_brand_set_to_off_gets_no_proxy_links_and_no_proxying(pkit: Kit, origin: Origin) -> None:
    origin.routes["/img.png"] = ("image/png", PNG)
    assert _set_mode(pkit, "off").json()["settings"]["replay_external_assets"] == "off"
    replay_id, _ = _import_hostile(pkit, origin.url)
    text = _viewer_stream(pkit, replay_id).decode()
    assert "/replay-proxy/" not in text
    assert '"img.png"' not in text and "127.0.0.1%3A" not in text
    response = pkit.http.get(_signed(pkit, f"{origin.url}/img.png"))
    _error(response, 404)
    assert origin.requests == []


def test_the_mode_is_validated_and_defaults_to_proxy(pkit: Kit) -> None:
    brand = pkit.http.get(f"/api/brands/{pkit.brand.id}", headers={"EF-Access-Key": pkit.read_key})
    assert brand.json()["settings"]["replay_external_assets"] == "proxy"
    _error(_set_mode(pkit, "everything"), 422)
    assert _set_mode(pkit, "stored").json()["settings"]["replay_external_assets"] == "stored"


# --- the proxy's rules ---------------------------------------------------------------------------


def test_a_proxied_image_carries_no_browser_header_and_is_served_inert(
    pkit: Kit, origin: Origin
) -> None:
    origin.routes["/img.png"] = ("image/png", PNG)
    response = pkit.http.get(
        _signed(pkit, f"{origin.url}/img.png"),
        headers={"Cookie": "session=secret", "Referer": f"{pkit.url}/replay/x", "X-Api-Key": "k"},
    )
    assert response.status_code == 200
    assert response.content == PNG
    assert response.headers["content-type"] == "image/png"
    assert response.headers["x-content-type-options"] == "nosniff"
    csp = response.headers["content-security-policy"]
    assert "sandbox" in csp and "default-src 'none'" in csp
    assert "set-cookie" not in response.headers
    [(path, headers)] = origin.requests
    sent = {name.lower() for name in headers}
    assert path == "/img.png"
    assert not sent & {"cookie", "referer", "origin", "x-api-key", "authorization"}
    assert headers["User-Agent"].startswith("Clicktrail-")


@pytest.mark.parametrize(
    "change",
    [
        lambda link: link.replace("img.png", "other.png"),  # another URL
        lambda link: re.sub(r"/(\d+)/(\d+)/", lambda m: f"/{m[1]}/{int(m[2]) + 86400}/", link),
        lambda link: link.split("?")[0],  # no target at all
        lambda link: re.sub(r"/[\w-]{22}\?", "/AAAAAAAAAAAAAAAAAAAAAA?", link),
    ],
    ids=["other-url", "later-expiry", "no-target", "forged-signature"],
)
def test_links_the_collector_did_not_sign_are_403(pkit: Kit, origin: Origin, change) -> None:
    link = _signed(pkit, f"{origin.url}/img.png")
    _error(pkit.http.get(change(link)), 403)
    assert origin.requests == []


def test_a_link_signed_for_another_brand_or_expired_is_403(pkit: Kit, origin: Origin) -> None:
    other, _ = pkit.new_brand()
    link = _signed(pkit, f"{origin.url}/img.png", brand_id=other.id)
    _error(
        pkit.http.get(
            link.replace(f"/replay-proxy/{other.id}/", f"/replay-proxy/{pkit.brand.id}/")
        ),
        403,
    )
    _error(pkit.http.get(_signed(pkit, f"{origin.url}/img.png", expires=int(time.time()) - 1)), 403)
    assert origin.requests == []


@pytest.mark.parametrize(
    "url",
    [
        "http://10.1.2.3/x.png",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/x.png",
        "http://0.0.0.0/x.png",
        "http://192.168.1.1/x.png",
    ],
)
def test_private_addresses_are_refused(pkit: Kit, url: str) -> None:
    error = _error(pkit.http.get(_signed(pkit, url)), 403)
    assert "public" in error["message"]


@pytest.mark.parametrize(
    "url", ["ftp://example.com/x.png", "javascript:alert(1)", "file:///etc/passwd", "asset:zz"]
)
def test_other_schemes_and_unknown_stored_assets_are_refused(pkit: Kit, url: str) -> None:
    status = pkit.http.get(_signed(pkit, url)).status_code
    assert status in (404, 502)


def test_an_oversize_body_is_413(pkit: Kit, origin: Origin) -> None:
    origin.routes["/big.png"] = ("image/png", PNG + b"\0" * MAX_BYTES)
    _error(pkit.http.get(_signed(pkit, f"{origin.url}/big.png")), 413)


@pytest.mark.parametrize(
    "content_type",
    ["text/html", "application/javascript", "application/json", "image/svg", "text/xml", ""],
)
def test_content_types_outside_the_allow_list_are_415(
    pkit: Kit, origin: Origin, content_type: str
) -> None:
    origin.routes["/thing"] = (content_type, b"<script>alert(1)</script>")
    _error(pkit.http.get(_signed(pkit, f"{origin.url}/thing")), 415)


@pytest.mark.parametrize(
    "content_type",
    ["image/svg+xml", "image/webp", "font/woff2", "audio/mpeg", "video/mp4", "text/vtt"],
)
def test_images_fonts_and_media_are_proxied(pkit: Kit, origin: Origin, content_type: str) -> None:
    origin.routes["/thing"] = (content_type, b"<svg xmlns='http://www.w3.org/2000/svg'/>")
    response = pkit.http.get(_signed(pkit, f"{origin.url}/thing"))
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == content_type


def test_a_proxied_sheet_has_its_own_references_signed(pkit: Kit, origin: Origin) -> None:
    origin.routes["/site.css"] = (
        "text/css",
        b'@import "nested.css"; body { background: url(/bg.png) } .x { b: url(javascript:x) }',
    )
    origin.routes["/bg.png"] = ("image/png", PNG)
    response = pkit.http.get(_signed(pkit, f"{origin.url}/site.css"))
    assert response.status_code == 200
    css = response.text
    assert origin.url not in css and "javascript" not in css
    links = re.findall(r'url\("(/replay-proxy/[^"]+)"\)', css)
    assert len(links) == 2
    assert parse_qs(urlsplit(links[0]).query)["u"] == [f"{origin.url}/nested.css"]
    assert pkit.http.get(links[1]).content == PNG


def test_redirects_to_private_addresses_are_refused(pkit: Kit, origin: Origin) -> None:
    # The origin is on loopback (allowed here); its redirect to 10/8 is not followed.
    origin.routes["/img.png"] = ("redirect", b"http://10.0.0.1/img.png")
    _error(pkit.http.get(_signed(pkit, f"{origin.url}/img.png")), 403)
    assert origin.paths() == ["/img.png"]


# --- capture at ingest follows the brand's mode --------------------------------------------------


def test_the_asset_collector_fetches_nothing_for_a_brand_that_does_not_want_it(
    origin: Origin, tmp_path: Path
) -> None:
    origin.routes["/sheet.css"] = ("text/css", b"body{}")
    fetcher = AssetFetcher(
        AssetStore(tmp_path), allowed_networks=[ipaddress.ip_network("127.0.0.0/8")]
    )
    linked: list[int] = []
    events = msgspec.json.encode([_snapshot_with_link(f"{origin.url}/sheet.css", 1)])
    collector = AssetCollector(
        fetcher, lambda b, r, m: linked.append(b), wanted=lambda brand_id: brand_id == 1
    )
    collector.start()
    collector.submit(2, "r2", events, "https://shop.example/")
    assert collector.wait_idle()
    assert origin.requests == [] and linked == []
    collector.submit(1, "r1", events, "https://shop.example/")
    assert collector.wait_idle()
    collector.stop()
    assert origin.paths() == ["/sheet.css"] and linked == [1]


# --- the rewriting itself ------------------------------------------------------------------------


def _links(external: bool = True) -> ViewerLinks:
    return ViewerLinks(LinkSigner(b"k" * 32), 7, {}, external=external, expires=2_000_000_000)


@pytest.mark.parametrize(
    ("css", "kept"),
    [
        ("a { background: url(#local) }", 'url("#local")'),
        ("a { background: url(data:image/png;base64,AAAA) }", "data:image/png;base64,AAAA"),
        ("@import 'x.css' screen; p{}", '@import url("/replay-proxy/7/'),
        ("a{b:\\75 rl(https://e.example/x)}", 'url("/replay-proxy/7/'),
        ("a{b:-webkit-image-set('https://e.example/a' 1x)}", 'image-set("/replay-proxy/7/'),
    ],
)
def test_sanitize_css_keeps_local_references_and_signs_the_rest(css: str, kept: str) -> None:
    out = sanitize_css(css, "https://shop.example/", _links())
    assert kept in out
    assert "e.example" not in out.replace("e.example%2F", "")


def test_sanitize_css_without_external_assets_removes_references() -> None:
    css = '@import "https://e.example/a.css"; a { background: url(https://e.example/b.png) red }'
    assert sanitize_css(css, "", _links(external=False)) == " a { background: none red }"


def test_sanitize_srcset_keeps_descriptors_and_data_urls() -> None:
    out = sanitize_srcset("data:image/png;base64,A,B 1x, https://e.example/b.png 2x", "", _links())
    first, second = out.split(", /")
    assert first == "data:image/png;base64,A,B 1x"
    assert second.startswith("replay-proxy/7/") and second.endswith(" 2x")
    assert sanitize_srcset("https://e.example/b.png 2x", "", _links(external=False)) == ""


def test_a_stream_that_cannot_be_read_is_not_played() -> None:
    assert sanitize_stream(b"{not json", _links()) == b"[]"
    assert sanitize_stream(b'{"type": 2}', _links()) == b"[]"


def test_the_real_recording_is_rewritten_quickly(testdata_dir: Path) -> None:
    raw = real_recording_path(testdata_dir).read_bytes()
    started = time.perf_counter()
    out = sanitize_stream(raw, _links())
    assert time.perf_counter() - started < 1.0
    assert len(msgspec.json.decode(out)) == len(msgspec.json.decode(raw))
    assert hashlib.sha256(out).hexdigest() != hashlib.sha256(raw).hexdigest()
