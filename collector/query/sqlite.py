"""Compile a :class:`~collector.query.model.Query` to SQLite.

Every value is a ``?`` parameter, listed in the order of the placeholders; column names come
from the field registry only. SQLite has no time-zone functions: a bucket is a binary search
(nested ``CASE``) over the bucket edges :mod:`collector.query.buckets` computes in Python, each
edge a parameter. Times are INTEGER ms, compared as they are.

Same names as :mod:`collector.query.clickhouse`: :func:`where`, :func:`group_keys`,
:func:`bucket`, :func:`count`, :func:`aggregate`, :func:`page`.
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


def where(
    query: Query, fields: Fields = CLICKS, alias: str = "c", brand_id: int | None = None
) -> Compiled:
    """The query's filters and time range as conditions on the table aliased ``alias``.
    ``brand_id`` scopes the subqueries of :class:`Related` filters (which need it)."""
    fields.check(query)
    params: list[Any] = []
    parts = [_filter(f, fields, alias, brand_id, params) for f in query.filters]
    time = query.time_range
    if time.start is not None or time.end is not None:
        field = fields.time_field()
        parts.append(
            _condition(Range(field.name, time.start, time.end), field, _ref(field, alias), params)
        )
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
    return Compiled([_search(_ref(fields.time_field(), alias), edges, params)], params)


def group_keys(query: Query, fields: Fields = CLICKS, alias: str = "c") -> Compiled:
    """Select expressions of the group: ``key0``, ``key1``... for the group-by fields, then
    ``bucket`` when the query has one."""
    # "+": no index serves the grouping, so the time range's index drives the scan (SQLite
    # would otherwise walk a brand's whole (brand_id, link_id, ...) index to group in order)
    keys = [f"+{_ref(fields[name], alias)} AS key{i}" for i, name in enumerate(query.group_by)]
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
    conditions = where(query, fields, brand_id=brand_id)
    names = group_names(query)
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
    params: list[Any] = []
    selects = [_source_select(query, brand_id, source, names, params) for source in sources]
    totals = [f"coalesce(sum(v{i}), 0) AS m{i}" for i in range(width)]
    sql = f"SELECT {', '.join([*names, *totals])} FROM ({' UNION ALL '.join(selects)})"
    if names:
        ranked = ["bucket"] if query.bucket else []
        ranked += [f"m{order} DESC"] if order is not None else []
        ranked += [name for name in names if name != "bucket"]
        sql += f" GROUP BY {', '.join(names)} ORDER BY {', '.join(ranked)}"
    if limit is not None:
        sql += " LIMIT ?"
        params.append(limit)
    return Statement(sql, params)


def page(
    query: Query, brand_id: int, fields: Fields, descending: bool, limit: int, offset: int
) -> Statement:
    """The ``id`` of each row matching the query, newest first (or oldest), ties by id."""
    conditions = where(query, fields, "c", brand_id)
    direction = "DESC" if descending else "ASC"
    time = _ref(fields.time_field(), "c")
    sql = (
        f"SELECT c.id FROM {fields.table} AS c WHERE c.brand_id = ? AND {conditions.sql}"
        f" ORDER BY {time} {direction}, c.id {direction} LIMIT ? OFFSET ?"
    )
    return Statement(sql, [brand_id, *conditions.params, limit, offset])


def _source_select(
    query: Query, brand_id: int, source: Source, names: list[str], params: list[Any]
) -> str:
    """One source's rows grouped, its measures as ``v0``...; parameters appended in order."""
    fields = source.fields
    fields.check_measures(source.measures)
    keys = group_keys(query, fields)
    measure_params: list[Any] = []
    measures = [
        f"{_measure(m, fields, measure_params)} AS v{i}" for i, m in enumerate(source.measures)
    ]
    conditions = where(source.narrowed(query), fields, "c", brand_id)
    params += [*keys.params, *measure_params, brand_id, *conditions.params]
    sql = (
        f"SELECT {', '.join([*keys.parts, *measures])} FROM {fields.table} AS c"
        f" WHERE c.brand_id = ? AND {conditions.sql}"
    )
    return sql + (f" GROUP BY {', '.join(names)}" if names else "")


