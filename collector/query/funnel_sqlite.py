"""Compile a :class:`~collector.query.funnel.Funnel` to SQLite: one statement.

``hits`` holds one row per candidate (visitor ``v``, time ``t``, one flag ``k{i}`` per step)
from each table a step reads (clicks, conversions, events joined to their click), only rows
matching some step. Then one CTE per step: ``s0`` the first time of each visitor's step-1 row,
``s{i}`` the first time of a step-``i`` row at or after ``s{i-1}``'s (joined on the visitor).
SQLite materializes a CTE read more than once, so ``hits`` is built once. The answer is one row:
``n0``... the visitors of each CTE.

A path pattern first filters with a ``GLOB`` on the whole URL (the path is part of it), so the
path is cut out of the few URLs that can match only. Same name as
:mod:`collector.query.funnel_clickhouse`: :func:`funnel`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .events import CLICK_EVENTS, CONVERSION_EVENTS
from .fields import Fields
from .funnel import LINK_TRIGGERS, SOURCE, TRACKER_EVENTS, Funnel, Step, check, pieces
from .model import Filter, Query, TimeRange
from .sqlite import Compiled, Statement, where


def funnel(funnel: Funnel, brand_id: int) -> Statement:
    """Columns ``n0``...: the visitors reaching each step, in order."""
    check(funnel)
    params: list[Any] = []
    selects = [
        _SOURCES[source](funnel, brand_id, params)
        for source in ("clicks", "conversions", "events")
        if source in funnel.sources()
    ]
    ctes = [f"hits AS ({' UNION ALL '.join(selects)})"]
    ctes.append("s0 AS (SELECT v, min(t) AS t FROM hits WHERE k0 GROUP BY v)")
    for i in range(1, len(funnel.steps)):
        ctes.append(
            f"s{i} AS (SELECT h.v AS v, min(h.t) AS t FROM s{i - 1} AS p"
            f" JOIN hits AS h ON h.v = p.v AND h.t >= p.t WHERE h.k{i} GROUP BY h.v)"
        )
    counts = ", ".join(f"(SELECT count(*) FROM s{i}) AS n{i}" for i in range(len(funnel.steps)))
    return Statement(f"WITH {', '.join(ctes)} SELECT {counts}", params)


def _flags(
    funnel: Funnel, source: str, condition: Callable[[Step, list[Any]], str], params: list[Any]
) -> list[str]:
    """``k0``...: each step's condition on this source's rows, 0 for the other sources'."""
    flags = []
    for i, step in enumerate(funnel.steps):
        sql = condition(step, params) if SOURCE[step.kind] == source else None
        flags.append(f"{sql or 0} AS k{i}")
    return flags


def _any_flag(funnel: Funnel) -> str:
    return " OR ".join(f"k{i}" for i in range(len(funnel.steps)))


def _filtered(
    select: str, table: str, funnel: Funnel, conditions: str, params: list[Any], own: list[Any]
) -> str:
    """The source's rows that match some step."""
    params += own
    # LIMIT -1: a co-routine rather than flattened, so that each flag is worked out once a row
    inner = f"{select} FROM {table} WHERE {conditions} LIMIT -1"
    return f"SELECT * FROM ({inner}) WHERE {_any_flag(funnel)}"


def _clicks(funnel: Funnel, brand_id: int, params: list[Any]) -> str:
    flags = _flags(funnel, "clicks", _click_condition, params)
    found = _where(funnel.click_filters, funnel.time_range, CLICK_EVENTS, brand_id)
    select = f'SELECT c."visitor_id" AS v, c."created_at" AS t, {", ".join(flags)}'
    return _filtered(
        select, "clicks AS c", funnel, f"c.brand_id = ? AND {found.sql}", params,
        [brand_id, *found.params],
    )  # fmt: skip


def _conversions(funnel: Funnel, brand_id: int, params: list[Any]) -> str:
    flags = _flags(funnel, "conversions", _conversion_condition, params)
    found = _where(funnel.conversion_filters, funnel.time_range, CONVERSION_EVENTS, brand_id)
    select = f'SELECT c."visitor_id" AS v, c."created_at" AS t, {", ".join(flags)}'
    return _filtered(
        select, "conversions AS c", funnel, f"c.brand_id = ? AND {found.sql}", params,
        [brand_id, *found.params],
    )  # fmt: skip


