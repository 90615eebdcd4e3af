"""Example links for the documentation, shown by the same code that shows real ones."""

from __future__ import annotations

from collector.storage.base import ShortLink

BRAND_ID = 1
AT = 1_733_821_200_000  # 2024-12-10T09:00:00Z

LINK = ShortLink(
    id="01jexample0000000000000000",
    brand_id=BRAND_ID,
    domain="go.mybrand.com",
    code="abc123",
    destination_url="https://checkout.mybrand.com/offer?utm_source=email",
    base_url="https://go.mybrand.com",
    tags=["spring"],
    folder="newsletters",
    external_id="crm-42",
    tenant_id=None,
    group_id="spring-partners",
    partner_id="partner-7",
    expires_at=None,
    created_at=AT,
    updated_at=AT,
)
CREATE_BODY = {"destination_url": "https://checkout.mybrand.com/offer?utm_source=email"}
UPDATE_BODY = {"destination_url": "https://checkout.mybrand.com/offer-b", "tags": ["spring"]}
