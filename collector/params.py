"""Query-parameter parsing for the API: each bad value is a 422 naming its parameter."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import msgspec
from starlette.datastructures import QueryParams
from starlette.responses import Response

from collector.errors import ApiError

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


def integer(params: QueryParams, name: str, minimum: int | None = None) -> int | None:
    value = params.get(name)
    if value is None or value == "":
        return None
    try:
        number = int(value)
    except ValueError:
        raise ApiError(422, f"`{name}` must be an integer, not {value!r}", param=name) from None
    if minimum is not None and number < minimum:
        raise ApiError(422, f"`{name}` must be at least {minimum}", param=name)
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
        if len(value) == 10:
            day = date.fromisoformat(value)
            moment = datetime(day.year, day.month, day.day, tzinfo=UTC)
            ms = int(moment.timestamp() * 1000)
            return ms + 86_400_000 - 1 if end_of_day else ms
        moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace(" ", "+"))
    except ValueError:
        raise ApiError(
            422, f"`{name}` must be an ISO 8601 date or date-time, not {value!r}", param=name
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def iso(ms: int) -> str:
    """ms since the epoch as ISO 8601 UTC with milliseconds, e.g. 2024-12-10T09:00:00.000Z."""
    moment = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"
