"""The query compiler (collector/query/) on both engines: every case runs on SQLite and on
ClickHouse (embedded chDB) over the same rows, written through ``write_batch``, and each engine
must return what a plain Python evaluation of the query returns, so both return the same.
Time buckets are checked against hand-counted days of 23, 24 and 25 hours across the 2026 DST
changes of Europe/Berlin and America/New_York.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import sqlite3
import string
from collections import Counter
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from collector.query import clickhouse as clickhouse_sql
from collector.query import sqlite as sqlite_sql
from collector.query.buckets import MAX_BUCKETS, edges
from collector.query.fields import CLICKS
from collector.query.model import (
    AnyOf,
    Contains,
    Filter,
    NoneOf,
    Query,
    QueryError,
    Range,
    TimeRange,
)
from collector.storage import open_store
from collector.storage.base import Click, Store
from tests.storage_fixtures import ENGINES, chdb_available, chdb_test_url, drop_database

HOUR = 3_600_000
DAY = 86_400_000
QUARTER = 900_000
FILTERED = 1  # the brand with varied clicks (filters, group-bys)
SERIES = 2  # the brand with a click every 15 minutes around each DST change
T_JUNE = 1_780_272_000_000  # 2026-06-01T00:00:00Z
# Each DST change of 2026 in the two zones, and the local date it falls on.
DST_DAYS = [
    pytest.param("Europe/Berlin", dt.date(2026, 3, 29), 23, id="berlin-spring"),
    pytest.param("Europe/Berlin", dt.date(2026, 10, 25), 25, id="berlin-autumn"),
    pytest.param("America/New_York", dt.date(2026, 3, 8), 23, id="new_york-spring"),
    pytest.param("America/New_York", dt.date(2026, 11, 1), 25, id="new_york-autumn"),
]
URLS = [
    "https://shop.example/sale/50%_off",
    "https://SHOP.example/SALE/50%_OFF",
    "https://shop.example/sale/50%off",
    "https://shop.example/sale/50_off",
    "https://shop.example/sale/5000off",
    "https://shop.example/Ünïcode",
    "https://shop.example/a\\b",
    "https://shop.example/cart",
]
QUOTED = "O'Brien\"; DROP TABLE clicks; --"


def local_ms(zone: str, day: dt.date, hour: int = 0) -> int:
    return (
        int(dt.datetime(day.year, day.month, day.day, hour, tzinfo=ZoneInfo(zone)).timestamp())
        * 1000
    )


def filtered_clicks() -> list[Click]:
    """240 clicks of FILTERED, an hour apart, whose fields cycle with co-prime periods (so every
    combination of a few of them occurs)."""
    return [
        Click(
            id=f"f{n:03d}",
            brand_id=FILTERED,
            session_id=f"s{n // 3:03d}",
            visitor_id=f"v{n % 17:02d}",
            created_at=T_JUNE + n * HOUR,
            url=URLS[n % len(URLS)],
            country=["US", "GB", "DE", None, "US"][n % 5],
            browser=["Chrome", "Firefox", "Safari", None][n % 4],
            funnel_id=[1, 2, 3, None][n % 7 % 4],
            domain_id=[10, 20, 30][n % 3],
            sub1=["promo", "Promo-2", None][n % 3],
            sub2=QUOTED if n % 11 == 0 else f"x{n % 2}",
            referrer_type=["direct", "search", "social"][n % 3],
            viewport_width=[320, 360, 768, 1024, 1440, None][n % 6],
            lat=[40.7, 51.5, 52.52, None][n % 4],
            is_bot=n % 9 == 0,
        )
        for n in range(240)
    ]


def series_clicks() -> list[Click]:
    """A click of SERIES every 15 minutes from two days before to three days after each DST
    change of 2026 in Berlin and New York; countries alternate US, DE."""
    windows = [
        dt.date(2026, 3, 6),
        dt.date(2026, 3, 27),
        dt.date(2026, 10, 23),
        dt.date(2026, 10, 30),
    ]
    clicks = []
    for first in windows:
        start = (
            int(dt.datetime(first.year, first.month, first.day, tzinfo=dt.UTC).timestamp()) * 1000
        )
        for n in range(5 * 96):
            clicks.append(
                Click(
                    id=f"t{start + n * QUARTER}",
                    brand_id=SERIES,
                    session_id="s",
                    visitor_id="v",
                    created_at=start + n * QUARTER,
                    country="US" if n % 2 else "DE",
                    browser="Chrome",
                )
            )
    return clicks


@pytest.fixture(scope="module", params=ENGINES)
def engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Store]:
    """One store per engine for the whole module, holding both brands' clicks."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('query')}/clicktrail.db"
    elif not chdb_available():
        pytest.skip("chdb is not installed")
    else:
        url = chdb_test_url()
    store = open_store(url)
    store.write_batch(filtered_clicks() + series_clicks(), [])
    yield store
    store.close()
    if not url.startswith("sqlite"):
        drop_database(url)


