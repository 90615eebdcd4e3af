"""``query.filters`` as compiler filters: each ``resource_type`` onto a Clicktrail field of the
click, values of one type OR-ed, types AND-ed (as Everflow does).

The answer is groups: the click must match one filter of every group. A group is one
:class:`~collector.query.model.AnyOf` but for ``offer``, which is a short link or a funnel: a
value ``link:ID`` or ``funnel:N`` says which; digits alone are a funnel id, anything else a
link id. ``docs/API.md`` has the table.
"""

from __future__ import annotations

from collections.abc import Callable

from collector.errors import Invalid
from collector.query.model import AnyOf, Filter, Value

from .schema import StreamFilter

Group = tuple[Filter, ...]
MAX_VALUE = 256


def _text(raw: str) -> str:
    return raw


def _upper(raw: str) -> str:
    return raw.upper()


def _lower(raw: str) -> str:
    return raw.lower()


def _flag(raw: str) -> bool:
    if raw.lower() in ("true", "1"):
        return True
    if raw.lower() in ("false", "0"):
        return False
    raise ValueError(raw)


def _is_number(text: str) -> bool:
    return text.isascii() and text.isdigit() and len(text) <= 18


def _funnel(raw: str) -> int:
    if not _is_number(raw):
        raise ValueError(raw)
    return int(raw)


# resource_type -> (the click's field, how a value reads)
FIELDS: dict[str, tuple[str, Callable[[str], Value]]] = {
    "affiliate": ("affiliate", _text),
    "sub1": ("sub1", _text),
    "sub2": ("sub2", _text),
    "sub3": ("sub3", _text),
    "sub4": ("sub4", _text),
    "sub5": ("sub5", _text),
    "source_id": ("utm_source", _text),
    "country": ("country", _upper),
    "region": ("region", _upper),
    "city": ("city", _text),
    "device_type": ("device_type", _lower),
    "browser": ("browser", _text),
    "os": ("os", _text),
    "platform": ("os", _text),
    "language": ("language", _text),
    "isp": ("isp", _text),
    "connection_type": ("connection_type", _text),
    "is_bot": ("is_bot", _flag),
    "is_proxy": ("is_proxy", _flag),
    "transaction_id": ("id", _text),
    "link": ("link_id", _text),
    "funnel": ("funnel_id", _funnel),
}
RESOURCE_TYPES = ("offer", *FIELDS)


def groups(filters: list[StreamFilter]) -> tuple[Group, ...]:
    """One group per resource type, in the order first named; :class:`Invalid` naming the
    filter's ``resource_type`` or ``filter_id_value`` that does not read."""
    values: dict[str, list[Value]] = {}
    for n, item in enumerate(filters):
        kind = item.resource_type
        if kind not in RESOURCE_TYPES:
            raise Invalid(
                f"unknown resource_type {kind[:40]!r}: use one of {', '.join(RESOURCE_TYPES)}",
                param=f"query.filters[{n}].resource_type",
            )
        values.setdefault(kind, []).append(_value(kind, str(item.filter_id_value), n))
    return tuple(_group(kind, found) for kind, found in values.items())


def _value(kind: str, raw: str, n: int) -> Value:
    param = f"query.filters[{n}].filter_id_value"
    if not raw or len(raw) > MAX_VALUE:
        raise Invalid(f"filter_id_value: 1 to {MAX_VALUE} characters", param=param)
    if kind == "offer":
        return raw
    try:
        return FIELDS[kind][1](raw)
    except ValueError:
        raise Invalid(f"{raw[:40]!r} is not a {kind} value", param=param) from None


def _group(kind: str, found: list[Value]) -> Group:
    if kind == "offer":
        return _offer([str(value) for value in found])
    return (AnyOf(FIELDS[kind][0], tuple(dict.fromkeys(found))),)


def _offer(raw: list[str]) -> Group:
    """``link:ID`` / ``funnel:N`` / digits (a funnel) / other text (a link)."""
    links: list[str] = []
    funnels: list[int] = []
    for value in raw:
        kind, _, rest = value.partition(":")
        if kind == "link" and rest:
            links.append(rest)
        elif kind == "funnel" and _is_number(rest):
            funnels.append(int(rest))
        elif _is_number(value):
            funnels.append(int(value))
        else:
            links.append(value)
    group: list[Filter] = []
    if links:
        group.append(AnyOf("link_id", tuple(dict.fromkeys(links))))
    if funnels:
        group.append(AnyOf("funnel_id", tuple(dict.fromkeys(funnels))))
    return tuple(group)
