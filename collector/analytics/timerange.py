"""The time parameters: ``interval``, ``start``, ``end`` and ``timezone`` as a range of ms.

- ``start`` / ``end`` (ISO 8601) take precedence over ``interval``; a date, or a date-time
  without an offset, is a wall time in ``timezone``; an ``end`` date includes its whole day.
  ``end`` defaults to now; an ``end`` alone ends the interval there (``all`` and ``ytd`` keep
  their own start).
- ``interval``: ``1h``... ``90d`` end now; ``ytd`` starts at 1 January 00:00 in ``timezone``,
  ``1y`` a calendar year ago; ``all`` and ``all_unfiltered`` have no start (the same range:
  Clicktrail has no plan limit to lift).
- A time zone that is not IANA, or a ``start`` after ``end``, is a 422: never silently UTC,
  never silently swapped. Times keep their milliseconds.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import msgspec

from collector.errors import Invalid
from collector.query import buckets
from collector.query.model import QueryError

from .schema import Filters

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
_FIXED: dict[str, int] = {
    "1h": HOUR_MS,
    "24h": DAY_MS,
    "7d": 7 * DAY_MS,
    "30d": 30 * DAY_MS,
    "90d": 90 * DAY_MS,
}
# The instants a time parameter may name (years 1970..2099, as buckets allow).
_FIRST_MS = buckets.FIRST_BUCKETED_MS
_LAST_MS = buckets.LAST_BUCKETED_MS - 1


class Window(msgspec.Struct, frozen=True):
    """A request's range (both ends inclusive, ms; ``start`` None: no start) and its zone."""

    start: int | None
    end: int
    zone: str


def zone_of(name: str) -> ZoneInfo:
    try:
        return buckets.zone(name)
    except QueryError:
        raise Invalid(
            f"`timezone` {name[:64]!r} is not an IANA time zone (like America/New_York)",
            param="timezone",
        ) from None


def parse_time(text: str, zone: ZoneInfo, param: str, end_of_day: bool = False) -> int:
    """ISO 8601 ``text`` as ms; a wall time without an offset is in ``zone``. A date alone is
    its first instant, or with ``end_of_day`` its last (an ``end`` date includes that day, as
    ``GET clicks``'s does)."""
    text = text.strip()
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise Invalid(
            f"`{param}` {text[:40]!r} is not an ISO 8601 date or date-time "
            "(like 2026-03-01 or 2026-03-01T12:00:00Z)",
            param=param,
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    if end_of_day and len(text) == len("2026-03-08"):
        following = moment.date() + dt.timedelta(days=1)
        moment = dt.datetime(following.year, following.month, following.day, tzinfo=zone)
        moment -= dt.timedelta(milliseconds=1)
    ms = _ms(moment)
    if not _FIRST_MS <= ms <= _LAST_MS:
        raise Invalid(f"`{param}` must be within 1970-2099", param=param)
    return ms


def _ms(moment: dt.datetime) -> int:
    whole = moment.replace(microsecond=0)
    return int(whole.timestamp()) * 1000 + moment.microsecond // 1000


def window(query: Filters, now_ms: int) -> Window:
    """The request's range, or :class:`Invalid` naming the parameter at fault."""
    zone = zone_of(query.timezone)
    end = parse_time(query.end, zone, "end", end_of_day=True) if query.end else now_ms
    if query.start:
        start: int | None = parse_time(query.start, zone, "start")
    else:
        start = _interval_start(query.interval, end, zone)
    if start is not None and start > end:
        raise Invalid("`start` is after `end`", param="start")
    return Window(start, end, query.timezone)


def _interval_start(interval: str, end: int, zone: ZoneInfo) -> int | None:
    if interval in _FIXED:
        return max(_FIRST_MS, end - _FIXED[interval] + 1)
    local = dt.datetime.fromtimestamp(end // 1000, zone)
    if interval == "ytd":
        return _ms(dt.datetime(local.year, 1, 1, tzinfo=zone))
    if interval == "1y":
        day = 28 if (local.month, local.day) == (2, 29) else local.day
        return max(_FIRST_MS, _ms(local.replace(year=local.year - 1, day=day)) + end % 1000 + 1)
    return None  # all, all_unfiltered
