"""Examples for the documentation of the heatmaps API."""

from __future__ import annotations

from collector.clicks import examples as clicks

from .schema import ClickMap, DepthRow, Pages, PageSummary, ScrollMap, SelectorClicks, Snapshot

BRAND_ID = clicks.BRAND_ID
URL = "https://shop.example/pricing"

CLICK_MAP = ClickMap(
    url=URL,
    pageViews=1204,
    clicks=[
        SelectorClicks(selector="a#buy", clicks=311, visitors=280, rage=4, dead=0, error=1),
        SelectorClicks(selector="button.plan", clicks=97, visitors=90, rage=0, dead=12, error=0),
    ],
)
_REACHED = [1180, 1102, 960, 811, 700, 590, 455, 380, 301, 212]
SCROLL_MAP = ScrollMap(
    url=URL,
    pageViews=1180,
    depths=[
        DepthRow(depth=10 * (n + 1), pageViews=reached, share=round(reached / 1180, 4))
        for n, reached in enumerate(_REACHED)
    ],
)
SNAPSHOT = Snapshot(
    url=URL,
    replayId="01jeqwqxm0c29kdcrhw588kmx0",
    sessionId=clicks.CLICK.session_id,
    viewportWidth=1440,
    startedAt="2024-12-10T09:00:01.500Z",
)
PAGES = Pages(
    pages=[
        PageSummary(url="https://shop.example/", pageViews=4020, clicks=5310, replays=212),
        PageSummary(url=URL, pageViews=1204, clicks=1630, replays=61),
    ]
)
