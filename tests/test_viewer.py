"""The replay viewer's routes: the page with its security headers, and the built files."""

from __future__ import annotations

import re
import shutil
import warnings
from pathlib import Path

import pytest
from starlette.applications import Starlette

from collector.replay import viewer

with warnings.catch_warnings():  # starlette's notice about httpx, not about this code
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "collector" / "static" / "viewer.html"
REPLAY_ID = "01jcz4x7m8r9t0v1w2x3y4z5a6"


def _client(static: Path) -> TestClient:
    return TestClient(Starlette(routes=viewer.make_routes(static)))


def _static(tmp_path: Path, built: bool = True) -> Path:
    shutil.copy(TEMPLATE, tmp_path / "viewer.html")
    if built:
        (tmp_path / "replay-viewer").mkdir()
        (tmp_path / "replay-viewer" / "viewer.js").write_text("window.viewer = {};\n")
        (tmp_path / "replay-viewer" / "viewer.css").write_text("body { margin: 0 }\n")
    return tmp_path


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    return _client(_static(tmp_path))


def _csp(response) -> dict[str, list[str]]:
    directives = {}
    for part in response.headers["content-security-policy"].split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


def _assert_error(response, status: int, code: str) -> None:
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    error = response.json()["error"]
    assert error["status"] == status
    assert error["code"] == code
    assert error["message"]


def test_viewer_page_is_html_with_security_headers(client: TestClient) -> None:
    response = client.get(f"/replay/{REPLAY_ID}")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["cache-control"] == "no-cache"
    assert "<title>Replay · Clicktrail</title>" in response.text


def test_viewer_page_csp_is_strict(client: TestClient) -> None:
    csp = _csp(client.get(f"/replay/{REPLAY_ID}"))
    assert csp["default-src"] == ["'none'"]
    assert csp["script-src"] == ["'self'"]  # no inline script, no eval, nothing remote
    assert csp["connect-src"] == ["'self'"]
    assert csp["frame-src"] == ["'self'"]
    for name in ("base-uri", "form-action", "object-src"):
        assert csp[name] == ["'none'"], name
    assert csp["frame-ancestors"] == ["'self'"]  # the dashboard's session page, nobody else
    # rrweb's inline styles; everything a replay loads comes from the collector (stored copies
    # and the replay proxy), so no other origin is allowed at all.
    assert csp["style-src"] == ["'self'", "'unsafe-inline'"]
    assert csp["img-src"] == ["'self'", "data:", "blob:"]
    assert csp["font-src"] == ["'self'", "data:"]
    assert csp["media-src"] == ["'self'", "data:", "blob:"]
    for sources in csp.values():
        assert not {"http:", "https:", "*"} & set(sources)
    assert "unsafe-eval" not in str(csp)


def test_viewer_page_has_no_inline_script_and_versioned_assets(client: TestClient) -> None:
    html = client.get(f"/replay/{REPLAY_ID}").text
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S)
    assert scripts, "the page loads its script"
    for attributes, body in scripts:
        assert 'src="/replay-viewer/' in attributes
        assert body.strip() == ""
    match = re.search(r'src="/replay-viewer/viewer\.js\?v=([0-9a-f]{12})"', html)
    assert match
    assert f'href="/replay-viewer/viewer.css?v={match.group(1)}"' in html
    assert "{{" not in html
    assert not re.search(r"<[^>]*\son\w+\s*=", html), "no inline event handlers"


def test_viewer_page_head_is_answered(client: TestClient) -> None:
    response = client.head(f"/replay/{REPLAY_ID}")
    assert response.status_code == 200
    assert "content-security-policy" in response.headers


@pytest.mark.parametrize(
    "replay_id",
    ["nope", REPLAY_ID.upper(), REPLAY_ID + "0", "01jcz4x7m8r9t0v1w2x3y4z5au"],  # u: not base32
)
def test_viewer_page_invalid_id_is_404(client: TestClient, replay_id: str) -> None:
    response = client.get(f"/replay/{replay_id}")
    _assert_error(response, 404, "not_found")
    assert "content-security-policy" not in response.headers


