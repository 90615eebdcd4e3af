"""A plain Python evaluation of compiler queries over the events registries
(``collector/query/events.py``), and the same questions asked of a store, for
``tests/test_query_events.py``.

The Python side reads the rows as they were written (clicks, conversions with the sale types the
store gives them, the last version of each link) and follows the documented meaning of each
filter, independently of the SQL: a :class:`Related` filter is "the field's value is the key of
a matching row of the same brand", a list field's ``AnyOf`` is "the list holds one of the
values", ``HasValue`` compares JSON values (``5`` is the number, ``"5"`` the string), a joined
field is ``None`` when any of its parts is.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import string
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

import msgspec

from collector.query.events import (
    CLICK_EVENTS,
    CLICK_SOURCE,
    CONVERSION_EVENTS,
    CONVERSION_SOURCE,
    LINKS,
)
from collector.query.fields import Field, Fields, Source
from collector.query.model import (
    AnyOf,
    BucketUnit,
    Condition,
    Contains,
    Count,
    Filter,
    HasValue,
    Measure,
    NoneOf,
    Query,
    Range,
    Related,
    Sum,
    TimeRange,
)
from collector.storage.base import Store
from collector.storage.model import CLICK_FACTS, Click, Conversion, ShortLink
from collector.storage.rows import json_text

Row = Any  # a Click, a Conversion or a ShortLink
Predicate = Callable[[Row], bool]
MINUTE_MS = 60_000
HOUR_MS = 3_600_000
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


class World(NamedTuple):
    """One brand's rows, as stored."""

    clicks: list[Click]
    conversions: list[Conversion]
    links: list[ShortLink]

    def rows(self, fields: Fields) -> list[Row]:
        tables: dict[str, list[Any]] = {
            "clicks": self.clicks,
            "conversions": self.conversions,
            "links": self.links,
        }
        return tables[fields.table]


def world_of(
    brand_id: int, clicks: list[Click], conversions: list[Conversion], links: list[ShortLink]
) -> World:
    """The brand's rows: conversions with their sale types, links in their last version."""
    last: dict[str, ShortLink] = {}
    for link in links:
        if link.brand_id == brand_id:
            last[link.id] = link
    return World(
        [c for c in clicks if c.brand_id == brand_id],
        [c for c in with_sale_types(conversions) if c.brand_id == brand_id],
        list(last.values()),
    )


def with_sale_types(conversions: list[Conversion]) -> list[Conversion]:
    """The conversions as a store keeps them: a customer's first sale ``new``, later ones
    ``recurring`` (in the order written)."""
    sold: set[tuple[int, str]] = set()
    kept = []
    for conversion in conversions:
        if conversion.kind == "sale":
            customer = (conversion.brand_id, conversion.customer_external_id)
            sale_type = "recurring" if customer in sold else "new"
            sold.add(customer)
            conversion = msgspec.structs.replace(conversion, sale_type=sale_type)
        kept.append(conversion)
    return kept


def conversion_of(click: Click, conversion_id: str, kind: str, **own: Any) -> Conversion:
    """A lead or a sale of ``click`` (at its time unless ``created_at`` says), carrying its facts
    (CLICK_FACTS) and link; ``own`` sets any other field."""
    facts = {name: getattr(click, name) for name in CLICK_FACTS}
    own = {
        "dedupe_key": conversion_id,
        "event_name": "Purchase" if kind == "sale" else "Sign up",
        "customer_external_id": "c",
        "created_at": click.created_at,
        **own,
    }
    return Conversion(
        id=conversion_id,
        kind=kind,
        brand_id=click.brand_id,
        click_id=click.id,
        session_id=click.session_id,
        visitor_id=click.visitor_id,
        link_id=click.link_id,
        **facts,
        **own,
    )


def click(click_id: str, brand_id: int, created_at: int, **facts: Any) -> Click:
    """A click of a session "s" of visitor "v"."""
    return Click(
        id=click_id,
        brand_id=brand_id,
        session_id="s",
        visitor_id="v",
        created_at=created_at,
        **facts,
    )


# --- the value of a field, and filters as predicates -------------------------------------------


def value_of(row: Row, field: Field) -> Any:
    if field.joined:
        parts = [getattr(row, column) for column in field.joined]
        return None if any(part is None for part in parts) else "-".join(parts)
    value = getattr(row, field.column)
    return json_text(value) if field.kind == "json" else value


