"""SQLite's rollups (``storage/sqlite/rollups.py``): an aggregate answered from rollups (whole
days; hours for the smallest set) and raw rows (the rest) equals the same aggregate over raw
rows alone, after writes, duplicate writes and deletes, and from the migration's backfill.
Rollups are SQLite's alone (ClickHouse reads raw columns), so these run on SQLite; the answers
of both engines are compared in ``test_query_events.py``."""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from collector.query import sqlite as compile_sqlite
from collector.query.events import CLICK_SOURCE, CONVERSION_SOURCE
from collector.query.model import AnyOf, NoneOf, Query, Related, TimeRange
from collector.storage import open_store
from collector.storage.model import Click, Conversion
from collector.storage.sqlite import SQLiteStore, rollups

HOUR = 3_600_000
T0 = 1_780_272_000_000  # 2026-06-01T00:00:00Z
BRAND = 1
SOURCES = [CLICK_SOURCE, CONVERSION_SOURCE]


def _world(seed: int, n: int) -> tuple[list[Click], list[Conversion]]:
    rnd = random.Random(seed)
    clicks = [
        Click(
            id=f"c{seed}-{i}",
            brand_id=rnd.choice([BRAND, BRAND, 2]),
            session_id=f"s{i}",
            visitor_id="v",
            created_at=T0 + rnd.randrange(48 * HOUR),
            trigger=rnd.choice(["pageview", "link", "qr"]),
            url=rnd.choice(["https://a.example/", "https://a.example/b"]),
            country=rnd.choice(["GB", "US", None]),
            region=rnd.choice(["ENG", "CA", None]),
            continent=rnd.choice(["EU", "NA", None]),
            device_type=rnd.choice(["mobile", "desktop", None]),
            browser=rnd.choice(["Chrome", "Firefox"]),
            utm_source=rnd.choice([None, "news", ""]),
            link_id=rnd.choice([None, "l1", "l2"]),
            is_bot=rnd.random() < 0.1,
        )
        for i in range(n)
    ]
    conversions = [
        Conversion(
            id=f"v{c.id}",
            brand_id=c.brand_id,
            kind=rnd.choice(["lead", "sale"]),
            dedupe_key=f"k{c.id}",
            event_name="x",
            click_id=c.id,
            session_id=c.session_id,
            visitor_id=c.visitor_id,
            customer_external_id="cu",
            amount=rnd.randrange(1, 500),
            currency="EUR",
            created_at=c.created_at + rnd.randrange(3 * HOUR),
            **{name: getattr(c, name) for name in rollups.ANALYTICS[1].dims if name != "is_bot"},
            link_id=c.link_id,
            is_bot=c.is_bot,
        )
        for c in clicks[::7]
    ]
    return clicks, conversions


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteStore]:
    opened = open_store(f"sqlite:///{tmp_path}/rollups.db")
    assert isinstance(opened, SQLiteStore)
    try:
        yield opened
    finally:
        opened.close()


LINKS_ONLY = Query(  # link traffic alone: link_core
    time_range=TimeRange(T0 - 5, T0 + 49 * HOUR),
    group_by=("linkId",),
    filters=(NoneOf("linkId", (None,)), AnyOf("device", ("mobile",)), AnyOf("bot", (True,))),
)
QUERIES = [
    Query(time_range=TimeRange(T0 + 12_345, T0 + 40 * HOUR + 999)),
    Query(
        time_range=TimeRange(T0 - HOUR + 1, T0 + 47 * HOUR),
        group_by=("country",),
        filters=(AnyOf("bot", (False,)), AnyOf("device", ("mobile", None))),
    ),
    Query(
        time_range=TimeRange(T0, T0 + 50 * HOUR),
        group_by=("region",),
        bucket="day",
    ),
    # New York's days start between UTC days: the hourly rollup of the smallest set
    Query(time_range=TimeRange(T0, T0 + 50 * HOUR), bucket="day", time_zone="America/New_York"),
    Query(
        time_range=TimeRange(T0 + 7, T0 + 30 * HOUR),
        group_by=("linkId", "trigger"),
        filters=(NoneOf("linkId", (None,)),),
    ),
    Query(time_range=TimeRange(T0, T0 + 47 * HOUR), group_by=("utm_source",)),
    LINKS_ONLY,
    Query(time_range=TimeRange(T0, T0 + 48 * HOUR - 1), group_by=("url",), bucket="day"),
    Query(time_range=TimeRange(T0 + 7, T0 + 47 * HOUR - 1), bucket="hour"),  # link, hourly
]


