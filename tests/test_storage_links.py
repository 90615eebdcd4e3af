"""Short links and conversions in storage (``LinkStore`` and ``ConversionStore`` of
collector/storage/base.py, and write_batch's conversion rules), run against every engine:
SQLite and ClickHouse (embedded chDB). Fixtures: tests/storage_fixtures.py."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from collector.storage import open_store, sqlite_path
from collector.storage.base import (
    BrandSettings,
    Click,
    Conversion,
    Event,
    LinkQuery,
    ShortLink,
    Store,
)
from collector.storage.clickhouse import ClickHouseStore
from collector.storage.clickhouse import clicks as clickhouse_clicks
from collector.storage.clickhouse import connection as clickhouse_connection
from collector.storage.clickhouse import conversions as clickhouse_conversions
from collector.storage.clickhouse import links as clickhouse_links
from collector.storage.clickhouse import schema as clickhouse_schema
from collector.storage.columns import columns
from collector.storage.model import CLICK_FACTS, NETWORK_FACTS
from collector.storage.sqlite import SQLiteStore
from collector.storage.sqlite import clicks as sqlite_clicks
from collector.storage.sqlite import connection as sqlite_connection
from collector.storage.sqlite import conversions as sqlite_conversions
from collector.storage.sqlite import links as sqlite_links
from collector.storage.sqlite import schema as sqlite_schema

T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z


def new_brand(store: Store, name: str = "Acme") -> int:
    brand = store.create_brand(
        name, f"site-{name.lower()}", [f"{name.lower()}.example"], BrandSettings(), T0
    )
    return brand.id


def link(id: str, brand_id: int, code: str, **fields: Any) -> ShortLink:
    fields.setdefault("domain", "")
    fields.setdefault("destination_url", f"https://shop.example/{code}")
    fields.setdefault("base_url", "https://collector.example")
    fields.setdefault("created_at", T0)
    fields.setdefault("updated_at", fields["created_at"])
    return ShortLink(id=id, brand_id=brand_id, code=code, **fields)


def added(store: Store, *links: ShortLink) -> list[ShortLink]:
    for one in links:
        assert store.add_link(one, unique_everywhere=False)
    return list(links)


def link_click(id: str, brand_id: int, link_id: str | None, trigger: str = "link") -> Click:
    return Click(
        id=id,
        brand_id=brand_id,
        session_id=f"s-{id}",
        visitor_id=f"v-{id}",
        created_at=T0,
        trigger=trigger,
        link_id=link_id,
    )


def conversion(id: str, brand_id: int, kind: str = "lead", **fields: Any) -> Conversion:
    fields.setdefault("event_name", "Sign up" if kind == "lead" else "Purchase")
    fields.setdefault("customer_external_id", "cus-1")
    fields.setdefault(
        "dedupe_key",
        f"{fields['customer_external_id']}:{fields['event_name']}" if kind == "lead" else id,
    )
    fields.setdefault("click_id", "c1")
    fields.setdefault("session_id", "s1")
    fields.setdefault("visitor_id", "v1")
    fields.setdefault("created_at", T0)
    if kind == "sale":
        fields.setdefault("amount", 1999)
        fields.setdefault("currency", "EUR")
    return Conversion(id=id, brand_id=brand_id, kind=kind, **fields)


# A click's facts as a conversion copies them (every CLICK_FACTS field, none at its default).
FACTS: dict[str, Any] = {
    "trigger": "link",
    "url": "https://shop.example/offer?utm_source=mail",
    "country": "GB",
    "region": "ENG",
    "city": "London",
    "continent": "EU",
    "device_type": "mobile",
    "browser": "Chrome Mobile",
    "os": "Android",
    "referrer": "https://mail.example/inbox",
    "referrer_host": "mail.example",
    "utm_source": "mail",
    "utm_medium": "email",
    "utm_campaign": "spring",
    "utm_term": "shoes",
    "utm_content": "hero",
    "is_bot": True,
}


def listed(store: Store, brand_id: int, **query: Any) -> tuple[int, list[str]]:
    total, rows = store.list_links(brand_id, LinkQuery(**query))
    return total, [r.id for r in rows]


def sale_types(store: Store, brand_id: int, session_id: str = "s1") -> list[tuple[str, str]]:
    found = store.session_conversions(brand_id, session_id)
    return [(c.id, c.sale_type or "") for c in found if c.kind == "sale"]


# --- links -------------------------------------------------------------------------------------


def test_a_link_round_trips_every_field_and_is_found_by_id_and_code(store):
    a = new_brand(store)
    full = link(
        "lnk1",
        a,
        "Ab3dE7x",
        domain="go.acme.example",
        destination_url="https://shop.example/spring?x=ü",
        base_url="https://go.acme.example",
        tags=["spring", "ünïcode"],
        folder="campaigns",
        external_id="ext-1",
        tenant_id="tenant-1",
        group_id="grp-1",
        partner_id="partner-1",
        expires_at=T0 + 86_400_000,
        created_at=T0 + 5,
        updated_at=T0 + 6,
    )
    assert store.add_link(full, unique_everywhere=True)
    assert store.get_link(a, "lnk1") == full
    assert store.links_by_code("Ab3dE7x") == [full]
    assert store.links_by_code("ab3de7x") == []  # codes are case-sensitive
    assert store.get_link(a, "nope") is None


def test_a_link_is_only_found_by_id_within_its_brand(store):
    a, b = new_brand(store, "A"), new_brand(store, "B")
    added(store, link("lnk1", a, "abc1234"))
    assert store.get_link(b, "lnk1") is None
    assert listed(store, b) == (0, [])


def test_add_link_refuses_a_code_taken_on_its_domain_but_not_on_another(store):
    a, b = new_brand(store, "A"), new_brand(store, "B")
    assert store.add_link(link("l1", a, "spring", domain=""), unique_everywhere=False)
    # the same (domain, code), whatever the brand: refused, nothing stored
    assert not store.add_link(link("l2", b, "spring", domain=""), unique_everywhere=False)
    assert store.get_link(b, "l2") is None
    # another domain may have the code
    assert store.add_link(link("l3", b, "spring", domain="go.b.example"), unique_everywhere=False)
    assert sorted(x.id for x in store.links_by_code("spring")) == ["l1", "l3"]


def test_add_link_unique_everywhere_refuses_a_code_of_any_domain(store):
    a = new_brand(store)
    added(store, link("l1", a, "Xy7Kq2p", domain="go.a.example"))
    assert not store.add_link(link("l2", a, "Xy7Kq2p", domain=""), unique_everywhere=True)
    assert not store.add_link(link("l3", a, "Xy7Kq2p", domain="x.example"), unique_everywhere=True)
    assert store.add_link(link("l4", a, "Zz9Kq2p", domain=""), unique_everywhere=True)
    assert [x.id for x in store.links_by_code("Xy7Kq2p")] == ["l1"]


def test_save_link_replaces_the_stored_version(store):
    a = new_brand(store)
    (original,) = added(store, link("l1", a, "abc1234", tags=["old"], folder="f1"))
    updated = msgspec.structs.replace(
        original,
        destination_url="https://shop.example/new",
        tags=["new", "two"],
        folder=None,
        expires_at=T0 + 1000,
        updated_at=T0 + 1,
    )
    store.save_link(updated)
    assert store.get_link(a, "l1") == updated
    assert store.links_by_code("abc1234") == [updated]
    assert listed(store, a) == (1, ["l1"])
    assert listed(store, a, folder="f1") == (0, [])
    assert listed(store, a, tag="two") == (1, ["l1"])


def test_save_link_in_the_same_millisecond_still_replaces(store):
    a = new_brand(store)
    (original,) = added(store, link("l1", a, "abc1234"))
    first = msgspec.structs.replace(original, destination_url="https://shop.example/1")
    second = msgspec.structs.replace(original, destination_url="https://shop.example/2")
    store.save_link(first)
    store.save_link(second)
    assert store.get_link(a, "l1") == second


def test_a_deleted_link_keeps_its_code_and_only_links_by_code_shows_it(store):
    a = new_brand(store)
    (original,) = added(store, link("l1", a, "gone123"), link("l2", a, "kept123"))[:1]
    deleted = msgspec.structs.replace(original, deleted=True, updated_at=T0 + 1)
    store.save_link(deleted)
    assert store.get_link(a, "l1") is None
    assert listed(store, a) == (1, ["l2"])
    assert store.links_by_code("gone123") == [deleted]
    # its code is never handed out again, on its domain or anywhere
    assert not store.add_link(link("l3", a, "gone123"), unique_everywhere=False)
    assert not store.add_link(link("l4", a, "gone123", domain="go.x"), unique_everywhere=True)


def test_list_links_is_newest_first_and_pages_with_the_total(store):
    a = new_brand(store)
    # l0..l5 created a second apart; l6 shares l5's time (ties: id descending)
    added(store, *(link(f"l{n}", a, f"code{n:03d}", created_at=T0 + n * 1000) for n in range(6)))
    added(store, link("l6", a, "code006", created_at=T0 + 5000))
    assert listed(store, a) == (7, ["l6", "l5", "l4", "l3", "l2", "l1", "l0"])
    assert listed(store, a, limit=3) == (7, ["l6", "l5", "l4"])
    assert listed(store, a, limit=3, offset=3) == (7, ["l3", "l2", "l1"])
    assert listed(store, a, limit=3, offset=6) == (7, ["l0"])
    assert listed(store, a, limit=3, offset=9) == (7, [])


def test_list_links_filters_by_tag_folder_tenant_external_group_partner_and_search(store):
    a = new_brand(store)
    added(
        store,
        link("l1", a, "Spring1", tags=["spring", "sale"], folder="promo", tenant_id="t1"),
        link("l2", a, "summer2", tags=["summer"], folder="promo", external_id="e2", group_id="g"),
        link("l3", a, "winter3", tags=[], tenant_id="t1", destination_url="https://x.example/Sale"),
        link(
            "l4",
            a,
            "autumn4",
            tags=["spring-sale"],
            external_id="e4",
            partner_id="p",
            created_at=T0 + 1,
        ),
    )
    assert listed(store, a, tag="spring") == (1, ["l1"])  # a whole tag, not a part of one
    assert listed(store, a, tag="sale") == (1, ["l1"])
    assert listed(store, a, tag="nope") == (0, [])
    assert listed(store, a, folder="promo") == (2, ["l2", "l1"])
    assert listed(store, a, tenant_id="t1") == (2, ["l3", "l1"])
    assert listed(store, a, external_id="e4") == (1, ["l4"])
    assert listed(store, a, group_id="g") == (1, ["l2"])
    assert listed(store, a, partner_id="p") == (1, ["l4"])
    assert listed(store, a, group_id="p") == (0, [])
    assert listed(store, a, search="SPRING") == (1, ["l1"])  # the code, any case
    assert listed(store, a, search="sale") == (1, ["l3"])  # the destination, not the tags
    assert listed(store, a, search="mer2") == (1, ["l2"])
    assert listed(store, a, folder="promo", tenant_id="t1") == (1, ["l1"])
    assert listed(store, a, tag="spring", folder="other") == (0, [])


def test_link_tags_that_are_not_a_list_read_as_empty(store):
    a = new_brand(store)
    added(store, link("l1", a, "abc1234", tags={"not": "a list"}))
    assert store.get_link(a, "l1").tags == []


def test_link_clicks_counts_link_and_qr_clicks_but_not_page_views(store):
    a, b = new_brand(store, "A"), new_brand(store, "B")
    clicks = [
        link_click("c1", a, "l1"),
        link_click("c2", a, "l1"),
        link_click("c3", a, "l1", trigger="qr"),
        link_click("c4", a, "l1", trigger="pageview"),  # a page view attributed to the link
        link_click("c5", a, "l2", trigger="qr"),
        link_click("c6", a, None),
        link_click("c7", b, "l1"),  # another brand's click (ids are per brand)
    ]
    store.write_batch(clicks, [])
    store.write_batch(clicks[:3], [])  # a retried batch counts once
    assert store.link_clicks(a, ["l1", "l2", "l3"]) == {"l1": (3, 1), "l2": (1, 1)}
    assert store.link_clicks(a, ["l2"]) == {"l2": (1, 1)}
    assert store.link_clicks(a, []) == {}
    assert store.link_clicks(b, ["l1"]) == {"l1": (1, 0)}


def test_link_misses_add_up_per_brand_and_code_most_requested_first(store):
    a, b = new_brand(store, "A"), new_brand(store, "B")
    store.count_link_misses({(a, "nope"): 2, (a, "typo"): 1, (0, "nope"): 5}, T0)
    store.count_link_misses({(a, "typo"): 3, (a, "old"): 2}, T0 + 10)
    store.count_link_misses({(a, "nope"): 1}, T0 + 5)
    store.count_link_misses({}, T0 + 99)
    assert store.link_misses(a, 10) == [
        ("typo", 4, T0 + 10),
        ("nope", 3, T0 + 5),
        ("old", 2, T0 + 10),
    ]
    assert store.link_misses(a, 2) == [("typo", 4, T0 + 10), ("nope", 3, T0 + 5)]
    assert store.link_misses(0, 10) == [("nope", 5, T0)]
    assert store.link_misses(b, 10) == []


def test_link_misses_keep_the_latest_request_time_when_counts_arrive_late(store):
    a = new_brand(store)
    store.count_link_misses({(a, "nope"): 1}, T0 + 50)
    store.count_link_misses({(a, "nope"): 1}, T0 + 10)  # a slower process's older count
    assert store.link_misses(a, 10) == [("nope", 2, T0 + 50)]


def test_link_misses_ties_are_ordered_by_code(store):
    a = new_brand(store)
    store.count_link_misses({(a, "zz"): 1, (a, "aa"): 1, (a, "mm"): 1}, T0)
    assert [code for code, _, _ in store.link_misses(a, 10)] == ["aa", "mm", "zz"]


# --- conversions -------------------------------------------------------------------------------


def test_a_conversion_round_trips_every_field(store):
    a = new_brand(store)
    sale = conversion(
        "cv1",
        a,
        "sale",
        dedupe_key="inv-1",
        link_id="l1",
        customer_name="Ada",
        customer_email="ada@example.com",
        payment_processor="stripe",
        invoice_id="inv-1",
        metadata={"plan": "pro", "seats": 3, "nested": {"ü": [1, 2]}},
        created_at=T0 + 7,
        **FACTS,
    )
    store.write_batch([], [], conversions=[sale])
    stored = msgspec.structs.replace(sale, sale_type="new")
    assert store.conversion_by_key(a, "inv-1") == stored
    assert store.conversion_by_key(a, "inv-1").is_bot is True  # a bool, not 1
    assert store.session_conversions(a, "s1") == [stored]
    assert store.conversion_by_key(a, "inv-2") is None


def test_a_repeated_dedupe_key_keeps_the_first_conversion(store):
    a = new_brand(store)
    first = conversion("cv1", a, dedupe_key="cus-1:Sign up", created_at=T0 + 10)
    store.write_batch([], [], conversions=[first])
    later = conversion("cv2", a, dedupe_key="cus-1:Sign up", created_at=T0 + 20)
    earlier_clock = conversion("cv3", a, dedupe_key="cus-1:Sign up", created_at=T0)
    store.write_batch([], [], conversions=[later])
    store.write_batch([], [], conversions=[earlier_clock])  # stored later, whatever its time
    assert store.conversion_by_key(a, "cus-1:Sign up").id == "cv1"
    assert [c.id for c in store.session_conversions(a, "s1")] == ["cv1"]


def test_a_repeated_dedupe_key_within_one_batch_keeps_the_first(store):
    a = new_brand(store)
    batch = [
        conversion("cv1", a, "sale", dedupe_key="inv-1", created_at=T0 + 10),
        conversion("cv2", a, "sale", dedupe_key="inv-1", created_at=T0, amount=5),
        conversion("cv3", a, "sale", dedupe_key="inv-2", created_at=T0 + 20),
    ]
    store.write_batch([], [], conversions=batch)
    assert store.conversion_by_key(a, "inv-1").id == "cv1"
    assert store.conversion_by_key(a, "inv-1").amount == 1999
    assert sale_types(store, a) == [("cv1", "new"), ("cv3", "recurring")]


def test_dedupe_keys_are_per_brand(store):
    a, b = new_brand(store, "A"), new_brand(store, "B")
    store.write_batch(
        [],
        [],
        conversions=[conversion("cv1", a, dedupe_key="k"), conversion("cv2", b, dedupe_key="k")],
    )
    assert store.conversion_by_key(a, "k").id == "cv1"
    assert store.conversion_by_key(b, "k").id == "cv2"


def test_sale_type_is_new_for_a_customers_first_sale_then_recurring(store):
    a, b = new_brand(store, "A"), new_brand(store, "B")
    # a lead is no sale; two sales of one customer in one batch: new, then recurring
    store.write_batch(
        [],
        [],
        conversions=[
            conversion("lead1", a, "lead", customer_external_id="ada"),
            conversion("s1", a, "sale", customer_external_id="ada", created_at=T0 + 1),
            conversion("s2", a, "sale", customer_external_id="ada", created_at=T0 + 2),
            conversion("s3", a, "sale", customer_external_id="bob", created_at=T0 + 3),
        ],
    )
    # later batches: recurring for known customers, new for another brand's same customer id
    store.write_batch(
        [],
        [],
        conversions=[conversion("s4", a, "sale", customer_external_id="bob", created_at=T0 + 4)],
    )
    store.write_batch(
        [],
        [],
        conversions=[conversion("s5", b, "sale", customer_external_id="ada", created_at=T0 + 5)],
    )
    assert sale_types(store, a) == [
        ("s1", "new"),
        ("s2", "recurring"),
        ("s3", "new"),
        ("s4", "recurring"),
    ]
    assert sale_types(store, b) == [("s5", "new")]
    assert store.conversion_by_key(a, "ada:Sign up").sale_type is None  # leads have none


def test_a_skipped_duplicate_sale_does_not_make_the_first_sale_recurring(store):
    a = new_brand(store)
    store.write_batch([], [], conversions=[conversion("s1", a, "sale", dedupe_key="inv-1")])
    store.write_batch([], [], conversions=[conversion("s1b", a, "sale", dedupe_key="inv-1")])
    assert sale_types(store, a) == [("s1", "new")]


def test_first_lead_is_the_customers_earliest_lead(store):
    a = new_brand(store)
    store.write_batch(
        [],
        [],
        conversions=[
            conversion("late", a, "lead", event_name="Demo", created_at=T0 + 20),
            conversion("sale", a, "sale", created_at=T0),
            conversion("early", a, "lead", event_name="Sign up", created_at=T0 + 10),
            conversion("other", a, "lead", customer_external_id="bob", created_at=T0 + 5),
        ],
    )
    assert store.first_lead(a, "cus-1").id == "early"
    assert store.first_lead(a, "bob").id == "other"
    assert store.first_lead(a, "nobody") is None
    assert store.first_lead(new_brand(store, "B"), "cus-1") is None


def test_session_conversions_are_the_sessions_leads_and_sales_by_time(store):
    a = new_brand(store)
    store.write_batch(
        [],
        [],
        conversions=[
            conversion("c3", a, "sale", created_at=T0 + 30),
            conversion("c1", a, "lead", created_at=T0 + 10),
            conversion("elsewhere", a, "sale", session_id="s2", created_at=T0 + 15),
            conversion("c2", a, "sale", created_at=T0 + 20),
            conversion("c2b", a, "sale", created_at=T0 + 20),  # same time: by id
        ],
    )
    assert [c.id for c in store.session_conversions(a, "s1")] == ["c1", "c2", "c2b", "c3"]
    assert [c.id for c in store.session_conversions(a, "s2")] == ["elsewhere"]
    assert store.session_conversions(a, "s3") == []


def test_a_retried_batch_stores_its_clicks_and_conversions_once(store):
    a = new_brand(store)
    batch_clicks = [link_click("c1", a, "l1")]
    batch_conversions = [conversion("cv1", a, "sale", dedupe_key="inv-1", click_id="c1")]
    store.write_batch(batch_clicks, [], conversions=batch_conversions)
    store.write_batch(batch_clicks, [], conversions=batch_conversions)
    assert store.link_clicks(a, ["l1"]) == {"l1": (1, 0)}
    assert sale_types(store, a) == [("cv1", "new")]


def test_a_batch_of_conversions_alone_is_stored_and_an_empty_one_is_fine(store):
    a = new_brand(store)
    store.write_batch([], [], conversions=[])
    store.write_batch([], [], None, [conversion("cv1", a)])
    assert store.first_lead(a, "cus-1").id == "cv1"


# --- ClickHouse without unique keys ------------------------------------------------------------


def clickhouse_only(store: Store) -> ClickHouseStore:
    if not isinstance(store, ClickHouseStore):
        pytest.skip("SQLite has unique keys; this checks ClickHouse's stand-ins for them")
    return store


def test_clickhouse_reads_count_a_twin_conversion_from_another_collector_once(store):
    """Two collectors storing the same new key at once: both rows are stored, reads show the
    earliest (by created_at, id) everywhere."""
    ch = clickhouse_only(store)
    from collector.storage.clickhouse.conversions import CONVERSION_ROWS

    a = new_brand(store)
    first = conversion("cv1", a, "sale", dedupe_key="inv-1", sale_type="new", created_at=T0)
    twin = conversion("cv2", a, "sale", dedupe_key="inv-1", sale_type="new", created_at=T0 + 1)
    moved = conversion("cv0", a, "lead", dedupe_key="lead-1", session_id="s2", created_at=T0)
    moved_twin = conversion("cv9", a, "lead", dedupe_key="lead-1", created_at=T0 + 2)
    for row in (twin, first, moved, moved_twin):  # separate inserts, as two processes would
        ch._insert("conversions", CONVERSION_ROWS.names, [CONVERSION_ROWS.row(row)])
    assert store.conversion_by_key(a, "inv-1") == first
    # s1 holds cv2 (a twin of cv1) and cv9 (a twin of cv0, which is in s2): only cv1 is shown
    assert [c.id for c in store.session_conversions(a, "s1")] == ["cv1"]
    assert [c.id for c in store.session_conversions(a, "s2")] == ["cv0"]
    assert store.first_lead(a, "cus-1").id == "cv0"


def test_clickhouse_a_newer_link_version_wins_before_parts_are_merged(store):
    ch = clickhouse_only(store)
    a = new_brand(store)
    ch._command("SYSTEM STOP MERGES {db}.links")
    try:
        (original,) = added(store, link("l1", a, "abc1234"))
        store.save_link(msgspec.structs.replace(original, folder="f", updated_at=T0 + 1))
        store.save_link(msgspec.structs.replace(original, deleted=True, updated_at=T0 + 2))
        parts = ch._rows(
            "SELECT count() FROM system.parts WHERE database = {db:String}"
            " AND table = 'links' AND active",
            {"db": ch.database},
        )
        assert parts[0][0] == 3
        assert store.get_link(a, "l1") is None
        assert listed(store, a) == (0, [])
        assert listed(store, a, folder="f") == (0, [])
        assert [x.updated_at for x in store.links_by_code("abc1234")] == [T0 + 2]
    finally:
        ch._command("SYSTEM START MERGES {db}.links")


# --- schema ------------------------------------------------------------------------------------


def test_both_engines_number_their_migrations_alike():
    """A migration number means the same change on both engines (a database reports it)."""
    assert sqlite_schema.SCHEMA_VERSION == clickhouse_schema.SCHEMA_VERSION
    for number, (lite, house) in enumerate(
        zip(sqlite_schema.MIGRATIONS, clickhouse_schema.MIGRATIONS, strict=True), start=1
    ):
        if isinstance(lite, sqlite_schema.AddColumns) or isinstance(
            house, clickhouse_schema.AddColumns
        ):
            assert (getattr(lite, "table", None), getattr(lite, "names", None)) == (
                getattr(house, "table", None),
                getattr(house, "names", None),
            ), f"migration {number}"


def _unmigrated(url: str) -> Any:
    if url.startswith("sqlite:"):
        return SQLiteStore(sqlite_path(url), url=url)
    return ClickHouseStore.from_url(url)


def test_a_schema_3_database_upgrades_and_its_clicks_read_with_the_new_fields(
    store_url, monkeypatch
):
    old = _unmigrated(store_url)
    engine = sqlite_connection if isinstance(old, SQLiteStore) else clickhouse_connection
    monkeypatch.setattr(engine, "SCHEMA_VERSION", 3)
    try:
        old.migrate()
        assert old.schema_version() == 3
        a = old.create_brand("Old", "site-old", [], BrandSettings(), T0)
        columns = ("id", "brand_id", "session_id", "visitor_id", "created_at", "referrer_type")
        row = ("old1", a.id, "s-old", "v-old", T0, "direct")
        if isinstance(old, SQLiteStore):
            with old._write() as conn:
                conn.execute(
                    f"INSERT INTO clicks ({', '.join(columns)}) VALUES (?, ?, ?, ?, ?, ?)", row
                )
        else:
            old._insert("clicks", columns, [row])
    finally:
        old.close()
    monkeypatch.undo()
    store = open_store(store_url)
    try:
        assert store.schema_version() == sqlite_schema.SCHEMA_VERSION
        got = store.get_click(a.id, "old1")
        assert (got.link_id, got.is_repeat) == (None, False)
        new = link_click("new1", a.id, "l1")
        view = Event(
            brand_id=a.id, click_id="new1", session_id=new.session_id, type="view", timestamp=T0
        )
        store.write_batch([new], [view])
        assert store.link_clicks(a.id, ["l1"]) == {"l1": (1, 0)}
        assert store.add_link(link("l1", a.id, "abc1234"), unique_everywhere=True)
    finally:
        store.close()


def test_a_conversions_click_facts_are_declared_as_on_the_click_and_last():
    """A conversion's copy of its click's facts: the same columns (name, kind, nullability,
    default) as the click's, after the conversion's own (the order migration 7 added them in)."""
    of_click = {c.name: c for c in columns(Click)}
    of_conversion = columns(Conversion)
    assert of_conversion[-len(CLICK_FACTS) :] == tuple(of_click[name] for name in CLICK_FACTS)
    assert set(FACTS) == set(CLICK_FACTS)


def _insert_as_schema_6(store: Any, table: str, row_of: Any, added: int, item: Any) -> None:
    """Store ``item`` as a schema-6 database would: without its last ``added`` columns."""
    kept = len(row_of.names) - added
    names, row = row_of.names[:kept], row_of.row(item)[:kept]
    if isinstance(store, SQLiteStore):
        with store._write() as conn:
            conn.execute(
                f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
                row,
            )
    else:
        store._insert(table, names, [row])


def test_a_schema_6_database_upgrades_its_conversions_and_links(store_url, monkeypatch):
    """Migrations 7 and 8 over stored rows: on SQLite an old conversion takes its click's facts
    (one whose click is gone keeps the defaults); on ClickHouse both keep the defaults (no
    backfill). Old links have no group or partner."""
    old = _unmigrated(store_url)
    lite = isinstance(old, SQLiteStore)
    engine = sqlite_connection if lite else clickhouse_connection
    conversion_rows = (sqlite_conversions if lite else clickhouse_conversions).CONVERSION_ROWS
    link_rows = (sqlite_links if lite else clickhouse_links).LINK_ROWS
    click_rows = (sqlite_clicks if lite else clickhouse_clicks).CLICK_ROWS
    monkeypatch.setattr(engine, "SCHEMA_VERSION", 6)
    try:
        old.migrate()
        a = old.create_brand("Old", "site-old", [], BrandSettings(), T0).id
        # raw rows: today's write_batch also fills tables a schema-6 file does not have yet
        click = msgspec.structs.replace(link_click("c1", a, "l1"), **FACTS)
        # the columns of migration 13 (issue 14) and of issue 17's bot_reason came after
        _insert_as_schema_6(old, "clicks", click_rows, len(NETWORK_FACTS) + 1, click)
        stored = conversion("cv1", a, click_id="c1")
        orphan = conversion("cv2", a, "sale", click_id="gone")
        for item in (stored, orphan):
            _insert_as_schema_6(old, "conversions", conversion_rows, len(CLICK_FACTS), item)
        _insert_as_schema_6(old, "links", link_rows, 2, link("l1", a, "abc1234"))
    finally:
        old.close()
    monkeypatch.undo()
    store = open_store(store_url)
    try:
        assert store.schema_version() == sqlite_schema.SCHEMA_VERSION
        defaults = {c.name: c.default for c in columns(Conversion) if c.name in CLICK_FACTS}
        found = [store.conversion_by_key(a, key) for key in (stored.dedupe_key, "cv2")]
        facts = {c.id: {name: getattr(c, name) for name in CLICK_FACTS} for c in found if c}
        assert facts == {"cv1": FACTS if lite else defaults, "cv2": defaults}
        assert store.get_link(a, "l1") == link("l1", a, "abc1234")  # group and partner None
    finally:
        store.close()
