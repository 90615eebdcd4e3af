"""Query-parameter parsing for the API: each bad value is a 422 naming its parameter."""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime
from typing import Any

import msgspec
from starlette.datastructures import QueryParams
from starlette.responses import Response

from collector.http.errors import ApiError

INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)
# ASCII digits only (str.isdigit and int() also take superscript, full-width and Arabic-Indic
# digits), an optional minus.
_INTEGER = re.compile(r"-?[0-9]{1,19}")
# The times ``iso`` can show: years 1..9999 UTC, as ms since the epoch.
FIRST_SHOWN_MS = -62_135_596_800_000
LAST_SHOWN_MS = 253_402_300_799_999

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class JSON(Response):
    """A JSON response encoded by msgspec (fast, and handles Structs)."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return msgspec.json.encode(content)


def text(params: QueryParams, name: str, max_length: int = 2048) -> str | None:
    value = params.get(name)
    if value is None or value == "":
        return None
    if len(value) > max_length:
        raise ApiError(422, f"`{name}` is longer than {max_length} characters", param=name)
    return value


def parse_int(value: str, minimum: int = INT64_MIN, maximum: int = INT64_MAX) -> int | None:
    """``value`` as an int if it is ASCII digits (with an optional minus) within
    ``minimum..maximum``; else None."""
    # ASCII digits alone (a header's usual value) skip the pattern: same answer, faster
    plain = value.isascii() and value.isdigit() and len(value) <= 19
    if not plain and not _INTEGER.fullmatch(value):
        return None
    number = int(value)
    return number if minimum <= number <= maximum else None


def content_length(value: str | None) -> int | None:
    """A Content-Length header's value when it is ASCII digits within int64, else None."""
    return parse_int(value.strip(), minimum=0) if value else None


def integer(
    params: QueryParams,
    name: str,
    minimum: int = INT64_MIN,
    maximum: int = INT64_MAX,
) -> int | None:
    """An integer query parameter (ASCII digits, optional minus, within bounds), or None when
    absent or empty; anything else is a 422 naming it."""
    value = params.get(name)
    if value is None or value == "":
        return None
    number = parse_int(value, minimum, maximum)
    if number is None:
        raise ApiError(
            422,
            f"`{name}` must be an integer from {minimum} to {maximum}, not {value[:40]!r}",
            param=name,
        )
    return number


def boolean(params: QueryParams, name: str) -> bool:
    value = params.get(name)
    if value is None:
        return False
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ApiError(422, f"`{name}` must be true or false, not {value!r}", param=name)


def choice(params: QueryParams, name: str, allowed: tuple[str, ...], default: str) -> str:
    value = params.get(name) or default
    if value not in allowed:
        raise ApiError(
            422, f"`{name}` must be one of {', '.join(allowed)}; got {value!r}", param=name
        )
    return value


def timestamp_ms(params: QueryParams, name: str, end_of_day: bool = False) -> int | None:
    """An ISO 8601 date or date-time as ms since the epoch (UTC unless an offset is given). A
    bare date means the start of that day, or its last millisecond with ``end_of_day``."""
    value = params.get(name)
    if value is None or value == "":
        return None
    try:
        if not value.isascii():
            raise ValueError(value)
        if len(value) == 10:
            day = date.fromisoformat(value)
            moment = datetime(day.year, day.month, day.day, tzinfo=UTC)
            ms = int(moment.timestamp() * 1000)
            return ms + 86_400_000 - 1 if end_of_day else ms
        moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace(" ", "+"))
    except (ValueError, OverflowError):
        raise ApiError(
            422, f"`{name}` must be an ISO 8601 date or date-time, not {value[:40]!r}", param=name
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def iso(ms: int | float) -> str | None:
    """ms since the epoch as ISO 8601 UTC with milliseconds, e.g. 2024-12-10T09:00:00.000Z;
    None for a time outside years 1..9999 (stored by an older version or another writer)."""
    if isinstance(ms, float) and math.isfinite(ms):
        ms = int(ms)
    if not isinstance(ms, int) or not FIRST_SHOWN_MS <= ms <= LAST_SHOWN_MS:
        return None  # a column of another type, or out of range
    moment = datetime.fromtimestamp(ms // 1000, tz=UTC)
    return f"{moment.year:04d}-" + moment.strftime("%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def duration_ms(start_ms: int, end_ms: int) -> int | None:
    """``end_ms - start_ms`` (at least 0), or None when either time cannot be shown."""
    if iso(start_ms) is None or iso(end_ms) is None:
        return None
    return max(0, end_ms - start_ms)
