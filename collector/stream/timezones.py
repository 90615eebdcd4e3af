"""Everflow's time zone ids (its ``/v1/meta/timezones`` list) onto IANA names.

Only the ids confirmed from Everflow's documentation are here: the first sixteen rows of its
table and the common ids it names. Any other id gets a 422 (``docs/API.md`` lists these); any
IANA zone is reachable through the request's ``timezone`` instead.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from collector.errors import Invalid

EVERFLOW_ZONES: dict[int, str] = {
    1: "Pacific/Kiritimati",
    2: "Pacific/Enderbury",
    3: "Pacific/Tongatapu",
    4: "Pacific/Chatham",
    5: "Pacific/Auckland",
    6: "Pacific/Fiji",
    7: "Asia/Kamchatka",
    8: "Pacific/Norfolk",
    9: "Australia/Lord_Howe",
    10: "Pacific/Guadalcanal",
    11: "Australia/Adelaide",
    12: "Australia/Sydney",
    13: "Australia/Brisbane",
    14: "Australia/Darwin",
    15: "Asia/Seoul",
    16: "Asia/Tokyo",
    67: "UTC",
    80: "America/New_York",
    85: "America/Chicago",
    87: "America/Denver",
    90: "America/Los_Angeles",
    99: "Pacific/Pago_Pago",
}
MAX_ZONE_NAME = 64


def everflow_id(zone: str) -> int | None:
    """The Everflow id of an IANA zone, when it has one here."""
    return next((n for n, name in EVERFLOW_ZONES.items() if name == zone), None)


def resolve(timezone_id: int | None, timezone: str | None) -> tuple[int | None, ZoneInfo]:
    """(the Everflow id, the zone) of a request: ``timezone_id``, ``timezone``, or both when
    they name the same zone; :class:`Invalid` naming the field otherwise."""
    if timezone_id is None and timezone is None:
        raise Invalid(
            "give `timezone_id` (Everflow's ids) or `timezone` (IANA)", param="timezone_id"
        )
    by_id = None
    if timezone_id is not None:
        by_id = EVERFLOW_ZONES.get(timezone_id)
        if by_id is None:
            raise Invalid(
                f"unknown `timezone_id` {timezone_id}: use one of "
                f"{', '.join(map(str, EVERFLOW_ZONES))}, or an IANA `timezone`",
                param="timezone_id",
            )
    if timezone is not None:
        zone = _zone(timezone)
        if by_id is not None and by_id != zone.key:
            raise Invalid(
                f"`timezone_id` {timezone_id} is {by_id}, not {timezone}: give one of them",
                param="timezone",
            )
        return everflow_id(zone.key), zone
    assert by_id is not None
    return timezone_id, ZoneInfo(by_id)


def _zone(name: str) -> ZoneInfo:
    try:
        if not name or len(name) > MAX_ZONE_NAME or name.startswith(("/", ".")):
            raise ValueError(name)
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise Invalid(
            f"unknown `timezone` {name[:MAX_ZONE_NAME]!r}: give an IANA name such as Europe/London",
            param="timezone",
        ) from None
