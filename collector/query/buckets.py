"""Time buckets in an IANA time zone, computed in Python with :mod:`zoneinfo`.

A bucket starts whenever the local wall clock starts a new period:

- ``hour``: each instant at which the clock shows a full hour (``hh:00``), or jumps into an hour
  it did not show the start of. A day that springs forward has 23 hourly buckets; one that falls
  back has 25 (the repeated hour is two buckets: same wall time, different UTC offsets). For
  zones a whole number of hours from UTC these are exactly the UTC hours.
- ``day``: local midnight (or, where midnight is skipped, the first instant of the date): days
  of 23, 24 or 25 hours.
- ``week``: Monday's start of day; ``month``: the first day's start of day.

SQLite has no time-zone functions, so its compiler passes these edges in as parameters;
ClickHouse computes the same buckets with ``toStartOfHour`` and friends (the shared test suite
checks they agree). Every edge is an integer of ms since the Unix epoch.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import zoneinfo
from collections.abc import Iterator
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .model import BucketUnit, QueryError

# Hourly buckets over 208 days; SQLite binds about two parameters per bucket.
MAX_BUCKETS = 5_000
# The instants a bucketed range may span: ClickHouse's DateTime ends in 2106.
FIRST_BUCKETED_MS = 0
LAST_BUCKETED_MS = 4_102_444_800_000  # 2100-01-01T00:00:00Z
_NOMINAL_MS: dict[str, int] = {
    "hour": 3_600_000,
    "day": 86_400_000,
    "week": 7 * 86_400_000,
    "month": 28 * 86_400_000,
}
_DAY = dt.timedelta(days=1)


def zone(name: str) -> ZoneInfo:
    """The IANA time zone ``name`` (e.g. ``Europe/Berlin``), or :class:`QueryError`."""
    if not isinstance(name, str) or not name or len(name) > 64 or not name.isascii():
        raise QueryError(
            f"`time_zone` {str(name)[:70]!r} is not an IANA time zone", param="time_zone"
        )
    if name not in _zone_names():  # not right/..., posix/... or a stray file of the tz database
        raise QueryError(
            f"`time_zone` {name!r} is not an IANA time zone (e.g. Europe/Berlin)",
            param="time_zone",
        )
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise QueryError(
            f"`time_zone` {name!r} is not an IANA time zone (e.g. Europe/Berlin)",
            param="time_zone",
        ) from None


@functools.cache
def _zone_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def check_range(start: int | None, end: int | None, unit: BucketUnit) -> tuple[int, int]:
    """The (start, end) of a range to bucket by ``unit``, or :class:`QueryError` when an end is
    open, the range is outside 1970-2099, or it spans more than :data:`MAX_BUCKETS` buckets."""
    if start is None or end is None:
        raise QueryError(
            "a time bucket needs both `start` and `end`",
            param="start" if start is None else "end",
        )
    for name, ms in (("start", start), ("end", end)):
        if not FIRST_BUCKETED_MS <= ms < LAST_BUCKETED_MS:
            raise QueryError(f"`{name}` must be within 1970-2099 to bucket by time", param=name)
    if (end - start) // _NOMINAL_MS[unit] + 2 > MAX_BUCKETS:
        raise QueryError(
            f"more than {MAX_BUCKETS:,} {unit} buckets: choose a longer bucket or a shorter range",
            param="bucket",
        )
    return start, end


def edges(start: int, end: int, unit: BucketUnit, tz: ZoneInfo) -> list[int]:
    """Start of every bucket from the one holding ``start`` to the one holding ``end`` (ms,
    ascending); none when ``start`` is after ``end``. Both ends must have passed
    :func:`check_range`."""
    if start > end:
        return []
    first = _local(start, tz).date() - _DAY
    last = _local(end, tz).date() + _DAY
    if unit == "week":
        first -= dt.timedelta(days=first.weekday())
    elif unit == "month":
        first = first.replace(day=1)
    starts = sorted(set(_period_starts(first, last, unit, tz)))
    begin = max(0, bisect.bisect_right(starts, start) - 1)
    return starts[begin : bisect.bisect_right(starts, end)]


SLOT_MS = 900_000  # every UTC offset since 1972 is a multiple of 15 minutes


def slot_buckets(start: int, end: int, unit: BucketUnit, tz: ZoneInfo) -> tuple[int, list[int]]:
    """(first slot's start, the bucket start of each 15-minute UTC slot from there to ``end``):
    a lookup table for an engine whose own time-zone functions disagree with :func:`edges`
    (ClickHouse's hours on Lord Howe's half-hour DST days). Empty when a bucket edge falls
    inside a slot (offsets of the 1970s such as Monrovia's -0:44:30)."""
    found = edges(start, end, unit, tz)
    first = start - start % SLOT_MS
    if not found or any(edge % SLOT_MS for edge in found[1:]):
        return first, []
    table, index = [], 0
    for slot in range(first, end + 1, SLOT_MS):
        while index + 1 < len(found) and found[index + 1] <= slot:
            index += 1
        table.append(found[index])
    return first, table


def _period_starts(first: dt.date, last: dt.date, unit: BucketUnit, tz: ZoneInfo) -> Iterator[int]:
    """Every bucket start on the local dates ``first`` to ``last``."""
    day = first
    while day <= last:
        if unit == "hour":
            for hour in range(24):
                yield from _hour_starts(day, hour, tz)
        elif (
            unit == "day"
            or (unit == "week" and day.weekday() == 0)
            or (unit == "month" and day.day == 1)
        ):
            # the first instant of the date: fold=0 maps a skipped midnight to the transition
            yield _instant(day, 0, 0, tz)
        day += _DAY


def _hour_starts(day: dt.date, hour: int, tz: ZoneInfo) -> Iterator[int]:
    """Instants at which the wall clock enters ``hour`` of ``day``: none for an hour skipped
    whole, two for an hour repeated when the clock falls back."""
    seen = None
    for fold in (0, 1):
        instant = _instant(day, hour, fold, tz)
        wall = _local(instant, tz)
        if instant != seen and wall.date() == day and wall.hour == hour:
            seen = instant
            yield instant


def _instant(day: dt.date, hour: int, fold: int, tz: ZoneInfo) -> int:
    local = dt.datetime(day.year, day.month, day.day, hour, tzinfo=tz, fold=fold)
    return round(local.timestamp()) * 1000


def _local(ms: int, tz: ZoneInfo) -> dt.datetime:
    return dt.datetime.fromtimestamp(ms // 1000, tz)