def _raw(store: SQLiteStore, query: Query) -> list[tuple[object, ...]]:
    statement = compile_sqlite.aggregate(query, BRAND, SOURCES, 0, None)
    return [tuple(row) for row in store._all(statement.sql, statement.params)]


def _write(store: SQLiteStore, clicks: list[Click], conversions: list[Conversion]) -> None:
    for start in range(0, len(clicks), 97):
        batch = clicks[start : start + 97]
        ids = {c.id for c in batch}
        store.write_batch(batch, [], conversions=[v for v in conversions if v.click_id in ids])


@pytest.mark.parametrize("query", QUERIES, ids=range(len(QUERIES)))
def test_a_rollup_answers_what_the_raw_rows_answer(store: SQLiteStore, query: Query) -> None:
    clicks, conversions = _world(1, 2000)
    _write(store, clicks, conversions)
    _write(store, clicks[:300], conversions[:40])  # written again: stored once, counted once
    assert rollups.plan(query, SOURCES) is not None
    assert store.aggregate(BRAND, query, SOURCES, 0, None) == _raw(store, query)


def test_deleted_rows_leave_the_rollups(store: SQLiteStore) -> None:
    clicks, conversions = _world(2, 1500)
    _write(store, clicks, conversions)
    with store._write() as conn:
        conn.execute("DELETE FROM clicks WHERE rowid % 3 = 0")
        conn.execute("DELETE FROM conversions WHERE rowid % 2 = 0")
    for query in QUERIES:
        assert store.aggregate(BRAND, query, SOURCES, 0, None) == _raw(store, query)


def test_the_migration_fills_the_rollups_from_stored_rows(store: SQLiteStore) -> None:
    clicks, conversions = _world(3, 800)
    _write(store, clicks, conversions)
    with store._write() as conn:
        for rollup in rollups.ANALYTICS:
            conn.execute(f"DELETE FROM {rollup.table}")
            for table, measures in (
                ("clicks", rollups.CLICK_SQL),
                ("conversions", rollups.CONVERSION_SQL),
            ):
                conn.execute(rollups.backfill_sql(rollup, table, measures))
    for query in QUERIES:
        assert store.aggregate(BRAND, query, SOURCES, 0, None) == _raw(store, query)


def test_a_query_about_links_reads_the_rollup_of_link_traffic() -> None:
    planned = rollups.plan(LINKS_ONLY, SOURCES)
    assert planned is not None
    assert "rollup_link_core_days" in {s.fields.table for s in planned}


def test_queries_no_rollup_can_answer_read_raw_rows() -> None:
    whole_range = TimeRange(T0, T0 + 47 * HOUR)
    kolkata = Query(time_range=whole_range, bucket="hour", time_zone="Asia/Kolkata")
    no_start = Query(time_range=TimeRange(None, T0))
    not_in_one = Query(time_range=whole_range, group_by=("refererUrl",))
    # link and device together are held only by the rollup of link traffic: not for all rows
    all_traffic = Query(time_range=whole_range, group_by=("linkId", "device"))
    sale_type = Related("id", "conversions", "clickId", (AnyOf("saleType", ("new",)),))
    for query in (kolkata, no_start, not_in_one, all_traffic):
        assert rollups.plan(query, SOURCES) is None
    narrowed = [CLICK_SOURCE._replace(filters=(sale_type,)), CONVERSION_SOURCE]
    assert rollups.plan(Query(time_range=whole_range), narrowed) is None


def test_a_range_is_covered_by_whole_days_then_whole_hours_then_raw_rows() -> None:
    day = 24 * HOUR
    start, end = T0 - 90 * 60_000 - 5, T0 + 2 * day + 3 * HOUR + 17
    pieces = rollups.cover(start, end, rollups.GRAINS)
    assert pieces == [
        (None, start, T0 - HOUR - 1),
        (HOUR, T0 - HOUR, T0 - 1),
        (day, T0, T0 + 2 * day - 1),
        (HOUR, T0 + 2 * day, T0 + 2 * day + 3 * HOUR - 1),
        (None, T0 + 2 * day + 3 * HOUR, end),
    ]
    # contiguous, in order, nothing left out
    assert all(a[2] + 1 == b[1] for a, b in itertools.pairwise(pieces))
    assert rollups.cover(T0 + 5, T0 + 9, rollups.GRAINS) == [(None, T0 + 5, T0 + 9)]
