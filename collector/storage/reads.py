"""The storage contract's reporting reads: analytics, sessions, the explorer, the raw clicks
stream and heatmaps, each a protocol matching the module of the same name in both engines. Part of
:class:`~collector.storage.base.Store` (``base.py`` re-exports them)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from .model import Click, Conversion

if TYPE_CHECKING:  # the compiler's types, for annotations only (the compiler imports storage)
    from collector.query.fields import Source
    from collector.query.funnel import Funnel
    from collector.query.model import Filter, Query
    from collector.query.sessions import Edge, SessionExtras, SessionQuery, SortKey


class AnalyticsStore(Protocol):
    """The events and analytics API (seed 02) on compiler queries of ``query/events.py``
    (``analytics.py`` of each engine)."""

    def aggregate(
        self,
        brand_id: int,
        query: Query,
        sources: list[Source],
        order: int | None,
        limit: int | None,
    ) -> list[tuple[Any, ...]]:
        """The compiler's ``aggregate`` rows: group keys, the bucket (ms) when the query has
        one, then one int per measure; text keys decoded leniently."""

    def page_clicks(
        self, brand_id: int, query: Query, descending: bool, limit: int, offset: int
    ) -> list[Click]:
        """A page of the clicks matching a ``CLICK_EVENTS`` query, by time then id."""

    def page_conversions(
        self, brand_id: int, query: Query, descending: bool, limit: int, offset: int
    ) -> list[Conversion]:
        """A page of the leads and sales matching a ``CONVERSION_EVENTS`` query."""

    def funnel(self, brand_id: int, funnel: Funnel) -> list[int]:
        """The visitors reaching each step of ``funnel``, in order (``query/funnel.py``)."""


class SessionStore(Protocol):
    """Sessions made of page views, on compiler queries of ``query/sessions.py``
    (``sessions.py`` of each engine). Rows are the compiler's columns, text decoded leniently."""

    def session_summary(self, brand_id: int, query: SessionQuery) -> tuple[Any, ...]:
        """(sessions, visitors, page views, bounces, mean duration in ms or None)."""

    def session_series(self, brand_id: int, query: SessionQuery) -> list[tuple[Any, ...]]:
        """(bucket ms, visitors, sessions, page views) of each bucket that has page views."""

    def session_pages(
        self, brand_id: int, query: SessionQuery, edge: Edge, limit: int
    ) -> list[tuple[Any, ...]]:
        """(url, sessions, visitors) of the entry or exit pages, the most sessions first."""

    def session_breakdown(
        self, brand_id: int, query: SessionQuery, keys: tuple[str, ...], limit: int
    ) -> list[tuple[Any, ...]]:
        """Arrivals (page views not from the site's own pages) by ``keys``: (key...,
        visitors, sessions, page views), the most visitors first."""

    def session_list(
        self, brand_id: int, query: SessionQuery, sort: SortKey, page: tuple[bool, int, int]
    ) -> tuple[int, list[tuple[Any, ...]]]:
        """(sessions matching, one page of them: session id, visitor id, pages, started ms,
        ended ms, first and last page view's click id); ``page`` is (descending, limit,
        offset)."""

    def session_extras(self, brand_id: int, session_ids: list[str]) -> dict[str, SessionExtras]:
        """Conversions, click interactions and replays of each session."""


class ExplorerStore(Protocol):
    """A visitor's hits for the explorer (``explorer.py`` of each engine): reads of the
    ``(brand_id, visitor_id, created_at)`` index (SQLite) or the visitor bloom filter
    (ClickHouse)."""

    def visitor_hits(
        self,
        brand_id: int,
        visitor_id: str,
        span: tuple[int | None, int | None],
        before: tuple[int, str] | None,
        limit: int,
    ) -> list[Click]:
        """The visitor's clicks with ``created_at`` in ``span`` (ms, both ends inclusive, either
        open), newest first (``created_at``, then ``id``, descending), only those ordered after
        ``before`` (a row's ``(created_at, id)``, exclusive), at most ``limit``."""

    def visitor_summary(
        self, brand_id: int, visitor_id: str, span: tuple[int | None, int | None]
    ) -> tuple[int, Click | None, int | None]:
        """(the visitor's clicks in ``span``, the first of them, the last one's ``created_at``)."""


class StreamStore(Protocol):
    """The raw clicks stream (``stream.py`` of each engine, ``collector/stream/``)."""

    def stream_clicks(
        self,
        brand_id: int,
        query: Query,
        groups: tuple[tuple[Filter, ...], ...],
        after: tuple[int, str] | None,
        limit: int,
    ) -> list[Click]:
        """At most ``limit`` clicks in ``query``'s time range matching its filters and one
        filter of each group, by (created_at, id), only those after ``after`` (exclusive)."""

    def visitor_history(
        self, brand_id: int, visitor_ids: list[str], start: int, end: int
    ) -> list[tuple[Any, ...]]:
        """(visitor_id, link_id, funnel_id, created_at ms, id) of these visitors' clicks in
        [start, end] ms."""


class PageScope(NamedTuple):
    """The page sessions a heatmap reads: those of clicks created in ``[start, end]`` (ms, both
    inclusive; ``start`` None: no start), of people (``bots`` exclude), bots (only) or both
    (include); and, for one page, its ``url`` folded (no query string, no fragment): an event
    is on the page when its URL cut at the first ``?`` or ``#`` equals it."""

    start: int | None
    end: int
    bots: str
    url: str = ""


class HeatmapStore(Protocol):
    """Click maps and scroll depth per page URL (``heatmaps.py`` of each engine,
    ``collector/heatmaps/``), from the events of the page sessions in a :class:`PageScope`."""

    def heatmap_page_views(self, brand_id: int, scope: PageScope) -> int:
        """``page_view`` events on the page."""

    def heatmap_selectors(
        self, brand_id: int, scope: PageScope, limit: int
    ) -> list[tuple[str, int, int, int, int, int]]:
        """(selector, clicks, visitors who clicked it, rage, dead, error clicks) of each selector
        with a ``click`` (its ``selector``) or a signal (its ``s``) on the page; the most clicks
        first, then the most signals, then by selector; at most ``limit``."""

    def heatmap_depths(self, brand_id: int, scope: PageScope) -> dict[int, int]:
        """Page sessions with a ``scroll_depth`` on the page, by their deepest ``d`` (1..10)."""

    def heatmap_pages(
        self, brand_id: int, scope: PageScope, limit: int
    ) -> list[tuple[str, int, int, int]]:
        """(folded URL, page views, clicks, replays) of the pages with the most page views, then
        by URL; at most ``limit``. Replays are those of the scope's page sessions."""

    def heatmap_replays(
        self, brand_id: int, url: str, limit: int
    ) -> list[tuple[str, str, int | None, int]]:
        """(replay id, session id, viewport width, started at ms) of the newest ``limit``
        replays whose URL folds to ``url``, newest first."""
