"""The storage contract's outbound side: clickstream webhooks (destinations, delivery log,
outbox) and CSV export jobs, each a protocol matching the module of the same name in both
engines. Part of :class:`~collector.storage.base.Store` (``base.py`` re-exports them)."""

from __future__ import annotations

from typing import Protocol

from .model import (
    Click,
    ClickQuery,
    Conversion,
    Delivery,
    ExportJob,
    OutboxItem,
    WebhookCursor,
    WebhookDestination,
)


class WebhookStore(Protocol):
    """Clickstream destinations, their delivery log, and the outbox (``webhooks.py`` of each
    engine). Destinations and deliveries are shared by every collector of the database. The
    outbox and its cursors are this process's: on SQLite they live in the database itself
    (written in the same transaction as the clicks); on ClickHouse in a local SQLite file
    beside the collector (``outbox_path``), so that each collector delivers what it ingested."""

    # destinations
    def add_webhook(self, destination: WebhookDestination) -> None: ...

    def get_webhook(self, brand_id: int, dest_id: str) -> WebhookDestination | None: ...

    def list_webhooks(self, brand_id: int | None = None) -> list[WebhookDestination]:
        """A brand's destinations, oldest first; every brand's when ``brand_id`` is None."""

    def update_webhook(self, destination: WebhookDestination) -> None:
        """Replace a stored destination (KeyError if unknown)."""

    def delete_webhook(self, brand_id: int, dest_id: str) -> bool:
        """False when there was none. Its outbox items and cursor go too."""

    # the delivery log
    def add_deliveries(self, deliveries: list[Delivery]) -> None: ...

    def list_deliveries(
        self, brand_id: int, dest_id: str, limit: int, offset: int
    ) -> tuple[int, list[Delivery]]:
        """(how many in all, one page of them newest first)."""

    # the outbox (local)
    def append_outbox(self, items: list[OutboxItem]) -> int:
        """Write items outside a click batch (a replay's); returns how many were new."""

    def outbox_items(
        self,
        brand_id: int,
        dest_id: str,
        kinds: list[str],
        after_seq: int,
        limit: int,
        through_seq: int | None = None,
    ) -> list[OutboxItem]:
        """The items of ``brand_id`` after ``after_seq`` (and up to ``through_seq``) that go to
        ``dest_id``: fanned-out items of one of ``kinds``, and items addressed to it, by seq."""

    def outbox_end(self) -> int:
        """The highest seq ever given (0 for an empty outbox)."""

    def outbox_written_at(self, seq: int) -> int | None:
        """When (ms, wall clock) the item ``seq`` was written, if it is still there."""

    def webhook_cursors(self) -> dict[str, WebhookCursor]: ...

    def save_webhook_cursor(self, cursor: WebhookCursor) -> None: ...

    def delete_webhook_cursor(self, dest_id: str) -> None: ...

    def prune_outbox(self, keep: dict[int, int]) -> int:
        """Delete fanned-out items of each brand in ``keep`` up to its seq, items of brands
        not in ``keep``, and addressed items at or below their destination's cursor (or of
        no destination); returns how many went."""

    # a replay's sources (the main store)
    def webhook_sources(
        self, brand_id: int, start: int, end: int, kinds: list[str], limit: int
    ) -> tuple[list[Click], list[Conversion], set[str]]:
        """For a replay of [start, end] ms: the clicks (trigger ``link``/``qr`` for ``click``,
        ``pageview`` for ``pageview``) and conversions (``lead``, ``sale``) of the kinds asked,
        oldest first, at most ``limit`` in all (+1 to tell there are more), and the ids of the
        clicks among them that opened their session (no earlier click in it)."""


class ExportStore(Protocol):
    """CSV export jobs and the rows they write (``exports.py`` of each engine)."""

    def add_export(self, job: ExportJob) -> None: ...

    def get_export(self, brand_id: int, job_id: str) -> ExportJob | None: ...

    def save_export(self, job: ExportJob) -> None:
        """Replace a stored job (its status, rows and times)."""

    def exports_in(self, statuses: list[str]) -> list[ExportJob]:
        """Every brand's jobs in one of ``statuses``, oldest first."""

    def delete_export(self, brand_id: int, job_id: str) -> None: ...

    def export_csv(
        self,
        brand_id: int,
        query: ClickQuery,
        columns: tuple[str, ...],
        after: tuple[int, str] | None,
        limit: int,
    ) -> tuple[bytes, int, tuple[int, str] | None]:
        """At most ``limit`` clicks matching ``query``'s filters (not its page, sort or
        ``click_or_session``) ordered by (created_at, id) in ``query.direction``, after the
        key ``after``, as CSV: (the lines of ``columns``' cells as ``exports/csvfile.py`` says,
        UTF-8, each ending CR LF; how many; the key (created_at ms, id) of the page's last row
        to read the next page after, None when no rows are left)."""
