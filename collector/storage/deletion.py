"""The storage contract of deleting a visitor on request (issue 16): what each engine's
``deletion.py`` provides (part of :class:`~collector.storage.base.Store`), and what it answers.

A visitor is everything stored under their visitor id in a brand: clicks (page views and
short-link clicks), the events of those clicks, leads and sales, replays (their summary row,
chunks, segments, asset links), and the clickstream outbox items rendered from those clicks and
conversions. Deleting by customer also takes the customer's conversions whatever visitor they
name. Export files are the service's (``collector/privacy/service.py``): the store gives the
first stored time of what it deleted so the service knows which files could hold it.
"""

from __future__ import annotations

from typing import Protocol

import msgspec

# The most visitors one request resolves to (an external id or a customer used by many).
MAX_VISITORS = 1_000


class DeletedRows(msgspec.Struct, kw_only=True):
    """What one deletion removed, per kind (0 each when nothing was left: it is idempotent).
    ``first_seen`` is the earliest stored time (ms) of a deleted click or conversion (None when
    none was); ``unused_assets`` the sha256 of stored replay assets that no replay links any
    more (the service removes their files)."""

    visitors: int = 0
    clicks: int = 0
    events: int = 0
    conversions: int = 0
    replays: int = 0
    replay_chunks: int = 0
    replay_segments: int = 0
    replay_assets: int = 0
    outbox_items: int = 0
    first_seen: int | None = None
    unused_assets: list[str] = []


class DeletionStore(Protocol):
    """Finding a visitor by what a brand knows them by, and deleting them (``deletion.py`` of
    each engine). SQLite deletes in one transaction, overwrites what it frees and empties its
    WAL; ClickHouse deletes table by table (ids first found, then the rows that name them, the
    clicks last, so that a retry after a failure finds what is left) and rewrites the parts
    that held the rows before it returns (docs/PRIVACY.md)."""

    def visitors_by_external_id(self, brand_id: int, external_id: str, limit: int) -> list[str]:
        """Visitor ids of the brand's clicks identified as ``external_id`` (on the first beacon
        or by a later ``identify`` event), at most ``limit``."""

    def visitors_of_customer(self, brand_id: int, customer_id: str, limit: int) -> list[str]:
        """Visitor ids the brand's leads and sales of ``customer_id`` name, at most ``limit``."""

    def delete_visitors(
        self,
        brand_id: int,
        visitor_ids: list[str],
        external_id: str | None = None,
        customer_id: str | None = None,
    ) -> DeletedRows:
        """Delete everything of ``visitor_ids`` in the brand; with ``external_id`` also its
        ``identify`` events left on no click, with ``customer_id`` also the customer's
        conversions. Nothing else of the brand or any other brand changes."""
