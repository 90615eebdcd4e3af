"""The heatmaps API's parameters and answers.

The time parameters are the analytics API's (``interval``, ``start``, ``end``, ``timezone``,
checked by ``analytics/timerange.py``), and ``bots`` (left out by default: a heatmap follows
people). A page is named by ``url``: its query string and fragment are cut off.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from collector.analytics.schema import Bots, Interval
from collector.http.schema import Time

MAX_URL = 2048
MIN_WIDTH = 200
MAX_WIDTH = 4000

_URL = msgspec.Meta(
    min_length=1,
    max_length=MAX_URL,
    description="The page's URL; its query string and fragment are cut off, the rest must "
    "match the tracked URLs exactly (scheme, host, path).",
    examples=["https://shop.example/pricing"],
)


class PageTime(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The page sessions counted: those that started in the range."""

    interval: Annotated[
        Interval,
        msgspec.Meta(
            description="The range of page sessions (by when they started), ending now "
            "(default 24h); `start` and `end` take precedence. As in `analytics`."
        ),
    ] = "24h"
    start: (
        Annotated[
            str,
            msgspec.Meta(
                max_length=64,
                description="ISO 8601 date or date-time; a time without an offset is in "
                "`timezone`. Takes precedence over `interval`.",
            ),
        ]
        | None
    ) = None
    end: (
        Annotated[
            str,
            msgspec.Meta(
                max_length=64,
                description="ISO 8601 date (its whole day) or date-time; defaults to now.",
            ),
        ]
        | None
    ) = None
    timezone: Annotated[
        str,
        msgspec.Meta(max_length=64, description="IANA time zone of times without an offset."),
    ] = "UTC"
    bots: Annotated[
        Bots,
        msgspec.Meta(
            description="Bot traffic: left out by default (`exclude`); `include` counts it "
            "too, `only` bots alone."
        ),
    ] = "exclude"


class PageQuery(PageTime, kw_only=True, forbid_unknown_fields=True):
    url: Annotated[str, _URL]


class SnapshotQuery(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    url: Annotated[str, _URL]
    width: Annotated[
        int,
        msgspec.Meta(
            ge=MIN_WIDTH,
            le=MAX_WIDTH,
            description="The viewport width (CSS px) the map is drawn at: a replay recorded "
            "at a width of the same class (under 768 phone, under 1200 tablet, else desktop) "
            "is preferred.",
        ),
    ]


class SelectorClicks(msgspec.Struct, kw_only=True):
    """One element, by its selector: its clicks, the visitors who clicked it, and the
    frustration signals on it."""

    selector: str
    clicks: int
    visitors: int
    rage: int
    dead: int
    error: int


class ClickMap(msgspec.Struct, kw_only=True):
    """The page's page views and its clicked elements, the most clicked first (at most 500)."""

    url: str
    pageViews: int
    clicks: list[SelectorClicks]


class DepthRow(msgspec.Struct, kw_only=True):
    """The page views that reached ``depth`` percent of the page (their deepest tenth), and
    their share of the measured page views (0 when none was measured)."""

    depth: Annotated[int, msgspec.Meta(ge=10, le=100, multiple_of=10)]
    pageViews: int
    share: Annotated[float, msgspec.Meta(ge=0, le=1)]


class ScrollMap(msgspec.Struct, kw_only=True):
    """``pageViews``: the page views measured (with a scroll depth: the tracker's t/x.js sent
    one); ``depths``: 10, 20... 100 percent."""

    url: str
    pageViews: int
    depths: list[DepthRow]


class Snapshot(msgspec.Struct, kw_only=True):
    """The stored replay of the page to draw a map over: open it in the replay API."""

    url: str
    replayId: str
    sessionId: str
    viewportWidth: int | None
    startedAt: Time


class PageSummary(msgspec.Struct, kw_only=True):
    """A page (URL without query string and fragment): its page views, clicks and replays."""

    url: str
    pageViews: int
    clicks: int
    replays: int


class Pages(msgspec.Struct, kw_only=True):
    """The pages with the most page views, at most 100."""

    pages: list[PageSummary]
