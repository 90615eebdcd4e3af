"""The raw clicks stream's request and answer (seed 04), in Everflow's field names. Every key
of the seed's row is in each row; a fact Clicktrail does not have is null (``docs/API.md``
says why for each)."""

from __future__ import annotations

from typing import Annotated

import msgspec

MAX_FILTERS = 50
MAX_ROWS = 5000


class StreamFilter(msgspec.Struct, kw_only=True):
    resource_type: Annotated[
        str, msgspec.Meta(max_length=40, description="What to filter on (see the table).")
    ]
    filter_id_value: Annotated[
        str | int, msgspec.Meta(description="The value; values of one type are OR-ed.")
    ]


class StreamQuery(msgspec.Struct, kw_only=True):
    filters: Annotated[list[StreamFilter], msgspec.Meta(max_length=MAX_FILTERS)] = []


class StreamRequest(msgspec.Struct, kw_only=True):
    from_: Annotated[
        str,
        msgspec.Meta(
            max_length=200,
            description="YYYY-MM-DD HH:mm:SS in the time zone (or a `next_from`).",
        ),
    ] = msgspec.field(name="from")
    to: Annotated[
        str,
        msgspec.Meta(
            max_length=40,
            description="YYYY-MM-DD HH:mm:SS, inclusive; at most 14 days after `from`.",
        ),
    ]
    timezone_id: (
        Annotated[int, msgspec.Meta(ge=0, le=2**31 - 1, description="Everflow's time zone id.")]
        | None
    ) = None
    timezone: (
        Annotated[str, msgspec.Meta(max_length=64, description="An IANA zone instead.")] | None
    ) = None
    query: StreamQuery = msgspec.field(default_factory=StreamQuery)
    next_from: (
        Annotated[
            str,
            msgspec.Meta(max_length=200, description="Continue a truncated answer after it."),
        ]
        | None
    ) = None
    limit: Annotated[int, msgspec.Meta(ge=1, le=MAX_ROWS, description="Rows at most (5,000).")] = (
        MAX_ROWS
    )


class StreamOffer(msgspec.Struct, kw_only=True):
    network_offer_id: int | str | None
    network_id: int
    network_tracking_domain_id: int | None
    name: str | None
    offer_status: str | None


class StreamGeolocation(msgspec.Struct, kw_only=True):
    country_code: str | None
    country_name: str | None
    region_code: str | None
    region_name: str | None
    city_name: str | None
    dma: int | None
    dma_name: str | None
    carrier_name: str | None
    carrier_code: str | None
    isp_name: str | None
    organization: str | None
    postal_code: str | None
    timezone: str | None
    is_mobile: bool | None
    is_proxy: bool


class StreamDevice(msgspec.Struct, kw_only=True):
    is_mobile: bool | None
    platform_name: str | None
    os_version: str | None
    brand: str | None
    model: str | None
    is_tablet: bool | None
    browser_name: str | None
    browser_version: str | None
    device_type: str | None
    language: str | None
    http_accept_language: str | None
    is_robot: bool
    is_filter: bool


class StreamRelationship(msgspec.Struct, kw_only=True):
    offer: StreamOffer
    geolocation: StreamGeolocation
    device_information: StreamDevice
    query_parameters: dict[str, str]


class StreamRow(msgspec.Struct, kw_only=True):
    transaction_id: str
    is_unique: int
    unix_timestamp: int
    tracking_url: str
    source_id: str | None
    sub1: str | None
    sub2: str | None
    sub3: str | None
    sub4: str | None
    sub5: str | None
    revenue_type: str | None
    revenue: float | None
    referer: str | None
    error_code: int | None
    user_ip: str | None
    error_message: str | None
    currency_id: str | None
    coupon_code: str | None
    idfa: str | None
    idfa_md5: str | None
    idfa_sha1: str | None
    google_ad_id: str | None
    google_ad_id_md5: str | None
    google_ad_id_sha1: str | None
    android_id: str | None
    android_id_md5: str | None
    android_id_sha1: str | None
    relationship: StreamRelationship


class StreamAnswer(msgspec.Struct, kw_only=True):
    table: list[StreamRow]
    truncated: Annotated[
        bool, msgspec.Meta(description="More clicks match: continue with `next_from`.")
    ]
    next_from: Annotated[
        str | None,
        msgspec.Meta(description="Send it as `next_from` (or `from`) with the same body."),
    ]
    timezone_id: Annotated[
        int | None, msgspec.Meta(description="Everflow's id of the zone, when it has one.")
    ]
    timezone: Annotated[str, msgspec.Meta(description="The IANA zone the times were read in.")]
