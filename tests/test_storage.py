"""The storage contract (collector/storage/base.py), run against every engine: SQLite and
ClickHouse (embedded chDB). Fixtures ``store``, ``store_url``, ``chdb_path``:
tests/storage_fixtures.py (registered in conftest.py)."""

from __future__ import annotations

import random
import threading
from pathlib import Path

import msgspec
import pytest
import sqlite_utils

from collector.enrich.clickdata import StoredClick
from collector.storage import open_store
from collector.storage.base import (
    SORT_COLUMNS,
    ApiKey,
    BrandSettings,
    Click,
    ClickQuery,
    Event,
    Store,
)
from collector.storage.clickhouse import ClickHouseStore
from collector.storage.clickhouse import schema as clickhouse_schema
from collector.storage.columns import columns
from collector.storage.rows import EVENT_ROWS
from collector.storage.sqlite import SQLiteStore
from collector.storage.sqlite import schema as sqlite_schema

DAY = 86_400_000
T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z


def click(id: str, brand_id: int, **fields) -> Click:
    fields.setdefault("session_id", f"s-{id}")
    fields.setdefault("visitor_id", f"v-{id}")
    fields.setdefault("created_at", T0)
    return Click(id=id, brand_id=brand_id, **fields)


def event(click: Click, type: str, timestamp: int, seq: int = 0, **fields) -> Event:
    return Event(
        brand_id=click.brand_id,
        click_id=click.id,
        session_id=click.session_id,
        type=type,
        timestamp=timestamp,
        seq=seq,
        **fields,
    )


def ids(clicks: list[Click]) -> list[str]:
    return [c.id for c in clicks]


def listed(store: Store, brand_id: int, **query) -> tuple[int, list[str]]:
    total, rows = store.list_clicks(brand_id, ClickQuery(**query))
    return total, ids(rows)


def new_brand(store: Store, name: str = "Acme", **settings) -> int:
    brand = store.create_brand(
        name, f"site-{name.lower()}", [f"{name.lower()}.example"], BrandSettings(**settings), T0
    )
    return brand.id


FULL_CLICK = Click(
    id="01full",
    brand_id=0,  # replaced per test
    session_id="sess-full",
    visitor_id="vis-full",
    created_at=T0 + 123,
    trigger="link",
    ip_address="81.2.69.160",
    url="https://shop.example/p?utm_source=x",
    domain_id=7,
    funnel_id=42,
    sub1="s1",
    sub2="s2",
    sub3="s3",
    sub4="s4",
    sub5="s5",
    affiliate="aff",
    external_id="ext",
    utm_source="news",
    utm_medium="email",
    utm_campaign="spring",
    utm_term="shoes",
    utm_content="hero",
    ad_click_id="gclid-1",
    ad_network="google",
    query={"utm_source": "x", "ünïcode": "välue"},
    referrer="https://www.google.com/search?q=x",
    referrer_host="www.google.com",
    referrer_type="search",
    referrer_name="Google",
    country="GB",
    region="ENG",
    city="London",
    zip="EC1",
    lat=51.5142,
    lon=-0.0931,
    time_zone="Europe/London",
    continent="EU",
    asn=12345,
    isp="Example ISP",
    device_type="desktop",
    device_brand="Apple",
    device_model="Mac",
    os="macOS",
    os_version="14.4",
    browser="Chrome",
    browser_version="124.0",
    user_agent="Mozilla/5.0",
    language="en-GB",
    viewport_width=1440,
    viewport_height=900,
    is_bot=True,
)


# --- brands, keys, domains ---------------------------------------------------------------------


def test_brand_round_trips_and_is_found_by_id_and_site_key(store):
    settings = BrandSettings(replay_sample_rate=0.25, ip_mode="truncated", short_domain="go.ex")
    brand = store.create_brand(
        "Acme", "site-key-1", ["acme.example", "www.acme.example"], settings, T0
    )
    assert brand.id > 0
    assert brand.name == "Acme" and brand.created_at == T0
    assert store.get_brand(brand.id) == brand
    assert store.brand_by_site_key("site-key-1") == brand
    assert store.get_brand(brand.id + 1000) is None
    assert store.brand_by_site_key("nope") is None


def test_brands_get_distinct_ids_and_are_listed_in_id_order(store):
    a = new_brand(store, "A")
    b = new_brand(store, "B")
    c = new_brand(store, "C")
    assert len({a, b, c}) == 3
    assert [x.id for x in store.list_brands()] == sorted([a, b, c])
    assert [x.name for x in store.list_brands()] == ["A", "B", "C"]


