"""The visitor deletion API's parameters and answer (issue 16)."""

from __future__ import annotations

from typing import Annotated

import msgspec

from collector.http.schema import BrandPath

MAX_VISITOR_ID = 128
VisitorId = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=MAX_VISITOR_ID,
        description="The visitor's id, as clicks show it in `visitor_id`.",
    ),
]


class VisitorPath(BrandPath, kw_only=True):
    visitor_id: VisitorId


class VisitorsQuery(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Exactly one of the two: whom to delete."""

    externalId: (
        Annotated[
            str,
            msgspec.Meta(
                min_length=1,
                max_length=128,
                description="Every visitor identified as this external id "
                "(`clicktrail.identify()`), on a page's first beacon or later.",
            ),
        ]
        | None
    ) = None
    customerId: (
        Annotated[
            str,
            msgspec.Meta(
                min_length=1,
                max_length=255,
                description="Every visitor the customer's leads and sales name "
                "(`customerExternalId`), and those leads and sales.",
            ),
        ]
        | None
    ) = None


class VisitorsDeleted(msgspec.Struct, kw_only=True):
    """What one deletion removed, per kind; all 0 when there was nothing (left) to delete."""

    visitors: Annotated[int, msgspec.Meta(description="Visitor ids that had something stored.")]
    clicks: Annotated[int, msgspec.Meta(description="Page views and short-link clicks.")]
    events: Annotated[int, msgspec.Meta(description="Events of those clicks.")]
    conversions: Annotated[int, msgspec.Meta(description="Leads and sales.")]
    replays: Annotated[int, msgspec.Meta(description="Replays (one per recorded page).")]
    replay_chunks: Annotated[int, msgspec.Meta(description="Live (not yet compacted) chunks.")]
    replay_segments: Annotated[int, msgspec.Meta(description="Compacted segments.")]
    replay_assets: Annotated[int, msgspec.Meta(description="Links from replays to assets.")]
    asset_files: Annotated[
        int, msgspec.Meta(description="Stored asset files no other replay used.")
    ]
    outbox_items: Annotated[
        int, msgspec.Meta(description="Clickstream items not yet delivered (this collector's).")
    ]
    exports: Annotated[
        int,
        msgspec.Meta(
            description="Finished CSV exports of the brand written after the visitor's first "
            "stored click or conversion: their files and jobs are deleted, as they could hold "
            "the visitor."
        ),
    ]