def run(store: Store, sql: str, params: Any) -> list[tuple[Any, ...]]:
    """Rows of a compiled statement, run on the store's own database."""
    if url_scheme(store) == "sqlite":
        with contextlib.closing(sqlite3.connect(store.path)) as connection:
            return [tuple(row) for row in connection.execute(sql, params)]
    sql = sql.replace("{db}", f"`{store.database}`")
    return store.client.query(sql, parameters=params).result_rows


def url_scheme(store: Store) -> str:
    return store.url.partition("://")[0]


def selected_ids(store: Store, query: Query, brand_id: int = FILTERED) -> list[str]:
    """Ids of the brand's clicks matching the query's filters and time range, by the compiled
    WHERE of the store's dialect."""
    if url_scheme(store) == "sqlite":
        where = sqlite_sql.where(query)
        sql = f"SELECT id FROM clicks AS c WHERE c.brand_id = ? AND {where.sql} ORDER BY id"
        return [row[0] for row in run(store, sql, [brand_id, *where.params])]
    compiled = clickhouse_sql.where(query)
    sql = (
        "SELECT id FROM {db}.clicks WHERE brand_id = {brand:UInt64}"
        f" AND {compiled.sql} ORDER BY id"
    )
    return [row[0] for row in run(store, sql, {**compiled.params, "brand": brand_id})]


def counted(
    store: Store, query: Query, brand_id: int = FILTERED, limit: int | None = None
) -> list[tuple]:
    """Rows of the dialect's ``count`` statement; bool keys as bool on both engines."""
    compiler = sqlite_sql if url_scheme(store) == "sqlite" else clickhouse_sql
    statement = compiler.count(query, brand_id, limit=limit)
    bools = [i for i, name in enumerate(query.group_by) if CLICKS[name].kind == "bool"]
    return [
        tuple(bool(v) if i in bools else v for i, v in enumerate(row))
        for row in run(store, statement.sql, statement.params)
    ]


# --- a plain Python evaluation of a query, for comparison ---------------------------------------

_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


def keeps(click: Click, filter_: Filter) -> bool:
    value = getattr(click, filter_.field)
    if isinstance(filter_, AnyOf):
        return value in filter_.values
    if isinstance(filter_, NoneOf):
        return value not in filter_.values
    if isinstance(filter_, Contains):
        return value is not None and filter_.text.translate(_ASCII_LOWER) in value.translate(
            _ASCII_LOWER
        )
    low, high = filter_.minimum, filter_.maximum
    return value is not None and (low is None or value >= low) and (high is None or value <= high)


def python_ids(query: Query, clicks: list[Click] | None = None) -> list[str]:
    start, end = query.time_range.start, query.time_range.end
    return sorted(
        c.id
        for c in (clicks if clicks is not None else filtered_clicks())
        if all(keeps(c, f) for f in query.filters)
        and (start is None or c.created_at >= start)
        and (end is None or c.created_at <= end)
    )


def python_counts(query: Query) -> list[tuple]:
    """Groups as ``count`` orders them: largest count first, then the keys with None first."""
    matching = set(python_ids(query))
    groups = Counter(
        tuple(getattr(c, name) for name in query.group_by)
        for c in filtered_clicks()
        if c.id in matching
    )
    rows = [(*key, n) for key, n in groups.items()]
    return sorted(rows, key=lambda row: (-row[-1], [(v is not None, v) for v in row[:-1]]))


# --- filters ----------------------------------------------------------------------------------

