"""POST /collect over a real socket, on both storage engines."""

from __future__ import annotations

import pytest

from collector.ids import new_id
from collector.storage.base import BrandSettings
from tests.appkit import CHROME_UA, LONDON_IP, make_beacon, now_ms


def _stored(kit, page_id: str):
    return kit.store.get_click(kit.brand.id, page_id)


def test_beacon_is_answered_204_and_its_click_and_events_are_stored(kit):
    beacon = kit.beacon()
    beacon["e"].append(
        {"t": "click", "ts": now_ms(), "d": {"s": "button#buy", "x": 3, "y": 4, "tx": "Buy"}}
    )
    response = kit.collect(beacon)
    assert response.status_code == 204
    click = _stored(kit, beacon["p"])
    assert click is not None and click.url == beacon["u"]
    events = kit.store.events_for_clicks(kit.brand.id, [beacon["p"]])
    assert [e.type for e in events] == ["page_view", "click"]
    assert events[1].data == {"selector": "button#buy", "text": "Buy", "x": 3, "y": 4}


def test_malformed_json_is_400_in_the_error_shape_and_nothing_is_stored(kit):
    response = kit.http.post(
        "/collect", content=b'{"k": "x", "e": [', headers={"content-type": "text/plain"}
    )
    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["status"] == 400 and body["error"]["code"] == "malformed"
    assert kit.store.list_clicks(kit.brand.id, _all())[0] == 0


def _all():
    from collector.storage.base import ClickQuery

    return ClickQuery()


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"e": []}, "e"),
        ({"p": "not-an-id"}, "p"),
        ({"e": [{"t": "page_view"}]}, "ts"),
        ({"w": "wide"}, "w"),
        ({"e": [{"t": "signup", "ts": 1, "d": [1, 2]}]}, "must be an object"),
        ({"e": [{"t": "click", "ts": 1, "d": {"x": "left"}}]}, "x"),
    ],
)
def test_beacon_of_the_wrong_shape_is_422_saying_what_is_wrong(kit, change, fragment):
    beacon = kit.beacon(**change)
    response = kit.collect(beacon)
    assert response.status_code == 422
    assert fragment in response.json()["error"]["message"]
    assert _stored(kit, beacon["p"]) is None


def test_custom_event_data_is_stored_as_sent_and_null_data_as_empty(kit):
    data = {"product_id": 3, "tags": ["a", "b"], "price": {"amount": 9.5, "currency": "EUR"}}
    beacon = kit.beacon()
    beacon["e"] += [
        {"t": "add_to_cart", "ts": now_ms(), "d": data},
        {"t": "ping", "ts": now_ms(), "d": None},
    ]
    assert kit.collect(beacon).status_code == 204
    events = kit.store.events_for_clicks(kit.brand.id, [beacon["p"]])
    assert [e.data for e in events[1:]] == [data, {}]


def test_oversized_body_is_413_and_nothing_is_stored(kit):
    beacon = kit.beacon()
    beacon["e"] = [{"t": "custom", "ts": now_ms(), "d": {"pad": "x" * 70_000}}]
    response = kit.collect(beacon)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"
    assert _stored(kit, beacon["p"]) is None


def test_unknown_site_key_is_404(kit):
    response = kit.collect(make_beacon("no-such-site"))
    assert response.status_code == 404
    assert response.json()["error"]["message"] == "unknown site key"


def test_page_on_a_domain_the_brand_does_not_allow_is_403(kit):
    beacon = kit.beacon(u="https://evil.example/landing")
    assert kit.collect(beacon).status_code == 403
    assert _stored(kit, beacon["p"]) is None


def test_origin_header_of_a_foreign_site_is_403(kit):
    beacon = kit.beacon()
    assert kit.collect(beacon, origin="https://evil.example").status_code == 403


def test_subdomain_of_an_allowed_domain_is_accepted(kit):
    beacon = kit.beacon(u="https://checkout.shop.example/pay")
    assert kit.collect(beacon, origin="https://checkout.shop.example").status_code == 204


def test_geo_is_resolved_from_forwarded_for_set_by_a_trusted_proxy(kit):
    beacon = kit.beacon()
    assert kit.collect(beacon, **{"x-forwarded-for": LONDON_IP}).status_code == 204
    click = _stored(kit, beacon["p"])
    assert (click.country, click.city, click.ip_address) == ("GB", "London", LONDON_IP)


