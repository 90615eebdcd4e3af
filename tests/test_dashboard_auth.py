"""Signing in to the dashboard, its session cookie in place of an API key, CSRF, roles, and the
keys and users API (issue 12), on both engines, through a real collector on a loopback port."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from collector.app import create_app
from collector.cli import create_brand
from collector.cli.users import create_user
from collector.config import Settings
from collector.dashboard import routes as dashboard_routes
from collector.dashboard.shell import BuiltFiles, Shell
from collector.http.auth import mint_api_key
from collector.storage.base import Brand, BrandSettings, Store
from collector.users.limits import PER_EMAIL
from tests.servers import serve_in_thread

PASSWORD = "correct horse battery"
EVIL = "https://evil.example"
# The UI's build as the server sees it: the shell with its two placeholders, and a script.
SHELL = (
    '<!doctype html><html><head><meta name="csrf-token" content="{{CSRF_TOKEN}}">'
    '<script type="application/json" id="ct-boot">{{BOOT_JSON}}</script>'
    '<script type="module" src="/dashboard/app.js"></script></head><body></body></html>'
)


def the_shell() -> Shell:
    """The Shell serving the app's dashboard routes (module-level, like the viewer's)."""
    handler = next(e.handler for e in dashboard_routes.endpoints if e.path == "/")
    shell = getattr(handler, "__self__", None)
    assert isinstance(shell, Shell)
    return shell


@pytest.fixture
def build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A build directory of its own for the test (the real one is the UI's, git-ignored)."""
    directory = tmp_path / "build"
    directory.mkdir()
    (directory / "index.html").write_text(SHELL)
    (directory / "app.js").write_text("console.log('dashboard');\n")
    monkeypatch.setattr(the_shell(), "files", BuiltFiles(directory))
    return directory


@dataclass
class Site:
    url: str
    store: Store
    brand: Brand  # given to both users
    other: Brand  # given to nobody
    admin_key: str

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30)


@pytest.fixture
def site(store: Store, build: Path) -> Iterator[Site]:
    brand = create_brand(store, "Beans </script><b>", ["localhost"], BrandSettings())
    other = create_brand(store, "Secret", ["secret.example"], BrandSettings())
    create_user(store, "Ana@Example.com", PASSWORD, "admin", [brand.id])
    create_user(store, "vic@example.com", PASSWORD, "viewer", [brand.id])
    key, record = mint_api_key(brand.id, "admin", int(time.time() * 1000))
    store.add_api_key(record)
    app = create_app(Settings(trusted_proxies="127.0.0.1"), store=store)
    with serve_in_thread(app) as url:
        yield Site(url, store, brand, other, key)


def _csrf(page: httpx.Response) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found, page.text[:500]
    return found.group(1)


def post_login(
    http: httpx.Client, email: str, password: str, next_path: str = "", **headers: str
) -> httpx.Response:
    query = f"?next={next_path}" if next_path else ""
    form = http.get(f"/login{query}")
    assert form.status_code == 200
    data = {"email": email, "password": password, "csrf_token": _csrf(form)}
    return http.post(f"/login{query}", data=data, headers=headers)


def signed_in(site: Site, email: str = "ana@example.com") -> tuple[httpx.Client, str]:
    """A client with a session cookie, and the CSRF token of its pages."""
    http = site.client()
    answer = post_login(http, email, PASSWORD)
    assert answer.status_code == 303, answer.text[:300]
    return http, session_csrf(http)


def session_csrf(http: httpx.Client) -> str:
    page = http.get("/")
    found = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
    assert found, page.text[:300]
    return found.group(1)


# signing in and out ----------------------------------------------------------------------------
def test_signed_out_pages_go_to_the_sign_in_form(site: Site) -> None:
    with site.client() as http:
        root = http.get("/")
        assert root.status_code == 303 and root.headers["location"] == "/login"
        page = http.get("/sessions?brand=1&interval=7d")
        assert page.status_code == 303
        assert page.headers["location"] == "/login?next=/sessions%3Fbrand%3D1%26interval%3D7d"
        api = http.get(f"/api/brands/{site.brand.id}")
        assert api.status_code == 401
        form = http.get("/login")
        assert form.status_code == 200 and 'type="email" name="email"' in form.text
        assert 'type="password"' in form.text and 'role="alert"' in form.text
        assert form.headers["cache-control"] == "no-store"
        assert "frame-ancestors 'none'" in form.headers["content-security-policy"]
        assert "HttpOnly" in form.headers["set-cookie"] and "ct_csrf=" in form.headers["set-cookie"]