FILTER_CASES = [
    pytest.param((AnyOf("country", ("US",)),), id="equality"),
    pytest.param((AnyOf("funnel_id", (2,)),), id="equality-int"),
    pytest.param((AnyOf("is_bot", (True,)),), id="equality-bool"),
    pytest.param((AnyOf("country", ("US", "GB")),), id="any_of"),
    pytest.param((AnyOf("country", ("DE", None)),), id="any_of-with-missing"),
    pytest.param((AnyOf("domain_id", (10, 30)),), id="any_of-ints"),
    pytest.param((NoneOf("browser", ("Chrome",)),), id="exclude-keeps-missing"),
    pytest.param((NoneOf("country", ("US", "GB")),), id="none_of"),
    pytest.param((NoneOf("country", (None,)),), id="none_of-missing"),
    pytest.param((NoneOf("country", (None, "US")),), id="none_of-missing-and-value"),
    pytest.param((NoneOf("referrer_type", ("direct",)),), id="exclude-on-a-never-missing-field"),
    pytest.param((NoneOf("is_bot", (True,)),), id="exclude-bool"),
    pytest.param((Contains("url", "50%_off"),), id="substring-percent-and-underscore-are-literal"),
    pytest.param((Contains("url", "_"),), id="substring-underscore-alone"),
    pytest.param((Contains("url", "sale"),), id="substring-ascii-case-insensitive"),
    pytest.param((Contains("url", "ü"),), id="substring-non-ascii-case-sensitive"),
    pytest.param((Contains("url", "a\\b"),), id="substring-backslash"),
    pytest.param((Contains("sub1", "PROMO"),), id="substring-on-a-nullable-field"),
    pytest.param((Range("viewport_width", 360, 1024),), id="range-inclusive"),
    pytest.param((Range("viewport_width", None, 500),), id="range-open-minimum"),
    pytest.param((Range("lat", 45.0, 52.52),), id="range-float"),
    pytest.param((Range("created_at", T_JUNE + 10 * HOUR, T_JUNE + 20 * HOUR),), id="range-time"),
    pytest.param((AnyOf("sub2", (QUOTED,)),), id="quotes-and-sql-in-a-value-are-data"),
    pytest.param(
        (
            AnyOf("country", ("US", "GB")),
            NoneOf("browser", ("Safari",)),
            Contains("url", "SALE"),
            Range("viewport_width", 300, 1440),
            AnyOf("is_bot", (False,)),
        ),
        id="combined",
    ),
]


@pytest.mark.parametrize("filters", FILTER_CASES)
def test_filter_selects_the_rows_python_selects(engine, filters):
    query = Query(filters=filters)
    assert selected_ids(engine, query) == python_ids(query)


def test_substring_matches_percent_and_underscore_only_literally(engine):
    query = Query(filters=(Contains("url", "50%_off"),))
    matched = {URLS[int(i[1:]) % len(URLS)] for i in selected_ids(engine, query)}
    assert matched == {URLS[0], URLS[1]}


def test_time_range_is_inclusive_at_both_ends(engine):
    query = Query(time_range=TimeRange(T_JUNE + 5 * HOUR, T_JUNE + 7 * HOUR))
    assert selected_ids(engine, query) == ["f005", "f006", "f007"]


def test_filters_and_time_range_combine(engine):
    query = Query(
        filters=(AnyOf("country", ("US",)), NoneOf("funnel_id", (1,))),
        time_range=TimeRange(T_JUNE, T_JUNE + 100 * HOUR),
    )
    assert selected_ids(engine, query) == python_ids(query)
    assert selected_ids(engine, query)


def test_filters_see_only_the_queried_brand(engine):
    query = Query(filters=(AnyOf("country", ("US",)), AnyOf("browser", ("Chrome",))))
    assert selected_ids(engine, query, brand_id=3) == []
    assert len(selected_ids(engine, query, brand_id=SERIES)) == 4 * 5 * 96 // 2


# --- group-bys --------------------------------------------------------------------------------

GROUP_CASES = [
    pytest.param(("country",), (), id="one-dimension"),
    pytest.param(("funnel_id",), (), id="int-dimension-with-missing"),
    pytest.param(("is_bot",), (), id="bool-dimension"),
    pytest.param(("country", "browser"), (), id="two-dimensions"),
    pytest.param(
        ("country", "browser"), (NoneOf("country", (None,)), Contains("url", "sale")), id="filtered"
    ),
]


@pytest.mark.parametrize(("group_by", "filters"), GROUP_CASES)
def test_group_by_counts_as_python_counts(engine, group_by, filters):
    query = Query(filters=filters, group_by=group_by)
    assert counted(engine, query) == python_counts(query)


def test_group_by_with_a_limit_gives_the_top_groups(engine):
    query = Query(group_by=("country",))
    assert counted(engine, query, limit=3) == [
        ("US", 96),
        (None, 48),
        ("DE", 48),
    ]  # ties: NULL first


def test_a_time_range_ending_before_it_starts_selects_nothing(engine):
    time_range = TimeRange(T_JUNE + 2 * HOUR, T_JUNE + HOUR)
    assert selected_ids(engine, Query(time_range=time_range)) == []
    query = Query(time_range=time_range, group_by=("country",), bucket="hour")
    assert counted(engine, query) == []


