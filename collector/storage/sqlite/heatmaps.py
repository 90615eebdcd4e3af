"""SQLite: click maps and scroll depth per page URL (``collector/heatmaps/``).

Every read starts from the page sessions of the scope: the brand's clicks created in the range,
a range of the ``clicks_brand_created`` index ``(brand_id, created_at, is_bot)``, then their
events through ``events_brand_click`` ``(brand_id, click_id, ...)``. So a read costs the page
sessions of the range, never a scan of the brand's events, and no new index is kept.

A page is its URL folded: cut at the first ``?`` or ``#``. One page's events are matched by
prefix, ``substr(url, 1, n) = page`` and the next character ``?``, ``#`` or none, which is
exact (the page has neither character) and needs no folding of each row; the page list folds
each URL with ``instr``. Text positions count characters, as Python's ``len`` does.
"""

from __future__ import annotations

from typing import Any

from ..reads import PageScope
from .connection import SQLiteBase

_SIGNAL_TYPES = "'rage_click', 'dead_click', 'error_click'"
_EARLIEST = -(2**63)


def fold(column: str) -> str:
    """SQL of ``column`` cut at its first ``?`` or ``#``."""
    cut = f"min(instr({column} || '?', '?'), instr({column} || '#', '#'))"
    return f"substr({column}, 1, {cut} - 1)"


def _page_sessions(brand_id: int, scope: PageScope) -> tuple[str, list[Any]]:
    """The CTE ``pv`` (id, visitor_id) of the scope's page sessions, and its parameters."""
    bots = {"exclude": " AND is_bot = 0", "only": " AND is_bot = 1"}.get(scope.bots, "")
    start = _EARLIEST if scope.start is None else scope.start
    sql = (
        "WITH pv AS (SELECT id, visitor_id FROM clicks"
        f" WHERE brand_id = ? AND created_at BETWEEN ? AND ?{bots})"
    )
    return sql, [brand_id, start, scope.end]


def _on_page(scope: PageScope) -> tuple[str, list[Any]]:
    """The condition that an event ``e`` is on the scope's page, and its parameters."""
    n = len(scope.url)
    return (
        "substr(e.url, 1, ?) = ? AND substr(e.url, ? + 1, 1) IN ('', '?', '#')",
        [n, scope.url, n],
    )


def _events_on_page(brand_id: int, scope: PageScope, types: str) -> tuple[str, list[Any]]:
    """``pv`` and the CTE ``pe`` (type, data, click_id, visitor_id) of the events of ``types``
    (SQL list) on the scope's page."""
    sessions, params = _page_sessions(brand_id, scope)
    on_page, page_params = _on_page(scope)
    sql = (
        f"{sessions}, pe AS (SELECT e.type, e.data, e.click_id, pv.visitor_id FROM pv"
        " JOIN events e ON e.brand_id = ? AND e.click_id = pv.id"
        f" WHERE e.type IN ({types}) AND {on_page})"
    )
    return sql, [*params, brand_id, *page_params]


class HeatmapsMixin(SQLiteBase):
    """:class:`~collector.storage.base.HeatmapStore` on SQLite."""

    def heatmap_page_views(self, brand_id: int, scope: PageScope) -> int:
        events, params = _events_on_page(brand_id, scope, "'page_view'")
        return int(self._one(f"{events} SELECT count(*) FROM pe", params)[0])

    def heatmap_selectors(
        self, brand_id: int, scope: PageScope, limit: int
    ) -> list[tuple[str, int, int, int, int, int]]:
        events, params = _events_on_page(brand_id, scope, f"'click', {_SIGNAL_TYPES}")
        rows = self._all(
            f"{events} SELECT sel, sum(type = 'click'),"
            " count(DISTINCT CASE WHEN type = 'click' THEN visitor_id END),"
            " sum(type = 'rage_click') AS rage, sum(type = 'dead_click') AS dead,"
            " sum(type = 'error_click') AS error FROM"
            " (SELECT type, visitor_id, CASE WHEN type = 'click'"
            "  THEN json_extract(data, '$.selector') ELSE json_extract(data, '$.s') END AS sel"
            "  FROM pe)"
            " WHERE typeof(sel) = 'text' AND sel != '' GROUP BY sel"
            " ORDER BY 2 DESC, rage + dead + error DESC, sel LIMIT ?",
            [*params, max(0, int(limit))],
        )
        return [(str(row[0]), *(int(n) for n in row[1:])) for row in rows]  # type: ignore[misc]

    def heatmap_depths(self, brand_id: int, scope: PageScope) -> dict[int, int]:
        events, params = _events_on_page(brand_id, scope, "'scroll_depth'")
        rows = self._all(
            f"{events} SELECT d, count(*) FROM"
            " (SELECT max(json_extract(data, '$.d')) AS d FROM pe"
            "  WHERE typeof(json_extract(data, '$.d')) = 'integer' GROUP BY click_id)"
            " WHERE d BETWEEN 1 AND 10 GROUP BY d",
            params,
        )
        return {int(d): int(n) for d, n in rows}

    def heatmap_pages(
        self, brand_id: int, scope: PageScope, limit: int
    ) -> list[tuple[str, int, int, int]]:
        sessions, params = _page_sessions(brand_id, scope)
        rows = self._all(
            f"{sessions}, pages AS (SELECT {fold('e.url')} AS page,"
            " sum(e.type = 'page_view') AS views, sum(e.type = 'click') AS clicks"
            " FROM pv JOIN events e ON e.brand_id = ? AND e.click_id = pv.id"
            " WHERE e.type IN ('page_view', 'click') AND e.url IS NOT NULL GROUP BY page"
            " HAVING views > 0 ORDER BY views DESC, page LIMIT ?),"
            f" replayed AS (SELECT {fold('r.url')} AS page, count(*) AS n FROM replays r"
            " WHERE r.brand_id = ? AND r.page_session_id IN (SELECT id FROM pv) GROUP BY page)"
            " SELECT pages.page, views, clicks, coalesce(replayed.n, 0) FROM pages"
            " LEFT JOIN replayed ON replayed.page = pages.page ORDER BY views DESC, pages.page",
            [*params, brand_id, max(0, int(limit)), brand_id],
        )
        return [(str(page), int(views), int(clicks), int(n)) for page, views, clicks, n in rows]

    def heatmap_replays(
        self, brand_id: int, url: str, limit: int
    ) -> list[tuple[str, str, int | None, int]]:
        n = len(url)
        rows = self._all(
            "SELECT id, session_id, viewport_width, started_at FROM replays"
            " WHERE brand_id = ? AND substr(url, 1, ?) = ?"
            " AND substr(url, ? + 1, 1) IN ('', '?', '#')"
            " ORDER BY started_at DESC, id DESC LIMIT ?",
            [brand_id, n, url, n, max(0, int(limit))],
        )
        return [
            (str(rid), str(session), None if width is None else int(width), int(started))
            for rid, session, width, started in rows
        ]