def test_a_wrong_password_stays_on_the_form_with_401(site: Site) -> None:
    with site.client() as http:
        for email, password in (("ana@example.com", "nope"), ("nobody@example.com", PASSWORD)):
            answer = post_login(http, email, password)
            assert answer.status_code == 401
            assert "Wrong email or password" in answer.text
            assert "ct_session" not in http.cookies
        assert http.get("/").status_code == 303


def test_the_right_password_sets_an_httponly_lax_cookie_and_goes_to_next(site: Site) -> None:
    with site.client() as http:
        answer = post_login(http, "ANA@example.com", PASSWORD, next_path="/sessions?brand=1")
        assert answer.status_code == 303 and answer.headers["location"] == "/sessions?brand=1"
        cookie = answer.headers["set-cookie"]
        assert cookie.startswith("ct_session=")
        flags = {part.strip().lower() for part in cookie.split(";")[1:]}
        assert {"httponly", "samesite=lax", "path=/"} <= flags
        assert "secure" not in flags  # plain http, no proxy saying otherwise
        assert http.get(f"/api/brands/{site.brand.id}").status_code == 200


def test_the_cookie_is_secure_behind_a_trusted_https_proxy(site: Site) -> None:
    with site.client() as http:
        answer = post_login(http, "ana@example.com", PASSWORD, **{"X-Forwarded-Proto": "https"})
        assert answer.status_code == 303
        flags = {p.strip().lower() for p in answer.headers["set-cookie"].split(";")}
        assert "secure" in flags


def test_next_never_leaves_the_site(site: Site) -> None:
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        with site.client() as http:
            answer = post_login(http, "ana@example.com", PASSWORD, next_path=target)
            assert answer.status_code == 303 and answer.headers["location"] == "/"


def test_repeated_wrong_passwords_get_429_for_a_while(site: Site) -> None:
    with site.client() as http:
        for _ in range(PER_EMAIL):
            assert post_login(http, "vic@example.com", "wrong").status_code == 401
        blocked = post_login(http, "VIC@example.com", PASSWORD)  # even the right one, now
        assert blocked.status_code == 429
        assert 800 <= int(blocked.headers["retry-after"]) <= 900
        assert "Too many wrong passwords" in blocked.text
        assert "ct_session" not in http.cookies
        # another user is not held up by it
        assert post_login(http, "ana@example.com", PASSWORD).status_code == 303


def test_the_login_form_needs_its_token_and_refuses_other_sites(site: Site) -> None:
    with site.client() as http:
        http.get("/login")
        data = {"email": "ana@example.com", "password": PASSWORD}
        assert http.post("/login", data=data).status_code == 403
        data["csrf_token"] = "forged-token-forged-token"
        assert http.post("/login", data=data).status_code == 403
        answer = post_login(http, "ana@example.com", PASSWORD, **{"Origin": EVIL})
        assert answer.status_code == 403
        answer = post_login(http, "ana@example.com", PASSWORD, **{"Sec-Fetch-Site": "cross-site"})
        assert answer.status_code == 403
        assert "ct_session" not in http.cookies


def test_sign_out_ends_the_session_at_once(site: Site) -> None:
    http, csrf = signed_in(site)
    old_cookie = http.cookies["ct_session"]
    answer = http.post("/logout", data={"csrf_token": csrf})
    assert answer.status_code == 303 and answer.headers["location"] == "/login"
    assert 'ct_session=""' in answer.headers["set-cookie"]
    assert http.get("/").status_code == 303
    with site.client() as stale:
        stale.cookies.set("ct_session", old_cookie)
        assert stale.get(f"/api/brands/{site.brand.id}").status_code == 401
        assert stale.get("/").headers["location"] == "/login"
    http.close()


