"""The registry of an entity's fields that a query may filter or group by, and the checks that
run before any SQL is written.

A :class:`Fields` maps each public field name to its column and *kind*. The kind decides which
filters apply and how values bind:

=====  ==============================  =========
kind   filters                         group by
=====  ==============================  =========
text   AnyOf, NoneOf, Contains         yes
int    AnyOf, NoneOf, Range            yes
bool   AnyOf, NoneOf                   yes
float  Range                           no
time   Range (and the time range)      no (use a bucket)
json   Contains, HasValue              no
list   AnyOf, NoneOf (list membership) no
=====  ==============================  =========

A field is a column, or (``joined``) several text columns joined with ``-`` (an ISO 3166-2
region code is the country and the subdivision: ``GB-ENG``); NULL when any of them is. A
registry may name the registries a :class:`~collector.query.model.Related` filter may reach
(``related``); ``final`` marks a ClickHouse table read with ``FINAL`` (a ReplacingMergeTree).

:data:`CLICKS` is read from the columns :class:`~collector.storage.model.Click` declares
(``storage/columns.py``), so a new click field is filterable as soon as it is declared.
Column names in SQL only ever come from a registry.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

import msgspec

from collector.storage.columns import columns
from collector.storage.model import Click

from . import buckets
from .model import (
    BUCKET_UNITS,
    AnyOf,
    Contains,
    Count,
    Filter,
    HasValue,
    Measure,
    NoneOf,
    Query,
    QueryError,
    Range,
    Related,
    Sum,
)

MAX_VALUES = 100  # values of one AnyOf / NoneOf
MAX_GROUP_BY = 4
_INT64 = (-(2**63), 2**63 - 1)
MAX_KEY = 64  # characters of a HasValue key
_FILTERS: dict[str, tuple[type, ...]] = {
    "text": (AnyOf, NoneOf, Contains),
    "int": (AnyOf, NoneOf, Range),
    "bool": (AnyOf, NoneOf),
    "float": (Range,),
    "time": (Range,),
    "json": (Contains, HasValue),
    "list": (AnyOf, NoneOf),
}
_GROUPABLE = ("text", "int", "bool")


class Field(NamedTuple):
    name: str  # as a query names it
    column: str  # as the table names it ("" for a joined field)
    kind: str  # a column kind (storage/columns.py), or "list"
    nullable: bool
    joined: tuple[str, ...] = ()  # text columns joined with "-" instead of one column
    # text stored with NULL as '' and '' as U+001F (a key column cannot be NULL: the rollups)
    encoded_null: bool = False
    # where the column is '', the host of this column's URL instead (a link's shown domain)
    host_of: str = ""


class Fields:
    """An entity's queryable fields: its table, the time column of its time range and buckets,
    every field by name, and the registries a :class:`Related` filter may reach by name."""

    def __init__(
        self,
        table: str,
        time: str | None,
        fields: list[Field],
        related: dict[str, Fields] | None = None,
        final: bool = False,
    ) -> None:
        self.table = table
        self.by_name = {field.name: field for field in fields}
        self.time = self.by_name[time] if time else None
        self.related = related or {}
        self.final = final

    def time_field(self) -> Field:
        """The field time ranges and buckets apply to; :class:`QueryError` without one."""
        if self.time is None:
            raise QueryError(f"{self.table} has no time to range over", param="start")
        return self.time

    def __getitem__(self, name: str) -> Field:
        field = self.by_name.get(name) if isinstance(name, str) else None
        if field is None:
            raise QueryError(f"unknown field {str(name)[:40]!r}", param=str(name)[:40])
        return field

    def check(self, query: Query) -> ZoneInfo:
        """Raise :class:`QueryError` (naming the field) unless every part of ``query`` is valid
        for these fields; returns the query's time zone."""
        tz = buckets.zone(query.time_zone)
        for filter_ in query.filters:
            self._check_filter(filter_)
        start, end = query.time_range.start, query.time_range.end
        if start is not None or end is not None or query.bucket is not None:
            self.time_field()
        for name, ms in (("start", start), ("end", end)):
            if ms is not None and not _is_int64(ms):
                raise QueryError(f"`{name}` must be an integer of ms", param=name)
        if len(query.group_by) > MAX_GROUP_BY or len(set(query.group_by)) < len(query.group_by):
            raise QueryError(f"group by up to {MAX_GROUP_BY} distinct fields", param="group_by")
        for name in query.group_by:
            if self[name].kind not in _GROUPABLE:
                raise QueryError(f"cannot group by {name!r}", param=name)
        if query.bucket is not None:
            if query.bucket not in BUCKET_UNITS:
                raise QueryError(
                    f"`bucket` must be one of {', '.join(BUCKET_UNITS)}", param="bucket"
                )
            buckets.check_range(start, end, query.bucket)
        return tz

    def parse(self, name: str, raw: str) -> AnyOf | NoneOf:
        """A filter in the list syntax of the events API (seed 02): ``a`` (equals ``a``),
        ``a,b`` (any of), ``-a`` or ``-a,b`` (none of). Values convert to the field's kind:
        ASCII digits for an int, ``true`` / ``false`` for a bool."""
        field = self[name]
        exclude = raw.startswith("-")
        items = raw[1:].split(",") if exclude else raw.split(",")
        values = tuple(_parse_value(field, item) for item in items)
        filter_ = NoneOf(name, values) if exclude else AnyOf(name, values)
        self._check_filter(filter_)
        return filter_

    def check_measures(self, measures: tuple[Measure, ...]) -> None:
        """Raise :class:`QueryError` unless each measure counts, or sums an int field of these
        fields, with a valid filter."""
        for measure in measures:
            if isinstance(measure, Sum) and self[measure.field].kind != "int":
                raise QueryError(f"cannot add up {measure.field!r}", param=measure.field)
            if isinstance(measure, (Count, Sum)) and measure.when is not None:
                self._check_filter(measure.when)

    def _check_filter(self, filter_: Filter) -> None:
        if isinstance(filter_, Related):
            self._check_related(filter_)
            return
        field = self[filter_.field]
        if type(filter_) not in _FILTERS[field.kind]:
            raise QueryError(
                f"{field.name!r} does not take a {type(filter_).__name__} filter", param=field.name
            )
        if isinstance(filter_, (AnyOf, NoneOf)):
            if not isinstance(filter_.values, tuple) or not 1 <= len(filter_.values) <= MAX_VALUES:
                raise QueryError(f"{field.name!r}: 1 to {MAX_VALUES} values", param=field.name)
            for value in filter_.values:
                if value is not None and not _fits(field.kind, value):
                    raise QueryError(
                        f"{field.name!r}: {value!r:.40} is not {field.kind}", param=field.name
                    )
        elif isinstance(filter_, Contains):
            if not isinstance(filter_.text, str):
                raise QueryError(f"{field.name!r}: the substring must be text", param=field.name)
        elif isinstance(filter_, HasValue):
            _check_has_value(filter_)
        else:
            ends = [v for v in (filter_.minimum, filter_.maximum) if v is not None]
            if not ends or not all(_fits(field.kind, v) for v in ends):
                raise QueryError(
                    f"{field.name!r}: a range of {field.kind} values", param=field.name
                )
            if len(ends) == 2 and ends[0] > ends[1]:
                raise QueryError(
                    f"{field.name!r}: the minimum is above the maximum", param=field.name
                )

    def _check_related(self, filter_: Related) -> None:
        target = self.related.get(filter_.entity) if isinstance(filter_.entity, str) else None
        if target is None:
            raise QueryError(
                f"{self.table} has no related {str(filter_.entity)[:40]!r}", param=filter_.field
            )
        if self[filter_.field].kind != target[filter_.key].kind:
            raise QueryError(
                f"{filter_.field!r} and {filter_.entity}.{filter_.key} differ in kind",
                param=filter_.field,
            )
        if not isinstance(filter_.filters, tuple) or not filter_.filters:
            raise QueryError(
                f"{filter_.field!r}: a related filter needs filters", param=filter_.field
            )
        for nested in filter_.filters:
            if isinstance(nested, Related):
                raise QueryError("related filters do not nest", param=filter_.field)
            target._check_filter(nested)


