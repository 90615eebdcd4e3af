"""The export API's bodies and parameters (issue 14, seed 01's ``POST clicks/export``)."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from collector.http.schema import BrandPath, Time

MAX_COLUMNS = 100
MAX_FILTERS = 20
MAX_CLICK_CODES = 10_000

ColumnName = Annotated[str, msgspec.Meta(max_length=64)]
FilterValue = Annotated[str, msgspec.Meta(max_length=2048)] | int | float | bool | None
ClickCode = Annotated[str, msgspec.Meta(max_length=64)]


class ExportRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """What to export. Every key is optional: all columns of every click by default."""

    columns: (
        Annotated[
            list[ColumnName],
            msgspec.Meta(
                min_length=1,
                max_length=MAX_COLUMNS,
                description="The CSV's columns, in order: names of a click's fields "
                "(`id`, `session_id`, `ip_address`, `url`, `created_at`, `sub1`, "
                "`utm_source`, `country`, ...). Default: every field. An unknown name is a "
                "422 naming it.",
                examples=[["session_id", "ip_address", "url", "created_at"]],
            ),
        ]
        | None
    ) = None
    filters: Annotated[
        dict[str, FilterValue],
        msgspec.Meta(
            max_length=MAX_FILTERS,
            description="The clicks list's query parameters (`GET clicks`): `funnel_id`, "
            "`url`, `sub1`, `visit_id`, `click_id`, `exclude_bots`, `external_id`, `start`, "
            "`end`, `direction` (`sort` only `created_at`; `page` and `per_page` are ignored: "
            "an export holds every matching click). Another name is a 422 naming it.",
            examples=[{"funnel_id": 5, "start": "2024-12-01", "exclude_bots": True}],
        ),
    ] = {}
    click_codes: (
        Annotated[
            list[ClickCode],
            msgspec.Meta(
                max_length=MAX_CLICK_CODES,
                description="Only these clicks (their `id`s), besides the filters.",
            ),
        ]
        | None
    ) = None


class ExportQueued(msgspec.Struct):
    """The seed's answer, and where to follow the job."""

    success: bool
    message: str
    id: str
    status_url: str


Status = Annotated[
    Literal["queued", "running", "done", "failed"],
    msgspec.Meta(description="`queued`, `running`, then `done` (or `failed`, with `error`)."),
]


class ExportJson(msgspec.Struct):
    """An export job. ``download_url`` is set once it is ``done``; at ``expires_at`` the file
    and the job are deleted (a later look-up is a 404)."""

    id: str
    status: Status
    rows: Annotated[int, msgspec.Meta(description="Rows written so far (the header aside).")]
    columns: list[str]
    filters: dict[str, str]
    click_codes: list[str] | None
    created_at: Time
    started_at: Time
    finished_at: Time
    expires_at: Time
    error: str | None
    download_url: str | None


class ExportPath(BrandPath, kw_only=True):
    export_id: Annotated[str, msgspec.Meta(description="The export's `id`.")]