def test_a_taken_site_key_or_api_key_id_is_refused(store):
    brand_id = new_brand(store, "A")
    with pytest.raises(ValueError):
        store.create_brand("Other", "site-a", [], BrandSettings(), T0)
    key = ApiKey(id="ak_1", brand_id=brand_id, scope="read", key_hash="00" * 32, created_at=T0)
    store.add_api_key(key)
    with pytest.raises(ValueError):
        store.add_api_key(msgspec.structs.replace(key, scope="admin"))
    assert store.api_key_by_id("ak_1") == key
    assert [b.name for b in store.list_brands()] == ["A"]


def test_update_brand_replaces_name_domains_and_settings(store):
    brand_id = new_brand(store)
    brand = store.get_brand(brand_id)
    changed = msgspec.structs.replace(
        brand,
        name="Acme Ltd",
        domains=["new.example"],
        settings=BrandSettings(cookieless=True, retention_days=30),
    )
    store.update_brand(changed)
    assert store.get_brand(brand_id) == changed
    assert store.brand_by_site_key(brand.site_key) == changed
    assert [b.name for b in store.list_brands()] == ["Acme Ltd"]
    store.update_brand(msgspec.structs.replace(changed, name="Again"))
    assert store.get_brand(brand_id).name == "Again"


def test_update_of_an_unknown_brand_raises_key_error(store):
    new_brand(store)
    with pytest.raises(KeyError):
        store.update_brand(msgspec.structs.replace(store.list_brands()[0], id=999))


def test_api_key_is_found_by_id(store):
    brand_id = new_brand(store)
    key = ApiKey(id="ak_123", brand_id=brand_id, scope="write", key_hash="ab" * 32, created_at=T0)
    store.add_api_key(key)
    assert store.api_key_by_id("ak_123") == key
    assert store.api_key_by_id("ak_124") is None


def test_ensure_domain_is_idempotent_and_per_brand(store):
    a = new_brand(store, "A")
    b = new_brand(store, "B")
    first = store.ensure_domain(a, "shop.example")
    assert store.ensure_domain(a, "shop.example") == first
    other = store.ensure_domain(a, "blog.example")
    in_b = store.ensure_domain(b, "shop.example")
    assert len({first, other, in_b}) == 3
    assert store.domains_by_id(a, [first, other]) == {first: "shop.example", other: "blog.example"}
    assert store.domains_by_id(a, [in_b]) == {}  # another brand's domain
    assert store.domains_by_id(a, []) == {}


def test_domain_ids_are_stable_across_store_instances(store_url):
    first = open_store(store_url)
    brand_id = new_brand(first)
    domain_id = first.ensure_domain(brand_id, "shop.example")
    first.close()
    second = open_store(store_url)
    try:
        assert second.ensure_domain(brand_id, "shop.example") == domain_id
        assert second.domains_by_id(brand_id, [domain_id]) == {domain_id: "shop.example"}
    finally:
        second.close()


# --- ingest ------------------------------------------------------------------------------------


def test_write_batch_stores_every_click_field_and_its_events(store):
    brand_id = new_brand(store)
    full = msgspec.structs.replace(FULL_CLICK, brand_id=brand_id)
    minimal = click("01min", brand_id)
    events = [
        event(full, "page_view", T0 + 200, url="https://shop.example/p"),
        event(full, "sale", T0 + 300, data={"amount": 12.5, "currency": "EUR", "items": [1, 2]}),
    ]
    store.write_batch([full, minimal], events)
    assert store.get_click(brand_id, full.id) == full
    assert store.get_click(brand_id, minimal.id) == minimal
    assert store.get_click(brand_id, "unknown") is None
    assert store.events_for_clicks(brand_id, [full.id]) == events
    assert store.events_for_clicks(brand_id, [minimal.id]) == []
    assert store.events_for_clicks(brand_id, []) == []


def test_event_data_may_arrive_as_raw_json_and_reads_back_as_a_dict(store):
    brand_id = new_brand(store)
    c = click("01raw", brand_id)
    raw = event(c, "add_to_cart", T0, data=msgspec.Raw(b'{"sku":"A1","qty":2,"tags":["x"]}'))
    store.write_batch([c], [raw])
    (stored,) = store.events_for_clicks(brand_id, [c.id])
    assert stored.data == {"sku": "A1", "qty": 2, "tags": ["x"]}
    assert store.session_events(brand_id, c.session_id)[0].data == stored.data


