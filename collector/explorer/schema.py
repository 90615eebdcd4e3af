"""The explorer's requests and answers, named as FunnelFlux names them (seed 03). Every key of
the seed is in every answer: a fact Clicktrail does not keep is null (``docs/API.md`` says
why). Keys after the seed's are Clicktrail's own additions."""

from __future__ import annotations

from typing import Annotated

import msgspec

MAX_HITS_PAGE = 500
_ID = msgspec.Meta(min_length=1, max_length=64)
_TIME = msgspec.Meta(
    max_length=40,
    description="RFC 3339 with a time zone, e.g. `2024-08-25T15:00:00Z`.",
    examples=["2024-08-25T15:00:00Z"],
)

Text = str | None


class ExplorerVisitorRequest(
    msgspec.Struct, kw_only=True, forbid_unknown_fields=True, omit_defaults=True
):
    """Either ``visitorId`` with ``timeStart`` and ``timeEnd``, or ``hitId`` (then the range is
    optional: without it, the visitor's whole history)."""

    visitorId: Annotated[str, _ID] | None = None
    hitId: Annotated[str, _ID] | None = None
    timeStart: Annotated[str, _TIME] | None = None
    timeEnd: Annotated[str, _TIME] | None = None
    cursor: (
        Annotated[
            str,
            msgspec.Meta(
                max_length=128, description="`nextCursor` of the previous page, as received."
            ),
        ]
        | None
    ) = None
    limit: Annotated[
        int, msgspec.Meta(ge=1, le=MAX_HITS_PAGE, description="Hits a page (at most 500).")
    ] = 100


class ExplorerHitRequest(
    msgspec.Struct, kw_only=True, forbid_unknown_fields=True, omit_defaults=True
):
    hitId: Annotated[str, _ID]
    timeStart: Annotated[str, _TIME] | None = None


class Tracking(msgspec.Struct, kw_only=True):
    """What FunnelFlux knows of a hit's funnel, source and tracking fields, and its money."""

    funnelId: Text
    funnelName: Text
    nodeId: Text
    nodeName: Text
    nodeType: Text
    trafficSourceId: Text
    trafficSourceName: Text
    pageId: Text
    pageName: Text
    pageGroupId: Text
    pageGroupName: Text
    funnelGroupId: Text
    funnelGroupName: Text
    offerSourceId: Text
    offerSourceName: Text
    categoryId: Text
    categoryName: Text
    cost: float | None
    revenue: float | None
    totalRevenue: float | None
    clickId: Text
    conversionId: Text
    conversionTransaction: Text
    trackingDomain: Text
    externalId: Text
    subCampaign: Text
    t1: Text
    t2: Text
    t3: Text
    t4: Text
    t5: Text
    t6: Text
    t7: Text
    t8: Text
    t9: Text
    t10: Text
    t11: Text
    t12: Text
    t13: Text
    t14: Text
    t15: Text
    t16: Text
    t17: Text
    t18: Text
    t19: Text
    t20: Text
    eventData1: Text
    eventData2: Text
    currency: Annotated[
        Text, msgspec.Meta(description="ISO 4217 currency of `revenue` and `totalRevenue`.")
    ]
    sessionId: str
    replayId: Annotated[
        Text, msgspec.Meta(description="The replay of the hit's page, if it was recorded.")
    ]
    replayOffsetMs: Annotated[
        int | None,
        msgspec.Meta(description="Where this event is in that replay, ms from its start."),
    ]


class ExplorerHitRow(Tracking, kw_only=True):
    """One hit of a visitor: a page view or a short-link redirect."""

    hitId: str
    eventType: str
    eventTime: Text


class Device(msgspec.Struct, kw_only=True):
    """Where a hit came from: address, place, network and device (all from the click)."""

    ip: Text
    country: Text
    region: Text
    city: Text
    isp: Text
    connectionType: Text
    mobileCarrier: Text
    deviceType: Text
    deviceBrand: Text
    deviceModel: Text
    deviceModelName: Text
    deviceOS: Text
    deviceOSVersion: Text
    browser: Text
    browserVersion: Text
    language: Text
    userAgent: Text
    organization: Text
    isProxy: bool
    proxyType: Text
    asn: int | None
    acceptLanguage: Text


class VisitorInfo(Device, kw_only=True):
    """The visitor, as their first hit in the range shows them."""

    visitorId: str
    firstSeen: Text
    lastSeen: Text
    totalHits: int


class ExplorerHitDetail(ExplorerHitRow, kw_only=True):
    """The hit, or a lead, sale or custom event that references it, with the hit's
    :class:`Device` facts (msgspec structs take one base)."""

    visitorId: str
    ip: Text
    country: Text
    region: Text
    city: Text
    isp: Text
    connectionType: Text
    mobileCarrier: Text
    deviceType: Text
    deviceBrand: Text
    deviceModel: Text
    deviceModelName: Text
    deviceOS: Text
    deviceOSVersion: Text
    browser: Text
    browserVersion: Text
    language: Text
    userAgent: Text
    organization: Text
    isProxy: bool
    proxyType: Text
    asn: int | None
    acceptLanguage: Text
    hitTime: Text
    ipv6: Text
    continent: Text
    referrerDomain: Text
    referrerPath: Text
    url: Text


class ExplorerVisitorResponse(msgspec.Struct, kw_only=True):
    visitor: VisitorInfo
    hits: list[ExplorerHitRow]
    hasMore: bool
    nextCursor: Annotated[
        Text, msgspec.Meta(description="Send it as `cursor` for the next page; null on the last.")
    ]


class ExplorerHitResponse(msgspec.Struct, kw_only=True):
    events: list[ExplorerHitDetail]
