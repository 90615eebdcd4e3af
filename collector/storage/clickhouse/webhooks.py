"""ClickHouse: clickstream destinations, their delivery log, the outbox and its cursors (being
written: every method raises NotImplementedError for now)."""

from __future__ import annotations

from ..model import Click, Conversion, Delivery, OutboxItem, WebhookCursor, WebhookDestination
from .connection import ClickHouseBase


class WebhooksMixin(ClickHouseBase):
    """:class:`~collector.storage.base.WebhookStore` on ClickHouse (not yet)."""

    def add_webhook(self, destination: WebhookDestination) -> None:
        raise NotImplementedError

    def get_webhook(self, brand_id: int, dest_id: str) -> WebhookDestination | None:
        raise NotImplementedError

    def list_webhooks(self, brand_id: int | None = None) -> list[WebhookDestination]:
        raise NotImplementedError

    def update_webhook(self, destination: WebhookDestination) -> None:
        raise NotImplementedError

    def delete_webhook(self, brand_id: int, dest_id: str) -> bool:
        raise NotImplementedError

    def add_deliveries(self, deliveries: list[Delivery]) -> None:
        raise NotImplementedError

    def list_deliveries(
        self, brand_id: int, dest_id: str, limit: int, offset: int
    ) -> tuple[int, list[Delivery]]:
        raise NotImplementedError

    def append_outbox(self, items: list[OutboxItem]) -> int:
        raise NotImplementedError

    def outbox_items(
        self,
        brand_id: int,
        dest_id: str,
        kinds: list[str],
        after_seq: int,
        limit: int,
        through_seq: int | None = None,
    ) -> list[OutboxItem]:
        raise NotImplementedError

    def outbox_end(self) -> int:
        raise NotImplementedError

    def outbox_written_at(self, seq: int) -> int | None:
        raise NotImplementedError

    def webhook_cursors(self) -> dict[str, WebhookCursor]:
        raise NotImplementedError

    def save_webhook_cursor(self, cursor: WebhookCursor) -> None:
        raise NotImplementedError

    def delete_webhook_cursor(self, dest_id: str) -> None:
        raise NotImplementedError

    def prune_outbox(self, keep: dict[int, int]) -> int:
        raise NotImplementedError

    def webhook_sources(
        self, brand_id: int, start: int, end: int, kinds: list[str], limit: int
    ) -> tuple[list[Click], list[Conversion], set[str]]:
        raise NotImplementedError
