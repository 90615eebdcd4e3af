"""Example rows for the export API's documentation."""

from __future__ import annotations

from collector.clicks import examples as clicks
from collector.storage.base import ExportJob

from .schema import ExportRequest

BRAND_ID = clicks.BRAND_ID
COLUMNS = ["session_id", "ip_address", "url", "created_at"]
REQUEST = ExportRequest(columns=COLUMNS, filters={"funnel_id": 5, "start": "2024-12-01"})
JOB = ExportJob(
    id="01jeyh2a00q8m3v7c2xw4d9fbk",
    brand_id=BRAND_ID,
    status="done",
    columns=COLUMNS,
    filters={"funnel_id": "5", "start": "2024-12-01"},
    rows=1,
    created_at=clicks.AT + 60_000,
    started_at=clicks.AT + 60_050,
    finished_at=clicks.AT + 60_210,
    expires_at=clicks.AT + 60_210 + 7 * 86_400_000,
)
STATUS_URL = f"https://collector.mybrand.com/api/brands/{BRAND_ID}/exports/{JOB.id}"
CSV = (
    "session_id,ip_address,url,created_at\r\n"
    f"{clicks.SESSION_ID},{clicks.CLICK.ip_address},{clicks.CLICK.url},2024-12-10T09:00:00.000Z\r\n"
)
