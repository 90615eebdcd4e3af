"""Clickstream items (seed 05): a short-link click, a page view, a lead and a sale in the seed's
shape key for key, in its vocabulary, as ASCII JSON."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from collector.ids import id_time_ms, new_id
from collector.storage.base import Brand, Click, Conversion, ShortLink
from collector.webhooks.payload import (
    ItemContext,
    ascii_json,
    iso6,
    render_click,
    render_conversion,
)

SEED = (
    Path(__file__).resolve().parents[2] / "shared" / "seeds" / "05-clickstream-webhook-format.txt"
)
AT = 1_562_076_426_981  # 2019-07-02T14:07:06.981Z
BRAND = Brand(id=7, name="My Brand", site_key="sk")
LINK = ShortLink(
    id="01jlink0000000000000000000",
    brand_id=7,
    domain="go.mybrand.com",
    code="spring",
    destination_url="https://www.yourdestination.com/?utm_source=cs_facebook_post",
    base_url="https://go.mybrand.com",
    created_at=AT,
    updated_at=AT,
)
SESSION = new_id(AT - 5_000)


def seed_item() -> dict[str, Any]:
    if SEED.exists():
        text = SEED.read_text()
        return json.loads(text[text.index("{") :])["data"][0]
    pytest.skip("the seed is not beside the checkout")


def click(**changes: Any) -> Click:
    fields: dict[str, Any] = {
        "id": new_id(AT),
        "brand_id": 7,
        "session_id": SESSION,
        "visitor_id": new_id(AT - 9_000),
        "created_at": AT,
        "trigger": "link",
        "url": "https://www.yourdestination.com/?utm_source=cs_facebook_post&utm_medium=cs",
        "referrer": "http://m.facebook.com/",
        "referrer_host": "m.facebook.com",
        "referrer_type": "social",
        "referrer_name": "Facebook",
        "country": "BR",
        "region": "SP",
        "city": "Sao Paulo",
        "device_type": "mobile",
        "os": "Android",
        "os_version": "9.0",
        "browser": "Facebook App",
        "browser_version": "227.0.0.43.158",
        "language": "pt-BR",
        "link_id": LINK.id,
        "domain_id": 3,
    }
    fields.update(changes)
    return Click(**fields)


def conversion(kind: str, **changes: Any) -> Conversion:
    fields: dict[str, Any] = {
        "id": new_id(AT + 60_000),
        "brand_id": 7,
        "kind": kind,
        "dedupe_key": "k",
        "event_name": "Sign up" if kind == "lead" else "Purchase",
        "click_id": new_id(AT),
        "session_id": SESSION,
        "visitor_id": new_id(AT - 9_000),
        "link_id": LINK.id,
        "customer_external_id": "cus-1",
        "customer_name": "Ana",
        "customer_email": "ana@example.com",
        "created_at": AT + 60_000,
        "trigger": "link",
        "url": "https://www.yourdestination.com/?utm_source=cs_facebook_post",
        "country": "BR",
        "device_type": "mobile",
        "browser": "Chrome Mobile",
        "os": "Android",
        "referrer": "https://m.facebook.com/story",
    }
    if kind == "sale":
        fields.update(amount=4900, currency="EUR", invoice_id="inv-1", sale_type="new")
        fields.update(payment_processor="stripe", metadata={"plan": "pro"})
    fields.update(changes)
    return Conversion(**fields)


def assert_seed_shape(seed: Any, ours: Any, path: str = "$") -> None:
    """Every key of the seed is in ours, nested alike, with a value of the same JSON type (a
    None in ``seed``: any value; the query's names are data, not shape)."""
    if path.endswith(".params.query"):
        assert isinstance(ours, dict)
        assert all(
            isinstance(v, list) and all(isinstance(x, str) for x in v) for v in ours.values()
        )
    elif seed is None:
        return
    elif isinstance(seed, dict):
        assert isinstance(ours, dict), f"{path} is {ours!r}"
        for key, value in seed.items():
            assert key in ours, f"{path}.{key} is missing"
            assert_seed_shape(value, ours[key], f"{path}.{key}")
    elif isinstance(seed, list):
        assert isinstance(ours, list) and ours, f"{path} is {ours!r}"
        assert_seed_shape(seed[0], ours[0], f"{path}[0]")
    else:
        assert type(ours) is type(seed), f"{path} is {ours!r}, the seed's {seed!r}"


def test_a_short_link_click_is_the_seeds_item_key_for_key() -> None:
    row = click()
    item = json.loads(render_click(row, ItemContext(BRAND, LINK, True)))
    assert_seed_shape(seed_item(), item)
    assert (item["id"], item["type"], item["click_id"]) == (row.id, "click", row.id)
    assert item["timestamp"] == "2019-07-02T14:07:06.981000Z"
    client = item["client"]
    assert client["language"] == "pt"
    assert client["location"] == {"country": "br", "region": "SP", "city": "Sao Paulo"}
    assert client["agent"] == {
        "browser": {"name": "facebook-app", "version": "227.0.0.43.158"},
        "os": {"name": "android", "version": "android-9.0"},
        "device": {"name": "smartphone"},
        "type": "human",
    }
    assert client["session"] == {"started": iso6(id_time_ms(SESSION)), "first": True}
    assert item["referral"] == {
        "hostname": "m.facebook.com",
        "protocol": "http",
        "path": "/",
        "origin": {"type": "social", "name": "facebook"},
    }
    route = item["route"]
    assert (route["id"], route["slashtag"]) == (LINK.id, "spring")
    assert route["creator"] == {"id": "7", "workspace": {"id": "7", "name": "My Brand"}}
    assert route["domain"] == {"id": "go.mybrand.com", "raw": "go.mybrand.com"}
    assert route["destination"] == {
        "raw": row.url,
        "protocol": "https",
        "hostname": "www.yourdestination.com",
        "path": "/",
        "params": {"query": {"utm_source": ["cs_facebook_post"], "utm_medium": ["cs"]}},
    }
    assert (item["visitor_id"], item["session_id"]) == (row.visitor_id, SESSION)
    assert "conversion" not in item


def test_a_page_view_without_a_link_has_its_pages_route() -> None:
    row = click(
        trigger="pageview",
        link_id=None,
        url="https://shop.example/p?a=1&a=2&b=",
        device_type="desktop",
        is_bot=True,
    )
    item = json.loads(render_click(row, ItemContext(BRAND, None, False)))
    seed = seed_item()
    seed["route"]["id"] = seed["route"]["slashtag"] = None  # no link: null
    assert_seed_shape(seed, item)
    assert item["type"] == "pageview" and item["client"]["session"]["first"] is False
    assert item["client"]["agent"]["device"] == {"name": "desktop"}
    assert item["client"]["agent"]["type"] == "bot"
    route = item["route"]
    assert route["id"] is None and route["slashtag"] is None
    assert route["domain"] == {"id": "3", "raw": "shop.example"}
    assert route["destination"]["params"]["query"] == {"a": ["1", "2"], "b": [""]}


def test_a_click_with_no_referrer_or_geo_has_nulls_and_a_direct_origin() -> None:
    row = click(
        referrer=None,
        referrer_host=None,
        referrer_type="direct",
        referrer_name=None,
        country=None,
        region=None,
        city=None,
        language=None,
        browser=None,
        browser_version=None,
        os=None,
        os_version=None,
        device_type=None,
    )
    item = json.loads(render_click(row, ItemContext(BRAND, LINK, False)))
    assert item["referral"] == {
        "hostname": None,
        "protocol": None,
        "path": None,
        "origin": {"type": "direct", "name": None},
    }
    assert item["client"]["location"] == {"country": None, "region": None, "city": None}
    assert item["client"]["language"] is None
    assert item["client"]["agent"]["browser"] == {"name": None, "version": None}
    assert item["client"]["agent"]["os"] == {"name": None, "version": None}
    assert item["client"]["agent"]["device"] == {"name": None}


@pytest.mark.parametrize("kind", ["lead", "sale"])
def test_a_lead_or_a_sale_is_the_seeds_envelope_with_its_conversion(kind: str) -> None:
    row = conversion(kind)
    item = json.loads(render_conversion(row, ItemContext(BRAND, LINK, False)))
    seed = seed_item()
    agent = seed["client"]["agent"]
    seed["client"]["language"] = None  # a conversion copies no language or versions: null
    agent["browser"]["version"] = agent["os"]["version"] = None
    assert_seed_shape(seed, item)
    assert (item["id"], item["type"], item["click_id"]) == (row.id, kind, row.click_id)
    assert item["client"]["language"] is None
    assert item["client"]["agent"]["browser"] == {"name": "chrome-mobile", "version": None}
    assert item["referral"]["hostname"] == "m.facebook.com"
    assert item["referral"]["origin"] == {"type": "social", "name": "facebook"}
    assert item["route"]["slashtag"] == "spring"
    expected = {
        "type": kind,
        "event_name": row.event_name,
        "customer": {"external_id": "cus-1", "name": "Ana", "email": "ana@example.com"},
        "amount": row.amount,
        "currency": row.currency,
        "invoice_id": row.invoice_id,
        "payment_processor": row.payment_processor,
        "sale_type": row.sale_type,
        "metadata": row.metadata,
    }
    assert item["conversion"] == expected


def test_items_are_ascii_json_that_reads_back_the_same() -> None:
    row = click(city="São Paulo", referrer_name="Fácebook 😀", url="https://x.example/ü?q=é")
    body = render_click(row, ItemContext(Brand(id=7, name="Marca Ñ 😀", site_key="k"), LINK))
    assert body.isascii()
    assert re.search(rb"\\ud83d\\ude00", body)  # beyond the BMP: a surrogate pair
    item = json.loads(body)
    assert item["client"]["location"]["city"] == "São Paulo"
    assert item["route"]["creator"]["workspace"]["name"] == "Marca Ñ 😀"
    assert item["route"]["destination"]["raw"] == "https://x.example/ü?q=é"
    assert ascii_json(b'{"a":"b"}') == b'{"a":"b"}'


def test_a_referrer_that_is_no_url_still_renders() -> None:
    row = click(referrer="http://[not-ipv6/x", referrer_type="referral", referrer_name=None)
    item = json.loads(render_click(row, ItemContext(BRAND, LINK)))
    assert item["referral"]["hostname"] is None
    assert item["referral"]["origin"] == {"type": "referral", "name": None}
    led = conversion("lead", referrer="http://[nope", url="http://[bad")
    assert json.loads(render_conversion(led, ItemContext(BRAND, None)))["referral"]["path"] is None
