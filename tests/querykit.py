"""A plain Python evaluation of compiler queries over the events registries
(``collector/query/events.py``), and the same questions asked of a store, for
``tests/test_query_events.py``.

The Python side reads the rows as they were written (clicks, conversions with the sale types the
store gives them, the last version of each link) and follows the documented meaning of each
filter, independently of the SQL: a :class:`Related` filter is "the field's value is the key of
a matching row of the same brand", a list field's ``AnyOf`` is "the list holds one of the
values", ``HasValue`` compares a top-level key's JSON value with typed scalars by JSON type and
value (5 is the number 5 or 5.0, "5" the string, True a boolean and not 1, None a null held
at the key), a joined field is ``None`` when any of its parts is, and a link's ``domain`` is
the one its JSON shows (its short domain, else the host of the URL it was made on).

The random rows and queries of the differential test are in ``tests/querygen.py``.
"""

from __future__ import annotations

import datetime as dt
import json
import string
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

import msgspec

from collector.query.fields import Field, Fields, Source
from collector.query.model import (
    AnyOf,
    Contains,
    Count,
    Filter,
    HasValue,
    JsonValue,
    Measure,
    NoneOf,
    Query,
    Range,
    Related,
    Sum,
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
    if field.host_of and value == "":  # a link without a short domain shows its URL's host
        return shown_host(getattr(row, field.host_of))
    return json_text(value) if field.kind == "json" else value


def shown_host(url: str) -> str:
    """What a link's JSON shows as the domain of ``url`` (its base URL): all after ``://``."""
    return url.split("://", 1)[-1]


def json_kind(value: Any) -> str:
    """The JSON type of a decoded JSON value: null, boolean, number, string or other (an array
    or an object)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    return "string" if isinstance(value, str) else "other"


def same_json(held: Any, wanted: JsonValue) -> bool:
    """The decoded JSON value ``held`` is the scalar ``wanted``: the same JSON type and value
    (5 is 5.0; "5" is not 5, True not 1, None only a null; an array or object is nothing)."""
    kind = json_kind(held)
    return kind != "other" and kind == json_kind(wanted) and held == wanted


def _has_value(text: str, key: str, values: Iterable[JsonValue]) -> bool:
    try:
        document = json.loads(text)
    except ValueError:
        return False
    if not isinstance(document, dict) or key not in document:
        return False
    return any(same_json(document[key], value) for value in values)


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
