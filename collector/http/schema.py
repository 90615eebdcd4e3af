"""Bodies and parameters every area shares: the error shape, the brand in the path, open JSON."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

from collector.http.params import INT64_MAX

# Any JSON value, as sent or as stored: an object in it may have any keys.
AnyJson = Annotated[Any, msgspec.Meta(extra_json_schema={"additionalProperties": True})]
# A time as the API shows it: ISO 8601 UTC with milliseconds (params.iso); null for a stored
# time outside years 1..9999.
Time = (
    Annotated[
        str,
        msgspec.Meta(
            extra_json_schema={"format": "date-time"}, examples=["2024-12-10T09:00:00.000Z"]
        ),
    ]
    | None
)
# A JSON object with any keys.
OpenObject = Annotated[
    dict[str, Any], msgspec.Meta(extra_json_schema={"additionalProperties": True})
]


class ErrorDetail(msgspec.Struct, omit_defaults=True):
    status: int
    code: Annotated[str, msgspec.Meta(examples=["invalid", "not_found", "unauthorized"])]
    message: str
    param: (
        Annotated[
            str, msgspec.Meta(description="the parameter or field to blame, when there is one")
        ]
        | msgspec.UnsetType
    ) = msgspec.UNSET


class Error(msgspec.Struct):
    """Every error, on every route: ``{"error": {"status", "code", "message", "param"?}}``."""

    error: ErrorDetail


class BrandPath(msgspec.Struct, kw_only=True):
    brand: Annotated[
        int, msgspec.Meta(ge=1, le=INT64_MAX, description="The brand's id (ASCII digits).")
    ]
