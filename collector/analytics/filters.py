"""The filter parameters of ``events`` and ``analytics`` as compiler filters.

Advanced filtering (seed 02): ``a`` is, ``a,b`` any of, ``-a`` not, ``-a,b`` none of. A value
that holds a comma is quoted (``"a,b"``; ``""`` inside quotes is one quote), or the parameter is
given again; an empty parameter is no filter. Every included value of a parameter is one "any
of", every excluded value one "none of", and both must hold. The filters then land in two
places:

- ``shared``: on a field clicks and conversions both have (a conversion copies its click's
  facts), or a :class:`~collector.query.model.Related` filter on the link's attributes;
- ``conversion``: facts of leads and sales alone (customer, sale type, metadata). On clicks
  they become one related filter: "clicks that led to such a conversion"
  (:meth:`Selection.for_clicks`).
"""

from __future__ import annotations

import csv
import re

import msgspec
from starlette.datastructures import QueryParams

from collector.errors import Invalid
from collector.query.fields import MAX_VALUES
from collector.query.model import AnyOf, Condition, Filter, NoneOf, Related

from . import metadata
from .schema import Filters

MAX_VALUE = 2048  # characters of one filter value
CONTINENTS = frozenset({"AF", "AN", "AS", "EU", "NA", "OC", "SA"})
TRIGGERS = frozenset({"qr", "link", "pageview"})
_COUNTRY = re.compile(r"[A-Z]{2}")
_REGION = re.compile(r"[A-Z]{2}-[A-Z0-9]{1,3}")
EXTERNAL_PREFIX = "ext_"

# Parameters on a field of clicks and conversions alike (the registry's field name).
DIRECT = (
    "linkId",
    "country",
    "city",
    "region",
    "continent",
    "device",
    "browser",
    "os",
    "trigger",
    "referer",
    "refererUrl",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
    "url",
)
# Parameters on the link's attributes: related filters through linkId.
LINK_ATTRIBUTES = (
    "domain",
    "externalId",
    "tenantId",
    "tagId",
    "folderId",
    "groupId",
    "partnerId",
)


class Selection(msgspec.Struct, frozen=True):
    """The request's filters: ``shared`` hold for every event, ``conversion`` for leads and
    sales only."""

    shared: tuple[Filter, ...]
    conversion: tuple[Condition, ...]

    def clicks_only(self) -> tuple[Filter, ...]:
        """The conversion facts as a filter of clicks: through a click's conversions."""
        if not self.conversion:
            return ()
        return (Related("id", "conversions", "clickId", self.conversion),)

    def for_clicks(self) -> tuple[Filter, ...]:
        return (*self.shared, *self.clicks_only())

    def for_conversions(self) -> tuple[Filter, ...]:
        return (*self.shared, *self.conversion)


def split_values(raw: str, param: str) -> tuple[bool, list[str]]:
    """(excluded, values) of one parameter value in the advanced syntax."""
    excluded = raw.startswith("-")
    body = raw[1:] if excluded else raw
    try:
        values = next(csv.reader([body], strict=True)) if body else []
    except csv.Error:
        raise Invalid(f"`{param}`: a quoted value is not closed", param=param) from None
    if not values or any(value == "" for value in values):
        raise Invalid(f"`{param}` has an empty value", param=param)
    return excluded, values


def _values_of(params: QueryParams, name: str) -> tuple[list[str], list[str]]:
    """(included, excluded) values of every occurrence of parameter ``name``."""
    included: list[str] = []
    excluded: list[str] = []
    for raw in params.getlist(name):
        if raw == "":  # a blank form field: no filter
            continue
        negated, values = split_values(raw, name)
        (excluded if negated else included).extend(values)
    if len(included) > MAX_VALUES or len(excluded) > MAX_VALUES:
        raise Invalid(f"`{name}`: at most {MAX_VALUES} values", param=name)
    for value in (*included, *excluded):
        if len(value) > MAX_VALUE:
            raise Invalid(f"`{name}`: a value is longer than {MAX_VALUE} characters", param=name)
    return included, excluded


def _normalized(name: str, value: str) -> str:
    """A value as stored (upper-case codes, lower-case device types), or :class:`Invalid`
    saying what the parameter takes."""
    if name == "country":
        value = value.upper()
        if not _COUNTRY.fullmatch(value):
            raise Invalid(f"`country` {value[:20]!r} is not an ISO 3166-1 alpha-2 code", param=name)
    elif name == "region":
        value = value.upper()
        if not _REGION.fullmatch(value):
            raise Invalid(
                f"`region` {value[:20]!r} is not an ISO 3166-2 code (like GB-ENG)", param=name
            )
    elif name == "continent":
        value = value.upper()
        if value not in CONTINENTS:
            raise Invalid(f"`continent` takes {', '.join(sorted(CONTINENTS))}", param=name)
    elif name == "trigger" and value not in TRIGGERS:
        raise Invalid("`trigger` takes qr, link, pageview", param=name)
    elif name == "device":
        value = value.lower()
    elif name == "externalId":
        if not value.startswith(EXTERNAL_PREFIX) or value == EXTERNAL_PREFIX:
            raise Invalid(f"`externalId` values start with {EXTERNAL_PREFIX!r}", param=name)
        value = value[len(EXTERNAL_PREFIX) :]
    return value


def conditions(params: QueryParams, name: str, field: str | None = None) -> list[Condition]:
    """The "any of" and "none of" filters of parameter ``name`` on ``field`` (the parameter's
    own name by default)."""
    included, excluded = _values_of(params, name)
    found: list[Condition] = []
    if included:
        found.append(AnyOf(field or name, tuple(_normalized(name, v) for v in included)))
    if excluded:
        found.append(NoneOf(field or name, tuple(_normalized(name, v) for v in excluded)))
    return found


def _link_conditions(params: QueryParams, query: Filters) -> list[Condition]:
    found: list[Condition] = []
    for name in LINK_ATTRIBUTES:
        found += conditions(params, name)
    if query.key:
        if not query.domain:
            raise Invalid("`key` needs `domain`: a code is unique per short domain", param="key")
        found.append(AnyOf("key", (query.key,)))
    return found


def selection(params: QueryParams, query: Filters) -> Selection:
    """Every filter the request asks for; :class:`Invalid` naming the parameter that is
    wrong."""
    shared: list[Filter] = []
    for name in DIRECT:
        shared += conditions(params, name)
    links = _link_conditions(params, query)
    if links:
        shared.append(Related("linkId", "links", "id", tuple(links)))
    if query.root is not None:
        through_no_link = (None,)
        shared.append(
            AnyOf("linkId", through_no_link) if query.root else NoneOf("linkId", through_no_link)
        )
    if query.bots != "include":
        shared.append(AnyOf("bot", (query.bots == "only",)))
    conversion: list[Condition] = [*conditions(params, "customerId")]
    if query.saleType is not None:
        conversion.append(AnyOf("saleType", (query.saleType,)))
    if query.query:
        conversion += metadata.conditions(query.query)
    return Selection(tuple(shared), tuple(conversion))