def test_event_rows_built_by_the_caller_store_the_same_events(store):
    brand_id = new_brand(store)
    c = click("01rows", brand_id)
    events = [
        event(c, "page_view", T0, url="https://shop.example/p"),
        event(c, "click", T0 + 1, seq=1, data=StoredClick("button#buy", "Buy", 10, 2.5)),
        event(c, "signup", T0 + 2, seq=2, data=msgspec.Raw(b'{"plan":"pro"}')),
    ]
    store.write_batch([c], events, event_rows=[EVENT_ROWS.row(e) for e in events])
    stored = store.events_for_clicks(brand_id, [c.id])
    assert [e.type for e in stored] == ["page_view", "click", "signup"]
    assert stored[1].data == {"selector": "button#buy", "text": "Buy", "x": 10, "y": 2.5}
    assert stored[2].data == {"plan": "pro"}


def test_a_batch_larger_than_one_insert_statement_is_stored_whole_and_in_order(store):
    brand_id = new_brand(store)
    clicks = [click(f"01many{i:04d}", brand_id, created_at=T0 + i) for i in range(700)]
    events = [event(c, "click", T0 + i, seq=k) for i, c in enumerate(clicks) for k in range(3)]
    store.write_batch(clicks, events)
    total, _ = store.list_clicks(brand_id, ClickQuery(limit=1))
    assert total == 700
    stored = store.events_for_clicks(brand_id, [clicks[0].id, clicks[-1].id])
    assert [(e.click_id, e.seq) for e in stored] == [
        (clicks[0].id, 0),
        (clicks[0].id, 1),
        (clicks[0].id, 2),
        (clicks[-1].id, 0),
        (clicks[-1].id, 1),
        (clicks[-1].id, 2),
    ]


def test_write_batch_ignores_a_click_whose_id_is_already_stored(store):
    brand_id = new_brand(store)
    original = click("01dup", brand_id, url="https://a.example/first")
    store.write_batch([original], [event(original, "page_view", T0)])
    resent = msgspec.structs.replace(original, url="https://a.example/second", created_at=T0 + 5)
    store.write_batch([resent], [])  # no error
    store.write_batch([resent, resent, click("01new", brand_id)], [])  # twice in one batch too
    assert store.get_click(brand_id, "01dup") == original
    total, rows = store.list_clicks(brand_id, ClickQuery())
    assert total == 2 and sorted(ids(rows)) == ["01dup", "01new"]
    assert store.session_clicks(brand_id, original.session_id) == [original]


def test_a_stored_click_id_is_ignored_by_a_new_store_instance_too(store_url):
    first = open_store(store_url)
    brand_id = new_brand(first)
    original = click("01dup", brand_id, url="https://a.example/first")
    first.write_batch([original], [])
    first.close()
    second = open_store(store_url)
    try:
        second.write_batch([msgspec.structs.replace(original, url="https://x.example/")], [])
        assert second.get_click(brand_id, "01dup") == original
        assert second.list_clicks(brand_id, ClickQuery())[0] == 1
    finally:
        second.close()


def test_empty_batch_is_fine(store):
    store.write_batch([], [])


def test_concurrent_writers_and_readers(store):
    brand_id = new_brand(store)
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for i in range(10):
                c = click(f"t{n}-{i}", brand_id, created_at=T0 + i)
                store.write_batch([c], [event(c, "page_view", T0 + i)])
                store.list_clicks(brand_id, ClickQuery())
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert store.list_clicks(brand_id, ClickQuery())[0] == 40


# --- list_clicks -------------------------------------------------------------------------------