def test_viewer_asset_script_and_stylesheet(client: TestClient) -> None:
    script = client.get("/replay-viewer/viewer.js")
    assert script.status_code == 200
    assert script.headers["content-type"] == "application/javascript; charset=utf-8"
    assert script.text == "window.viewer = {};\n"
    assert script.headers["x-content-type-options"] == "nosniff"
    assert script.headers["cache-control"] == "no-cache"
    assert re.fullmatch(r'"[0-9a-f]{16}"', script.headers["etag"])
    style = client.get("/replay-viewer/viewer.css")
    assert style.status_code == 200
    assert style.headers["content-type"] == "text/css; charset=utf-8"
    assert style.headers["etag"] != script.headers["etag"]


def test_viewer_asset_versioned_url_is_cached_for_a_year(client: TestClient) -> None:
    html = client.get(f"/replay/{REPLAY_ID}").text
    url = re.search(r'src="(/replay-viewer/viewer\.js\?v=[0-9a-f]+)"', html).group(1)
    response = client.get(url)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    stale = client.get("/replay-viewer/viewer.js?v=000000000000")
    assert stale.headers["cache-control"] == "no-cache"


def test_viewer_asset_etag_answers_304(client: TestClient) -> None:
    etag = client.get("/replay-viewer/viewer.css").headers["etag"]
    response = client.get("/replay-viewer/viewer.css", headers={"If-None-Match": etag})
    assert response.status_code == 304
    assert response.content == b""
    assert response.headers["etag"] == etag
    other = client.get("/replay-viewer/viewer.css", headers={"If-None-Match": '"other"'})
    assert other.status_code == 200


@pytest.mark.parametrize("name", ["t.js", "viewer.html", "viewer.js.map", ".viewer.js"])
def test_viewer_asset_unknown_file_is_404(client: TestClient, name: str) -> None:
    _assert_error(client.get(f"/replay-viewer/{name}"), 404, "not_found")


def test_viewer_asset_path_outside_is_not_served(client: TestClient) -> None:
    assert client.get("/replay-viewer/..%2fviewer.html").status_code == 404


def test_viewer_not_built_is_503(tmp_path: Path) -> None:
    client = _client(_static(tmp_path, built=False))
    for path in (f"/replay/{REPLAY_ID}", "/replay-viewer/viewer.js", "/replay-viewer/viewer.css"):
        response = client.get(path)
        _assert_error(response, 503, "unavailable")
        assert "make build" in response.json()["error"]["message"]


def test_viewer_files_are_read_once(tmp_path: Path) -> None:
    static = _static(tmp_path)
    client = _client(static)
    (static / "replay-viewer" / "viewer.js").write_text("changed")
    (static / "viewer.html").write_text("changed")
    assert client.get("/replay-viewer/viewer.js").text == "window.viewer = {};\n"
    assert "Clicktrail" in client.get(f"/replay/{REPLAY_ID}").text


def test_viewer_module_routes() -> None:
    paths = {route.path for route in viewer.routes}
    assert paths == {"/replay/{replay_id}", "/replay-viewer/{file}"}


def test_viewer_template_has_every_element_the_script_uses() -> None:
    html = TEMPLATE.read_text()
    ids = set(re.findall(r'\bid="([^"]+)"', html))
    used = set()
    for source in (ROOT / "replay-viewer" / "src").glob("*.js"):
        used |= set(re.findall(r"\$\('([\w-]+)'\)", source.read_text()))
    assert used, "the viewer's sources use elements of the page"
    assert used <= ids, f"missing in viewer.html: {sorted(used - ids)}"


def test_viewer_template_documents_the_keyboard_shortcuts() -> None:
    html = TEMPLATE.read_text()
    keys = (ROOT / "replay-viewer" / "src" / "keys.js").read_text()
    actions = re.search(r"const actions = \{(.*?)\n    \};", keys, re.S).group(1)
    names = {"' '": "Space", "ArrowLeft": "←", "ArrowRight": "→"}
    for key in re.findall(r"^\s*('.'|\w+):", actions, re.M):
        key = key.strip("'") if len(key) == 3 and key != "' '" else key
        shown = names.get(key, key.upper() if len(key) == 1 else key)
        assert f"<kbd>{shown}</kbd>" in html, key
