"""Compile a :class:`~collector.query.funnel.Funnel` to ClickHouse: one statement.

The rows are those of :mod:`collector.query.funnel_sqlite` (visitor ``v``, time ``t`` in ms, a
flag ``k{i}`` per step), from each table a step reads. ClickHouse does not keep a CTE: instead of
one join per step over them, the rows are grouped once per visitor, with the first step-1 time
(``t0``) and, for every later step, the times of its rows (``a{i}``). Then ``t{i}`` is the
least of ``a{i}`` at or after ``t{i-1}`` (:data:`UNREACHED` when none), and ``n{i}`` counts the
visitors whose ``t{i}`` was reached: the same definition, read in one pass over the rows.

Paths and patterns as in SQLite: the same cuts of the URL (``position`` and ``substring`` count
bytes, SQLite characters, consistently), ``LIKE`` (case sensitive) with ``%`` for ``*``. Same
name as :mod:`collector.query.funnel_sqlite`: :func:`funnel`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .clickhouse import Statement, where
from .events import CLICK_EVENTS, CONVERSION_EVENTS
from .funnel import LINK_TRIGGERS, SOURCE, Funnel, Step, check, pieces
from .model import Query, TimeRange

UNREACHED = 2**63 - 1  # the time of a step a visitor did not reach
Condition = Callable[[Step, "_Bound"], str]


class _Bound:
    """Names each bound value ``{prefix}{n}`` and collects the values into ``values``."""

    def __init__(self, prefix: str, values: dict[str, Any]) -> None:
        self.prefix = prefix
        self.values = values
        self.count = 0

    def bind(self, value: Any, type_: str) -> str:
        name = f"{self.prefix}{self.count}"
        self.count += 1
        self.values[name] = value
        return f"{{{name}:{type_}}}"


def funnel(funnel: Funnel, brand_id: int) -> Statement:
    """Columns ``n0``...: the visitors reaching each step, in order."""
    check(funnel)
    params: dict[str, Any] = {"brand": brand_id}
    selects = [
        _SOURCES[source](funnel, brand_id, params)
        for source in ("clicks", "conversions", "events")
        if source in funnel.sources()
    ]
    steps = range(1, len(funnel.steps))
    grouped = ", ".join(["minIf(t, k0) AS t0", *(f"groupArrayIf(t, k{i}) AS a{i}" for i in steps)])
    per_visitor = (
        f"SELECT v, {grouped} FROM ({' UNION ALL '.join(selects)}) GROUP BY v HAVING max(k0) = 1"
    )
    reached = ", ".join(
        f"arrayMin(arrayConcat(arrayFilter(x -> x >= t{i - 1}, a{i}),"
        f" [toInt64({UNREACHED})])) AS t{i}"
        for i in steps
    )
    later = [f"toInt64(countIf(t{i} < {UNREACHED})) AS n{i}" for i in steps]
    counts = ", ".join(["toInt64(count()) AS n0", *later])
    # a funnel has two steps or more: t1 at least
    inner = f"SELECT t0, {reached} FROM ({per_visitor})"
    return Statement(f"SELECT {counts} FROM ({inner})", params)


def _flags(funnel: Funnel, source: str, condition: Condition, bound: _Bound) -> str:
    """``k0``...: each step's condition on this source's rows, 0 for the other sources'."""
    flags = []
    for i, step in enumerate(funnel.steps):
        sql = f"toUInt8({condition(step, bound)})" if SOURCE[step.kind] == source else "0"
        flags.append(f"{sql} AS k{i}")
    return ", ".join(flags)


def _any_flag(funnel: Funnel) -> str:
    return "(" + " OR ".join(f"k{i}" for i in range(len(funnel.steps))) + ")"


def _time(ref: str) -> str:
    return f"toInt64(toUnixTimestamp64Milli({ref}))"


def _clicks(funnel: Funnel, brand_id: int, params: dict[str, Any]) -> str:
    flags = _flags(funnel, "clicks", _click_condition, _Bound("ck", params))
    query = Query(filters=funnel.click_filters, time_range=funnel.time_range)
    found = where(query, CLICK_EVENTS, "cq", brand_id)
    params.update(found.params)
    return (
        f"SELECT visitor_id AS v, {_time('created_at')} AS t, {flags} FROM {{db}}.clicks"
        f" WHERE brand_id = {{brand:UInt64}} AND {found.sql} AND {_any_flag(funnel)}"
    )


