"""The clickstream webhooks API's bodies and parameters (issue 13, seed 05)."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from collector.http.schema import BrandPath, Time
from collector.storage.model import WEBHOOK_KINDS

MAX_URL = 2048
MAX_HEADER_VALUE = 1024
PER_PAGE = 100
ALL_EVENTS = ["click", "pageview", "lead", "sale"]  # the default: the clickstream (seed 05)
KINDS = list(WEBHOOK_KINDS)  # with `export`, asked for by name

Url = Annotated[
    str,
    msgspec.Meta(
        max_length=MAX_URL,
        description="Where the batches go: an http(s) URL whose host resolves to public "
        "addresses only (or to --webhook-networks); https when the brand's "
        "`webhooks_https_only` is set.",
        examples=["https://hooks.mybrand.com/clicktrail"],
    ),
]
Method = Literal["POST", "PUT"]
Kind = Literal["click", "pageview", "lead", "sale", "export"]
Events = Annotated[
    list[Kind],
    msgspec.Meta(
        min_length=1,
        max_length=5,
        description="What goes to it: `click` (short-link clicks and QR scans), `pageview`, "
        "`lead`, `sale` (the default: all four), and `export` (a CSV export job that ended; "
        "only when asked for).",
    ),
]
HeaderKey = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$",
        description="The name of the auth header sent with every batch (an HTTP token; not "
        "`Content-Type`, `Content-Length`, `Host`, `User-Agent` or `webhook-*`).",
        examples=["X-Hook-Auth"],
    ),
]
HeaderValue = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=MAX_HEADER_VALUE,
        description="Its value: printable, never shown again.",
    ),
]
Moment = Annotated[
    str,
    msgspec.Meta(
        max_length=64,
        description="RFC 3339 (ISO 8601); without an offset, UTC.",
        extra_json_schema={"format": "date-time"},
        examples=["2024-12-10T09:00:00Z"],
    ),
]


class WebhookCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A new destination. `header_key` and `header_value` come together."""

    url: Url
    method: Method = "POST"
    header_key: HeaderKey | None = None
    header_value: HeaderValue | None = None
    events: Events = msgspec.field(default_factory=lambda: list(ALL_EVENTS))  # type: ignore[arg-type]
    enabled: bool = True


class WebhookUpdate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """What to change; a field left out stays as it is. `header_key: null` removes the auth
    header; a new `header_key` needs its `header_value`; `header_value` alone replaces the
    value. Enabling a destination clears why and since when it was disabled."""

    url: Url | msgspec.UnsetType = msgspec.UNSET
    method: Method | msgspec.UnsetType = msgspec.UNSET
    header_key: HeaderKey | msgspec.UnsetType | None = msgspec.UNSET
    header_value: HeaderValue | msgspec.UnsetType = msgspec.UNSET
    events: Events | msgspec.UnsetType = msgspec.UNSET
    enabled: bool | msgspec.UnsetType = msgspec.UNSET


class WebhookJson(msgspec.Struct, kw_only=True):
    """A destination. `key` is the body's `key`: it names the destination to the receiver (not
    a secret). The auth header's value is never shown (`has_header_value`). `disabled_reason`
    and `disabled_at` say why and since when the collector turned it off (a 410, or 5 days of
    failures); `failing_since` is the first failed attempt with no success since."""

    id: str
    url: str
    method: str
    header_key: str | None
    has_header_value: bool
    events: list[str]
    enabled: bool
    disabled_reason: str | None
    disabled_at: Time
    failing_since: Time
    key: str
    created_at: Time
    updated_at: Time


class WebhookCreated(WebhookJson, kw_only=True):
    """A new destination and its signing secret, shown this once: keep it to verify the
    `webhook-signature` header (Standard Webhooks)."""

    secret: Annotated[str, msgspec.Meta(examples=["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"])]


class DeliveryJson(msgspec.Struct, kw_only=True):
    """One attempt to deliver a batch. `batch_id` is its `webhook-id` header, the same for
    every attempt of the batch. `status` is null when no answer came (`error` says why).
    `outcome`: delivered, retrying, failed (not retried), gave_up (retries used up) or
    disabled (the destination was turned off by it)."""

    id: str
    batch_id: str
    attempt: int
    items: int
    kinds: list[str]
    status: int | None
    error: str | None
    latency_ms: int
    response: str
    attempted_at: Time
    next_attempt_at: Time
    outcome: str


class DeliveriesQuery(msgspec.Struct, kw_only=True):
    page: Annotated[int, msgspec.Meta(ge=1, le=1_000_000)] = 1
    per_page: Annotated[int, msgspec.Meta(ge=1, le=PER_PAGE)] = 50


class ReplayBody(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The range to send again, both ends included."""

    start: Moment
    end: Moment


class ReplayJson(msgspec.Struct, kw_only=True):
    """The range as understood, and how many items were queued for the destination."""

    start: Time
    end: Time
    items: int


class WebhookPath(BrandPath, kw_only=True):
    webhook: Annotated[str, msgspec.Meta(description="The destination's `id`.")]
