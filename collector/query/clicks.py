"""``GET clicks`` (seed 01) as a compiler query: :class:`~collector.storage.model.ClickQuery`'s
filters mapped to :class:`~collector.query.model.Query`.

What stays with each engine: ``click_or_session`` (a lookup by click id or session id that
collapses to one row per session), the sort (``SORT_COLUMNS``) and the page.
"""

from __future__ import annotations

from collector.storage.model import ClickQuery

from .model import AnyOf, Contains, Filter, Query, TimeRange


def click_list_query(query: ClickQuery) -> Query:
    """The filters of a clicks list, in the order the engines have always applied them."""
    filters: list[Filter] = []
    if query.funnel_id is not None:
        filters.append(AnyOf("funnel_id", (query.funnel_id,)))
    if query.url:  # an empty substring is no filter
        filters.append(Contains("url", query.url))
    if query.sub1 is not None:
        filters.append(AnyOf("sub1", (query.sub1,)))
    if query.visitor_id is not None:
        filters.append(AnyOf("visitor_id", (query.visitor_id,)))
    if query.click_ids is not None:
        filters.append(AnyOf("id", query.click_ids or ("",)))
    if query.exclude_bots:
        filters.append(AnyOf("is_bot", (False,)))
    return Query(filters=tuple(filters), time_range=TimeRange(query.start, query.end))


def only_time_and_bots(query: Query) -> bool:
    """Whether the query filters by nothing but its time range and "is a bot" (the filters
    SQLite counts from its per-day rollup)."""
    return all(f.field == "is_bot" for f in query.filters)