def _events(funnel: Funnel, brand_id: int, params: list[Any]) -> str:
    """Custom events, with the visitor and the facts of the click they happened in."""
    flags = _flags(funnel, "events", _event_condition, params)
    clicks = _where(funnel.click_filters, TimeRange(), CLICK_EVENTS, brand_id)
    time, time_params = _time_range('e."timestamp"', funnel.time_range)
    select = f'SELECT c."visitor_id" AS v, e."timestamp" AS t, {", ".join(flags)}'
    table = "events AS e JOIN clicks AS c ON c.id = e.click_id AND c.brand_id = e.brand_id"
    # custom events only: what the partial index events_custom holds (SQLite migration 11)
    tracker = ", ".join(f"'{name}'" for name in TRACKER_EVENTS)
    names = [step.value for step in funnel.steps if step.kind == "event"]
    marks = ", ".join("?" for _ in names)
    conditions = (
        f"e.brand_id = ? AND e.type NOT IN ({tracker}) AND e.type IN ({marks}) AND {time}"
        f" AND {clicks.sql}"
    )
    own = [brand_id, *names, *time_params, *clicks.params]
    return _filtered(select, table, funnel, conditions, params, own)


_SOURCES = {"clicks": _clicks, "conversions": _conversions, "events": _events}


def _where(
    filters: tuple[Filter, ...], time_range: TimeRange, fields: Fields, brand_id: int
) -> Compiled:
    return where(Query(filters=filters, time_range=time_range), fields, "c", brand_id)


def _time_range(ref: str, time_range: TimeRange) -> tuple[str, list[Any]]:
    bounds = [(">=", time_range.start), ("<=", time_range.end)]
    parts = [f"{ref} {op} ?" for op, value in bounds if value is not None]
    return " AND ".join(parts) or "1", [value for _, value in bounds if value is not None]


def _click_condition(step: Step, params: list[Any]) -> str:
    if step.kind == "link":
        triggers = ", ".join(f"'{t}'" for t in LINK_TRIGGERS)
        return f'c."trigger" IN ({triggers})'
    assert step.value is not None
    url, glob = 'c."url"', _glob(step.value)
    if step.whole_url:
        params.append(glob)
        return f"(c.\"trigger\" = 'pageview' AND {url} GLOB ?)"
    if set(step.value) == {"*"}:  # any path
        return "c.\"trigger\" = 'pageview'"
    near = _near(glob, params)
    params.append(glob)
    # CASE: a value's AND evaluates both sides, a WHEN stops at the first false one
    return f"CASE WHEN c.\"trigger\" = 'pageview' AND {near} THEN {path(url)} GLOB ? ELSE 0 END"


def _near(glob: str, params: list[Any]) -> str:
    """A cheap condition on the whole URL that every URL whose path matches ``glob`` meets: the
    path is in the URL, and unless the pattern ends with ``*``, at its end or before ``?``/``#``."""
    if glob.endswith("*"):
        params.append(f"*{glob}")
        return 'c."url" GLOB ?'
    params += [f"*{glob}", f"*{glob}[?#]*"]
    return '(c."url" GLOB ? OR c."url" GLOB ?)'


def _conversion_condition(step: Step, params: list[Any]) -> str:
    params.append(step.kind)
    if step.value is None:
        return 'c."kind" = ?'
    params.append(step.value)
    return '(c."kind" = ? AND c."event_name" = ?)'


def _event_condition(step: Step, params: list[Any]) -> str:
    params.append(step.value)
    return 'e."type" = ?'


def path(url: str) -> str:
    """The path of the URL ``url`` (an expression): from the first ``/`` after ``://`` to the
    first ``?`` or ``#``; empty when there is no ``/`` before them. The cuts at ``?`` and ``#``
    only for URLs that have one (each cut doubles the expression)."""
    after = f"substr({url}, instr({url}, '://') + 3)"
    unfragmented = f"substr({after}, 1, instr({after} || '#', '#') - 1)"
    unqueried = f"substr({unfragmented}, 1, instr({unfragmented} || '?', '?') - 1)"
    return (
        f"(CASE WHEN instr({url}, '?') = 0 AND instr({url}, '#') = 0 THEN {_from_slash(after)}"
        f" ELSE {_from_slash(unqueried)} END)"
    )


def _from_slash(rest: str) -> str:
    """``rest`` (the host and path) from its first ``/``; empty without one."""
    return f"substr({rest}, instr({rest} || '/', '/'))"


def _glob(pattern: str) -> str:
    """A GLOB pattern (case-sensitive) where ``*`` is any text and every other character is
    itself (``?`` and ``[`` are bracketed)."""
    escaped = [piece.replace("[", "[[]").replace("?", "[?]") for piece in pieces(pattern)]
    return "*".join(escaped)
