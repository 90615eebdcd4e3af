"""``from`` and ``to`` (``YYYY-MM-DD HH:mm:SS`` wall times in the request's zone) as a window
of ms, and the ``next_from`` cursor that continues a truncated answer.

- ``to`` is inclusive to the end of its second (``23:59:59`` reaches ``23:59:59.999``).
- A wall time the zone repeats (the hour after a DST fall-back) is read as its first instant in
  ``from`` and its last in ``to``, so the window holds both; one the zone skips (inside a
  spring-forward gap) is read with the offset before the change, as Python's ``fold=0`` does.
- The 14 days are counted in wall time: ``2026-03-01 00:00:00`` to ``2026-03-15 00:00:00`` is
  allowed in every zone, whatever DST does in between.
- ``next_from`` is the (time, id) of the last row answered, base64url: the next page starts
  right after that row in the stream's (created_at, id) order, so clicks sharing a millisecond
  are neither lost nor repeated. It is given back as ``next_from`` (or as ``from``) with the
  same ``to``.
"""

from __future__ import annotations

import base64
import binascii
import re
from datetime import UTC, datetime, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

import msgspec

from collector.errors import Invalid

MAX_RANGE = timedelta(days=14)
CURSOR_PREFIX = "c1."
_WALL = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
_FORMAT = "%Y-%m-%d %H:%M:%S"
_MAX_CURSOR = 200


class Window(NamedTuple):
    start: int  # ms, inclusive
    end: int  # ms, inclusive
    after: tuple[int, str] | None  # the (created_at, id) the answer continues after


def window(raw_from: str, raw_to: str, zone: ZoneInfo, next_from: str | None) -> Window:
    """The request's window; :class:`Invalid` naming ``from``, ``to`` or ``next_from``."""
    after = read_cursor(next_from, "next_from") if next_from is not None else None
    if raw_from.startswith(CURSOR_PREFIX):
        after = read_cursor(raw_from, "from")
        first = datetime.fromtimestamp(after[0] // 1000, zone).replace(tzinfo=None)
    else:
        first = _wall(raw_from, "from")
    last = _wall(raw_to, "to")
    if last < first:
        raise Invalid(f"`to` ({raw_to}) is before `from` ({raw_from[:40]})", param="to")
    if last - first > MAX_RANGE:
        raise Invalid(
            "the range is at most 14 days: `to` must be within 14 days after `from`", param="to"
        )
    start = _instant(first, zone, fold=0)
    end = _instant(last, zone, fold=1) + 999
    return Window(start, end, after)


def cursor(created_at: int, click_id: str) -> str:
    """The ``next_from`` that continues after this row."""
    packed = msgspec.json.encode([created_at, click_id])
    return CURSOR_PREFIX + base64.urlsafe_b64encode(packed).decode().rstrip("=")


def read_cursor(raw: str, param: str) -> tuple[int, str]:
    """A ``next_from``'s (created_at, id); :class:`Invalid` naming ``param`` when it is not one
    this endpoint gave."""
    try:
        if not raw.startswith(CURSOR_PREFIX) or len(raw) > _MAX_CURSOR:
            raise ValueError(raw)
        body = raw[len(CURSOR_PREFIX) :]
        created_at, click_id = msgspec.json.decode(
            base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)), type=tuple[int, str]
        )
        datetime.fromtimestamp(created_at / 1000, UTC)  # a time Python can show
    except (ValueError, binascii.Error, msgspec.DecodeError, OverflowError, OSError):
        raise Invalid(f"`{param}` is not a `next_from` this endpoint gave", param=param) from None
    return created_at, click_id


def _wall(raw: str, param: str) -> datetime:
    try:
        if not _WALL.match(raw):
            raise ValueError(raw)
        return datetime.strptime(raw, _FORMAT)
    except ValueError:
        raise Invalid(
            f"`{param}` must be a time YYYY-MM-DD HH:mm:SS in the request's time zone "
            f"(got {raw[:40]!r})",
            param=param,
        ) from None


def _instant(wall: datetime, zone: ZoneInfo, fold: int) -> int:
    return int(wall.replace(tzinfo=zone, fold=fold).timestamp() * 1000)
