"""The brand API's bodies: the brand as answered, and the change ``PATCH`` takes."""

from __future__ import annotations

from typing import Annotated

import msgspec

from collector.storage.base import BrandSettings, ExternalAssets, IpMode

MAX_SELECTOR_LENGTH = 500
SELECTOR_FIELDS = ("block_selector", "mask_text_selector")
# Empty is refused too, by the selector check (which names the field), not by decoding.
Selector = Annotated[
    str,
    msgspec.Meta(
        max_length=MAX_SELECTOR_LENGTH,
        extra_json_schema={"minLength": 1},
        description="A CSS selector list the recorder's `element.matches()` accepts.",
    ),
]


class SettingsPatch(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """Settings to change; a field left out (or null) stays as it is, except `short_domain`,
    which null clears. Selectors must be CSS selector lists `element.matches()` accepts."""

    replay_sample_rate: Annotated[float, msgspec.Meta(ge=0.0, le=1.0)] | None = None
    ip_mode: IpMode | None = None
    cookieless: bool | None = None
    respect_dnt: bool | None = None
    retention_days: Annotated[int, msgspec.Meta(ge=1, le=3650)] | None = None
    # null clears it (UNSET: not in the patch); for the other fields null changes nothing
    short_domain: Annotated[str, msgspec.Meta(max_length=253)] | msgspec.UnsetType | None = (
        msgspec.UNSET
    )
    mask_all_inputs: bool | None = None
    block_selector: Selector | None = None
    mask_text_selector: Selector | None = None
    replay_external_assets: ExternalAssets | None = None
    attribution_days: Annotated[int, msgspec.Meta(ge=1, le=365)] | None = None
    webhooks_https_only: bool | None = None
    frustration_signals: bool | None = None
    rate_limit_per_ip: (
        Annotated[
            int,
            msgspec.Meta(
                ge=0,
                le=1_000_000,
                description="Requests a minute one client address may send to /collect, "
                "/collect/replay and /g/ of this brand, per collector process; 0: no limit.",
            ),
        ]
        | None
    ) = None
    rate_limit_per_site_key: (
        Annotated[
            int,
            msgspec.Meta(
                ge=0,
                le=100_000_000,
                description="Requests a minute to /collect, /collect/replay and /g/ of this "
                "brand from everyone, per collector process; 0: no limit.",
            ),
        ]
        | None
    ) = None


class BrandPatch(msgspec.Struct, forbid_unknown_fields=True):
    """What to change: any of name, domains (the page hosts allowed to send) and settings;
    unknown fields are refused."""

    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)] | None = None
    domains: list[Annotated[str, msgspec.Meta(min_length=1, max_length=253)]] | None = None
    settings: SettingsPatch | None = None


class BrandJson(msgspec.Struct):
    """A brand: its public site key (for the tracker), its allowed domains and its settings."""

    id: int
    name: str
    site_key: str
    domains: list[str]
    settings: BrandSettings