def test_count_without_groups_is_one_row(engine):
    query = Query(filters=(AnyOf("country", ("US",)),))
    assert counted(engine, query) == [(96,)]


# --- time buckets ---------------------------------------------------------------------------


def three_local_days(zone: str, day: dt.date) -> TimeRange:
    """From the start of the day before ``day`` to the end of the day after it, in ``zone``."""
    return TimeRange(
        local_ms(zone, day - dt.timedelta(days=1)), local_ms(zone, day + dt.timedelta(days=2)) - 1
    )


@pytest.mark.parametrize(("zone", "day", "hours"), DST_DAYS)
def test_daily_buckets_follow_local_midnights_across_a_dst_change(engine, zone, day, hours):
    query = Query(time_range=three_local_days(zone, day), time_zone=zone, bucket="day")
    midnights = [local_ms(zone, day + dt.timedelta(days=d)) for d in (-1, 0, 1)]
    assert counted(engine, query, brand_id=SERIES) == [
        (midnights[0], 4 * 24),
        (midnights[1], 4 * hours),  # a day of 23 or 25 hours
        (midnights[2], 4 * 24),
    ]


@pytest.mark.parametrize(("zone", "day", "hours"), DST_DAYS)
def test_hourly_buckets_give_the_dst_day_23_or_25_hours(engine, zone, day, hours):
    time_range = three_local_days(zone, day)
    query = Query(time_range=time_range, time_zone=zone, bucket="hour")
    rows = counted(engine, query, brand_id=SERIES)
    # whole-hour zones: the buckets are the UTC hours, four clicks each
    assert rows == [(start, 4) for start in range(time_range.start, time_range.end, HOUR)]
    tz = ZoneInfo(zone)
    on_the_day = [s for s, _ in rows if dt.datetime.fromtimestamp(s / 1000, tz).date() == day]
    assert len(on_the_day) == hours
    walls = Counter(dt.datetime.fromtimestamp(s / 1000, tz).hour for s in on_the_day)
    if hours == 25:  # the hour the clock falls back through is two buckets
        assert [h for h, n in walls.items() if n == 2] == [1 if zone == "America/New_York" else 2]
    else:  # the hour skipped has none
        assert sorted(set(range(24)) - set(walls)) == [2]


