"""The typed query: filters, a time range, a time zone, group-by dimensions and a time bucket.

A :class:`Query` says *what* to select, in the names of an entity's fields (``country``,
``funnel_id``), never in SQL. The dialect modules compile it against a field registry
(:mod:`collector.query.fields`), which checks every name and value before any SQL is written.

Filters (all of a query's filters must hold):

- :class:`AnyOf`: the field equals one of the values (one value: plain equality). ``None`` among
  the values matches a missing value.
- :class:`NoneOf`: the field equals none of the values. A missing value is kept (a click without
  a country is not "in US") unless ``None`` is one of the values.
- :class:`Contains`: the text contains a substring, ASCII case-insensitively (as SQLite's
  ``LIKE``); ``%``, ``_`` and ``\\`` in it are plain characters.
- :class:`Range`: the value is within ``[minimum, maximum]``; either end may be open.
- :class:`HasValue`: a JSON object field's top-level ``key`` holds one of the values, compared
  by JSON type and value (the string "5" is not the number 5, which is 5.0).
- :class:`Related`: the field's value is the key of a row of another entity (its registry
  named in :data:`~collector.query.fields.ENTITIES`) that matches the nested filters, in the
  same brand: the events API's link attributes (a click's ``link_id`` is a link whose domain is
  ...) and conversion facts of a click (its ``id`` is the ``click_id`` of a sale that ...).

On a field of kind ``list`` (a JSON array of strings), :class:`AnyOf` means "the list holds one
of the values" and :class:`NoneOf` "holds none of them".

Measures (what :func:`~collector.query.sqlite.aggregate` adds up per group): :class:`Count`
rows, optionally only those matching a filter, and :class:`Sum` of a field; ``None`` is a zero
(a measure one source of rows does not have, such as sales among clicks).

Times are integers of milliseconds since the Unix epoch, UTC.
"""

from __future__ import annotations

from typing import Literal

import msgspec

from collector.errors import Invalid

Value = str | int | float | bool | None
Number = int | float
BucketUnit = Literal["hour", "day", "week", "month"]
BUCKET_UNITS: tuple[str, ...] = BucketUnit.__args__  # type: ignore[attr-defined]


class QueryError(Invalid, ValueError):
    """A query that cannot be compiled; ``param`` names the field or part to blame. An
    :class:`~collector.errors.Invalid` domain error, so an endpoint answers it with a 422."""

    def __init__(self, message: str, *, param: str) -> None:
        super().__init__(message, param=param)


class AnyOf(msgspec.Struct, frozen=True):
    """``field`` equals one of ``values``."""

    field: str
    values: tuple[Value, ...]


class NoneOf(msgspec.Struct, frozen=True):
    """``field`` equals none of ``values`` (a missing value is kept unless ``None`` is listed)."""

    field: str
    values: tuple[Value, ...]


class Contains(msgspec.Struct, frozen=True):
    """``field`` (text) contains ``text``, ASCII case-insensitively."""

    field: str
    text: str


class Range(msgspec.Struct, frozen=True):
    """``minimum <= field <= maximum``; ``None`` leaves that end open."""

    field: str
    minimum: Number | None = None
    maximum: Number | None = None


JsonValue = str | int | float | bool | None


class HasValue(msgspec.Struct, frozen=True):
    """The JSON object ``field`` holds one of ``values`` at its top-level ``key``: a str is a
    JSON string, an int or float a JSON number of that value (5 matches 5.0), a bool a JSON
    boolean, None a JSON null (a missing key matches nothing)."""

    field: str
    key: str
    values: tuple[JsonValue, ...]


# A filter on a field of the entity itself.
Condition = AnyOf | NoneOf | Contains | Range | HasValue


class Related(msgspec.Struct, frozen=True):
    """``field`` is the ``key`` field of a row of ``entity`` in the same brand matching every one
    of ``filters``."""

    field: str
    entity: str
    key: str
    filters: tuple[Condition, ...]


Filter = Condition | Related


class Count(msgspec.Struct, frozen=True):
    """The rows of a group, or only those matching ``when``."""

    when: AnyOf | None = None


class Sum(msgspec.Struct, frozen=True):
    """The sum of an int ``field`` over a group's rows (those matching ``when``); 0 when none."""

    field: str
    when: AnyOf | None = None


Measure = Count | Sum | None


class TimeRange(msgspec.Struct, frozen=True):
    """Both ends inclusive, in ms; ``None`` leaves that end open."""

    start: int | None = None
    end: int | None = None


class Query(msgspec.Struct, frozen=True, kw_only=True):
    """What to select from one entity: rows matching every filter in the time range, optionally
    counted per group of ``group_by`` fields and per ``bucket`` of time in ``time_zone`` (an IANA
    name). A bucket needs both ends of the time range."""

    filters: tuple[Filter, ...] = ()
    time_range: TimeRange = TimeRange()
    time_zone: str = "UTC"
    group_by: tuple[str, ...] = ()
    bucket: BucketUnit | None = None
