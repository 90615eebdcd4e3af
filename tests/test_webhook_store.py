"""WebhookStore on both engines: destinations, the delivery log, the outbox (written by
write_batch only for new rows), its cursors and pruning, and a replay's sources."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from collector.storage import open_store
from collector.storage.base import (
    BrandSettings,
    Click,
    Conversion,
    Delivery,
    OutboxItem,
    Store,
    WebhookCursor,
    WebhookDestination,
)

T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z
ALL_KINDS = ["click", "pageview", "lead", "sale"]


def new_brand(store: Store, name: str = "Acme") -> int:
    return store.create_brand(
        name, f"site-{name.lower()}", [f"{name.lower()}.example"], BrandSettings(), T0
    ).id


def destination(dest_id: str, brand_id: int, **fields: Any) -> WebhookDestination:
    fields.setdefault("url", f"https://hooks.example/{dest_id}")
    fields.setdefault("secret", "whsec_c2VjcmV0")
    fields.setdefault("public_key", f"pk_{dest_id}")
    fields.setdefault("events", list(ALL_KINDS))
    fields.setdefault("created_at", T0)
    fields.setdefault("updated_at", T0)
    return WebhookDestination(id=dest_id, brand_id=brand_id, **fields)


def click(click_id: str, brand_id: int, **fields: Any) -> Click:
    fields.setdefault("session_id", f"s-{click_id}")
    fields.setdefault("visitor_id", f"v-{click_id}")
    fields.setdefault("created_at", T0)
    return Click(id=click_id, brand_id=brand_id, **fields)


def conversion(conv_id: str, brand_id: int, kind: str = "lead", **fields: Any) -> Conversion:
    fields.setdefault("event_name", "Sign up" if kind == "lead" else "Purchase")
    fields.setdefault("customer_external_id", "cus-1")
    fields.setdefault("dedupe_key", f"key-{conv_id}")
    fields.setdefault("click_id", "c1")
    fields.setdefault("session_id", "s1")
    fields.setdefault("visitor_id", "v1")
    fields.setdefault("created_at", T0)
    return Conversion(id=conv_id, brand_id=brand_id, kind=kind, **fields)


def item(item_id: str, brand_id: int, kind: str = "pageview", **fields: Any) -> OutboxItem:
    fields.setdefault("created_at", T0)
    fields.setdefault("body", msgspec.json.encode({"id": item_id, "type": kind}))
    return OutboxItem(item_id=item_id, brand_id=brand_id, kind=kind, **fields)


def delivery(delivery_id: str, brand_id: int, dest_id: str, at: int, **fields: Any) -> Delivery:
    fields.setdefault("batch_id", f"msg_{delivery_id}")
    fields.setdefault("attempt", 1)
    fields.setdefault("items", 3)
    return Delivery(id=delivery_id, brand_id=brand_id, dest_id=dest_id, attempted_at=at, **fields)


def item_ids(items: list[OutboxItem]) -> list[str]:
    return [i.item_id for i in items]


def pending(store: Store, brand_id: int, dest_id: str = "d1", **kw: Any) -> list[str]:
    kinds = kw.pop("kinds", ALL_KINDS)
    return item_ids(store.outbox_items(brand_id, dest_id, kinds, kw.pop("after", 0), 100, **kw))


# destinations ---------------------------------------------------------------------------------


def test_a_destination_round_trips_and_updates(store):
    brand = new_brand(store)
    dest = destination("d1", brand, header_key="X-Auth", header_value="token", events=["click"])
    store.add_webhook(dest)
    assert store.get_webhook(brand, "d1") == dest
    assert store.get_webhook(brand + 1, "d1") is None
    changed = msgspec.structs.replace(
        dest,
        url="https://hooks.example/new",
        method="PUT",
        enabled=False,
        disabled_reason="the receiver answered 410 Gone",
        disabled_at=T0 + 5,
        failing_since=T0 + 1,
        events=["lead", "sale"],
        header_key=None,
        header_value=None,
        updated_at=T0 + 5,
    )
    store.update_webhook(changed)
    assert store.get_webhook(brand, "d1") == changed
    assert store.list_webhooks(brand) == [changed]


def test_updating_an_unknown_destination_raises_key_error(store):
    brand = new_brand(store)
    with pytest.raises(KeyError):
        store.update_webhook(destination("nope", brand))


def test_destinations_are_listed_per_brand_oldest_first_or_all(store):
    acme, other = new_brand(store), new_brand(store, "Other")
    store.add_webhook(destination("d2", acme, created_at=T0 + 2))
    store.add_webhook(destination("d1", acme, created_at=T0 + 1))
    store.add_webhook(destination("o1", other, created_at=T0))
    assert [d.id for d in store.list_webhooks(acme)] == ["d1", "d2"]
    assert [d.id for d in store.list_webhooks(other)] == ["o1"]
    assert sorted(d.id for d in store.list_webhooks(None)) == ["d1", "d2", "o1"]


def test_delete_removes_the_destination_its_cursor_and_addressed_items(store):
    brand = new_brand(store)
    store.add_webhook(destination("d1", brand))
    store.add_webhook(destination("d2", brand))
    store.append_outbox([item("a", brand, dest_id="d1"), item("b", brand, dest_id="d2")])
    store.append_outbox([item("fan", brand)])
    store.save_webhook_cursor(WebhookCursor(dest_id="d1", seq=0))
    assert store.delete_webhook(brand + 1, "d1") is False  # another brand's id: nothing
    assert store.delete_webhook(brand, "d1") is True
    assert store.get_webhook(brand, "d1") is None
    assert store.delete_webhook(brand, "d1") is False
    assert "d1" not in store.webhook_cursors()
    assert pending(store, brand, "d1") == ["fan"]
    assert pending(store, brand, "d2") == ["b", "fan"]
    assert [d.id for d in store.list_webhooks(brand)] == ["d2"]


# the delivery log -------------------------------------------------------------------------------


def test_deliveries_page_newest_first_per_destination(store):
    brand = new_brand(store)
    for n in range(5):
        store.add_deliveries([delivery(f"x{n}", brand, "d1", T0 + n)])
    failed = delivery(
        "f",
        brand,
        "d1",
        T0 + 10,
        kinds=["click", "lead"],
        status=None,
        error="timed out",
        attempt=2,
        next_attempt_at=T0 + 310,
        outcome="retrying",
        latency_ms=15000,
        response="",
    )
    store.add_deliveries([failed, delivery("other", brand, "d2", T0 + 20)])
    total, page = store.list_deliveries(brand, "d1", 3, 0)
    assert total == 6
    assert [d.id for d in page] == ["f", "x4", "x3"]
    assert page[0] == failed
    total, page = store.list_deliveries(brand, "d1", 3, 3)
    assert (total, [d.id for d in page]) == (6, ["x2", "x1", "x0"])
    assert store.list_deliveries(brand + 1, "d1", 10, 0) == (0, [])


# the outbox ---------------------------------------------------------------------------------


def test_write_batch_writes_items_only_for_new_clicks_and_stored_conversions(store):
    brand = new_brand(store)
    c1, c2 = click("c1", brand), click("c2", brand, trigger="link")
    lead = conversion("l1", brand, dedupe_key="cus-1:Sign up")
    store.write_batch(
        [c1, c2],
        [],
        conversions=[lead],
        outbox=[item("c1", brand), item("c2", brand, "click"), item("l1", brand, "lead")],
    )
    assert pending(store, brand) == ["c1", "c2", "l1"]
    # a click sent again, a lead deduplicated (same key, new id), one new click
    again = conversion("l2", brand, dedupe_key="cus-1:Sign up")
    store.write_batch(
        [c1, click("c3", brand)],
        [],
        conversions=[again],
        outbox=[item("c1", brand), item("c3", brand), item("l2", brand, "lead")],
    )
    assert pending(store, brand) == ["c1", "c2", "l1", "c3"]  # each item once


def test_a_click_stored_before_a_crash_still_gets_its_item_when_sent_again(store):
    """ClickHouse writes the local outbox after the rows: a collector killed in between
    answered nothing, and the beacon sent again must still leave its item (SQLite writes both
    in one transaction, so there the click and its item are never apart)."""
    brand = new_brand(store)
    store.write_batch([click("c1", brand)], [])  # the rows landed, the item did not
    store.write_batch([click("c1", brand)], [], outbox=[item("c1", brand)])
    expected = ["c1"] if store.url.startswith("chdb") else []
    assert pending(store, brand) == expected


def test_write_batch_skips_items_whose_source_is_not_in_the_batch(store):
    brand = new_brand(store)
    store.write_batch([click("c1", brand)], [], outbox=[item("c1", brand), item("zz", brand)])
    assert pending(store, brand) == ["c1"]


def test_write_batch_without_items_writes_none(store):
    brand = new_brand(store)
    store.write_batch([click("c1", brand)], [])
    assert store.outbox_end() == 0
    assert pending(store, brand) == []


def test_items_fan_out_by_kind_and_addressed_ones_go_to_their_destination(store):
    brand, other = new_brand(store), new_brand(store, "Other")
    store.append_outbox(
        [
            item("p1", brand, "pageview"),
            item("k1", brand, "click"),
            item("r1", brand, "pageview", dest_id="d2"),  # a replay of d2's
            item("s1", brand, "sale"),
            item("o1", other, "pageview"),
        ]
    )
    assert pending(store, brand, "d1", kinds=["pageview", "sale"]) == ["p1", "s1"]
    assert pending(store, brand, "d2", kinds=["click"]) == ["k1", "r1"]
    assert pending(store, other, "d1") == ["o1"]
    items = store.outbox_items(brand, "d2", ["click"], 0, 10)
    assert [i.seq for i in items] == [2, 3]
    assert items[1].dest_id == "d2"
    assert msgspec.json.decode(items[1].body) == {"id": "r1", "type": "pageview"}


def test_items_after_a_seq_through_a_seq_and_limited(store):
    brand = new_brand(store)
    assert store.append_outbox([item(f"i{n}", brand) for n in range(1, 7)]) == 6
    assert pending(store, brand, after=2) == ["i3", "i4", "i5", "i6"]
    assert pending(store, brand, after=2, through_seq=4) == ["i3", "i4"]
    assert item_ids(store.outbox_items(brand, "d1", ALL_KINDS, 0, 2)) == ["i1", "i2"]


def test_a_repeated_item_is_ignored_but_the_same_item_may_be_addressed(store):
    brand = new_brand(store)
    assert store.append_outbox([item("a", brand), item("b", brand)]) == 2
    assert store.append_outbox([item("a", brand), item("a", brand, dest_id="d1")]) == 1
    assert pending(store, brand) == ["a", "b", "a"]


def test_outbox_end_and_written_at(store):
    brand = new_brand(store)
    assert store.outbox_end() == 0
    assert store.outbox_written_at(1) is None
    store.append_outbox([item("a", brand), item("b", brand)])
    assert store.outbox_end() == 2
    written = store.outbox_written_at(2)
    assert written is not None and written > T0
    store.prune_outbox({brand: 2})
    assert store.outbox_end() == 2  # the highest ever given, pruned or not
    assert store.outbox_written_at(2) is None
    store.append_outbox([item("c", brand)])
    assert store.outbox_end() == 3


def test_cursors_are_saved_replaced_and_deleted(store):
    assert store.webhook_cursors() == {}
    first = WebhookCursor(dest_id="d1", seq=5)
    retrying = WebhookCursor(
        dest_id="d2", seq=7, batch_id="msg_x", batch_end=12, attempt=3, next_attempt_at=T0
    )
    store.save_webhook_cursor(first)
    store.save_webhook_cursor(retrying)
    assert store.webhook_cursors() == {"d1": first, "d2": retrying}
    moved = WebhookCursor(dest_id="d1", seq=9)
    store.save_webhook_cursor(moved)
    store.delete_webhook_cursor("d2")
    store.delete_webhook_cursor("unknown")
    assert store.webhook_cursors() == {"d1": moved}


def test_prune_keeps_what_a_cursor_has_not_passed(store):
    acme, other, gone = new_brand(store), new_brand(store, "Other"), new_brand(store, "Gone")
    store.append_outbox([item("a1", acme), item("a2", acme), item("o1", other)])  # 1-3
    store.append_outbox([item("g1", gone), item("a3", acme)])  # 4, 5
    store.append_outbox(
        [
            item("r1", acme, dest_id="d1"),  # 6: at or below d1's cursor -> goes
            item("r2", acme, dest_id="d1"),  # 7: after it -> stays
            item("x1", acme, dest_id="nobody"),  # 8: no cursor -> goes
        ]
    )
    store.save_webhook_cursor(WebhookCursor(dest_id="d1", seq=6))
    assert store.prune_outbox({acme: 2, other: 0}) == 5  # a1, a2, g1, r1, x1
    assert pending(store, acme) == ["a3", "r2"]
    assert pending(store, other) == ["o1"]
    assert pending(store, gone) == []
    assert store.prune_outbox({acme: 2, other: 0}) == 0


def test_items_written_by_write_batch_survive_reopening(store_url):
    first = open_store(store_url)
    try:
        brand = new_brand(first)
        first.write_batch([click("c1", brand)], [], outbox=[item("c1", brand)])
        first.save_webhook_cursor(WebhookCursor(dest_id="d1", seq=0, batch_id="msg_1"))
    finally:
        first.close()
    again = open_store(store_url)
    try:
        assert pending(again, brand) == ["c1"]
        assert again.webhook_cursors()["d1"].batch_id == "msg_1"
        assert again.outbox_end() == 1
    finally:
        again.close()


# a replay's sources ---------------------------------------------------------------------------


@pytest.fixture
def sources(store):
    """A brand with two sessions of clicks and page views, and a lead and a sale."""
    brand = new_brand(store)
    clicks = [
        click("k1", brand, trigger="link", session_id="s1", created_at=T0 + 10),
        click("p1", brand, trigger="pageview", session_id="s1", created_at=T0 + 20),
        click("q1", brand, trigger="qr", session_id="s2", created_at=T0 + 30),
        click("p2", brand, trigger="pageview", session_id="s2", created_at=T0 + 40),
        click("p3", brand, trigger="pageview", session_id="s3", created_at=T0 + 60),
    ]
    conversions = [
        conversion("l1", brand, "lead", created_at=T0 + 35),
        conversion("v1", brand, "sale", created_at=T0 + 50, customer_external_id="cus-2"),
    ]
    store.write_batch(clicks, [], conversions=conversions)
    store.write_batch([click("x1", new_brand(store, "Other"), created_at=T0 + 15)], [])
    return store, brand


def test_sources_of_every_kind_oldest_first_with_session_openers(sources):
    store, brand = sources
    clicks, conversions, openers = store.webhook_sources(brand, T0, T0 + 100, ALL_KINDS, 100)
    assert [c.id for c in clicks] == ["k1", "p1", "q1", "p2", "p3"]
    assert [c.id for c in conversions] == ["l1", "v1"]
    assert openers == {"k1", "q1", "p3"}


def test_sources_by_kind(sources):
    store, brand = sources
    clicks, conversions, _ = store.webhook_sources(brand, T0, T0 + 100, ["click"], 100)
    assert ([c.id for c in clicks], conversions) == (["k1", "q1"], [])
    clicks, conversions, openers = store.webhook_sources(
        brand, T0, T0 + 100, ["pageview", "sale"], 100
    )
    assert [c.id for c in clicks] == ["p1", "p2", "p3"]
    assert [c.id for c in conversions] == ["v1"]
    assert openers == {"p3"}  # p1 and p2 follow a link's or a QR code's click


def test_sources_of_a_range_inclusive(sources):
    store, brand = sources
    clicks, conversions, _ = store.webhook_sources(brand, T0 + 20, T0 + 40, ALL_KINDS, 100)
    assert [c.id for c in clicks] == ["p1", "q1", "p2"]
    assert [c.id for c in conversions] == ["l1"]


def test_sources_are_limited_to_one_more_than_asked_in_all(sources):
    store, brand = sources
    clicks, conversions, _ = store.webhook_sources(brand, T0, T0 + 100, ALL_KINDS, 3)
    assert [c.id for c in clicks] == ["k1", "p1", "q1"]
    assert [c.id for c in conversions] == ["l1"]  # the 4th: there are more
    clicks, conversions, _ = store.webhook_sources(brand, T0, T0 + 100, ALL_KINDS, 0)
    assert ([c.id for c in clicks], conversions) == (["k1"], [])
