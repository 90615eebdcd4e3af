"""The clicks API's bodies and parameters.

A click's JSON is derived from the storage struct :class:`~collector.storage.base.Click`, the one
declaration of its fields: every field is shown under its own name, at the top level, in the
struct's order, except for the few the tables below place (the seed's nested objects and
renames) or hide. A field added to ``Click`` therefore shows in ``GET clicks`` and in the spec
with no edit here. Times (``Millis`` fields) show as ISO 8601 text.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

import msgspec

from collector.http.params import INT64_MAX, INT64_MIN, iso
from collector.http.schema import AnyJson, BrandPath, Time
from collector.replay.schema import ReplaySummary
from collector.storage.base import Click, SortColumn
from collector.storage.columns import columns

PAGE_SIZE = 30
MAX_PAGE = 10_000_000  # 300 million clicks deep; the offset stays far inside int64

# Click fields the API does not show: the brand is in the path, the domain shows as
# ``domain {id, domain}``, and the user agent only through device, os and browser.
HIDDEN = frozenset({"brand_id", "domain_id", "user_agent"})

# Click fields that nest, or are renamed, in the seed's shape: field -> (object, key). An
# object's keys follow this table's order.
PLACED: dict[str, tuple[str, str]] = {
    **{f"utm_{key}": ("utm", key) for key in ("source", "medium", "campaign", "term", "content")},
    "ad_network": ("ad_click", "network"),
    "ad_click_id": ("ad_click", "id"),
    "referrer": ("referrer", "url"),
    "referrer_host": ("referrer", "host"),
    "referrer_type": ("referrer", "type"),
    "referrer_name": ("referrer", "name"),
    **{
        key: ("geo", key)
        for key in (
            *("country", "region", "city", "zip", "lat", "lon"),
            *("time_zone", "continent", "asn", "isp"),
        )
    },
    "device_type": ("device", "type"),
    "device_brand": ("device", "brand"),
    "device_model": ("device", "model"),
    "os": ("os", "name"),
    "os_version": ("os", "version"),
    "browser": ("browser", "name"),
    "browser_version": ("browser", "version"),
    "viewport_width": ("viewport", "width"),
    "viewport_height": ("viewport", "height"),
}
# An object that is null unless this field of the click has a value.
NULL_UNLESS = {"ad_click": "ad_click_id"}

# The seed's keys first, in the seed's order, then Clicktrail's first three as the API has always
# shown them; every other key follows in the order of Click's fields.
LEADING = (
    *("id", "session_id", "ip_address", "url", "funnel_id", "domain", "affiliate"),
    *("merchant", "events", "created_at", "visitor_id", "trigger", "external_id"),
)


class ClickDomain(msgspec.Struct):
    """The domain the click came from."""

    id: int
    domain: str


class EventJson(msgspec.Struct):
    """An event: ``data`` as sent (``{}`` when none), null when the stored data cannot be
    shown. A ``click`` event's data is ``{selector, text, x, y}``."""

    type: str
    url: str | None
    timestamp: Time
    data: AnyJson


class SessionEvent(EventJson):
    """An event of a session, with the click (page) it happened on."""

    click_id: str


# Keys of a click that no field of it holds, and their types.
COMPUTED: dict[str, Any] = {
    "domain": ClickDomain | None,
    "merchant": Annotated[None, msgspec.Meta(description="always null until sales land")],
    "events": list[EventJson],
}


def _camel(name: str) -> str:
    return "".join(part.title() for part in name.split("_"))


class ClickShape:
    """How a click struct shows as JSON: ``struct`` is the response type (its fields in JSON
    order), ``build`` makes one from a click."""

    def __init__(self, source: type[Click] = Click) -> None:
        fields = {f.name: f.type for f in msgspec.structs.fields(source)}
        if clash := set(fields) & set(COMPUTED):
            raise TypeError(f"Click fields {sorted(clash)} clash with keys the API computes")
        self.times = frozenset(c.name for c in columns(source) if c.kind == "time")
        self.groups: dict[str, list[tuple[str, str]]] = {}
        for name, (group, key) in PLACED.items():
            if name in fields:
                self.groups.setdefault(group, []).append((key, name))
        shown = [PLACED[n][0] if n in PLACED else n for n in fields if n not in HIDDEN]
        present = {*shown, *COMPUTED}
        keys = [k for k in LEADING if k in present] + [k for k in shown if k not in LEADING]
        self.keys: tuple[str, ...] = tuple(dict.fromkeys(keys))
        self.group_structs = {
            group: msgspec.defstruct(
                f"Click{_camel(group)}", [(key, self._type(fields, n)) for key, n in members]
            )
            for group, members in self.groups.items()
        }
        self.struct: type[msgspec.Struct] = msgspec.defstruct(
            "Click", [(key, self._key_type(fields, key)) for key in self.keys]
        )
        self.struct.__doc__ = "A click: the seed's fields, then Clicktrail's enrichment."
        self.build: Callable[[Click, ClickDomain | None, list[EventJson]], Any] = eval(
            f"lambda click, domain, events: Click({self._arguments()})",
            {"Click": self.struct, "Group": self.group_structs, "iso": iso},
        )
        """``build(click, domain, events)``: the click's JSON object, an instance of
        :attr:`struct`. Compiled once into one expression, as dataclasses compile ``__init__``
        (a loop over the keys made a page of clicks a third slower to show)."""

    def _arguments(self) -> str:
        """Python source of :attr:`struct`'s arguments, from ``click``, ``domain`` and
        ``events``."""
        shown = {"domain": "domain", "merchant": "None", "events": "events"}  # COMPUTED
        for key in self.keys:
            if key in self.groups:
                inner = ", ".join(self._field(name) for _, name in self.groups[key])
                shown[key] = f"Group[{key!r}]({inner})"
                if key in NULL_UNLESS:
                    shown[key] = f"({shown[key]} if click.{NULL_UNLESS[key]} else None)"
            elif key not in COMPUTED:
                shown[key] = self._field(key)
        return ", ".join(shown[key] for key in self.keys)

    def _field(self, name: str) -> str:
        assert name.isidentifier()
        return f"iso(click.{name})" if name in self.times else f"click.{name}"

    def _type(self, fields: dict[str, Any], name: str) -> Any:
        return Time if name in self.times else fields[name]

    def _key_type(self, fields: dict[str, Any], key: str) -> Any:
        if key in COMPUTED:
            return COMPUTED[key]
        if key in self.group_structs:
            struct = self.group_structs[key]
            return struct | None if key in NULL_UNLESS else struct
        return self._type(fields, key)


