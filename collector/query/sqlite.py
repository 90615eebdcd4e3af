"""Compile a :class:`~collector.query.model.Query` to SQLite.

Every value is a ``?`` parameter, listed in the order of the placeholders; column names come
from the field registry only. SQLite has no time-zone functions: a bucket is a binary search
(nested ``CASE``) over the bucket edges :mod:`collector.query.buckets` computes in Python, each
edge a parameter. Times are INTEGER ms, compared as they are.

Same names as :mod:`collector.query.clickhouse`: :func:`where`, :func:`group_keys`,
:func:`bucket`, :func:`count`.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from . import buckets
from .fields import CLICKS, Field, Fields
from .model import AnyOf, Contains, Filter, NoneOf, Query, Range


class Compiled(NamedTuple):
    """SQL fragments (conditions to AND, or select expressions) and their parameters."""

    parts: list[str]
    params: list[Any]

    @property
    def sql(self) -> str:
        """The parts as one WHERE clause body ("1" when there are none)."""
        return " AND ".join(self.parts) or "1"


class Statement(NamedTuple):
    sql: str
    params: list[Any]


def where(query: Query, fields: Fields = CLICKS, alias: str = "c") -> Compiled:
    """The query's filters and time range as conditions on the table aliased ``alias``."""
    fields.check(query)
    params: list[Any] = []
    parts = [
        _condition(f, fields[f.field], _ref(fields[f.field], alias), params) for f in query.filters
    ]
    time = query.time_range
    if time.start is not None or time.end is not None:
        time_range = Range(fields.time.name, time.start, time.end)
        parts.append(_condition(time_range, fields.time, _ref(fields.time, alias), params))
    return Compiled(parts, params)


def bucket(query: Query, fields: Fields = CLICKS, alias: str = "c") -> Compiled:
    """The start (ms) of the time bucket of a row, as one expression; no parts without a
    bucket."""
    tz = fields.check(query)
    if query.bucket is None:
        return Compiled([], [])
    start, end = buckets.check_range(query.time_range.start, query.time_range.end, query.bucket)
    edges = buckets.edges(start, end, query.bucket, tz)
    if not edges:  # an empty time range: no row has a bucket
        return Compiled(["NULL"], [])
    params: list[Any] = []
    return Compiled([_search(_ref(fields.time, alias), edges, params)], params)


def group_keys(query: Query, fields: Fields = CLICKS, alias: str = "c") -> Compiled:
    """Select expressions of the group: ``key0``, ``key1``... for the group-by fields, then
    ``bucket`` when the query has one."""
    keys = [f"{_ref(fields[name], alias)} AS key{i}" for i, name in enumerate(query.group_by)]
    time_bucket = bucket(query, fields, alias)
    keys += [f"{expression} AS bucket" for expression in time_bucket.parts]
    return Compiled(keys, time_bucket.params)


def count(
    query: Query, brand_id: int, fields: Fields = CLICKS, limit: int | None = None
) -> Statement:
    """Rows of the brand matching the query, counted per group: columns ``key0``...,
    ``bucket``, ``n``; ordered by bucket, then the largest count, then the keys (NULL first).
    One row (``n``) when the query neither groups nor buckets."""
    keys = group_keys(query, fields)
    conditions = where(query, fields)
    names = [f"key{i}" for i in range(len(query.group_by))]
    names += ["bucket"] if query.bucket else []
    select = ", ".join([*keys.parts, "count(*) AS n"])
    sql = f"SELECT {select} FROM {fields.table} AS c WHERE c.brand_id = ? AND {conditions.sql}"
    params = [*keys.params, brand_id, *conditions.params]
    if names:
        order = ["bucket"] if query.bucket else []
        order += ["n DESC", *(name for name in names if name != "bucket")]
        sql += f" GROUP BY {', '.join(names)} ORDER BY {', '.join(order)}"
    if limit is not None:
        sql += " LIMIT ?"
        params.append(limit)
    return Statement(sql, params)


def _ref(field: Field, alias: str) -> str:
    return f'{alias}."{field.column}"' if alias else f'"{field.column}"'


def _condition(filter_: Filter, field: Field, ref: str, params: list[Any]) -> str:
    if isinstance(filter_, Contains):
        params.append(_like_pattern(filter_.text))
        return f"{ref} LIKE ? ESCAPE '\\'"
    if isinstance(filter_, Range):
        bounds = [(">=", filter_.minimum), ("<=", filter_.maximum)]
        parts = [f"{ref} {op} ?" for op, value in bounds if value is not None]
        params.extend(value for _, value in bounds if value is not None)
        return " AND ".join(parts)
    values = [v for v in filter_.values if v is not None]
    has_null = len(values) < len(filter_.values)
    if isinstance(filter_, AnyOf):
        parts = _membership(ref, values, params, negate=False)
        return _joined([*parts, f"{ref} IS NULL"] if has_null else parts, " OR ")
    assert isinstance(filter_, NoneOf)
    parts = _membership(ref, values, params, negate=True)
    if has_null:
        return _joined([f"{ref} IS NOT NULL", *parts], " AND ")
    return _joined([f"{ref} IS NULL", *parts], " OR ") if field.nullable else parts[0]


def _membership(ref: str, values: list[Any], params: list[Any], negate: bool) -> list[str]:
    """``ref`` (not) equal to the one value, or (not) in the several; nothing for no values."""
    if not values:
        return []
    params.extend(values)
    if len(values) == 1:
        return [f"{ref} {'<>' if negate else '='} ?"]
    marks = ", ".join("?" for _ in values)
    return [f"{ref} {'NOT IN' if negate else 'IN'} ({marks})"]


def _joined(parts: list[str], operator: str) -> str:
    return parts[0] if len(parts) == 1 else f"({operator.join(parts)})"


def _search(ref: str, edges: list[int], params: list[Any]) -> str:
    """The last of ``edges`` at or before ``ref``: a balanced tree of CASE expressions, about
    log2(len(edges)) comparisons a row (the first edge for anything before it)."""
    if len(edges) == 1:
        params.append(edges[0])
        return "?"
    middle = len(edges) // 2
    params.append(edges[middle])
    below = _search(ref, edges[:middle], params)
    above = _search(ref, edges[middle:], params)
    return f"CASE WHEN {ref} < ? THEN {below} ELSE {above} END"


def _like_pattern(text: str) -> str:
    """A LIKE pattern (with ``ESCAPE '\\'``) matching ``text`` anywhere."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
