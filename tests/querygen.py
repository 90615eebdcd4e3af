"""Random rows and queries for the differential test of ``tests/test_query_events.py``: one
brand's links, clicks and conversions over 40 days of DST changes, and queries over the values
they hold (and a few they do not), answered by both engines and by ``tests/querykit.py``.

Metadata holds strings, numbers (ints and floats: 5 and 5.0), booleans, nulls, nested values
and, for a few conversions, JSON text as a client may send it (``\\u00fc`` and ``\\/`` escapes,
``5.0``, ``1e2``); ``HasValue`` asks for typed scalars (a str, an int or float, a bool, None),
sometimes as the API reads ``seats:5``: the text "5" or the number 5.
"""

from __future__ import annotations

import random
from typing import Any, NamedTuple

import msgspec

from collector.query.events import (
    CLICK_EVENTS,
    CLICK_SOURCE,
    CONVERSION_EVENTS,
    CONVERSION_SOURCE,
    LINKS,
)
from collector.query.fields import Fields, Source
from collector.query.model import (
    AnyOf,
    BucketUnit,
    Condition,
    Contains,
    Filter,
    HasValue,
    JsonValue,
    NoneOf,
    Query,
    Range,
    Related,
    TimeRange,
)
from collector.storage.model import Click, Conversion, ShortLink
from tests.querykit import World, conversion_of, value_of

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
# what HasValue may ask for: texts (some spelling a number or a literal), numbers, literals
_META_SCALARS: list[JsonValue] = ["pro", "free", "Pro", "ünï", "a/b", "5", "true", "null", ""]
_META_SCALARS += [0, 5, 5.0, 12, -3, 2.5, 100, True, False, None]
_META_VALUES: list[Any] = [*_META_SCALARS, {"a": 1}, [1, "x"], {"seats": 5}]
# metadata as a client may write it, stored as sent by write_batch (the API re-encodes it)
_META_RAW = [
    b'{"plan":"\\u00fcn\\u00ef","ref":"a\\/b","seats":5.0}',
    b'{"n":1e2,"seats":-3.0,"flag":true,"plan":"Pro"}',
    b'{"ref":"\\u0035","n":null,"seats":"5"}',
]
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
            base_url=rng.choice(["https://go.example", "http://127.0.0.1:8080"]),
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
    roll = rng.random()
    if roll < 0.05:
        return rng.choice([["plan"], "plan", 5])
    if roll < 0.12:
        return msgspec.Raw(rng.choice(_META_RAW))
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


def random_rows() -> tuple[list[Click], list[Conversion], list[ShortLink]]:
    """The brand's clicks, conversions and links (the same each call)."""
    rng = random.Random(20260301)
    links, _ = random_links(rng)
    clicks = random_clicks(rng, [item.id for item in links])
    return clicks, random_conversions(rng, clicks), links


def random_link_updates() -> list[ShortLink]:
    """The later versions of some of ``random_rows``'s links."""
    return random_links(random.Random(20260301))[1]


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
            wanted = self.rng.sample(_META_SCALARS, self.rng.randrange(1, 3))
            if self.rng.random() < 0.3:  # as the API reads seats:5: the text or the number
                wanted += ["5", 5]
            return HasValue("metadata", key, tuple(wanted))
        if roll < 0.45:
            texts = ["pro", "PRO", '"plan"', "ünï", ":5", "\\u00fc", "5.0"]
            return Contains("metadata", self.rng.choice(texts))
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