def _check_has_value(filter_: HasValue) -> None:
    key, values = filter_.key, filter_.values
    if not isinstance(key, str) or not 0 < len(key) <= MAX_KEY or '"' in key or "\\" in key:
        raise QueryError(
            f"{filter_.field!r}: a key of 1 to {MAX_KEY} characters without quotes",
            param=filter_.field,
        )
    if not isinstance(values, tuple) or not 1 <= len(values) <= MAX_VALUES:
        raise QueryError(f"{filter_.field!r}: 1 to {MAX_VALUES} values", param=filter_.field)
    for value in values:
        if not (value is None or isinstance(value, (str, bool)) or _is_number(value)):
            raise QueryError(
                f"{filter_.field!r}: values are JSON scalars (text, finite numbers within "
                "int64, true, false, null)",
                param=filter_.field,
            )


def json_values(values: tuple[Any, ...]) -> tuple[list[str], list[int | float], list[str]]:
    """A HasValue's values by JSON kind: strings, numbers, and the literals' names (``null``,
    ``true``, ``false``)."""
    texts = [v for v in values if isinstance(v, str)]
    numbers = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
    names = {None: "null", True: "true", False: "false"}
    literals = sorted({names[v] for v in values if v is None or isinstance(v, bool)})
    return texts, numbers, literals