def _conversions(funnel: Funnel, brand_id: int, params: dict[str, Any]) -> str:
    flags = _flags(funnel, "conversions", _conversion_condition, _Bound("vk", params))
    query = Query(filters=funnel.conversion_filters, time_range=funnel.time_range)
    found = where(query, CONVERSION_EVENTS, "vq", brand_id)
    params.update(found.params)
    return (
        f"SELECT visitor_id AS v, {_time('created_at')} AS t, {flags} FROM {{db}}.conversions"
        f" WHERE brand_id = {{brand:UInt64}} AND {found.sql} AND {_any_flag(funnel)}"
    )


def _events(funnel: Funnel, brand_id: int, params: dict[str, Any]) -> str:
    """Custom events, with the visitor of the click they happened in, that click matching the
    click filters."""
    flags = _flags(funnel, "events", _event_condition, _Bound("ek", params))
    time = _time_range(funnel.time_range, _Bound("et", params))
    names = [step.value for step in funnel.steps if step.kind == "event"]
    params["event_names"] = names
    events = (
        f"SELECT click_id, {_time('timestamp')} AS t, {flags} FROM {{db}}.events"
        " WHERE brand_id = {brand:UInt64} AND `type` IN {event_names:Array(String)}"
        f" AND {time}"
    )
    clicks = where(Query(filters=funnel.click_filters), CLICK_EVENTS, "eq", brand_id)
    params.update(clicks.params)
    visitors = (
        "SELECT id, visitor_id FROM {db}.clicks WHERE brand_id = {brand:UInt64}"
        f" AND {clicks.sql} AND id IN (SELECT click_id FROM ({events}))"
    )
    ks = ", ".join(f"e.k{i} AS k{i}" for i in range(len(funnel.steps)))
    return (
        f"SELECT c.visitor_id AS v, e.t AS t, {ks} FROM ({events}) AS e"
        f" INNER JOIN ({visitors}) AS c ON c.id = e.click_id"
    )


_SOURCES = {"clicks": _clicks, "conversions": _conversions, "events": _events}


def _time_range(time_range: TimeRange, bound: _Bound) -> str:
    bounds = [(">=", time_range.start), ("<=", time_range.end)]
    parts = [
        f"timestamp {op} fromUnixTimestamp64Milli({bound.bind(value, 'Int64')}, 'UTC')"
        for op, value in bounds
        if value is not None
    ]
    return " AND ".join(parts) or "1"


def _click_condition(step: Step, bound: _Bound) -> str:
    if step.kind == "link":
        triggers = ", ".join(f"'{t}'" for t in LINK_TRIGGERS)
        return f"`trigger` IN ({triggers})"
    assert step.value is not None
    pattern = bound.bind(_like(step.value), "String")
    target = "`url`" if step.whole_url else path("`url`")
    return f"`trigger` = 'pageview' AND like({target}, {pattern})"


def _conversion_condition(step: Step, bound: _Bound) -> str:
    kind = f"`kind` = {bound.bind(step.kind, 'String')}"
    if step.value is None:
        return kind
    return f"{kind} AND `event_name` = {bound.bind(step.value, 'String')}"


def _event_condition(step: Step, bound: _Bound) -> str:
    return f"`type` = {bound.bind(step.value, 'String')}"


def path(url: str) -> str:
    """The path of the URL ``url`` (an expression), cut as :func:`funnel_sqlite.path` cuts it."""
    after = f"substring({url}, position({url}, '://') + 3)"
    unfragmented = f"substring({after}, 1, position(concat({after}, '#'), '#') - 1)"
    unqueried = f"substring({unfragmented}, 1, position(concat({unfragmented}, '?'), '?') - 1)"
    return f"substring({unqueried}, position(concat({unqueried}, '/'), '/'))"


def _like(pattern: str) -> str:
    """A LIKE pattern where ``*`` is any text and every other character is itself."""
    escaped = [
        piece.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        for piece in pieces(pattern)
    ]
    return "%".join(escaped)
