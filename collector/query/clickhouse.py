"""Compile a :class:`~collector.query.model.Query` to ClickHouse.

Every value is a typed query parameter (``{q0:String}``), named by the compiler with a prefix
the caller may choose; column names come from the field registry only. Times are
``DateTime64(3, 'UTC')`` columns compared with ``fromUnixTimestamp64Milli``. Buckets use
ClickHouse's own functions with the time zone as a parameter (``toStartOfHour(created_at, tz)``);
they give the buckets :mod:`collector.query.buckets` describes, which SQLite gets as edges.
``{db}`` in a statement stands for the database, as in the ClickHouse store's own queries.

Same names as :mod:`collector.query.sqlite`: :func:`where`, :func:`group_keys`, :func:`bucket`,
:func:`count`, :func:`aggregate`, :func:`page`.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from . import buckets
from .fields import CLICKS, Field, Fields, Source, group_names, json_values, measure_width
from .model import (
    AnyOf,
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
)

_TYPES: dict[str, str] = {
    "text": "String",
    "int": "Int64",
    "bool": "Bool",
    "float": "Float64",
    "time": "Int64",
    "list": "String",
    "json": "String",
}
# The start of a row's bucket as a DateTime in the zone ({ref}, {tz}); weeks start on Monday.
_BUCKETS = {
    "hour": "toStartOfHour({ref}, {tz})",
    "day": "toStartOfDay({ref}, {tz})",
    "week": "toDateTime(toMonday({ref}, {tz}), {tz})",
    "month": "toDateTime(toStartOfMonth({ref}, {tz}), {tz})",
}


class Compiled(NamedTuple):
    """SQL fragments (conditions to AND, or select expressions) and their parameters."""

    parts: list[str]
    params: dict[str, Any]

    @property
    def sql(self) -> str:
        """The parts as one WHERE clause body ("1" when there are none)."""
        return " AND ".join(self.parts) or "1"


class Statement(NamedTuple):
    sql: str
    params: dict[str, Any]


class _Params:
    """Names each bound value ``{prefix}{n}`` and collects the values."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.values: dict[str, Any] = {}

    def bind(self, value: Any, type_: str) -> str:
        name = f"{self.prefix}{len(self.values)}"
        self.values[name] = value
        return f"{{{name}:{type_}}}"


def where(
    query: Query, fields: Fields = CLICKS, prefix: str = "q", brand_id: int | None = None
) -> Compiled:
    """The query's filters and time range as conditions; parameters named ``{prefix}0``...
    ``brand_id`` scopes the subqueries of :class:`Related` filters (which need it)."""
    fields.check(query)
    params = _Params(prefix)
    parts = [_filter(f, fields, brand_id, params) for f in query.filters]
    time = query.time_range
    if time.start is not None or time.end is not None:
        field = fields.time_field()
        parts.append(_condition(Range(field.name, time.start, time.end), field, params))
    return Compiled(parts, params.values)


def bucket(query: Query, fields: Fields = CLICKS, prefix: str = "b") -> Compiled:
    """The start (ms) of the time bucket of a row, as one expression; no parts without a
    bucket."""
    fields.check(query)
    if query.bucket is None:
        return Compiled([], {})
    start_ms, end_ms = buckets.check_range(
        query.time_range.start, query.time_range.end, query.bucket
    )
    params = _Params(prefix)
    if query.bucket == "hour":
        # hours from the same table as SQLite's edges: toStartOfHour misplaces the hours after
        # a half-hour DST change (Australia/Lord_Howe)
        tz = buckets.zone(query.time_zone)
        first, table = buckets.slot_buckets(start_ms, end_ms, "hour", tz)
        if table:
            slot = f"intDiv(toUnixTimestamp64Milli({_ref(fields.time_field())})"
            slot += f" - {params.bind(first, 'Int64')}, {buckets.SLOT_MS})"
            lookup = params.bind(table, "Array(Int64)")
            return Compiled([f"arrayElement({lookup}, toUInt64({slot}) + 1)"], params.values)
    start = _BUCKETS[query.bucket].format(
        ref=_ref(fields.time_field()), tz=params.bind(query.time_zone, "String")
    )
    return Compiled([f"toInt64(toUnixTimestamp({start})) * 1000"], params.values)


