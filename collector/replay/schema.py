"""The bodies and parameters of the replays API, the replay viewer and the replay proxy."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from collector.http.params import LAST_SHOWN_MS
from collector.http.schema import AnyJson, BrandPath, Time
from collector.replay.share import DEFAULT_SECONDS, MAX_SECONDS


class ReplaySummary(msgspec.Struct):
    """A replay of one page of the session: the seed's three fields, then what a replay picker
    needs."""

    id: str
    session_id: str
    page_session_id: str
    url: str
    started_at: Time
    duration_ms: int | None


class ReplayMouseMove(msgspec.Struct, tag="mousemove", tag_field="type"):
    x: int
    y: int
    ts: Annotated[int, msgspec.Meta(description="ms from the replay's start")]


class ReplayClick(msgspec.Struct, tag="click", tag_field="type"):
    x: int
    y: int
    ts: int
    target: Annotated[
        str | None, msgspec.Meta(description="a short CSS selector of the clicked element")
    ]


class ReplayScroll(msgspec.Struct, tag="scroll", tag_field="type"):
    scrollY: int
    ts: int


SeedEvent = ReplayMouseMove | ReplayClick | ReplayScroll


class ReplaySize(msgspec.Struct):
    raw_bytes: int
    stored_bytes: int


class ReplayJson(msgspec.Struct):
    """A replay in the seed's shape (its events derived from the rrweb stream), then
    Clicktrail's additions."""

    id: str
    session_id: str
    page_session_id: str
    url: str
    duration_ms: int | None
    viewport_width: int | None
    viewport_height: int | None
    events: list[SeedEvent]
    size: ReplaySize
    started_at: Time
    visitor_id: str


class ReplayIndexJson(msgspec.Struct):
    """The replay without its events. A player opens a long replay with a
    window of its first seconds (``format=rrweb&from_ms=0&until_ms=...``), fetches the rest in
    windows while it plays, and for a seek the window from the last seek point before it."""

    id: str
    session_id: str
    page_session_id: str
    url: str
    started_at: Time
    duration_ms: Annotated[int, msgspec.Meta(description="From the first event to the last.")]
    first_event_ms: Annotated[
        int, msgspec.Meta(description="The first event's timestamp (ms since the epoch).")
    ]
    seek_points_ms: Annotated[
        list[int],
        msgspec.Meta(
            description="Where playing can start without earlier events (a full snapshot), in "
            "ms after the start; 0 first. Later ones are known once the replay is compacted."
        ),
    ]
    viewport_width: int | None
    viewport_height: int | None
    size: ReplaySize
    visitor_id: str


# format=rrweb: the recorded rrweb events as stored, in order.
RrwebStream = Annotated[
    list[AnyJson], msgspec.Meta(description="The replay's rrweb events, as recorded.")
]


class ShareRequest(msgspec.Struct, forbid_unknown_fields=True):
    """How long the link works; an empty body takes the default."""

    # The bounds are checked by the handler, which names the parameter in a 422.
    expires_in: Annotated[
        int,
        msgspec.Meta(
            extra_json_schema={"minimum": 60, "maximum": MAX_SECONDS},
            description="Seconds until the link stops working.",
        ),
    ] = DEFAULT_SECONDS


class ShareLink(msgspec.Struct):
    """A viewer URL that opens the replay, and reads its session's replays and clicks only."""

    url: str
    expires_at: Time


class ReplayListQuery(msgspec.Struct, kw_only=True):
    session_id: Annotated[
        str, msgspec.Meta(min_length=1, max_length=64, description="The session's id.")
    ]


class ReplayQuery(msgspec.Struct, kw_only=True):
    format: Annotated[
        Literal["seed", "rrweb"],
        msgspec.Meta(description="`seed`: the seed's shape; `rrweb`: the raw event stream."),
    ] = "seed"
    since_ms: (
        Annotated[
            int,
            msgspec.Meta(
                ge=0,
                le=LAST_SHOWN_MS,
                description="`rrweb` only: start at the last seek point at or before this "
                "many ms after the replay's start.",
            ),
        ]
        | None
    ) = None
    from_ms: (
        Annotated[
            int,
            msgspec.Meta(
                ge=0,
                le=LAST_SHOWN_MS,
                description="`rrweb` only: only events this many ms after the replay's start "
                "or later, exactly (no seek point before them; not with `since_ms`).",
            ),
        ]
        | None
    ) = None
    until_ms: (
        Annotated[
            int,
            msgspec.Meta(
                ge=0,
                le=LAST_SHOWN_MS,
                description="`rrweb` only: only events up to this many ms after the replay's "
                "start (included).",
            ),
        ]
        | None
    ) = None
    assets: Annotated[
        Literal["original", "stored"],
        msgspec.Meta(
            description="`rrweb` only: `stored` points stylesheets, fonts and images at the "
            "collector's copies."
        ),
    ] = "original"


class ReplayPath(BrandPath, kw_only=True):
    replay_id: Annotated[str, msgspec.Meta(description="The replay's id (from the list).")]


class AssetPath(msgspec.Struct, kw_only=True):
    sha256: Annotated[str, msgspec.Meta(description="The file's sha256, in hex.")]


class ViewerPath(msgspec.Struct, kw_only=True):
    replay_id: Annotated[str, msgspec.Meta(description="The replay's id.")]


class ViewerFilePath(msgspec.Struct, kw_only=True):
    file: Literal["viewer.js", "viewer.css"]


class ViewerFileQuery(msgspec.Struct, kw_only=True):
    v: (
        Annotated[str, msgspec.Meta(description="The build's version: with it, cached for a year.")]
        | None
    ) = None


class ProxyPath(msgspec.Struct, kw_only=True):
    brand: int
    expires: Annotated[int, msgspec.Meta(description="Unix seconds")]
    signature: str


class ProxyQuery(msgspec.Struct, kw_only=True):
    u: Annotated[str, msgspec.Meta(description="The URL the recorded page loaded.")]
