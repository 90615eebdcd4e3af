"""Heatmap requests as a :class:`~collector.storage.base.PageScope`, and their answers. Runs in
a worker thread; a bad value is an :class:`~collector.errors.Invalid` naming its parameter.

- A page is its URL cut at the first ``?`` or ``#`` (:func:`fold`), in the request and in
  stored events alike, so ``/pricing?utm_source=x`` and ``/pricing#faq`` are one page.
- The range picks page sessions by when they started (their click's ``created_at``); their
  events on the page count, whenever they came.
- Scroll depth: a page session's deepest ``scroll_depth`` on the page. Page views without one
  are not measured (no t/x.js, a page left before it loaded) and stay out of the shares.
"""

from __future__ import annotations

from typing import cast

from collector.analytics import timerange
from collector.analytics.schema import Filters
from collector.errors import Invalid, NotFound
from collector.http.params import iso
from collector.storage.base import PageScope, Store

from .schema import (
    ClickMap,
    DepthRow,
    PageQuery,
    Pages,
    PageSummary,
    PageTime,
    ScrollMap,
    SelectorClicks,
    Snapshot,
    SnapshotQuery,
)

MAX_SELECTORS = 500
MAX_PAGES = 100
MAX_SNAPSHOT_REPLAYS = 500  # the newest replays of a page a snapshot is chosen among
PHONE_BELOW = 768
TABLET_BELOW = 1200
NO_REPLAY = "no replay of this URL yet: record one with replay on"


def fold(url: str) -> str:
    """``url`` without its query string and fragment."""
    return url.split("#", 1)[0].split("?", 1)[0]


def page_url(url: str) -> str:
    """The request's ``url`` folded, or :class:`Invalid` when nothing is left of it."""
    page = fold(url)
    if not page:
        raise Invalid(
            "`url` has nothing before its `?` or `#`: give the page's URL, like "
            "https://shop.example/pricing",
            param="url",
        )
    return page


def scope(query: PageTime, now_ms: int, url: str = "") -> PageScope:
    # the window reads only the time fields, which PageTime declares as Filters does
    window = timerange.window(cast(Filters, query), now_ms)
    return PageScope(window.start, window.end, query.bots, url)


def click_map(store: Store, brand_id: int, query: PageQuery, now_ms: int) -> ClickMap:
    page = scope(query, now_ms, page_url(query.url))
    rows = store.heatmap_selectors(brand_id, page, MAX_SELECTORS)
    return ClickMap(
        url=page.url,
        pageViews=store.heatmap_page_views(brand_id, page),
        clicks=[
            SelectorClicks(
                selector=selector,
                clicks=clicks,
                visitors=visitors,
                rage=rage,
                dead=dead,
                error=error,
            )
            for selector, clicks, visitors, rage, dead, error in rows
        ],
    )


def scroll_map(store: Store, brand_id: int, query: PageQuery, now_ms: int) -> ScrollMap:
    page = scope(query, now_ms, page_url(query.url))
    deepest = store.heatmap_depths(brand_id, page)
    measured = sum(deepest.values())
    depths = []
    for tenth in range(1, 11):
        reached = sum(n for d, n in deepest.items() if d >= tenth)
        share = reached / measured if measured else 0.0
        depths.append(DepthRow(depth=10 * tenth, pageViews=reached, share=share))
    return ScrollMap(url=page.url, pageViews=measured, depths=depths)


def pages(store: Store, brand_id: int, query: PageTime, now_ms: int) -> Pages:
    rows = store.heatmap_pages(brand_id, scope(query, now_ms), MAX_PAGES)
    return Pages(
        pages=[
            PageSummary(url=url, pageViews=views, clicks=clicks, replays=replays)
            for url, views, clicks, replays in rows
        ]
    )


def width_class(width: int | None) -> str | None:
    if width is None:
        return None
    return "phone" if width < PHONE_BELOW else "tablet" if width < TABLET_BELOW else "desktop"


def snapshot(store: Store, brand_id: int, query: SnapshotQuery) -> Snapshot:
    """The newest replay of the page recorded at a width of the same class as ``width``,
    else the newest replay of the page; :class:`NotFound` when it has none."""
    url = page_url(query.url)
    replays = store.heatmap_replays(brand_id, url, MAX_SNAPSHOT_REPLAYS)
    if not replays:
        raise NotFound(NO_REPLAY, param="url")
    wanted = width_class(query.width)
    same = [replay for replay in replays if width_class(replay[2]) == wanted]
    replay_id, session_id, width, started = (same or replays)[0]
    return Snapshot(
        url=url,
        replayId=replay_id,
        sessionId=session_id,
        viewportWidth=width,
        startedAt=iso(started),
    )
