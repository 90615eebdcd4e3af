"""Example destinations and deliveries for the documentation, shown by the code that shows
real ones."""

from __future__ import annotations

from collector.storage.base import Delivery, WebhookDestination

BRAND_ID = 1
AT = 1_733_821_200_000  # 2024-12-10T09:00:00Z

DESTINATION = WebhookDestination(
    id="01jexamp1e0000000000000000",
    brand_id=BRAND_ID,
    url="https://hooks.mybrand.com/clicktrail",
    method="POST",
    header_key="X-Hook-Auth",
    header_value="s3cret-value",
    secret="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    public_key="5f1c0d2a9b8e4f7d8c6b5a4e3d2c1b0a",
    events=["click", "pageview", "lead", "sale"],
    enabled=True,
    created_at=AT,
    updated_at=AT,
)
DELIVERY = Delivery(
    id="01jexamp1e0000000000000001",
    brand_id=BRAND_ID,
    dest_id=DESTINATION.id,
    batch_id="msg_01jexamp1e0000000000000002",
    attempt=1,
    items=120,
    kinds=["click", "pageview"],
    status=200,
    latency_ms=84,
    response='{"ok":true}',
    attempted_at=AT + 1_000,
    outcome="delivered",
)
CREATE_BODY = {
    "url": "https://hooks.mybrand.com/clicktrail",
    "method": "POST",
    "header_key": "X-Hook-Auth",
    "header_value": "s3cret-value",
    "events": ["click", "pageview", "lead", "sale"],
}
UPDATE_BODY = {"events": ["click", "lead", "sale"], "enabled": True}
REPLAY_BODY = {"start": "2024-12-10T09:00:00Z", "end": "2024-12-10T11:00:00Z"}