def test_a_cross_site_form_post_is_refused(site: Site) -> None:
    http, csrf = signed_in(site)
    evil = {"Origin": EVIL}
    # to /logout, with no token (a form on another site cannot know it)
    assert http.post("/logout", data={}, headers=evil).status_code == 403
    assert http.post("/logout", data={}).status_code == 403  # same site, still no token
    # to the brand API, as a form would send it
    brand = f"/api/brands/{site.brand.id}"
    answer = http.post(f"{brand}/keys", data={"scope": "admin"}, headers=evil)
    assert answer.status_code == 403 and answer.json()["error"]["code"] == "forbidden"
    answer = http.patch(brand, json={"name": "x"}, headers={**evil, "X-CSRF-Token": csrf})
    assert answer.status_code == 403
    answer = http.patch(
        brand, json={"name": "x"}, headers={"Sec-Fetch-Site": "cross-site", "X-CSRF-Token": csrf}
    )
    assert answer.status_code == 403
    assert http.get(brand).json()["name"] == site.brand.name  # unchanged, still signed in
    http.close()


def test_a_cookie_change_needs_the_csrf_header(site: Site) -> None:
    http, csrf = signed_in(site)
    brand = f"/api/brands/{site.brand.id}"
    answer = http.patch(brand, json={"name": "Renamed"})
    assert answer.status_code == 403
    assert "X-CSRF-Token" in answer.json()["error"]["message"]
    assert (
        http.patch(brand, json={"name": "Renamed"}, headers={"X-CSRF-Token": "no"}).status_code
        == 403
    )
    ok = http.patch(brand, json={"name": "Renamed"}, headers={"X-CSRF-Token": csrf})
    assert ok.status_code == 200 and ok.json()["name"] == "Renamed"
    http.close()


# roles and brands ------------------------------------------------------------------------------
def test_a_viewer_reads_and_changes_nothing(site: Site) -> None:
    http, csrf = signed_in(site, "vic@example.com")
    brand = f"/api/brands/{site.brand.id}"
    headers = {"X-CSRF-Token": csrf}
    assert http.get(brand).status_code == 200
    assert http.get(f"{brand}/analytics", params={"groupBy": "count"}).status_code == 200
    assert http.patch(brand, json={"name": "x"}, headers=headers).status_code == 403
    assert http.post(f"{brand}/keys", json={"scope": "read"}, headers=headers).status_code == 403
    assert http.get(f"{brand}/keys").status_code == 403
    assert http.get(f"{brand}/users").status_code == 403
    http.close()


def test_nobody_sees_a_brand_they_were_not_given(site: Site) -> None:
    for email in ("ana@example.com", "vic@example.com"):
        http, csrf = signed_in(site, email)
        other = f"/api/brands/{site.other.id}"
        assert http.get(other).status_code == 404
        assert http.get(f"{other}/analytics", params={"groupBy": "count"}).status_code == 404
        assert http.get(f"{other}/keys").status_code == 404
        answer = http.patch(other, json={"name": "x"}, headers={"X-CSRF-Token": csrf})
        assert answer.status_code == 404
        http.close()


def test_the_shell_holds_the_user_and_the_csrf_token(site: Site) -> None:
    http, csrf = signed_in(site)
    page = http.get("/settings?brand=1")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'self'" in csp
    boot = re.search(r'id="ct-boot">(.*?)</script>', page.text, re.S)
    assert boot and "</script><b>" not in boot.group(1) and "\\u003c/script>" in boot.group(1)
    assert '"email":"Ana@Example.com"' in boot.group(1) and '"role":"admin"' in boot.group(1)
    assert f'"site_key":"{site.brand.site_key}"' in boot.group(1)
    assert site.other.site_key not in page.text
    assert csrf in page.text
    http.close()


def test_built_files_are_served_without_leaving_their_directory(site: Site) -> None:
    with site.client() as http:
        for path in ("/dashboard/..%2Fviewer.html", "/dashboard/index.html", "/dashboard/.env"):
            assert http.get(path).status_code == 404, path
        script = http.get("/dashboard/app.js")
        assert script.status_code == 200 and script.headers["etag"]
        again = http.get("/dashboard/app.js", headers={"If-None-Match": script.headers["etag"]})
        assert again.status_code == 304