def group_keys(query: Query, fields: Fields = CLICKS, prefix: str = "b") -> Compiled:
    """Select expressions of the group: ``key0``, ``key1``... for the group-by fields, then
    ``bucket`` when the query has one."""
    keys = [f"{_ref(fields[name])} AS key{i}" for i, name in enumerate(query.group_by)]
    time_bucket = bucket(query, fields, prefix)
    keys += [f"{expression} AS bucket" for expression in time_bucket.parts]
    return Compiled(keys, time_bucket.params)


def count(
    query: Query, brand_id: int, fields: Fields = CLICKS, limit: int | None = None
) -> Statement:
    """Rows of the brand matching the query, counted per group: columns ``key0``...,
    ``bucket``, ``n``; ordered by bucket, then the largest count, then the keys (NULL first).
    One row (``n``) when the query neither groups nor buckets."""
    keys = group_keys(query, fields)
    conditions = where(query, fields, brand_id=brand_id)
    names = group_names(query)
    select = ", ".join([*keys.parts, "count() AS n"])
    sql = (
        f"SELECT {select} FROM {{db}}.{fields.table}"
        f" WHERE brand_id = {{brand:UInt64}} AND {conditions.sql}"
    )
    params = {**keys.params, **conditions.params, "brand": brand_id}
    if names:
        order = ["bucket"] if query.bucket else []
        order += ["n DESC", *(f"{name} NULLS FIRST" for name in names if name != "bucket")]
        sql += f" GROUP BY {', '.join(names)} ORDER BY {', '.join(order)}"
    if limit is not None:
        sql += " LIMIT {limit:UInt64}"
        params["limit"] = limit
    return Statement(sql, params)


def aggregate(
    query: Query,
    brand_id: int,
    sources: list[Source],
    order: int | None = None,
    limit: int | None = None,
) -> Statement:
    """The measures of every source's rows matching the query, added up per group across the
    sources: columns ``key0``..., ``bucket``, then ``m0``... (one per measure, 0 rather than
    NULL). Ordered by bucket, then the largest ``m{order}``, then the keys (NULL first). One row
    when the query neither groups nor buckets."""
    names = group_names(query)
    width = measure_width(sources)
    params: dict[str, Any] = {}
    selects = [
        _source_select(query, brand_id, source, names, f"s{i}", params)
        for i, source in enumerate(sources)
    ]
    totals = [f"toInt64(sum(v{i})) AS m{i}" for i in range(width)]
    sql = f"SELECT {', '.join([*names, *totals])} FROM ({' UNION ALL '.join(selects)})"
    if names:
        ranked = ["bucket"] if query.bucket else []
        ranked += [f"m{order} DESC"] if order is not None else []
        ranked += [f"{name} NULLS FIRST" for name in names if name != "bucket"]
        sql += f" GROUP BY {', '.join(names)} ORDER BY {', '.join(ranked)}"
    if limit is not None:
        sql += " LIMIT {limit:UInt64}"
        params["limit"] = limit
    return Statement(sql, params)


def page(
    query: Query, brand_id: int, fields: Fields, descending: bool, limit: int, offset: int
) -> Statement:
    """``(id, time in ms)`` of each row matching the query, newest first (or oldest), ties by
    id, each id once."""
    conditions = where(query, fields, brand_id=brand_id)
    direction = "DESC" if descending else "ASC"
    time = _ref(fields.time_field())
    sql = (
        f"SELECT id, toUnixTimestamp64Milli({time}) FROM {{db}}.{fields.table}"
        f" WHERE brand_id = {{brand:UInt64}} AND {conditions.sql}"
        f" ORDER BY {time} {direction}, id {direction} LIMIT 1 BY id"
        " LIMIT {limit:UInt64} OFFSET {offset:UInt64}"
    )
    params = {**conditions.params, "brand": brand_id, "limit": limit, "offset": offset}
    return Statement(sql, params)


