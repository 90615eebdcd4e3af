"""Example rows for the documentation (``/openapi.json`` and ``/docs``), shown by the same code
that shows real ones."""

from __future__ import annotations

import msgspec

from collector.brands.schema import BrandPatch
from collector.storage.base import Brand, BrandSettings

BRAND = Brand(
    id=1,
    name="My Brand",
    site_key="3Fq9zK1cT7bWm2Xa",
    domains=["mybrand.com", "checkout.mybrand.com"],
    settings=BrandSettings(replay_sample_rate=0.1),
)
PATCH_BODY = {"settings": {"ip_mode": "truncated", "replay_sample_rate": 0.25}}
PATCH = msgspec.convert(PATCH_BODY, BrandPatch)