def same_json(a: Any, b: Any) -> bool:
    """Equal as JSON values: numbers by value, a bool only equal to the same bool, arrays and
    objects by their text."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, (list, dict)) or isinstance(b, (list, dict)):
        return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)
    return type(a) is type(b) and a == b


def _has_value(text: str, key: str, values: Iterable[str]) -> bool:
    try:
        document = json.loads(text)
    except ValueError:
        return False
    if not isinstance(document, dict) or key not in document:
        return False
    held = document[key]
    return any(same_json(held, json.loads(value)) for value in values)


def _contains(value: Any, text: str) -> bool:
    return value is not None and text.translate(_ASCII_LOWER) in value.translate(_ASCII_LOWER)


def _in_range(value: Any, low: Any, high: Any) -> bool:
    return value is not None and (low is None or value >= low) and (high is None or value <= high)


def predicate(filter_: Filter, fields: Fields, world: World) -> Predicate:
    """A Python test of one filter on a row of ``fields``."""
    if isinstance(filter_, Related):
        target = fields.related[filter_.entity]
        inner = [predicate(f, target, world) for f in filter_.filters]
        key = target[filter_.key]
        keys = {value_of(r, key) for r in world.rows(target) if all(p(r) for p in inner)}
        keys.discard(None)  # a missing value is no row's key
        field = fields[filter_.field]
        return lambda row: value_of(row, field) in keys
    field = fields[filter_.field]
    if isinstance(filter_, HasValue):
        return lambda row: _has_value(value_of(row, field), filter_.key, filter_.values)
    if isinstance(filter_, Contains):
        return lambda row: _contains(value_of(row, field), filter_.text)
    if isinstance(filter_, Range):
        return lambda row: _in_range(value_of(row, field), filter_.minimum, filter_.maximum)
    wanted = filter_.values
    if field.kind == "list":
        holds_one = isinstance(filter_, AnyOf)
        return lambda row: _holds_one(value_of(row, field), wanted) == holds_one
    if isinstance(filter_, AnyOf):
        return lambda row: _member(value_of(row, field), wanted)
    assert isinstance(filter_, NoneOf)
    return lambda row: not _member(value_of(row, field), wanted)


def _holds_one(listed: Any, values: tuple[Any, ...]) -> bool:
    """A JSON array holds one of ``values`` (anything else holds none)."""
    return isinstance(listed, list) and any(v in listed for v in values if v is not None)


def _member(value: Any, values: tuple[Any, ...]) -> bool:
    """``value`` is one of ``values`` (``True`` is not ``1``)."""
    return any(value is v if v is None or isinstance(v, bool) else value == v for v in values)


def select(world: World, query: Query, fields: Fields) -> list[Row]:
    """The rows of ``fields`` matching the query's filters and time range."""
    tests = [predicate(f, fields, world) for f in query.filters]
    start, end = query.time_range.start, query.time_range.end
    time = fields.time
    if start is not None or end is not None:
        assert time is not None
        tests.append(lambda row: _in_range(value_of(row, time), start, end))
    return [row for row in world.rows(fields) if all(test(row) for test in tests)]


# --- aggregates and pages -----------------------------------------------------------------------


def _wall(ms: int, tz: ZoneInfo) -> dt.datetime:
    return dt.datetime.fromtimestamp(ms / 1000, tz)


def _hour_start(ms: int, tz: ZoneInfo) -> int:
    """The last instant at or before ``ms`` at which the wall clock showed a full hour, or
    jumped into the hour it shows without showing its start (Lord Howe's half-hour DST)."""
    offset = _wall(ms, tz).utcoffset()
    if _wall(ms - 2 * HOUR_MS, tz).utcoffset() == offset:  # no change of offset nearby
        return ms - (ms + int(offset.total_seconds()) * 1000) % HOUR_MS  # type: ignore[union-attr]
    instant = ms - ms % MINUTE_MS
    while True:
        wall, before = _wall(instant, tz), _wall(instant - MINUTE_MS, tz)
        if wall.minute == 0 or (wall.date(), wall.hour) != (before.date(), before.hour):
            return instant
        instant -= MINUTE_MS


def bucket_start(ms: int, unit: str, zone: str) -> int:
    """The start (ms) of the local ``unit`` holding ``ms``, from the wall clock alone: a full
    hour, or the first instant of the local date, its week's Monday or its month's first."""
    tz = ZoneInfo(zone)
    if unit == "hour":
        return _hour_start(ms, tz)
    day = _wall(ms, tz).date()
    if unit == "week":
        day -= dt.timedelta(days=day.weekday())
    elif unit == "month":
        day = day.replace(day=1)
    # a midnight the clock skips (fold 0 of a gap) is the instant of the jump
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=tz).timestamp()) * 1000


