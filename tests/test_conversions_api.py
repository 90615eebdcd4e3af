"""Leads and sales on both engines, and one visitor followed from a short link through the
landing page's session to the sale."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from collector.ids import new_id
from collector.storage.base import Click, Conversion
from collector.storage.model import CLICK_FACTS
from tests.appkit import CHROME_UA, Kit, now_ms
from tests.linkkit import click_id_of, clicks, follow, lead, make_link, sale, write

_LEAD = b'{"clickId": "CLICK", "eventName": "x", "customerExternalId": "c"'
FIREFOX_UA = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


def _landing_beacon(kit: Kit, ct_id: str, **overrides: object) -> dict:
    return kit.beacon(u="https://shop.example/offer?plan=pro", c=ct_id, **overrides)


def _land(kit: Kit, ct_id: str, ua: str = CHROME_UA, ip: str = "81.2.69.160", **kw) -> dict:
    beacon = _landing_beacon(kit, ct_id, **kw)
    answer = kit.collect(beacon, **{"user-agent": ua, "x-forwarded-for": ip})
    assert answer.status_code == 204, answer.text
    return beacon


def test_a_landing_page_joins_the_link_clicks_session_and_carries_its_link(kit: Kit) -> None:
    link = make_link(kit)
    ct_id = click_id_of(follow(kit, f"/g/{link['code']}?utm_source=mail"))
    beacon = _land(kit, ct_id)
    rows = {r["trigger"]: r for r in clicks(kit)}
    page, via = rows["pageview"], rows["link"]
    assert page["id"] == beacon["p"] and via["id"] == ct_id
    assert page["session_id"] == via["session_id"]
    assert page["visitor_id"] == via["visitor_id"]
    assert page["link_id"] == link["id"]


def test_another_browser_with_the_click_id_is_attributed_but_not_joined(kit: Kit) -> None:
    link = make_link(kit)
    ct_id = click_id_of(follow(kit, f"/g/{link['code']}"))
    _land(kit, ct_id, ua=FIREFOX_UA)
    rows = {r["trigger"]: r for r in clicks(kit)}
    assert rows["pageview"]["session_id"] != rows["link"]["session_id"]
    assert rows["pageview"]["link_id"] == link["id"]


def test_a_click_id_of_another_brand_or_a_page_click_attributes_nothing(kit: Kit) -> None:
    page = kit.beacon()
    kit.collect(page)
    _land(kit, page["p"])
    assert all(r["link_id"] is None for r in clicks(kit))


def test_identify_after_the_first_beacon_reaches_the_click(kit: Kit) -> None:
    first = kit.beacon()
    kit.collect(first)
    later = {**first, "n": 0, "i": "jane-42", "e": [{"t": "identify", "ts": now_ms()}]}
    assert kit.collect(later).status_code == 204
    again = {**later, "e": [{"t": "click", "ts": now_ms()}]}  # the same id adds nothing
    kit.collect(again)
    detail = kit.api(f"/clicks/{first['p']}").json()
    assert detail["external_id"] == "jane-42"
    assert [e["type"] for e in detail["events"]].count("identify") == 1
    assert [r["id"] for r in clicks(kit, external_id="jane-42")] == [first["p"]]
    assert clicks(kit, external_id="nobody") == []


def test_a_lead_is_attributed_to_its_click_and_a_repeat_is_marked_duplicate(kit: Kit) -> None:
    link = make_link(kit)
    ct_id = click_id_of(follow(kit, f"/g/{link['code']}"))
    beacon = _land(kit, ct_id)
    first = lead(kit, beacon["p"], customerEmail="c1@example.com", metadata={"plan": "pro"})
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["duplicate"] is False
    assert body["click"] == {
        "id": beacon["p"],
        "sessionId": clicks(kit)[0]["session_id"],
        "linkId": link["id"],
    }
    assert body["customer"] == {"externalId": "cus-1", "name": None, "email": "c1@example.com"}
    again = lead(kit, beacon["p"], customerEmail="other@example.com")
    assert again.status_code == 200
    assert again.json()["duplicate"] is True and again.json()["eventId"] == body["eventId"]
    assert again.json()["customer"]["email"] == "c1@example.com"


@pytest.mark.parametrize(
    ("body", "status", "param"),
    [
        (b"", 400, None),
        (b"[1]", 422, None),
        (b'{"eventName": "x", "customerExternalId": "c"}', 422, "clickId"),
        (b'{"clickId": "CLICK", "customerExternalId": "c"}', 422, "eventName"),
        (
            _LEAD + b', "metadata": [1]}',
            422,
            "metadata",
        ),
        (
            _LEAD + b', "customerEmail": "no"}',
            422,
            "customerEmail",
        ),
        (
            _LEAD.replace(b"CLICK", b"01nosuchclick0000000000000") + b"}",
            404,
            "clickId",
        ),
    ],
)
def test_bad_leads_say_what_to_fix_and_store_nothing(
    kit: Kit, body: bytes, status: int, param: str | None
) -> None:
    page = kit.beacon()
    kit.collect(page)
    answer = write(kit, "/track/lead", body.replace(b"CLICK", page["p"].encode()))
    assert answer.status_code == status, answer.text
    error = answer.json()["error"]
    assert error["message"] and (param is None or error["param"] == param)
    assert kit.store.first_lead(kit.brand.id, "c") is None


def test_metadata_over_ten_thousand_characters_is_refused(kit: Kit) -> None:
    page = kit.beacon()
    kit.collect(page)
    answer = lead(kit, page["p"], metadata={"note": "x" * 10_000})
    assert answer.status_code == 422 and answer.json()["error"]["param"] == "metadata"


def test_conversions_need_a_write_key(kit: Kit) -> None:
    page = kit.beacon()
    kit.collect(page)
    denied = write(
        kit,
        "/track/lead",
        {"clickId": page["p"], "eventName": "x", "customerExternalId": "c"},
        kit.read_key,
    )
    assert denied.status_code == 403
    assert (
        write(
            kit, "/track/sale", {"customerExternalId": "c", "amount": 1}, kit.read_key
        ).status_code
        == 403
    )


def test_a_sale_is_attributed_through_the_lead_and_an_invoice_counts_once(kit: Kit) -> None:
    page = kit.beacon()
    kit.collect(page)
    lead(kit, page["p"])
    first = sale(kit, invoiceId="inv-1", paymentProcessor="stripe")
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["click"]["id"] == page["p"] and body["duplicate"] is False
    assert body["sale"] == {
        "amount": 4900,
        "currency": "EUR",
        "paymentProcessor": "stripe",
        "invoiceId": "inv-1",
        "type": "new",
    }
    again = sale(kit, invoiceId="inv-1", amount=1)
    assert again.json()["duplicate"] is True and again.json()["sale"]["amount"] == 4900
    assert sale(kit, invoiceId="inv-2").json()["sale"]["type"] == "recurring"
    session = kit.api(f"/clicks/session/{clicks(kit)[0]['session_id']}").json()
    assert [e["type"] for e in session["events"]].count("sale") == 2


def test_concurrent_retries_of_one_invoice_store_one_sale(kit: Kit) -> None:
    page = kit.beacon()
    kit.collect(page)
    lead(kit, page["p"])
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: sale(kit, invoiceId="inv-race"), range(16)))
    assert {a.status_code for a in answers} == {200}
    assert len({a.json()["eventId"] for a in answers}) == 1
    assert sum(not a.json()["duplicate"] for a in answers) == 1
    session = kit.api(f"/clicks/session/{clicks(kit)[0]['session_id']}").json()
    assert [e["type"] for e in session["events"]].count("sale") == 1


def test_a_sale_without_a_lead_needs_a_known_click(kit: Kit) -> None:
    unknown = sale(kit, customer="walk-in")
    assert unknown.status_code == 404
    assert unknown.json()["error"]["param"] == "customerExternalId"
    assert "clickId" in unknown.json()["error"]["message"]
    missing = sale(kit, customer="walk-in", clickId=new_id())
    assert missing.status_code == 404 and missing.json()["error"]["param"] == "clickId"
    page = kit.beacon()
    kit.collect(page)
    direct = sale(kit, customer="walk-in", clickId=page["p"])
    assert direct.status_code == 200 and direct.json()["click"]["id"] == page["p"]


@pytest.mark.parametrize(
    ("change", "param"),
    [
        ({"amount": -5}, "amount"),
        ({"amount": 1.5}, "amount"),
        ({"currency": "euro!"}, "currency"),
        ({"invoiceId": ""}, "invoiceId"),
    ],
)
def test_bad_sales_say_what_to_fix(kit: Kit, change: dict, param: str) -> None:
    page = kit.beacon()
    kit.collect(page)
    lead(kit, page["p"])
    answer = sale(kit, **change)
    assert answer.status_code == 422
    assert answer.json()["error"]["param"] == param
    assert (
        kit.api(f"/clicks/session/{clicks(kit)[0]['session_id']}").json()["events"][-1]["type"]
        == "lead"
    )


def test_the_session_shows_the_link_click_pages_lead_and_sale_in_order(kit: Kit) -> None:
    link = make_link(kit)
    ct_id = click_id_of(follow(kit, f"/g/{link['code']}"))
    beacon = _land(kit, ct_id)
    lead(kit, beacon["p"])
    sale(kit, invoiceId="inv-9")
    sid = clicks(kit)[0]["session_id"]
    session = kit.api(f"/clicks/session/{sid}").json()
    assert [e["type"] for e in session["events"]] == ["link_click", "page_view", "lead", "sale"]
    assert session["events"][0]["data"]["link_id"] == link["id"]
    assert session["replays"] == []


def _facts(item: Click | Conversion | None) -> dict[str, object]:
    assert item is not None
    return {name: getattr(item, name) for name in CLICK_FACTS}


def _stored_click(kit: Kit, click_id: str) -> Click | None:
    return kit.store.get_click(kit.brand.id, click_id)


def test_a_lead_and_its_sale_carry_the_leads_click_facts(kit: Kit) -> None:
    """Leads and sales filter by the click's dimensions on their own table: each stores a copy
    of its click's country, device, referrer, UTM and the rest; a sale through the lead copies
    the lead's click, even when it names another click."""
    page = kit.beacon(
        u="https://shop.example/offer?utm_source=mail&utm_medium=email&utm_campaign=spring",
        r="https://mail.example/inbox",
    )
    kit.collect(page, **{"x-forwarded-for": "81.2.69.160"})
    other = kit.beacon()
    kit.collect(other, **{"user-agent": FIREFOX_UA, "x-forwarded-for": "1.128.0.1"})
    assert lead(kit, page["p"]).status_code == 200
    assert sale(kit, invoiceId="inv-1", clickId=other["p"]).status_code == 200
    click = _stored_click(kit, page["p"])
    facts = _facts(click)
    assert facts["country"] == "GB" and facts["city"] == "London"
    assert facts["device_type"] == "desktop" and facts["browser"] == "Chrome"
    assert facts["referrer_host"] == "mail.example"
    assert (facts["utm_source"], facts["utm_medium"], facts["utm_campaign"]) == (
        "mail",
        "email",
        "spring",
    )
    (stored_lead, stored_sale) = kit.store.session_conversions(kit.brand.id, click.session_id)
    assert _facts(stored_lead) == facts and stored_lead.kind == "lead"
    assert _facts(stored_sale) == facts and stored_sale.kind == "sale"
    assert stored_sale.is_bot is False


def test_a_sale_without_a_lead_carries_its_own_clicks_facts(kit: Kit) -> None:
    link = make_link(kit)
    ct_id = click_id_of(follow(kit, f"/g/{link['code']}?utm_source=qr-poster", ip="1.128.0.1"))
    assert sale(kit, customer="walk-in", clickId=ct_id).status_code == 200
    click = _stored_click(kit, ct_id)
    (stored,) = kit.store.session_conversions(kit.brand.id, click.session_id)
    assert _facts(stored) == _facts(click)
    assert stored.trigger == "link" and stored.utm_source == "qr-poster"