def test_hourly_buckets_of_a_half_hour_zone_start_at_half_past_utc(engine):
    time_range = TimeRange(
        local_ms("Asia/Kolkata", dt.date(2026, 10, 24)),
        local_ms("Asia/Kolkata", dt.date(2026, 10, 25)) - 1,
    )
    query = Query(time_range=time_range, time_zone="Asia/Kolkata", bucket="hour")
    rows = counted(engine, query, brand_id=SERIES)
    assert rows == [(start, 4) for start in range(time_range.start, time_range.end, HOUR)]
    assert all(start % HOUR == HOUR // 2 for start, _ in rows)


@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/New_York", "UTC"])
@pytest.mark.parametrize("unit", ["week", "month"])
def test_weekly_and_monthly_buckets_start_on_local_mondays_and_firsts(engine, zone, unit):
    time_range = TimeRange(
        local_ms(zone, dt.date(2026, 3, 1)), local_ms(zone, dt.date(2026, 11, 30))
    )
    query = Query(time_range=time_range, time_zone=zone, bucket=unit)
    tz = ZoneInfo(zone)

    def local_start(click: Click) -> int:
        day = dt.datetime.fromtimestamp(click.created_at / 1000, tz).date()
        day = day - dt.timedelta(days=day.weekday()) if unit == "week" else day.replace(day=1)
        return local_ms(zone, day)

    inside = [c for c in series_clicks() if time_range.start <= c.created_at <= time_range.end]
    assert counted(engine, query, brand_id=SERIES) == sorted(
        Counter(map(local_start, inside)).items()
    )


def test_buckets_combine_with_group_by_and_filters(engine):
    zone, day = "Europe/Berlin", dt.date(2026, 10, 25)
    query = Query(
        filters=(NoneOf("country", ("GB",)),),
        time_range=three_local_days(zone, day),
        time_zone=zone,
        group_by=("country",),
        bucket="day",
    )
    midnights = [local_ms(zone, day + dt.timedelta(days=d)) for d in (-1, 0, 1)]
    assert counted(engine, query, brand_id=SERIES) == [
        (country, midnight, n)
        for midnight, n in zip(midnights, (48, 50, 48), strict=True)
        for country in ("DE", "US")
    ]


# --- the compiler without a database --------------------------------------------------------


def test_edges_of_the_autumn_day_in_berlin_are_25_hours_apart():
    tz = ZoneInfo("Europe/Berlin")
    start = local_ms("Europe/Berlin", dt.date(2026, 10, 24))
    days = edges(start, start + 4 * DAY, "day", tz)
    assert [b - a for a, b in itertools.pairwise(days)] == [24 * HOUR, 25 * HOUR, 24 * HOUR]


def test_edges_start_with_the_bucket_holding_the_start():
    tz = ZoneInfo("America/New_York")
    noon = local_ms("America/New_York", dt.date(2026, 3, 8), 12)
    assert edges(noon, noon, "day", tz) == [local_ms("America/New_York", dt.date(2026, 3, 8))]
    assert edges(noon + 1, noon + HOUR, "hour", tz) == [noon, noon + HOUR]


@pytest.mark.parametrize(
    ("query", "param"),
    [
        (Query(filters=(AnyOf("nope", ("x",)),)), "nope"),
        (Query(filters=(AnyOf("brand_id", (1,)),)), "brand_id"),
        (Query(filters=(Contains("funnel_id", "1"),)), "funnel_id"),
        (Query(filters=(AnyOf("funnel_id", ("1",)),)), "funnel_id"),
        (Query(filters=(AnyOf("funnel_id", (True,)),)), "funnel_id"),
        (Query(filters=(AnyOf("funnel_id", (2**63,)),)), "funnel_id"),
        (Query(filters=(AnyOf("country", ()),)), "country"),
        (Query(filters=(AnyOf("lat", (1.0,)),)), "lat"),
        (Query(filters=(Range("viewport_width", 10, 5),)), "viewport_width"),
        (Query(filters=(Range("viewport_width"),)), "viewport_width"),
        (Query(filters=(Range("lat", float("nan")),)), "lat"),
        (Query(time_zone="Mars/Olympus_Mons"), "time_zone"),
        (Query(time_zone="../../etc/passwd"), "time_zone"),
        (Query(time_zone=""), "time_zone"),
        (Query(group_by=("lat",)), "lat"),
        (Query(group_by=("country", "country")), "group_by"),
        (Query(bucket="day", time_range=TimeRange(0, None)), "end"),
        (Query(bucket="day", time_range=TimeRange(None, 0)), "start"),
        (Query(bucket="fortnight", time_range=TimeRange(0, 1)), "bucket"),
        (Query(bucket="hour", time_range=TimeRange(0, (MAX_BUCKETS + 1) * HOUR)), "bucket"),
        (Query(bucket="day", time_range=TimeRange(-DAY, 0)), "start"),
    ],
)
def test_an_invalid_query_raises_query_error_naming_the_field(query, param):
    for compile_ in (sqlite_sql.count, clickhouse_sql.count):
        with pytest.raises(QueryError) as raised:
            compile_(query, FILTERED)
        assert raised.value.param == param
        assert isinstance(raised.value, ValueError)


def test_values_and_time_zones_are_bound_never_spliced():
    query = Query(
        filters=(AnyOf("sub2", (QUOTED,)), Contains("url", "'%")),
        time_range=TimeRange(0, DAY),
        time_zone="America/New_York",
        bucket="hour",
    )
    for statement in (sqlite_sql.count(query, 1), clickhouse_sql.count(query, 1)):
        assert "O'Brien" not in statement.sql and "New_York" not in statement.sql
        assert "'%" not in statement.sql


@pytest.mark.parametrize(
    ("name", "raw", "expected"),
    [
        ("country", "US", AnyOf("country", ("US",))),
        ("country", "US,GB", AnyOf("country", ("US", "GB"))),
        ("country", "-US", NoneOf("country", ("US",))),
        ("country", "-US,GB", NoneOf("country", ("US", "GB"))),
        ("funnel_id", "3,14", AnyOf("funnel_id", (3, 14))),
        ("is_bot", "-true", NoneOf("is_bot", (True,))),
    ],
)
def test_list_syntax_reads_any_of_and_exclusions(name, raw, expected):
    assert CLICKS.parse(name, raw) == expected


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("country", "US,"),
        ("funnel_id", "x"),
        ("funnel_id", "1e3"),
        ("is_bot", "yes"),
        ("nope", "1"),
    ],
)
def test_list_syntax_refuses_values_of_the_wrong_kind(name, raw):
    with pytest.raises(QueryError) as raised:
        CLICKS.parse(name, raw)
    assert raised.value.param == name