def _source_select(
    query: Query,
    brand_id: int,
    source: Source,
    names: list[str],
    prefix: str,
    params: dict[str, Any],
) -> str:
    """One source's rows grouped, its measures as ``v0``...; parameters added to ``params``."""
    fields = source.fields
    fields.check_measures(source.measures)
    keys = group_keys(query, fields, f"{prefix}b")
    bound = _Params(f"{prefix}m")
    measures = [f"{_measure(m, fields, bound)} AS v{i}" for i, m in enumerate(source.measures)]
    conditions = where(source.narrowed(query), fields, f"{prefix}q", brand_id)
    brand = f"{prefix}brand"
    params.update({**keys.params, **bound.values, **conditions.params, brand: brand_id})
    sql = (
        f"SELECT {', '.join([*keys.parts, *measures])} FROM {{db}}.{_table(fields)}"
        f" WHERE brand_id = {{{brand}:UInt64}} AND {conditions.sql}"
    )
    return sql + (f" GROUP BY {', '.join(names)}" if names else "")


def _measure(measure: Measure, fields: Fields, params: _Params) -> str:
    if measure is None:
        return "toInt64(0)"
    when = None
    if measure.when is not None:
        when = _condition(measure.when, fields[measure.when.field], params)
    if isinstance(measure, Count):
        return "toInt64(count())" if when is None else f"toInt64(countIf({when}))"
    assert isinstance(measure, Sum)
    ref = _ref(fields[measure.field])
    total = f"sum({ref})" if when is None else f"sumIf({ref}, {when})"
    return f"toInt64(ifNull({total}, 0))"


def _table(fields: Fields) -> str:
    return f"{fields.table} FINAL" if fields.final else fields.table


def _ref(field: Field) -> str:
    refs = [f"`{column}`" for column in field.joined or (field.column,)]
    if field.encoded_null:
        refs = [f"multiIf({ref} = '', NULL, {ref} = char(31), '', {ref})" for ref in refs]
    if field.host_of:
        url = f"`{field.host_of}`"
        return f"if({refs[0]} = '', substring({url}, position({url}, '://') + 3), {refs[0]})"
    return refs[0] if len(refs) == 1 else "concat(" + ", '-', ".join(refs) + ")"


def _filter(filter_: Filter, fields: Fields, brand_id: int | None, params: _Params) -> str:
    if isinstance(filter_, Related):
        return _related(filter_, fields, brand_id, params)
    return _condition(filter_, fields[filter_.field], params)


def _related(filter_: Related, fields: Fields, brand_id: int | None, params: _Params) -> str:
    """``ref IN (SELECT key FROM the entity WHERE brand_id = ... AND ...)``."""
    if brand_id is None:
        raise ValueError("a related filter needs the brand")
    target = fields.related[filter_.entity]
    brand = params.bind(brand_id, "UInt64")
    parts = [_condition(f, target[f.field], params) for f in filter_.filters]
    return (
        f"{_ref(fields[filter_.field])} IN (SELECT {_ref(target[filter_.key])}"
        f" FROM {{db}}.{_table(target)} WHERE brand_id = {brand} AND {' AND '.join(parts)})"
    )


