"""The sessions API's parameters and answers. Both take every filter and time parameter of the
analytics API (``collector/analytics/schema.py``'s :class:`Filters`), named as it names them."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from collector.analytics.schema import MAX_LIMIT, Filters, Granularity
from collector.query.sessions import SortKey

SessionGroup = Literal[
    "count", "timeseries", "entry_pages", "exit_pages", "referers", "referer_types"
]
MAX_SESSION_PAGE = 500
_MAX_SECONDS = 10 * 365 * 86_400
_MAX_COUNT = 1_000_000


def _bound(description: str, most: int) -> msgspec.Meta:
    return msgspec.Meta(ge=0, le=most, description=description)


class SessionAnalyticsQuery(Filters, kw_only=True, forbid_unknown_fields=True):
    groupBy: Annotated[
        SessionGroup,
        msgspec.Meta(
            description="`count`: the totals; `timeseries`: visitors, sessions and page views "
            "per bucket; `entry_pages` / `exit_pages`: sessions by their first / last page; "
            "`referers`: by referrer host with its class; `referer_types`: by class (search, "
            "social, email, paid, direct, referral)."
        ),
    ] = "count"
    granularity: (
        Annotated[
            Granularity,
            msgspec.Meta(description="The buckets of `timeseries` (default by the range)."),
        ]
        | None
    ) = None
    limit: Annotated[
        int, msgspec.Meta(ge=1, le=MAX_LIMIT, description="Rows of a breakdown (at most 1000).")
    ] = 100


class SessionsQuery(Filters, kw_only=True, forbid_unknown_fields=True):
    hasReplay: (
        Annotated[bool, msgspec.Meta(description="Only sessions with (or without) a replay.")]
        | None
    ) = None
    hasConversion: (
        Annotated[bool, msgspec.Meta(description="Only sessions with (or without) a lead or sale.")]
        | None
    ) = None
    signal: (
        Annotated[
            str,
            msgspec.Meta(
                max_length=64,
                description="Only sessions with a frustration signal of these kinds: `rage`, "
                "`dead`, `error` clicks. `rage,dead` any of them, `-rage` none; give the "
                "parameter again for another value.",
                examples=["rage,dead"],
            ),
        ]
        | None
    ) = None
    minDuration: (
        Annotated[
            int, _bound("Seconds from the first to the last page view, at least.", _MAX_SECONDS)
        ]
        | None
    ) = None
    maxDuration: (
        Annotated[
            int, _bound("Seconds from the first to the last page view, at most.", _MAX_SECONDS)
        ]
        | None
    ) = None
    minPages: Annotated[int, _bound("Page views, at least.", _MAX_COUNT)] | None = None
    maxPages: Annotated[int, _bound("Page views, at most.", _MAX_COUNT)] | None = None
    minClicks: (
        Annotated[int, _bound("Click interactions (`click` events), at least.", _MAX_COUNT)] | None
    ) = None
    maxClicks: Annotated[int, _bound("Click interactions, at most.", _MAX_COUNT)] | None = None
    page: Annotated[int, msgspec.Meta(ge=1, le=1_000_000, description="From 1.")] = 1
    limit: Annotated[
        int, msgspec.Meta(ge=1, le=MAX_SESSION_PAGE, description="Sessions a page (at most 500).")
    ] = 50
    sortBy: Annotated[
        SortKey, msgspec.Meta(description="`startedAt`, `duration` or `pageviews`.")
    ] = "startedAt"
    sortOrder: Annotated[Literal["asc", "desc"], msgspec.Meta(description="Sort direction.")] = (
        "desc"
    )


class SessionTotals(msgspec.Struct, kw_only=True):
    """``groupBy=count``."""

    visitors: int
    sessions: int
    pageviews: int
    bounceRate: Annotated[
        float | None,
        msgspec.Meta(description="Share of one-page sessions, 0 to 1; null without sessions."),
    ]
    visitDuration: Annotated[
        float | None,
        msgspec.Meta(description="Mean seconds from a session's first to its last page view."),
    ]


class SessionBucket(msgspec.Struct, kw_only=True):
    start: str | None  # the bucket's first instant
    visitors: int
    sessions: int
    pageviews: int


class PageRow(msgspec.Struct, kw_only=True):
    url: str
    sessions: int
    visitors: int


class RefererTypeRow(msgspec.Struct, kw_only=True):
    """A row of ``referer_types``."""

    refererType: str
    visitors: int
    sessions: int
    pageviews: int


class RefererRow(msgspec.Struct, kw_only=True):
    """A row of ``referers``: the referrer's host (null: none) and its class."""

    referer: str | None
    refererType: str
    visitors: int
    sessions: int
    pageviews: int


class SessionAnalyticsRow(msgspec.Struct, kw_only=True, omit_defaults=True):
    """A row of a time series (``start``), of entry or exit pages (``url``) or of referrers
    (``referer``, ``refererType``): documents the answer's shape."""

    start: str | None = None
    url: str | None = None
    referer: str | None = None
    refererType: str | None = None
    visitors: int = 0
    sessions: int = 0
    pageviews: int | None = None


class Signals(msgspec.Struct, kw_only=True):
    """A session's frustration signals: its ``rage_click``, ``dead_click`` and ``error_click``
    events, found by the tracker or in the replay."""

    rage: int = 0
    dead: int = 0
    error: int = 0


class SessionRow(msgspec.Struct, kw_only=True):
    """A session: its page views, where it came from (its first page view), what it did."""

    sessionId: str
    visitorId: str
    startedAt: str | None
    endedAt: str | None
    duration: Annotated[
        int, msgspec.Meta(description="Seconds from the first to the last page view.")
    ]
    pageviews: int
    clicks: Annotated[int, msgspec.Meta(description="Click interactions (`click` events).")]
    signals: Signals
    entryPage: str | None
    exitPage: str | None
    country: str | None
    city: str | None
    device: str | None
    browser: str | None
    os: str | None
    referer: str | None
    refererType: str | None
    utm_source: str | None
    utm_medium: str | None
    utm_campaign: str | None
    linkId: str | None
    leads: int
    sales: int
    saleAmount: int
    replayIds: list[str]
    bot: bool
