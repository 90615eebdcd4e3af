"""Hooks of the background jobs: each finished job moves its metrics and writes its log line
(one call where the job ends)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from collector.ops.logging import log_job
from collector.ops.metrics import METRICS

if TYPE_CHECKING:
    from collector.storage.base import ExportJob
    from collector.webhooks.delivery import Result
    from collector.webhooks.settle import Batch


def webhook_batch(batch: Batch, result: Result) -> None:
    """One delivery attempt of a webhook batch, whatever its verdict."""
    METRICS.webhook_batch(result.verdict, len(batch.items))
    log_job(
        "webhook_batch",
        result.latency_ms / 1000,
        batch.destination.brand_id,
        destination=batch.destination.id,
        attempt=batch.attempt,
        items=len(batch.items),
        verdict=result.verdict,
        status=result.status,
    )


def export_finished(job: ExportJob) -> None:
    """An export job done or failed (its ``finished_at`` set)."""
    METRICS.export_finished(job.status)
    took_ms = (job.finished_at or 0) - (job.started_at or job.finished_at or 0)
    log_job("export", took_ms / 1000, job.brand_id, export=job.id, state=job.status, rows=job.rows)


def compaction_run(replays: int, seconds: float) -> None:
    """A compaction pass; logged when it compacted something."""
    if replays:
        METRICS.compacted.inc((), replays)
        log_job("compaction", seconds, replays=replays)
