"""CORS preflights of what a tracked page calls: ``/config/{site_key}``, ``/collect`` and
``/collect/replay``, as a browser sends them, over a real socket on both storage engines."""

from __future__ import annotations

import pytest

ORIGIN = "https://shop.example"


def _preflight(kit, path: str, method: str, headers: str | None = "content-type"):
    asked = {"origin": ORIGIN, "access-control-request-method": method}
    if headers is not None:
        asked["access-control-request-headers"] = headers
    return kit.http.options(path, headers=asked)


@pytest.mark.parametrize(
    ("path", "method"),
    [("/config/{site}", "GET"), ("/collect", "POST"), ("/collect/replay", "POST")],
)
def test_preflight_allows_any_origin_the_method_and_content_type(kit, path, method):
    response = _preflight(kit, path.format(site=kit.brand.site_key), method)
    assert response.status_code == 204
    assert response.content == b""
    assert response.headers["access-control-allow-origin"] == "*"
    assert method in response.headers["access-control-allow-methods"]
    assert "content-type" in response.headers["access-control-allow-headers"].lower()
    assert int(response.headers["access-control-max-age"]) >= 600
    assert "access-control-allow-credentials" not in response.headers


def test_preflight_echoes_header_names_a_page_s_fetch_wrapper_adds(kit):
    response = _preflight(kit, f"/config/{kit.brand.site_key}", "GET", "sentry-trace, baggage")
    assert response.headers["access-control-allow-headers"] == "sentry-trace, baggage"


@pytest.mark.parametrize("asked", [None, "", "a b", "x" * 1001, "ok, bad;x"])
def test_preflight_without_or_with_odd_header_names_allows_content_type(kit, asked):
    response = _preflight(kit, "/collect", "POST", asked)
    assert response.status_code == 204
    assert response.headers["access-control-allow-headers"] == "Content-Type"


def test_preflight_of_an_unknown_site_s_config_is_still_answered(kit):
    """The preflight says what the browser may send; the GET itself answers 404."""
    assert _preflight(kit, "/config/no-such-site", "GET").status_code == 204
    assert kit.http.get("/config/no-such-site").status_code == 404
