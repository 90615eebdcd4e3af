"""``GET /t.js?site=KEY`` (the tracker with its brand's config baked in) and ``GET /config``'s
attribution window, over a real socket, on both storage engines."""

from __future__ import annotations

import json

from collector.storage.base import BrandSettings


def _baked(script: bytes) -> dict:
    """The config literal the collector put in place of the placeholder."""
    text = script.decode()
    start = text.index('({"k":')
    config, end = json.JSONDecoder().raw_decode(text, start + 1)
    assert text[end] == ")"
    return config


def test_the_site_script_has_the_brand_config_baked_in_with_its_key(kit):
    response = kit.http.get("/t.js", params={"site": kit.brand.site_key})
    assert response.status_code == 200, "build the tracker first: make build"
    assert response.headers["content-type"].startswith("application/javascript")
    assert response.headers["access-control-allow-origin"] == "*"
    assert b"__CT_BAKED__" not in response.content
    config = kit.http.get(f"/config/{kit.brand.site_key}").json()
    assert _baked(response.content) == {"k": kit.brand.site_key, **config}


def test_the_site_script_is_cached_for_five_minutes_with_its_own_etag(kit):
    plain = kit.http.get("/t.js")
    response = kit.http.get("/t.js", params={"site": kit.brand.site_key})
    assert response.headers["cache-control"] == "public, max-age=300"
    assert plain.headers["cache-control"] == "public, max-age=3600"
    etag = response.headers["etag"]
    assert etag != plain.headers["etag"]
    again = kit.http.get(
        "/t.js", params={"site": kit.brand.site_key}, headers={"if-none-match": etag}
    )
    assert again.status_code == 304 and again.content == b""
    site = {"site": kit.brand.site_key}
    stale = kit.http.get("/t.js", params=site, headers={"if-none-match": plain.headers["etag"]})
    assert stale.status_code == 200


def test_each_brand_gets_its_own_settings_and_etag(kit):
    settings = BrandSettings(cookieless=True, respect_dnt=True, attribution_days=7)
    other, _ = kit.new_brand(settings)
    mine = kit.http.get("/t.js", params={"site": kit.brand.site_key})
    theirs = kit.http.get("/t.js", params={"site": other.site_key})
    config = _baked(theirs.content)
    assert config["k"] == other.site_key
    assert (config["c"], config["d"], config["a"]) == (True, True, 7)
    assert _baked(mine.content)["a"] == 90
    assert mine.headers["etag"] != theirs.headers["etag"]


def test_an_unknown_site_key_gets_the_plain_script_which_fetches_its_config(kit):
    plain = kit.http.get("/t.js")
    response = kit.http.get("/t.js", params={"site": "no-such-site"})
    assert response.status_code == 200
    assert response.content == plain.content
    assert b"__CT_BAKED__" in response.content
    assert response.headers["etag"] == plain.headers["etag"]
    assert response.headers["cache-control"] == "public, max-age=300"
    assert kit.http.get("/t.js", params={"site": ""}).content == plain.content


def test_a_site_key_longer_than_any_is_422_naming_site(kit):
    response = kit.http.get("/t.js", params={"site": "k" * 65})
    assert response.status_code == 422
    assert response.json()["error"]["param"] == "site"


def test_the_config_carries_the_attribution_window(kit):
    other, _ = kit.new_brand(BrandSettings(attribution_days=30))
    assert kit.http.get(f"/config/{kit.brand.site_key}").json()["a"] == 90
    assert kit.http.get(f"/config/{other.site_key}").json()["a"] == 30


def test_the_config_says_whether_the_page_looks_for_dead_and_error_clicks(kit):
    other, _ = kit.new_brand(BrandSettings(frustration_signals=False))
    assert kit.http.get(f"/config/{kit.brand.site_key}").json()["x"] is True
    assert kit.http.get(f"/config/{other.site_key}").json()["x"] is False
    assert _baked(kit.http.get("/t.js", params={"site": other.site_key}).content)["x"] is False
    path = f"/api/brands/{kit.brand.id}"
    patch = {"settings": {"frustration_signals": False}}
    changed = kit.http.patch(path, json=patch, headers={"X-Api-Key": kit.admin_key})
    assert changed.status_code == 200, changed.text
    assert changed.json()["settings"]["frustration_signals"] is False


def test_dead_and_error_clicks_are_served_like_the_recorder(kit):
    script = kit.http.get("/t/x.js")
    recorder = kit.http.get("/t/replay.js")
    assert script.status_code == 200, "build the tracker first: make build"
    assert b"dead_click" in script.content and b"error_click" in script.content
    for name in ("content-type", "cache-control", "access-control-allow-origin"):
        assert script.headers[name] == recorder.headers[name]
    again = kit.http.get("/t/x.js", headers={"if-none-match": script.headers["etag"]})
    assert again.status_code == 304