def _parse_value(field: Field, item: str) -> str | int | bool:
    if field.kind in ("text", "list") and item:
        return item
    if field.kind == "int" and item.isascii() and item.isdigit() and len(item) <= 19:
        return int(item)
    if field.kind == "bool" and item in ("true", "false"):
        return item == "true"
    raise QueryError(f"{field.name!r}: {item[:40]!r} is not a {field.kind} value", param=field.name)


def _is_number(value: object) -> bool:
    return (type(value) is float and math.isfinite(value)) or _is_int64(value)


def _is_int64(value: object) -> bool:
    return type(value) is int and _INT64[0] <= value <= _INT64[1]


def _fits(kind: str, value: object) -> bool:
    """Whether ``value`` is a value of a field of ``kind`` (bool is never a number here)."""
    if kind in ("text", "list"):
        return isinstance(value, str)
    if kind == "bool":
        return type(value) is bool
    if kind == "float":
        return (type(value) is float and math.isfinite(value)) or _is_int64(value)
    return _is_int64(value)  # int, time


def _registry(struct: type[msgspec.Struct], hidden: tuple[str, ...]) -> list[Field]:
    """A :class:`Field` for each column ``struct`` declares (``storage/columns.py``) of a kind a
    query can filter (not a map), but ``hidden``."""
    return [
        Field(c.name, c.name, c.kind, c.nullable)
        for c in columns(struct)
        if c.kind in _FILTERS and c.name not in hidden
    ]


# brand_id is the engine's scope, never a filter: each engine adds it itself.
CLICKS = Fields("clicks", "created_at", _registry(Click, hidden=("brand_id",)))


class Source(NamedTuple):
    """Rows to aggregate: an entity's registry, what each measure is over its rows (one measure
    per column of the answer, in the same order for every source of one aggregate), and filters
    of this source alone, added to the query's."""

    fields: Fields
    measures: tuple[Measure, ...]
    filters: tuple[Filter, ...] = ()

    def narrowed(self, query: Query) -> Query:
        """``query`` with this source's own filters too."""
        if not self.filters:
            return query
        return msgspec.structs.replace(query, filters=(*query.filters, *self.filters))


def group_names(query: Query) -> list[str]:
    """The columns a grouped statement groups by: ``key0``... for the group-by fields, then
    ``bucket`` when the query has one (the same names in both dialects)."""
    names = [f"key{i}" for i in range(len(query.group_by))]
    return [*names, "bucket"] if query.bucket else names


def measure_width(sources: list[Source]) -> int:
    """How many measures every source of an aggregate has (they must agree)."""
    widths = {len(source.measures) for source in sources}
    if len(widths) != 1:
        raise ValueError("every source of an aggregate has the same measures")
    return widths.pop()
