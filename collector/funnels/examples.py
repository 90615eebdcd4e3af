"""An example funnel for the documentation, shaped by the same code as real answers."""

from __future__ import annotations

from collector.clicks import examples as clicks

from . import service
from .schema import FunnelAnswer

BRAND_ID = clicks.BRAND_ID
STEPS = ["page:/pricing*", "event:signup", "lead", "sale"]
FUNNEL = FunnelAnswer(steps=service.rows(STEPS, [1200, 300, 240, 60]))