def _measure(measure: Measure, fields: Fields, world: World) -> Callable[[Row], int]:
    if measure is None:
        return lambda row: 0
    when = predicate(measure.when, fields, world) if measure.when else (lambda row: True)
    if isinstance(measure, Count):
        return lambda row: int(when(row))
    assert isinstance(measure, Sum)
    field = fields[measure.field]
    return lambda row: (value_of(row, field) or 0) if when(row) else 0


def _group_key(row: Row, query: Query, fields: Fields) -> tuple[Any, ...]:
    key = tuple(value_of(row, fields[name]) for name in query.group_by)
    if query.bucket is None:
        return key
    time = value_of(row, fields.time_field())
    return (*key, bucket_start(time, query.bucket, query.time_zone))


def python_aggregate(
    world: World,
    query: Query,
    sources: list[Source],
    order: int | None = None,
    limit: int | None = None,
) -> list[tuple[Any, ...]]:
    """What ``aggregate`` answers: keys, bucket, then the measures added up over the sources;
    ordered by bucket, the largest ``m{order}``, then the keys (None first)."""
    width = len(sources[0].measures)
    totals: dict[tuple[Any, ...], list[int]] = {}
    for source in sources:
        measures = [_measure(m, source.fields, world) for m in source.measures]
        for row in select(world, source.narrowed(query), source.fields):
            sums = totals.setdefault(_group_key(row, query, source.fields), [0] * width)
            for i, measure in enumerate(measures):
                sums[i] += measure(row)
    if not query.group_by and query.bucket is None:
        return [tuple(totals.get((), [0] * width))]
    keys = len(query.group_by)

    def rank(item: tuple[tuple[Any, ...], list[int]]) -> tuple[Any, ...]:
        key, sums = item
        bucket = [key[keys]] if query.bucket else []
        largest = [-sums[order]] if order is not None else []
        return (*bucket, *largest, *((v is not None, v) for v in key[:keys]))

    rows = [(*key, *sums) for key, sums in sorted(totals.items(), key=rank)]
    return rows if limit is None else rows[:limit]


def python_page(
    world: World, query: Query, fields: Fields, descending: bool, limit: int, offset: int
) -> list[str]:
    """Ids of one page of the matching rows by (time, id)."""
    rows = sorted(select(world, query, fields), key=lambda row: (row.created_at, row.id))
    if descending:
        rows.reverse()
    return [row.id for row in rows[offset : offset + limit]]


# --- the same questions asked of a store ---------------------------------------------------------


def store_aggregate(
    store: Store,
    brand_id: int,
    query: Query,
    sources: list[Source],
    order: int | None = None,
    limit: int | None = None,
) -> list[tuple[Any, ...]]:
    """The store's aggregate rows, bool keys as bools and measures as ints on both engines."""
    fields = sources[0].fields
    bools = {i for i, name in enumerate(query.group_by) if fields[name].kind == "bool"}
    keys = len(query.group_by) + (1 if query.bucket else 0)
    return [
        tuple(
            (bool(v) if i in bools and v is not None else v) if i < keys else int(v)
            for i, v in enumerate(row)
        )
        for row in store.aggregate(brand_id, query, sources, order, limit)
    ]


def store_page(
    store: Store,
    brand_id: int,
    query: Query,
    fields: Fields,
    descending: bool,
    limit: int,
    offset: int,
) -> list[str]:
    """Ids of one page of clicks or conversions (as ``fields`` names them)."""
    read = store.page_clicks if fields.table == "clicks" else store.page_conversions
    return [row.id for row in read(brand_id, query, descending, limit, offset)]


# --- generated rows and queries (the differential test) ----------------------------------------

RANDOM_BRAND = 33
R0 = 1_772_323_200_000  # 2026-03-01T00:00:00Z: 40 days over the DST changes of New York and
SPAN = 40 * 86_400_000  # St John's (8 March), Berlin (29 March) and Santiago (5 April, at 0:00)
ZONES = tuple(
    [
        "UTC",
        "Asia/Kolkata",
        "America/New_York",
        "Europe/Berlin",
        "Asia/Kathmandu",
        "America/Santiago",
        "America/St_Johns",
    ]
)
_POOLS: dict[str, list[Any]] = {
    "trigger": ["link", "qr", "pageview"],
    "url": [
        "https://shop.example/a",
        "https://shop.example/SALE/50%_off",
        "https://shop.example/Ünïcode",
        "https://x.example/a\\b",
    ],
    "country": ["US", "GB", "DE", "IN", None],
    "region": ["ENG", "CA", "NY", "01", None],
    "city": ["London", "Zürich", "New York", None],
    "continent": ["EU", "NA", "AS", None],
    "device_type": ["desktop", "mobile", "tablet", None],
    "browser": ["Chrome", "Firefox", "Safari", None],
    "os": ["Windows", "macOS", "iOS", None],
    "referrer": ["https://google.com/search?q=a", "https://t.co/x", None],
    "referrer_host": ["google.com", "t.co", None],
    "utm_source": ["news", "ads", None],
    "utm_medium": ["email", "cpc", None],
    "utm_campaign": ["spring_sale", "Spring%", None],
    "utm_term": ["shoes", None],
    "utm_content": ["a", "b", None],
}
_META_KEYS = ("plan", "seats", "flag", "ref", "n")
_META_TEXTS = ["pro", "free", "Pro", "ünï", "a/b", "5"]
_META_VALUES: list[Any] = [*_META_TEXTS, 0, 5, 12, -3, True, False, None, {"a": 1}, [1, "x"]]
_TAGS = ("a", "b", "c", "Sale")
_UNITS: tuple[BucketUnit, ...] = ("hour", "day", "week", "month")