CLICK_SHAPE = ClickShape()
ClickJson = CLICK_SHAPE.struct

ClickPage = msgspec.defstruct(
    "ClickPage",
    [
        ("total", int),
        ("last_page", int),
        ("current_page", int),
        ("per_page", int),
        ("next_page_url", Annotated[str | None, msgspec.Meta(description="null on the last")]),
        ("data", list[ClickJson]),  # type: ignore[valid-type]
    ],
)
ClickPage.__doc__ = "One page of clicks, newest first unless sorted otherwise."

# The seed's geoData: these fields of the session's first click.
SESSION_GEO = ("lat", "lon", "city", "region", "country", "zip", "ip_address")
_CLICK_TYPES = {f.name: f.type for f in msgspec.structs.fields(Click)}
SessionGeo = msgspec.defstruct("SessionGeo", [(name, _CLICK_TYPES[name]) for name in SESSION_GEO])


class Session(msgspec.Struct):
    """A session: geo of its first click, every event in time order, and the origin of each
    domain it touched, by domain id (the seed's three keys); then its replays, one per recorded
    page. Besides the pages' events, ``events`` holds a ``link_click`` or ``qr_scan`` for each
    short-link redirect of the session, and a ``lead`` or ``sale`` for each conversion
    attributed to one of its clicks."""

    geoData: SessionGeo  # type: ignore[valid-type]
    events: list[SessionEvent]
    domains: dict[str, str]
    replays: list[ReplaySummary] = []


Page = Annotated[int, msgspec.Meta(ge=1, le=MAX_PAGE, description="The page number.")]
PerPage = Annotated[
    int,
    msgspec.Meta(
        ge=0, le=INT64_MAX, description=f"Accepted and ignored: a page is always {PAGE_SIZE}."
    ),
]
FunnelId = Annotated[
    int, msgspec.Meta(ge=INT64_MIN, le=INT64_MAX, description="Only clicks of this funnel.")
]
UrlPart = Annotated[
    str,
    msgspec.Meta(max_length=2048, description="Case-insensitive substring of the page URL."),
]
Sub1 = Annotated[
    str, msgspec.Meta(max_length=2048, description="Sub ID 1 (the sub1 tracking parameter).")
]
VisitId = Annotated[
    str, msgspec.Meta(max_length=2048, description="The visit tracking id (the visitor id).")
]
ClickOrSession = Annotated[
    str,
    msgspec.Meta(
        max_length=2048,
        description="A click code or a session id: that click, or that session's clicks. The "
        "list collapses to one row per session (its first click), and `total` counts sessions.",
    ),
]
ExcludeBots = Annotated[bool, msgspec.Meta(description="`true` leaves out bot traffic.")]
ExternalId = Annotated[
    str,
    msgspec.Meta(
        max_length=128,
        description="Clicks identified as this external id (`clicktrail.identify()`), on the "
        "page's first beacon or later; the newest 100 of them.",
    ),
]
Day = Annotated[
    str,
    msgspec.Meta(
        description="An ISO 8601 date (the whole day) or date-time (offsets allowed); inclusive.",
        examples=["2024-12-10", "2024-12-10T09:00:00Z"],
    ),
]
Sort = Annotated[SortColumn, msgspec.Meta(description="The column to sort by.")]
Direction = Annotated[Literal["asc", "desc"], msgspec.Meta(description="Sort direction.")]


class ClickListQuery(msgspec.Struct, kw_only=True):
    page: Page = 1
    per_page: PerPage = PAGE_SIZE
    funnel_id: FunnelId | None = None
    url: UrlPart | None = None
    sub1: Sub1 | None = None
    visit_id: VisitId | None = None
    click_id: ClickOrSession | None = None
    exclude_bots: ExcludeBots = False
    external_id: ExternalId | None = None
    start: Day | None = None
    end: Day | None = None
    sort: Sort = "created_at"
    direction: Direction = "desc"


class ClickPath(BrandPath, kw_only=True):
    click_code: Annotated[str, msgspec.Meta(description="The click code (a click's `id`).")]


class SessionPath(BrandPath, kw_only=True):
    session_id: Annotated[str, msgspec.Meta(description="The session id.")]