def _measure(measure: Measure, fields: Fields, params: list[Any]) -> str:
    if measure is None:
        return "0"
    when = None
    if measure.when is not None:
        field = fields[measure.when.field]
        when = _condition(measure.when, field, _ref(field, "c"), params)
    if isinstance(measure, Count):
        return "count(*)" if when is None else f"sum(CASE WHEN {when} THEN 1 ELSE 0 END)"
    assert isinstance(measure, Sum)
    ref = _ref(fields[measure.field], "c")
    return f"sum({ref})" if when is None else f"sum(CASE WHEN {when} THEN {ref} END)"


def _ref(field: Field, alias: str) -> str:
    prefix = f"{alias}." if alias else ""
    refs = [f'{prefix}"{column}"' for column in field.joined or (field.column,)]
    if field.encoded_null:
        refs = [
            f"(CASE {ref} WHEN '' THEN NULL WHEN char(31) THEN '' ELSE {ref} END)" for ref in refs
        ]
    if field.host_of:
        url = f'{prefix}"{field.host_of}"'
        host = f"substr({url}, instr({url}, '://') + 3)"
        return f"(CASE WHEN {refs[0]} = '' THEN {host} ELSE {refs[0]} END)"
    return refs[0] if len(refs) == 1 else "(" + " || '-' || ".join(refs) + ")"


def _filter(
    filter_: Filter, fields: Fields, alias: str, brand_id: int | None, params: list[Any]
) -> str:
    if isinstance(filter_, Related):
        return _related(filter_, fields, alias, brand_id, params)
    field = fields[filter_.field]
    return _condition(filter_, field, _ref(field, alias), params)


def _related(
    filter_: Related, fields: Fields, alias: str, brand_id: int | None, params: list[Any]
) -> str:
    """``ref IN (SELECT key FROM the entity WHERE brand_id = ? AND ...)``."""
    if brand_id is None:
        raise ValueError("a related filter needs the brand")
    target = fields.related[filter_.entity]
    nested = where(Query(filters=filter_.filters), target, "r", brand_id)
    params += [brand_id, *nested.params]
    ref = _ref(fields[filter_.field], alias)
    key = _ref(target[filter_.key], "r")
    return f"{ref} IN (SELECT {key} FROM {target.table} AS r WHERE r.brand_id = ? AND {nested.sql})"


def _condition(filter_: Condition, field: Field, ref: str, params: list[Any]) -> str:
    if isinstance(filter_, HasValue):
        return _has_value(filter_, ref, params)
    if field.kind == "list":
        assert isinstance(filter_, (AnyOf, NoneOf))
        marks = ", ".join("?" for _ in filter_.values)
        params.extend(filter_.values)
        exists = (
            f"EXISTS (SELECT 1 FROM json_each(CASE WHEN json_valid({ref}) THEN {ref} END)"
            f" WHERE value IN ({marks}))"
        )
        return exists if isinstance(filter_, AnyOf) else f"NOT {exists}"
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


def _has_value(filter_: HasValue, ref: str, params: list[Any]) -> str:
    """The key's JSON type and value, one condition per kind of value asked for."""
    path = f'$."{filter_.key}"'
    kind = f"(CASE WHEN json_valid({ref}) THEN json_type({ref}, ?) END)"
    value = f"(CASE WHEN json_valid({ref}) THEN json_extract({ref}, ?) END)"
    texts, numbers, literals = json_values(filter_.values)
    parts = []
    for types, wanted in (("'text'", texts), ("'integer', 'real'", numbers)):
        if wanted:
            params += [path, path, *wanted]
            marks = ", ".join("?" for _ in wanted)
            parts.append(f"({kind} IN ({types}) AND {value} IN ({marks}))")
    if literals:  # json_type names them: 'null', 'true', 'false'
        params.append(path)
        parts.append(f"{kind} IN ({', '.join(repr(name) for name in literals)})")
    return _joined(parts, " OR ")


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
