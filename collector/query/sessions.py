"""Sessions as a query: a brand's page views grouped by ``session_id``, then filtered, counted
or listed as sessions.

A session here is made of its **page views** (clicks with trigger ``pageview``) that match the
query's filters and time range: its pages are how many there are, it starts at the first and ends
at the last (a one-page session lasts 0 s, as Plausible counts a visit's duration), its entry page
is the first one's URL and its exit page the last one's. Short-link redirects are clicks of the
session too, but not page views: the events API counts those.

Besides the click filters, a :class:`SessionQuery` holds conditions on the session as a whole:
whether it has a replay, a conversion or a frustration signal (``rage_click``, ``dead_click``,
``error_click`` events of its pages), and ranges of its duration, page count and number of
click interactions (``click`` events of its pages). The dialect modules
(:mod:`collector.query.sessions_sqlite`, :mod:`collector.query.sessions_clickhouse`) compile it
with the same function names: :func:`summary`, :func:`series`, :func:`pages`, :func:`breakdown`,
:func:`listing`, :func:`total`.
"""

from __future__ import annotations

from typing import Literal

import msgspec

from .events import CLICK_EVENTS
from .fields import Field
from .model import AnyOf, Query, QueryError

SortKey = Literal["startedAt", "duration", "pageviews"]
Edge = Literal["entry", "exit"]
# A page view reached from the site's own pages: the referrer classifier calls a referrer on the
# page's own site "direct" and keeps its host (no referrer at all is "direct" without one).
FROM_OWN_PAGE = "({alias}referrer_type = 'direct' AND {alias}referrer_host IS NOT NULL)"
# What the sources breakdowns group arrivals (page views not from the site's own pages) by.
BREAKDOWNS: dict[str, tuple[str, ...]] = {
    "referers": ("referer", "refererType"),
    "referer_types": ("refererType",),
}
# The signal kinds of the API (``signal=rage,dead``) and the events that record them.
SIGNAL_TYPES: dict[str, str] = {"rage": "rage_click", "dead": "dead_click", "error": "error_click"}
_SIGNAL_KINDS = {event: kind for kind, event in SIGNAL_TYPES.items()}
# The events a listed session's extras count: click interactions and signals.
COUNTED_EVENTS = ("click", *SIGNAL_TYPES.values())
REFERER_TYPE = Field("refererType", "referrer_type", "text", False)
PAGE_VIEW = AnyOf("trigger", ("pageview",))


class Between(msgspec.Struct, frozen=True):
    """An inclusive range; ``None`` leaves that end open."""

    minimum: int | None = None
    maximum: int | None = None

    @property
    def open(self) -> bool:
        return self.minimum is None and self.maximum is None


class SessionQuery(msgspec.Struct, frozen=True, kw_only=True):
    """Which sessions: ``clicks`` filters the page views (its ``trigger`` filter is the compiler's
    to add), the rest are conditions on each session as a whole."""

    clicks: Query
    has_replay: bool | None = None
    has_conversion: bool | None = None
    duration_ms: Between = Between()
    pages: Between = Between()
    interactions: Between = Between()  # ``click`` events of the session
    # event types (``SIGNAL_TYPES``' values): sessions with at least one / with none of them
    with_signals: tuple[str, ...] = ()
    without_signals: tuple[str, ...] = ()

    def page_views(self) -> Query:
        """The click query of the session's page views."""
        return msgspec.structs.replace(self.clicks, filters=(*self.clicks.filters, PAGE_VIEW))

    @property
    def grouped(self) -> bool:
        """Whether a condition needs the session's own aggregates (duration, pages)."""
        return not (self.duration_ms.open and self.pages.open)


def check_breakdown(group: str) -> tuple[str, ...]:
    keys = BREAKDOWNS.get(group)
    if keys is None:
        raise QueryError(f"unknown session breakdown {group[:40]!r}", param="groupBy")
    return keys


def field(name: str) -> Field:
    """A click field by its API name, or the referrer's class (clicks only)."""
    return REFERER_TYPE if name == REFERER_TYPE.name else CLICK_EVENTS[name]


class SessionExtras(msgspec.Struct, kw_only=True):
    """What a listed session has beyond its page views: conversions, click interactions,
    frustration signals and replays (ids by start)."""

    leads: int = 0
    sales: int = 0
    sale_amount: int = 0
    interactions: int = 0
    signals: dict[str, int] = {}  # events by signal kind (``rage``...), the kinds it has
    replay_ids: list[str] = []

    def count(self, event_type: str, count: int) -> None:
        """Add the session's ``count`` events of ``event_type`` (one of ``COUNTED_EVENTS``)."""
        if event_type == "click":
            self.interactions = count
        else:
            self.signals[_SIGNAL_KINDS[event_type]] = count
