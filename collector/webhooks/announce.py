"""Announcing a finished CSV export to the brand's webhooks (issue 14, the ``export`` kind).

The export runner calls :class:`ExportAnnouncer` with every job that ends, ``done`` or
``failed``. When one of the brand's enabled destinations takes ``export`` (never by default:
clickstream receivers expect seed 05's items only), the job goes into the outbox as one item and
the dispatcher sends it like any other: signed, retried, in the delivery log. The item is the
export API's own job (``GET exports/{id}``) under ``export``, with ``id``, ``type`` and
``timestamp`` (when it ended) beside it, as every item has.

Links in it are absolute when ``--public-url`` is set; without it the announcer knows no address
the receiver could reach, so they are the paths under the collector (docs/WEBHOOKS.md).
"""

from __future__ import annotations

import msgspec

from collector.exports.schema import ExportJson
from collector.exports.service import job_json
from collector.storage.base import ExportJob, OutboxItem, Store

from .feed import ClickstreamFeed
from .payload import iso6

KIND = "export"


class ExportItem(msgspec.Struct):
    id: str
    type: str
    timestamp: str
    export: ExportJson


class ExportAnnouncer:
    """The runner's ``on_finished``: one outbox item per ended job, for brands that want it."""

    def __init__(self, store: Store, feed: ClickstreamFeed, public_url: str) -> None:
        self._store = store
        self._feed = feed
        self._base = public_url.rstrip("/")

    def __call__(self, job: ExportJob) -> None:
        wanted = self._feed.subscriptions().get(job.brand_id, frozenset())
        if KIND not in wanted:
            return
        item = OutboxItem(
            item_id=job.id,
            brand_id=job.brand_id,
            kind=KIND,
            created_at=_ended_at(job),
            body=render_export(job, self._base),
        )
        self._store.append_outbox([item])
        self._feed.committed()


def render_export(job: ExportJob, base: str) -> bytes:
    """The item's JSON: the job as ``GET exports/{id}`` shows it, links under ``base``."""
    status_url = f"{base}/api/brands/{job.brand_id}/exports/{job.id}"
    item = ExportItem(
        id=job.id, type=KIND, timestamp=iso6(_ended_at(job)), export=job_json(job, status_url)
    )
    return msgspec.json.encode(item)


def _ended_at(job: ExportJob) -> int:
    """When the job ended (ms); its creation for a job that never ran."""
    return job.finished_at if job.finished_at is not None else job.created_at