def test_enrichment_fills_referrer_device_utm_and_sub_ids(kit):
    beacon = kit.beacon(
        u="https://shop.example/l?utm_source=google&utm_medium=cpc&gclid=abc&sub2=x&aff=7",
        f=5,
    )
    kit.collect(beacon)
    click = _stored(kit, beacon["p"])
    assert click.referrer_type == "paid"
    assert (click.ad_network, click.ad_click_id) == ("google", "abc")
    assert (click.utm_source, click.utm_medium, click.sub2) == ("google", "cpc", "x")
    assert click.affiliate == "7" and click.funnel_id == 5
    assert click.browser == "Chrome" and click.os == "Windows"
    assert click.device_type == "desktop" and click.is_bot is False
    assert (click.viewport_width, click.language) == (1440, "en-GB")


def test_headless_browser_is_flagged_as_bot(kit):
    beacon = kit.beacon()
    kit.collect(beacon, **{"user-agent": CHROME_UA.replace("Chrome/", "HeadlessChrome/")})
    assert _stored(kit, beacon["p"]).is_bot is True


def test_later_beacons_of_a_page_join_its_session(kit):
    first = kit.beacon()
    kit.collect(first)
    later = dict(first, n=0, e=[{"t": "signup", "ts": now_ms(), "d": {"plan": "pro"}}])
    later["s"] = new_id(now_ms() - 3_600_000)  # stale proposal: must not split the session
    assert kit.collect(later).status_code == 204
    click = _stored(kit, first["p"])
    events = kit.store.session_events(kit.brand.id, click.session_id)
    assert [e.type for e in events] == ["page_view", "signup"]


def test_a_forged_old_session_id_is_replaced_by_a_fresh_one(kit):
    forged = new_id(now_ms() - 10 * 24 * 3_600_000)
    beacon = kit.beacon(s=forged)
    kit.collect(beacon)
    assert _stored(kit, beacon["p"]).session_id != forged


def test_truncated_ip_mode_stores_no_full_address(kit):
    brand, _ = kit.new_brand(BrandSettings(ip_mode="truncated"))
    beacon = make_beacon(brand.site_key)
    kit.collect(beacon, **{"x-forwarded-for": LONDON_IP})
    click = kit.store.get_click(brand.id, beacon["p"])
    assert click.ip_address == "81.2.69.0" and click.city == "London"


def test_ip_mode_off_stores_no_address(kit):
    brand, _ = kit.new_brand(BrandSettings(ip_mode="off"))
    beacon = make_beacon(brand.site_key)
    kit.collect(beacon, **{"x-forwarded-for": LONDON_IP})
    assert kit.store.get_click(brand.id, beacon["p"]).ip_address is None


def test_cookieless_brand_ignores_the_trackers_visitor_id(kit):
    brand, _ = kit.new_brand(BrandSettings(cookieless=True))
    beacon = make_beacon(brand.site_key)
    kit.collect(beacon)
    click = kit.store.get_click(brand.id, beacon["p"])
    assert click.visitor_id != beacon["v"]
    again = make_beacon(brand.site_key)
    kit.collect(again)
    assert kit.store.get_click(brand.id, again["p"]).visitor_id == click.visitor_id


def test_do_not_track_is_honoured_when_the_brand_asks(kit):
    brand, _ = kit.new_brand(BrandSettings(respect_dnt=True))
    beacon = make_beacon(brand.site_key)
    assert kit.collect(beacon, dnt="1").status_code == 204
    assert kit.store.get_click(brand.id, beacon["p"]) is None
    assert kit.collect(make_beacon(brand.site_key), **{"sec-gpc": "0"}).status_code == 204


def test_browser_clock_far_in_the_future_is_corrected(kit):
    future = now_ms() + 7 * 24 * 3_600_000
    beacon = kit.beacon(e=[{"t": "page_view", "ts": future}])
    kit.collect(beacon)
    assert abs(_stored(kit, beacon["p"]).created_at - now_ms()) < 60_000


def test_config_endpoint_gives_the_tracker_its_brand_settings(kit):
    response = kit.http.get(f"/config/{kit.brand.site_key}")
    assert response.status_code == 200
    assert response.json() == {
        "c": False,
        "d": False,
        "r": 0.0,
        "m": {"i": True, "b": "[data-ct-block]", "t": "[data-ct-mask]"},
        "a": 90,
        "x": True,
    }
    assert response.headers["access-control-allow-origin"] == "*"
    assert "max-age" in response.headers["cache-control"]
    assert kit.http.get("/config/nope").status_code == 404


def test_preflight_is_answered_for_collect(kit):
    response = kit.http.options("/collect")
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == "*"


def test_tracker_script_is_served_with_caching_headers_and_etag(kit):
    response = kit.http.get("/t.js")
    assert response.status_code == 200, "build the tracker first: make build"
    assert response.headers["content-type"].startswith("application/javascript")
    assert "max-age" in response.headers["cache-control"]
    assert len(response.content) > 1000
    again = kit.http.get("/t.js", headers={"if-none-match": response.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