@pytest.fixture
def sample(store):
    """Two brands; brand A has clicks with a spread of values (and NULLs) for every filter and
    sort column."""
    a = new_brand(store, "A")
    b = new_brand(store, "B")
    rng = random.Random(7)
    countries = ["GB", "US", "de", None, "FR"]
    browsers = ["Chrome", "Firefox", None, "Safari"]
    clicks = []
    for n in range(40):
        clicks.append(
            click(
                f"c{n:03d}",
                a,
                session_id=f"s{n // 4:02d}",  # 10 sessions of 4 clicks
                visitor_id=f"v{n % 3}",
                created_at=T0 + (n // 2) * 1000,  # pairs share a time: ties broken by id
                url=f"https://Shop.example/{['cart', 'Checkout', 'home', '100%_off'][n % 4]}/{n}",
                funnel_id=[1, 2, None][n % 3],
                sub1=["alpha", "beta", None, "gamma"][n % 4],
                country=rng.choice(countries),
                browser=rng.choice(browsers),
                os=rng.choice(["Windows", "macOS", None]),
                device_type=rng.choice(["desktop", "mobile", None]),
                is_bot=n % 5 == 0,
            )
        )
    rng.shuffle(clicks)
    store.write_batch(clicks[:25], [])
    store.write_batch(clicks[25:], [])
    # brand B: same session, visitor, sub1 and funnel values as brand A
    store.write_batch(
        [
            click(
                "b000",
                b,
                session_id="s00",
                visitor_id="v0",
                sub1="alpha",
                funnel_id=1,
                url="https://shop.example/cart/b",
                created_at=T0,
            ),
        ],
        [],
    )
    return store, a, b, {c.id: c for c in clicks}


def _expected(clicks, keep, sort="created_at", direction="desc"):
    chosen = [c for c in clicks.values() if keep(c)]

    def key(c):
        value = getattr(c, sort)
        return (value is not None, value if value is not None else 0, c.id)  # NULL smallest

    return [c.id for c in sorted(chosen, key=key, reverse=direction == "desc")]


def test_list_default_is_newest_first_with_ties_broken_by_id(sample):
    store, a, _, clicks = sample
    total, got = listed(store, a, limit=100)
    assert total == 40
    assert got == _expected(clicks, lambda c: True)
    assert got[:2] == ["c039", "c038"]


def test_list_pages_with_limit_and_offset(sample):
    store, a, _, clicks = sample
    everything = _expected(clicks, lambda c: True)
    pages = [listed(store, a, limit=15, offset=o) for o in (0, 15, 30, 45)]
    assert [p[0] for p in pages] == [40, 40, 40, 40]
    assert pages[0][1] + pages[1][1] + pages[2][1] == everything
    assert pages[3][1] == []
    assert listed(store, a, limit=0) == (40, [])


@pytest.mark.parametrize("sort", SORT_COLUMNS)
@pytest.mark.parametrize("direction", ["asc", "desc"])
def test_list_sorts_by_every_whitelisted_column(sample, sort, direction):
    store, a, _, clicks = sample
    total, got = listed(store, a, sort=sort, direction=direction, limit=100)
    assert total == 40
    assert got == _expected(clicks, lambda c: True, sort, direction)


def test_list_rejects_a_sort_column_outside_the_whitelist(sample):
    store, a, _, _ = sample
    bad = msgspec.structs.replace(ClickQuery(), sort="id; DROP TABLE clicks")
    with pytest.raises(ValueError):
        store.list_clicks(a, bad)


@pytest.mark.parametrize(
    ("query", "keep"),
    [
        ({"funnel_id": 2}, lambda c: c.funnel_id == 2),
        ({"sub1": "beta"}, lambda c: c.sub1 == "beta"),
        ({"visitor_id": "v1"}, lambda c: c.visitor_id == "v1"),
        ({"exclude_bots": True}, lambda c: not c.is_bot),
        ({"url": "checkout"}, lambda c: "checkout" in c.url.lower()),
        ({"url": "SHOP.EXAMPLE/CART"}, lambda c: "/cart/" in c.url),
        ({"url": "100%_"}, lambda c: "100%_off" in c.url),  # % and _ are literal
        ({"url": "0%"}, lambda c: "0%" in c.url),
        ({"url": "%"}, lambda c: "%" in c.url),
        ({"url": "_"}, lambda c: "_" in c.url),
        ({"url": "nowhere"}, lambda c: False),
        (
            {"funnel_id": 1, "sub1": "alpha", "exclude_bots": True},
            lambda c: c.funnel_id == 1 and c.sub1 == "alpha" and not c.is_bot,
        ),
        (
            {"visitor_id": "v2", "url": "home", "start": T0 + 5000},
            lambda c: c.visitor_id == "v2" and "home" in c.url and c.created_at >= T0 + 5000,
        ),
    ],
)
def test_list_filters(sample, query, keep):
    store, a, _, clicks = sample
    total, got = listed(store, a, limit=100, **query)
    expected = _expected(clicks, keep)
    assert (total, got) == (len(expected), expected)


def test_list_filters_with_another_sort(sample):
    store, a, _, clicks = sample
    total, got = listed(store, a, exclude_bots=True, sort="country", direction="asc", limit=100)
    expected = _expected(clicks, lambda c: not c.is_bot, "country", "asc")
    assert (total, got) == (len(expected), expected)


def test_date_range_is_inclusive_at_both_ends(sample):
    store, a, _, clicks = sample
    start, end = T0 + 3000, T0 + 7000
    total, got = listed(store, a, start=start, end=end, limit=100)
    expected = _expected(clicks, lambda c: start <= c.created_at <= end)
    assert len(expected) == 10  # 5 distinct times, 2 clicks each, both ends included
    assert (total, got) == (10, expected)
    assert listed(store, a, start=T0 + 7000, end=T0 + 7000)[0] == 2
    assert listed(store, a, start=T0 + 7001, end=T0 + 7999)[0] == 0
    assert listed(store, a, start=T0 + 19_000)[0] == 2
    assert listed(store, a, end=T0)[0] == 2


def test_totals_over_date_ranges_spanning_many_days(store):
    """Totals of wide ranges (engines may count whole days from summaries) match a brute
    force count, including ranges cut inside a day and open at one end."""
    a = new_brand(store, "A")
    b = new_brand(store, "B")
    rng = random.Random(11)
    times = [T0 + rng.randrange(0, 20 * DAY) for _ in range(300)]
    times += [T0 + 3 * DAY, T0 + 3 * DAY - 1, T0 + 5 * DAY, T0 + 5 * DAY + 1]  # day edges
    bots = {n for n in range(len(times)) if rng.random() < 0.3}
    store.write_batch(
        [click(f"d{n:04d}", a, created_at=t, is_bot=n in bots) for n, t in enumerate(times)]
        + [click(f"b{n:04d}", b, created_at=T0 + n * 3_600_000) for n in range(100)],
        [],
    )
    bounds = [
        None,
        T0 - 1,
        T0,
        T0 + 3 * DAY - 1,
        T0 + 3 * DAY,
        T0 + 5 * DAY,
        T0 + 5 * DAY + 1,
        T0 + 21 * DAY,
    ]
    bounds += [T0 + rng.randrange(0, 21 * DAY) for _ in range(12)]
    for start in bounds:
        for end in bounds:
            inside = [
                n
                for n, t in enumerate(times)
                if (start is None or t >= start) and (end is None or t <= end)
            ]
            assert listed(store, a, start=start, end=end, limit=0)[0] == len(inside)
            humans = len([n for n in inside if n not in bots])
            assert listed(store, a, start=start, end=end, exclude_bots=True, limit=0)[0] == humans


def test_click_or_session_collapses_to_the_first_click_of_each_session(sample):
    store, a, _, clicks = sample
    # a session id: its 4 clicks collapse to the first one (the earliest, then lowest id)
    total, rows = store.list_clicks(a, ClickQuery(click_or_session="s03"))
    assert total == 1 and ids(rows) == ["c012"]
    assert rows[0] == clicks["c012"]
    # a click code: that click (its session has other clicks, they do not match)
    assert listed(store, a, click_or_session="c014") == (1, ["c014"])
    # a click whose id is also another session's id: one row per session
    extra = click("s05", a, session_id="s-extra", created_at=T0 - 1)
    store.write_batch([extra], [])
    total, got = listed(store, a, click_or_session="s05")
    assert total == 2 and sorted(got) == ["c020", "s05"]
    assert listed(store, a, click_or_session="unknown") == (0, [])


def test_click_or_session_first_matching_click_respects_the_other_filters(sample):
    store, a, _, _ = sample
    # session s00 is c000..c003; c000 is a bot (n % 5 == 0)
    assert listed(store, a, click_or_session="s00") == (1, ["c000"])
    assert listed(store, a, click_or_session="s00", exclude_bots=True) == (1, ["c001"])
    assert listed(store, a, click_or_session="s00", url="checkout") == (1, ["c001"])
    assert listed(store, a, click_or_session="s00", sub1="gamma") == (1, ["c003"])
    assert listed(store, a, click_or_session="s00", start=T0 + 1000) == (1, ["c002"])
    assert listed(store, a, click_or_session="s00", funnel_id=99) == (0, [])


def test_click_or_session_pages_and_sorts_sessions(store):
    a = new_brand(store)
    # "x1" is a click id (session s-one) and a session id (x2, x3): two sessions match
    first = click("x1", a, session_id="s-one", created_at=T0 + 10, country="US")
    same = click("x2", a, session_id="x1", created_at=T0 + 5, country="DE")
    later = click("x3", a, session_id="x1", created_at=T0 + 20, country="AA")
    store.write_batch([first, same, later], [])
    assert listed(store, a, click_or_session="x1") == (2, ["x1", "x2"])
    assert listed(store, a, click_or_session="x1", sort="country", direction="asc") == (
        2,
        ["x2", "x1"],
    )
    assert listed(store, a, click_or_session="x1", limit=1, offset=1) == (2, ["x2"])


def test_brand_b_never_sees_brand_a_rows(sample):
    store, _, b, clicks = sample
    c = clicks["c001"]
    store.write_batch([], [event(c, "page_view", T0 + 1)])
    assert listed(store, b, limit=100) == (1, ["b000"])
    for query in (
        {},
        {"click_or_session": "s00"},
        {"click_or_session": "c001"},
        {"visitor_id": "v0"},
        {"sub1": "alpha"},
        {"funnel_id": 1},
        {"url": "shop"},
    ):
        total, got = listed(store, b, limit=100, **query)
        assert set(got) <= {"b000"} and total == len(got)
    assert store.get_click(b, "c001") is None
    assert store.session_clicks(b, "s00") == [store.get_click(b, "b000")]
    assert store.session_events(b, c.session_id) == []
    assert store.events_for_clicks(b, ["c001"]) == []
    assert store.last_session(b, "v1") is None
    # unknown brand
    assert listed(store, 999) == (0, [])


# --- click and session detail ------------------------------------------------------------------


def test_events_are_ordered_by_timestamp_then_seq(store):
    a = new_brand(store)
    one = click("e1", a, session_id="s", created_at=T0)
    two = click("e2", a, session_id="s", created_at=T0 + 50)
    events = [
        event(one, "click", T0 + 30, seq=1),
        event(two, "page_view", T0 + 50),
        event(one, "page_view", T0),
        event(one, "click", T0 + 30, seq=0),
        event(two, "click", T0 + 10, seq=3),  # out of order on purpose
        event(one, "scroll", T0 + 30, seq=2),
    ]
    store.write_batch([two], events[:3])
    store.write_batch([one], events[3:])
    order = [(e.timestamp, e.seq) for e in store.session_events(a, "s")]
    assert order == sorted(order) and len(order) == 6
    by_click = store.events_for_clicks(a, ["e1"])
    assert [(e.type, e.timestamp, e.seq) for e in by_click] == [
        ("page_view", T0, 0),
        ("click", T0 + 30, 0),
        ("click", T0 + 30, 1),
        ("scroll", T0 + 30, 2),
    ]
    both = store.events_for_clicks(a, ["e1", "e2", "unknown"])
    assert [(e.timestamp, e.seq) for e in both] == order


def test_session_clicks_are_ordered_by_created_at(store):
    a = new_brand(store)
    batch = [
        click("k3", a, session_id="s", created_at=T0 + 300),
        click("k1", a, session_id="s", created_at=T0 + 100),
        click("k2", a, session_id="s", created_at=T0 + 200),
        click("other", a, session_id="s2", created_at=T0 + 150),
    ]
    store.write_batch(batch[:2], [])
    store.write_batch(batch[2:], [])
    assert ids(store.session_clicks(a, "s")) == ["k1", "k2", "k3"]
    assert store.session_clicks(a, "nope") == []
    assert store.session_events(a, "nope") == []


def test_last_session_is_the_newest_session_with_its_last_activity(store):
    a = new_brand(store)
    assert store.last_session(a, "v") is None
    old = click("o1", a, session_id="old", visitor_id="v", created_at=T0)
    new1 = click("n1", a, session_id="new", visitor_id="v", created_at=T0 + 40 * 60_000)
    new2 = click("n2", a, session_id="new", visitor_id="v", created_at=T0 + 41 * 60_000)
    other = click("x1", a, session_id="other", visitor_id="w", created_at=T0 + 99 * 60_000)
    store.write_batch([old, new1, new2, other], [event(old, "click", T0 + 50 * 60_000)])
    # no events in the newest session: its last click
    assert store.last_session(a, "v") == ("new", T0 + 41 * 60_000)
    # an event later than its last click
    store.write_batch([], [event(new1, "scroll", T0 + 45 * 60_000, seq=4)])
    assert store.last_session(a, "v") == ("new", T0 + 45 * 60_000)
    assert store.last_session(a, "w") == ("other", T0 + 99 * 60_000)


# --- schema ------------------------------------------------------------------------------------


def test_migrate_twice_is_harmless(store):
    a = new_brand(store)
    store.write_batch([click("m1", a)], [])
    version = store.schema_version()
    assert version >= 1
    store.migrate()
    store.migrate()
    assert store.schema_version() == version
    assert listed(store, a) == (1, ["m1"])
    assert store.get_brand(a).name == "Acme"


def test_reopening_keeps_data_and_schema_version(store_url):
    first = open_store(store_url)
    a = new_brand(first)
    first.write_batch([click("r1", a)], [event(click("r1", a), "page_view", T0)])
    version = first.schema_version()
    first.close()
    again = open_store(store_url)
    try:
        assert again.schema_version() == version
        assert listed(again, a) == (1, ["r1"])
        assert len(again.session_events(a, "s-r1")) == 1
        assert again.brand_by_site_key("site-acme").id == a
    finally:
        again.close()


def _table_columns(store: Store, table: str) -> list[tuple[str, str, bool]]:
    """(name, type, NOT NULL) of each column of a table, in table order, as the engine has it."""
    if isinstance(store, SQLiteStore):
        rows = store._all(f"PRAGMA table_info({table})")
        return [(name, type_, bool(notnull or pk)) for _, name, type_, notnull, _, pk in rows]
    assert isinstance(store, ClickHouseStore)
    rows = store._rows(
        "SELECT name, type FROM system.columns WHERE database = {db:String}"
        " AND table = {table:String} ORDER BY position",
        {"db": store.database, "table": table},
    )
    return [(name, type_, "Nullable" not in type_) for name, type_ in rows]


def _declared_columns(store: Store, table: str) -> list[tuple[str, str, bool]]:
    """What the declaration (the table's struct) says the engine's table holds."""
    if isinstance(store, SQLiteStore):
        declared = columns(sqlite_schema.DECLARED[table])
        return [(c.name, sqlite_schema.SQL_TYPES[c.kind], not c.nullable) for c in declared]
    struct, tuning = clickhouse_schema.DECLARED[table]
    return [
        (c.name, clickhouse_schema.column_type(c, tuning), not c.nullable) for c in columns(struct)
    ]


@pytest.mark.parametrize("table", sorted(sqlite_schema.DECLARED))
def test_declared_tables_hold_exactly_the_declared_columns(store, table):
    """A field of Click, Event, ShortLink or Conversion without its migration (or a column
    without its field) fails here, on both engines."""
    assert _table_columns(store, table) == _declared_columns(store, table)


def test_both_engines_declare_the_same_tables_from_the_same_structs():
    assert {t: s for t, (s, _) in clickhouse_schema.DECLARED.items()} == sqlite_schema.DECLARED
    assert {"clicks", "events", "links", "conversions"} <= set(sqlite_schema.DECLARED)


def test_column_kinds_and_nullability_come_from_the_struct():
    by_name = {c.name: c for c in columns(Click)}
    assert by_name["created_at"] == ("created_at", "time", False, msgspec.NODEFAULT)
    assert by_name["trigger"] == ("trigger", "text", False, "pageview")
    assert by_name["funnel_id"] == ("funnel_id", "int", True, None)
    assert by_name["lat"].kind == "float"
    assert by_name["is_bot"] == ("is_bot", "bool", False, False)
    assert by_name["query"] == ("query", "map", False, {})
    assert [c.name for c in columns(Event)] == list(Event.__struct_fields__)
    assert {c.name: c.kind for c in columns(Event)}["data"] == "json"


class TitledClick(Click, kw_only=True):
    """Click with three new fields, as a later issue would add them."""

    page_title: str | None = None
    visits: int = 1
    landing: str = "it's home"


def test_a_field_added_by_a_migration_reaches_old_rows_with_its_default(store, monkeypatch):
    """The path of a new Click field: the struct declares it, ``AddColumns`` adds it."""
    a = new_brand(store)
    store.write_batch([click("old", a)], [])
    added = ("page_title", "visits", "landing")
    if isinstance(store, SQLiteStore):
        monkeypatch.setitem(sqlite_schema.DECLARED, "clicks", TitledClick)
        with store._write() as conn:
            sqlite_schema.AddColumns("clicks", added)(sqlite_utils.Database(conn))
    else:
        tuning = clickhouse_schema.DECLARED["clicks"][1]
        monkeypatch.setitem(clickhouse_schema.DECLARED, "clicks", (TitledClick, tuning))
        for statement in clickhouse_schema.AddColumns("clicks", added)():
            store._command(statement)
    assert _table_columns(store, "clicks") == _declared_columns(store, "clicks")
    sql = "SELECT page_title, visits, landing FROM {db}.clicks"
    if isinstance(store, SQLiteStore):
        rows = store._all(sql.replace("{db}.", ""))
    else:
        rows = store._rows(sql)
    assert [tuple(r) for r in rows] == [(None, 1, "it's home")]


def test_sqlite_totals_follow_rows_deleted_or_moved_by_plain_sql(tmp_path):
    """Other modules (retention, visitor deletion) delete clicks with SQL: totals follow."""
    import sqlite3

    url = f"sqlite:///{tmp_path}/x.db"
    opened = open_store(url)
    try:
        a = new_brand(opened)
        opened.write_batch(
            [click(f"c{n}", a, created_at=T0 + n * DAY // 2, is_bot=n % 3 == 0) for n in range(20)],
            [],
        )
        conn = sqlite3.connect(tmp_path / "x.db")
        with conn:
            conn.execute("DELETE FROM clicks WHERE id IN ('c0', 'c1', 'c5')")
            conn.execute("UPDATE clicks SET created_at = ?, is_bot = 1 WHERE id = 'c2'", (T0,))
        conn.close()
        assert listed(opened, a, limit=0)[0] == 17
        assert listed(opened, a, exclude_bots=True, limit=0)[0] == 17 - 7  # c3, c6, ..c18, c2
        assert listed(opened, a, start=T0, end=T0 + DAY - 1, limit=0)[0] == 1  # c2, moved in
        assert listed(opened, a, end=T0 + 3 * DAY // 2, exclude_bots=True, limit=0)[0] == 0
    finally:
        opened.close()


def test_sqlite_file_with_a_newer_schema_is_refused(tmp_path):
    import sqlite3

    url = f"sqlite:///{tmp_path}/x.db"
    open_store(url).close()
    conn = sqlite3.connect(tmp_path / "x.db")
    conn.execute("PRAGMA user_version = 999")
    conn.close()
    with pytest.raises(RuntimeError, match="newer"):
        open_store(url)


# --- open_store --------------------------------------------------------------------------------


def test_open_store_sqlite_relative_path_creates_parent_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    opened = open_store("sqlite:///data/sub/ct.db")
    try:
        assert (tmp_path / "data" / "sub" / "ct.db").exists()
        assert opened.url == "sqlite:///data/sub/ct.db"
    finally:
        opened.close()


def test_open_store_sqlite_absolute_path(tmp_path: Path):
    opened = open_store(f"sqlite:///{tmp_path}/abs/ct.db")
    opened.close()
    assert (tmp_path / "abs" / "ct.db").exists()


@pytest.mark.parametrize(
    "url",
    ["postgres://x/y", "mysql:///z", "", "clicktrail.db", "sqlite://host/x.db", "sqlite:///"],
)
def test_open_store_rejects_unknown_or_malformed_urls(url):
    with pytest.raises(ValueError):
        open_store(url)


def test_open_store_chdb_database_from_url(chdb_path):
    from tests.storage_fixtures import drop_database

    url = f"chdb://{chdb_path}?database=named_db_test"
    opened = open_store(url)
    try:
        assert opened.database == "named_db_test"
        assert opened.url == url
        assert opened.schema_version() >= 1
    finally:
        opened.close()
        drop_database(url)


@pytest.mark.parametrize(
    ("url", "dsn", "database"),
    [
        ("chdb:///var/ct", "chdb:///var/ct", "clicktrail"),
        ("chdb:///var/ct?database=t1", "chdb:///var/ct", "t1"),
        ("chdb://memory/t2", "chdb://memory", "t2"),
        ("clickhouse://u:p@h:8123/ana", "clickhouse://u:p@h:8123", "ana"),
        ("clickhouse://h:8443?secure=true", "clickhouse://h:8443?secure=true", "clicktrail"),
    ],
)
def test_clickhouse_urls_split_into_a_dsn_and_a_database(url, dsn, database):
    from collector.storage.clickhouse import split_url

    assert split_url(url) == (dsn, database)


@pytest.mark.parametrize("url", ["chdb://", "clickhouse://h/bad-name", "chdb:///x?database=a;b"])
def test_bad_clickhouse_urls_are_refused(url):
    with pytest.raises(ValueError):
        open_store(url)
