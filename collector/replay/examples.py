"""Example rows for the documentation (``/openapi.json`` and ``/docs``), shown by the same code
that shows real ones."""

from __future__ import annotations

from typing import Any

from collector.clicks.examples import AT, BRAND_ID, CLICK_CODE, SESSION_ID, VISITOR_ID
from collector.storage.base import Replay

REPLAY_ID = "01jeyg5w8qz4k7n2c9d3x6b1mt"
REPLAY = Replay(
    id=REPLAY_ID,
    brand_id=BRAND_ID,
    session_id=SESSION_ID,
    page_session_id=CLICK_CODE,
    visitor_id=VISITOR_ID,
    url="https://checkout.mybrand.com/checkout",
    started_at=AT,
    ended_at=AT + 45_000,
    viewport_width=1440,
    viewport_height=900,
    event_count=412,
    raw_bytes=1_830_412,
    stored_bytes=96_204,
)
# What replay/events.py derives from the stream: one of each kind.
SEED_EVENTS: list[dict[str, Any]] = [
    {"type": "mousemove", "x": 100, "y": 200, "ts": 1500},
    {"type": "click", "x": 300, "y": 400, "ts": 2300, "target": "button#buy-now"},
    {"type": "scroll", "scrollY": 800, "ts": 5000},
]
SHARE_TOKEN = (
    "eyJiIjoxLCJzIjoiMDFqZXlnNXYwMGtxIiwiciI6IjAxamV5ZzV3OHF6NCIsImUiOjE3MzQ0MjYwMDB9.c2ln"
)
