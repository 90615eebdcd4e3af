"""ClickHouse: click maps and scroll depth per page URL (``collector/heatmaps/``).

Every read starts from the page sessions of the scope: the ids of the brand's clicks created in
the range (a range of the primary key ``(brand_id, created_at, id)``; ``IN`` a set, so a click
stored twice counts once), then the brand's events of those clicks (the ``events`` key starts
with ``brand_id``; the ``click_id`` bloom filter skips the rest). Events are stored once each
(``clicks.py``), so they are counted as they are.

A page is its URL folded: ``extract(url, '^[^?#]*')``, the URL up to its first ``?`` or ``#``,
the same cut as SQLite's and Python's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..model import Replay
from ..reads import PageScope
from ..rows import text
from .connection import ClickHouseBase

_SIGNAL_TYPES = "'rage_click', 'dead_click', 'error_click'"
_FOLD = "extract(url, '^[^?#]*')"
# One row per replay of the brand: (replay_id, url of its first chunk, page_session_id,
# started: its first event's time), from its live chunks and its segments (whose header is
# the first chunk's).
_REPLAY_HEADS = (
    "SELECT replay_id, argMin(url, k) AS url, any(page_session_id) AS page_session_id,"
    " min(t) AS started FROM ("
    " SELECT replay_id, url, page_session_id, seq AS k, first_ts AS t FROM {db}.replay_chunks"
    "  WHERE brand_id = {brand:UInt64}"
    " UNION ALL SELECT replay_id, url, page_session_id, -1, started_at FROM {db}.replay_segments"
    "  WHERE brand_id = {brand:UInt64})"
    " GROUP BY replay_id"
)


def _page_sessions(scope: PageScope) -> str:
    """``SELECT id, visitor_id`` of the scope's page sessions (one row per stored click)."""
    bots = {"exclude": " AND is_bot = 0", "only": " AND is_bot = 1"}.get(scope.bots, "")
    start = (
        ""
        if scope.start is None
        else " AND created_at >= fromUnixTimestamp64Milli({start:Int64}, 'UTC')"
    )
    return (
        "SELECT id, visitor_id FROM {db}.clicks WHERE brand_id = {brand:UInt64}"
        f"{start} AND created_at <= fromUnixTimestamp64Milli({{end:Int64}}, 'UTC'){bots}"
    )


def _params(brand_id: int, scope: PageScope, **more: Any) -> dict[str, Any]:
    return {
        "brand": brand_id,
        "start": scope.start or 0,
        "end": scope.end,
        "url": scope.url,
        **more,
    }


def _events_on_page(scope: PageScope, types: str, columns: str) -> str:
    """``columns`` of the events of ``types`` (SQL list) on the scope's page."""
    return (
        f"SELECT {columns} FROM {{db}}.events WHERE brand_id = {{brand:UInt64}}"
        f" AND type IN ({types}) AND {_FOLD} = {{url:String}}"
        f" AND click_id IN (SELECT id FROM ({_page_sessions(scope)}))"
    )


class HeatmapsMixin(ClickHouseBase):
    """:class:`~collector.storage.base.HeatmapStore` on ClickHouse."""

    def heatmap_page_views(self, brand_id: int, scope: PageScope) -> int:
        events = _events_on_page(scope, "'page_view'", "click_id")
        rows = self._rows(f"SELECT count() FROM ({events})", _params(brand_id, scope))
        return int(rows[0][0])

    def heatmap_selectors(
        self, brand_id: int, scope: PageScope, limit: int
    ) -> list[tuple[str, int, int, int, int, int]]:
        columns = (
            "type, click_id, if(type = 'click', JSONExtractString(data, 'selector'),"
            " JSONExtractString(data, 's')) AS sel"
        )
        events = _events_on_page(scope, f"'click', {_SIGNAL_TYPES}", columns)
        visitors = (
            f"SELECT id, any(visitor_id) AS visitor_id FROM ({_page_sessions(scope)}) GROUP BY id"
        )
        rows = self._text_rows(
            "SELECT sel, countIf(type = 'click') AS clicks,"
            " uniqExactIf(v.visitor_id, type = 'click'),"
            " countIf(type = 'rage_click') AS rage, countIf(type = 'dead_click') AS dead,"
            " countIf(type = 'error_click') AS error"
            f" FROM ({events}) AS e LEFT JOIN ({visitors}) AS v ON v.id = e.click_id"
            " WHERE sel != '' GROUP BY sel"
            " ORDER BY clicks DESC, rage + dead + error DESC, sel LIMIT {limit:UInt64}",
            _params(brand_id, scope, limit=max(0, int(limit))),
        )
        return [(text(row[0]) or "", *(int(n) for n in row[1:])) for row in rows]  # type: ignore[misc]

    def heatmap_depths(self, brand_id: int, scope: PageScope) -> dict[int, int]:
        events = _events_on_page(
            scope, "'scroll_depth'", "click_id, JSONExtractInt(data, 'd') AS d"
        )
        rows = self._rows(
            f"SELECT deepest, count() FROM (SELECT max(d) AS deepest FROM ({events})"
            " WHERE d BETWEEN 1 AND 10 GROUP BY click_id) GROUP BY deepest",
            _params(brand_id, scope),
        )
        return {int(d): int(n) for d, n in rows}

    def heatmap_pages(
        self, brand_id: int, scope: PageScope, limit: int
    ) -> list[tuple[str, int, int, int]]:
        sessions = _page_sessions(scope)
        pages = (
            f"SELECT {_FOLD} AS page, countIf(type = 'page_view') AS views,"
            " countIf(type = 'click') AS clicks FROM {db}.events"
            " WHERE brand_id = {brand:UInt64} AND type IN ('page_view', 'click')"
            f" AND click_id IN (SELECT id FROM ({sessions}))"
            " GROUP BY page HAVING views > 0 ORDER BY views DESC, page LIMIT {limit:UInt64}"
        )
        replayed = (
            f"SELECT {_FOLD} AS page, count() AS n FROM ({_REPLAY_HEADS})"
            f" WHERE page_session_id IN (SELECT id FROM ({sessions})) GROUP BY page"
        )
        rows = self._text_rows(
            f"SELECT p.page, p.views, p.clicks, r.n FROM ({pages}) AS p"
            f" LEFT JOIN ({replayed}) AS r ON r.page = p.page ORDER BY p.views DESC, p.page",
            _params(brand_id, scope, limit=max(0, int(limit))),
        )
        return [
            (text(page) or "", int(views), int(clicks), int(n or 0))
            for page, views, clicks, n in rows
        ]

    def heatmap_replays(
        self, brand_id: int, url: str, limit: int
    ) -> list[tuple[str, str, int | None, int]]:
        ids = self._rows(
            f"SELECT replay_id FROM ({_REPLAY_HEADS}) WHERE {_FOLD} = {{url:String}}"
            " ORDER BY started DESC, replay_id DESC LIMIT {limit:UInt64}",
            {"brand": brand_id, "url": url, "limit": max(0, int(limit))},
        )
        found = self._summaries(brand_id, [row[0] for row in ids])
        replays = sorted(found.values(), key=lambda r: (r.started_at, r.id), reverse=True)
        return [(r.id, r.session_id, r.viewport_width, r.started_at) for r in replays]

    if TYPE_CHECKING:  # ReplaysMixin's, beside this mixin in ClickHouseStore

        def _summaries(self, brand_id: int, replay_ids: list[str]) -> dict[str, Replay]: ...