def random_links(rng: random.Random) -> tuple[list[ShortLink], list[ShortLink]]:
    """30 links of the brand, and later versions of some (moved to another folder, deleted)."""
    links = [
        ShortLink(
            id=f"rl{i:02d}",
            brand_id=RANDOM_BRAND,
            domain=rng.choice(["go.example", "short.example", ""]),
            code=f"r{i:02d}",
            destination_url="https://shop.example/",
            base_url="https://go.example",
            tags=None if rng.random() < 0.1 else rng.sample(_TAGS, rng.randrange(4)),
            folder=rng.choice([None, "f1", "f2", "f3"]),
            group_id=rng.choice([None, "g1", "g2"]),
            partner_id=rng.choice([None, "p1", "p2"]),
            external_id=rng.choice([None, f"x{i % 5}"]),
            tenant_id=rng.choice([None, "t1"]),
            created_at=R0,
            updated_at=R0,
        )
        for i in range(30)
    ]
    updates = [
        msgspec.structs.replace(item, folder="f9", deleted=i % 2 == 0, updated_at=R0 + 1)
        for i, item in enumerate(rng.sample(links, 8))
    ]
    return links, updates


def random_clicks(rng: random.Random, link_ids: list[str]) -> list[Click]:
    times = [R0 + rng.randrange(0, SPAN, 60_000) for _ in range(3000)]
    clicks = []
    for n, created_at in enumerate(times):
        facts = {column: rng.choice(pool) for column, pool in _POOLS.items()}
        roll = rng.random()
        clicks.append(
            Click(
                id=f"rk{rng.randrange(10**6):06d}-{n}",
                brand_id=RANDOM_BRAND,
                session_id=f"rs{n // 5}",
                visitor_id=f"rv{n % 97}",
                created_at=rng.choice(times[:n]) if n and roll < 0.1 else created_at,
                link_id=None if roll < 0.5 else rng.choice([*link_ids, "rl-gone"]),
                is_bot=rng.random() < 0.1,
                **facts,
            )
        )
    return clicks


def random_metadata(rng: random.Random) -> Any:
    if rng.random() < 0.05:
        return rng.choice([["plan"], "plan", 5])
    keys = rng.sample(_META_KEYS, rng.randrange(4))
    return {key: rng.choice(_META_VALUES) for key in keys}


def random_conversions(rng: random.Random, clicks: list[Click]) -> list[Conversion]:
    conversions = []
    for k in range(300):
        sale = rng.random() < 0.6
        clicked = rng.choice(clicks)
        conversions.append(
            conversion_of(
                clicked,
                f"rc{k:03d}",
                "sale" if sale else "lead",
                customer_external_id=f"rcust{rng.randrange(40)}",
                amount=(None if rng.random() < 0.1 else rng.randrange(10_000)) if sale else None,
                metadata=random_metadata(rng),
                created_at=clicked.created_at + rng.randrange(0, 3_600_000),
            )
        )
    return conversions


class Case(NamedTuple):
    """One generated question: an aggregate, and a page of clicks or conversions."""

    query: Query
    sources: list[Source]
    order: int | None
    limit: int | None
    page_fields: Fields
    page_query: Query
    page: tuple[bool, int, int]  # descending, limit, offset