# keys and users --------------------------------------------------------------------------------
def test_keys_are_made_listed_and_revoked_and_a_revoked_key_fails_at_once(site: Site) -> None:
    http, csrf = signed_in(site)
    brand = f"/api/brands/{site.brand.id}"
    headers = {"X-CSRF-Token": csrf}
    made = http.post(f"{brand}/keys", json={"scope": "read"}, headers=headers)
    assert made.status_code == 201
    key = made.json()
    assert key["key"].startswith(f"ct_{key['id']}_") and key["scope"] == "read"
    with site.client() as api:
        assert api.get(brand, headers={"X-Api-Key": key["key"]}).status_code == 200
        listed = http.get(f"{brand}/keys").json()
        mine = next(k for k in listed if k["id"] == key["id"])
        assert mine["prefix"] == f"ct_{key['id']}_" and mine["scope"] == "read"
        assert key["key"] not in str(listed) and "hash" not in str(listed)
        assert mine["lastUsedAt"] is not None or _eventually_used(http, brand, key["id"])
        gone = http.delete(f"{brand}/keys/{key['id']}", headers=headers)
        assert gone.status_code == 204
        assert api.get(brand, headers={"X-Api-Key": key["key"]}).status_code == 401
        assert key["id"] not in str(http.get(f"{brand}/keys").json())
        again = http.delete(f"{brand}/keys/{key['id']}", headers=headers)
        assert again.status_code == 404
        # an admin key may manage keys too; another brand's key is not found
        _, foreign = mint_api_key(site.other.id, "read", 0)
        site.store.add_api_key(foreign)
        answer = api.delete(f"{brand}/keys/{foreign.id}", headers={"X-Api-Key": site.admin_key})
        assert answer.status_code == 404
        assert site.store.api_key_by_id(foreign.id) is not None
    http.close()


def _eventually_used(http: httpx.Client, brand: str, key_id: str) -> bool:
    """The use is recorded in a worker thread: give it a moment."""
    for _ in range(50):
        listed = http.get(f"{brand}/keys").json()
        if next(k for k in listed if k["id"] == key_id)["lastUsedAt"]:
            return True
        time.sleep(0.05)
    return False


def test_a_key_body_is_checked(site: Site) -> None:
    with site.client() as api:
        url = f"/api/brands/{site.brand.id}/keys"
        headers = {"X-Api-Key": site.admin_key}
        assert api.post(url, json={"scope": "root"}, headers=headers).status_code == 422
        assert api.post(url, content=b"{", headers=headers).status_code == 400
        assert api.post(url, json={"scope": "write"}, headers=headers).status_code == 201


def test_the_brand_s_users_are_listed_for_its_admins(site: Site) -> None:
    with site.client() as api:
        answer = api.get(
            f"/api/brands/{site.brand.id}/users", headers={"X-Api-Key": site.admin_key}
        )
        assert answer.status_code == 200
        assert answer.json() == [
            {"email": "Ana@Example.com", "role": "admin"},
            {"email": "vic@example.com", "role": "viewer"},
        ]


def test_pages_and_files_answer_503_until_the_dashboard_is_built(site: Site, build: Path) -> None:
    http, _ = signed_in(site)
    for name in ("index.html", "app.js"):
        (build / name).unlink()
    page = http.get("/")
    assert page.status_code == 503 and "make build" in page.text
    assert page.headers["content-type"].startswith("text/plain")
    script = http.get("/dashboard/app.js")
    assert script.status_code == 503 and script.json()["error"]["code"] == "unavailable"
    http.close()


def test_the_cookie_is_secure_when_the_public_url_is_https(store: Store, build: Path) -> None:
    create_user(store, "ana@example.com", PASSWORD, "admin", [])
    app = create_app(Settings(public_url="https://stats.example"), store=store)
    with serve_in_thread(app) as url, httpx.Client(base_url=url) as http:
        form = http.get("/login")
        assert "secure" in form.headers["set-cookie"].lower()  # so httpx keeps it to itself
        csrf = _csrf(form)
        data = {"email": "ana@example.com", "password": PASSWORD, "csrf_token": csrf}
        # the browser's Origin is the public URL's, not the address the server listens on
        headers = {"Origin": "https://stats.example", "Cookie": f"ct_csrf={csrf}"}
        answer = http.post("/login", data=data, headers=headers)
        assert answer.status_code == 303
        assert "secure" in {p.strip().lower() for p in answer.headers["set-cookie"].split(";")}
