"""The tracker's bodies and parameters, as the spec shows them."""

from __future__ import annotations

from typing import Annotated

import msgspec


class MaskingConfig(msgspec.Struct):
    i: Annotated[bool, msgspec.Meta(description="mask every input")]
    b: Annotated[str, msgspec.Meta(description="selector of elements not recorded at all")]
    t: Annotated[str, msgspec.Meta(description="selector of elements whose text is masked")]


class TrackerConfig(msgspec.Struct):
    """The brand's settings the tracker needs (cached for 5 minutes)."""

    c: Annotated[bool, msgspec.Meta(description="cookieless")]
    d: Annotated[bool, msgspec.Meta(description="respect Do Not Track")]
    r: Annotated[float, msgspec.Meta(description="replay sample rate, 0..1")]
    m: MaskingConfig
    a: Annotated[
        int, msgspec.Meta(description="attribution window, days: how long a `ct_id` is kept")
    ]
    x: Annotated[
        bool, msgspec.Meta(description="find dead and error clicks in the page (load `/t/x.js`)")
    ] = True


class TrackerScriptQuery(msgspec.Struct, kw_only=True):
    site: (
        Annotated[
            str,
            msgspec.Meta(
                max_length=64,
                description="The brand's site key: its settings are baked into the script.",
            ),
        ]
        | None
    ) = None


class SitePath(msgspec.Struct, kw_only=True):
    site_key: Annotated[str, msgspec.Meta(description="The brand's public site key.")]
