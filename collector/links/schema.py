"""The short links API's bodies and parameters (seed 01's generate, and list, get, update,
delete)."""

from __future__ import annotations

from typing import Annotated

import msgspec

from collector.http.schema import BrandPath, Time

MAX_DESTINATION = 2048
MAX_TAGS = 20
PER_PAGE = 100
CODE_PATTERN = "^[A-Za-z0-9_-]{1,64}$"

Destination = Annotated[
    str,
    msgspec.Meta(
        max_length=MAX_DESTINATION,
        description="Where the link goes: an absolute http(s) URL.",
        examples=["https://checkout.mybrand.com/offer?utm_source=email"],
    ),
]
Key = Annotated[
    str,
    msgspec.Meta(
        pattern=CODE_PATTERN,
        description="A custom code instead of a generated one: letters, digits, `_` and `-`.",
    ),
]
Tag = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Tags = Annotated[list[Tag], msgspec.Meta(max_length=MAX_TAGS)]
Label = Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
When = Annotated[
    str,
    msgspec.Meta(
        max_length=64,
        description="ISO 8601; after it the link answers 404.",
        examples=["2025-01-31T23:59:59Z"],
    ),
]


class LinkCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A new short link: the destination, and optionally a custom code and the attributes the
    events API filters by."""

    destination_url: Destination
    key: Key | None = None
    tags: Tags = []
    folder: Label | None = None
    external_id: Label | None = None
    tenant_id: Label | None = None
    group_id: Label | None = None
    partner_id: Label | None = None
    expires_at: When | None = None


class LinkUpdate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """What to change; a field left out stays as it is, and null clears an optional one. The
    code never changes (printed links and QR codes keep working)."""

    destination_url: Destination | msgspec.UnsetType = msgspec.UNSET
    tags: Tags | msgspec.UnsetType = msgspec.UNSET
    folder: Label | msgspec.UnsetType | None = msgspec.UNSET
    external_id: Label | msgspec.UnsetType | None = msgspec.UNSET
    tenant_id: Label | msgspec.UnsetType | None = msgspec.UNSET
    group_id: Label | msgspec.UnsetType | None = msgspec.UNSET
    partner_id: Label | msgspec.UnsetType | None = msgspec.UNSET
    expires_at: When | msgspec.UnsetType | None = msgspec.UNSET


class LinkJson(msgspec.Struct, kw_only=True):
    """A short link: the seed's `code` and `url` first, then the rest. `url` redirects; `qr_url`
    is the address its QR code encodes (a scan counts as `trigger=qr`). `clicks` counts
    redirects through either, `qr_scans` those through `qr_url`."""

    code: str
    url: str
    id: str
    domain: str
    destination_url: str
    qr_url: str
    tags: list[str]
    folder: str | None
    external_id: str | None
    tenant_id: str | None
    group_id: str | None
    partner_id: str | None
    expires_at: Time
    created_at: Time
    updated_at: Time
    clicks: int
    qr_scans: int


class LinkPage(msgspec.Struct):
    total: int
    last_page: int
    current_page: int
    per_page: int
    next_page_url: str | None
    data: list[LinkJson]


class LinkMiss(msgspec.Struct, kw_only=True):
    """A code that was asked for and answered 404 (unknown, expired or deleted)."""

    code: str
    requests: int
    last_requested_at: Time


class LinkListQuery(msgspec.Struct, kw_only=True):
    page: Annotated[int, msgspec.Meta(ge=1, le=1_000_000)] = 1
    per_page: Annotated[int, msgspec.Meta(ge=1, le=PER_PAGE)] = PER_PAGE
    tag: Tag | None = None
    folder: Label | None = None
    tenant_id: Label | None = None
    external_id: Label | None = None
    group_id: Label | None = None
    partner_id: Label | None = None
    search: (
        Annotated[
            str, msgspec.Meta(max_length=200, description="Part of the code or the destination.")
        ]
        | None
    ) = None


class LinkPath(BrandPath, kw_only=True):
    link: Annotated[str, msgspec.Meta(description="The link's `id`, or its `code`.")]


class QrQuery(msgspec.Struct, kw_only=True):
    format: Annotated[str, msgspec.Meta(pattern="^(svg|png)$")] = "svg"
    size: Annotated[
        int, msgspec.Meta(ge=64, le=2048, description="Width and height in pixels (about).")
    ] = 256


class CodePath(msgspec.Struct, kw_only=True):
    code: Annotated[str, msgspec.Meta(description="The short link's code.", examples=["abc123"])]