def _condition(filter_: Condition, field: Field, params: _Params) -> str:
    ref = _ref(field)
    type_ = _TYPES[field.kind]
    if isinstance(filter_, HasValue):
        return _has_value(filter_, ref, params)
    if field.kind == "list":
        assert isinstance(filter_, (AnyOf, NoneOf))
        listed = params.bind(list(filter_.values), "Array(String)")
        has = f"hasAny(JSONExtract({ref}, 'Array(String)'), {listed})"
        return has if isinstance(filter_, AnyOf) else f"NOT {has}"
    if isinstance(filter_, Contains):
        # ASCII case-insensitive, as SQLite's LIKE
        return f"positionCaseInsensitive({ref}, {params.bind(filter_.text, 'String')}) > 0"
    if isinstance(filter_, Range):
        bounds = [(">=", filter_.minimum), ("<=", filter_.maximum)]
        return " AND ".join(
            f"{ref} {op} {_value(params.bind(value, type_), field)}"
            for op, value in bounds
            if value is not None
        )
    values = [v for v in filter_.values if v is not None]
    has_null = len(values) < len(filter_.values)
    if isinstance(filter_, AnyOf):
        parts = _membership(ref, values, type_, params, negate=False)
        return _joined([*parts, f"{ref} IS NULL"] if has_null else parts, " OR ")
    assert isinstance(filter_, NoneOf)
    parts = _membership(ref, values, type_, params, negate=True)
    # NULL NOT IN (...) and NULL != x are NULL (false), as in SQLite: keep a NULL explicitly
    if has_null:
        return _joined([f"{ref} IS NOT NULL", *parts], " AND ")
    return _joined([f"{ref} IS NULL", *parts], " OR ") if field.nullable else parts[0]


# JSONType of a JSON literal, by the name json_values gives it
_LITERAL_TYPES = {"null": "Null", "true": "Bool", "false": "Bool"}


def _has_value(filter_: HasValue, ref: str, params: _Params) -> str:
    """The key's JSON type and value, one condition per kind of value asked for."""
    key = params.bind(filter_.key, "String")
    kind = f"JSONType({ref}, {key})"
    texts, numbers, literals = json_values(filter_.values)
    parts = []
    if texts:
        listed = params.bind(texts, "Array(String)")
        parts.append(f"({kind} = 'String' AND JSONExtractString({ref}, {key}) IN {listed})")
    if numbers:  # integers exactly, as SQLite compares them; -0.0 = 0 by comparison, not hash
        whole = [int(n) for n in numbers if float(n).is_integer() and -(2**63) <= n < 2**63]
        as_ints = params.bind(whole, "Array(Int64)")
        as_floats = params.bind([float(n) for n in numbers], "Array(Float64)")
        parts.append(
            f"(({kind} = 'Int64' AND JSONExtractInt({ref}, {key}) IN {as_ints})"
            f" OR ({kind} = 'Double'"
            f" AND arrayExists(x -> x = JSONExtractFloat({ref}, {key}), {as_floats})))"
        )
    for name in literals:  # a missing key's JSONType is Null too: JSONHas tells them apart
        value = (
            "" if name == "null" else f" AND JSONExtractBool({ref}, {key}) = {int(name == 'true')}"
        )
        parts.append(f"(JSONHas({ref}, {key}) AND {kind} = '{_LITERAL_TYPES[name]}'{value})")
    return _joined(parts, " OR ")


def _membership(
    ref: str, values: list[Any], type_: str, params: _Params, negate: bool
) -> list[str]:
    """``ref`` (not) equal to the one value, or (not) in the several; nothing for no values."""
    if not values:
        return []
    if len(values) == 1:
        return [f"{ref} {'!=' if negate else '='} {params.bind(values[0], type_)}"]
    return [f"{ref} {'NOT IN' if negate else 'IN'} {params.bind(values, f'Array({type_})')}"]


def _value(placeholder: str, field: Field) -> str:
    """A bound value as the column's type: ms become a DateTime64 for a time column."""
    if field.kind == "time":
        return f"fromUnixTimestamp64Milli({placeholder}, 'UTC')"
    return placeholder


def _joined(parts: list[str], operator: str) -> str:
    return parts[0] if len(parts) == 1 else f"({operator.join(parts)})"