class Generator:
    """Random filters over the values the brand's rows hold (and a few they do not)."""

    def __init__(self, rng: random.Random, world: World) -> None:
        self.rng = rng
        self.world = world
        self.times = sorted({c.created_at for c in world.clicks})
        self.shared = [f.name for f in CLICK_EVENTS.by_name.values() if f.kind in ("text", "bool")]
        self.shared.remove("id")

    def values(self, fields: Fields, name: str, most: int) -> tuple[Any, ...]:
        """1 to ``most`` values the rows hold; sometimes None, or a value none holds."""
        held = sorted({value_of(r, fields[name]) for r in self.world.rows(fields)}, key=repr)
        chosen = self.rng.sample(held, min(len(held), self.rng.randint(1, most)))
        if self.rng.random() < 0.2:
            chosen.append(None)
        if self.rng.random() < 0.1 and fields[name].kind == "text":
            chosen.append("zz-not-there")
        return tuple(chosen or [None])

    def condition(self, fields: Fields, names: list[str]) -> Condition:
        name = self.rng.choice(names)
        kind = fields[name].kind
        if kind == "text" and self.rng.random() < 0.2:
            text = str(self.rng.choice([v for v in self.values(fields, name, 3) if v] or ["a"]))
            start = self.rng.randrange(len(text))
            part = text[start : start + self.rng.randrange(1, 6)]
            return Contains(name, part.upper() if self.rng.random() < 0.3 else part)
        if kind == "list":
            listed = tuple(self.rng.sample([*_TAGS, "z"], self.rng.randrange(1, 3)))
            return AnyOf(name, listed) if self.rng.random() < 0.5 else NoneOf(name, listed)
        if self.rng.random() < 0.6:
            return AnyOf(name, self.values(fields, name, 3))
        return NoneOf(name, self.values(fields, name, 1))

    def link_filter(self) -> Related:
        names = [n for n in LINKS.by_name if n != "id"]
        conditions = tuple(self.condition(LINKS, names) for _ in range(self.rng.randrange(1, 3)))
        return Related("linkId", "links", "id", conditions)

    def conversion_condition(self) -> Condition:
        roll = self.rng.random()
        if roll < 0.35:
            key = self.rng.choice([*_META_KEYS, "missing"])
            held = self.rng.sample(_META_VALUES, self.rng.randrange(1, 3))
            texts = [json_text(v) for v in held]
            if self.rng.random() < 0.3:  # as the API reads seats:5: the number or the text
                texts += ["5", '"5"']
            return HasValue("metadata", key, tuple(texts))
        if roll < 0.45:
            return Contains("metadata", self.rng.choice(["pro", "PRO", '"plan"', "ünï", ":5"]))
        if roll < 0.55:
            return Range("amount", self.rng.randrange(5000), self.rng.choice([None, 9000]))
        names = ["customerId", "saleType", "kind"]
        return self.condition(CONVERSION_EVENTS, names)

    def time_range(self) -> TimeRange:
        ends = sorted(self.rng.sample(self.times, 2))
        ends = [t + self.rng.choice([0, 0, -1, 1]) for t in ends]
        choice = self.rng.randrange(16)
        if choice == 0:
            return TimeRange()
        if choice == 1:
            return TimeRange(ends[0], None)
        if choice == 2:
            return TimeRange(None, ends[1])
        if choice == 3:
            return TimeRange(ends[1], ends[0])  # ends before it starts
        return TimeRange(ends[0], ends[1])

    def case(self) -> Case:
        rng = self.rng
        shared: list[Filter] = [
            self.condition(CLICK_EVENTS, self.shared) for _ in range(rng.choice([0, 1, 1, 2]))
        ]
        if rng.random() < 0.3:
            shared.append(self.link_filter())
        conversion = tuple(
            self.conversion_condition() for _ in range(rng.choice([0, 0, 0, 0, 1, 2]))
        )
        time_range = self.time_range()
        bucketed = time_range.start is not None and time_range.end is not None
        bucket = rng.choice(_UNITS) if bucketed and rng.random() < 0.4 else None
        query = Query(
            filters=tuple(shared),
            time_range=time_range,
            time_zone=rng.choice(ZONES),
            group_by=tuple(rng.sample(self.shared, rng.choice([0, 1, 1, 2]))),
            bucket=bucket,
        )
        clicks = (Related("id", "conversions", "clickId", conversion),) if conversion else ()
        sources = [
            CLICK_SOURCE._replace(filters=clicks),
            CONVERSION_SOURCE._replace(filters=conversion),
        ]
        on_clicks = rng.random() < 0.6
        page_filters = (*shared, *(clicks if on_clicks else conversion))
        return Case(
            query,
            sources,
            rng.choice([None, 0, 1, 2, 3]),
            rng.choice([None, None, rng.randrange(1, 7)]),
            CLICK_EVENTS if on_clicks else CONVERSION_EVENTS,
            Query(filters=page_filters, time_range=time_range),
            (rng.random() < 0.5, rng.randrange(1, 41), rng.choice([0, 0, rng.randrange(200)])),
        )
