"""The writer's hook: the clickstream items of a batch of clicks and conversions.

The :class:`~collector.ingest.writer.Writer` calls :meth:`ClickstreamFeed.items` in its thread
right before it stores a batch, and hands the items to ``write_batch`` (``outbox=``), so an
item is committed with its row (docs/DECISIONS.md, issue 13). Only brands with an enabled
destination that takes the item's kind get items: the others cost one dict look-up a row.
After a commit that carried items, :meth:`ClickstreamFeed.committed` wakes the dispatcher.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from collector.brands.cache import BrandCache
from collector.storage.base import Click, Conversion, OutboxItem, ShortLink, Store

from .payload import ItemContext, click_kind, render_click, render_conversion

log = logging.getLogger("clicktrail.webhooks")

REFRESH_SECONDS = 2.0
LINK_CACHE_SIZE = 20_000


class ClickstreamFeed:
    """Renders the outbox items of each batch; ``wakeup`` is set after each commit with items
    (the dispatcher waits on it)."""

    def __init__(self, store: Store, brands: BrandCache) -> None:
        self._store = store
        self._brands = brands
        self.wakeup = threading.Event()
        self._lock = threading.Lock()
        self._kinds: dict[int, frozenset[str]] = {}  # brand -> the kinds its destinations take
        self._loaded_at = float("-inf")
        self._links: dict[tuple[int, str], ShortLink | None] = {}
        self.version = 0  # counts invalidate(): an enrichment process invalidates when it moves

    # --- what the writer calls ------------------------------------------------------------------

    def items(
        self,
        clicks: list[Click],
        conversions: list[Conversion],
        session_starts: frozenset[str] = frozenset(),
    ) -> list[OutboxItem]:
        """The items of these rows for the brands that take them (blocking: the writer's
        thread)."""
        kinds = self.subscriptions()
        if not kinds:
            return []
        found: list[OutboxItem] = []
        for click in clicks:
            wanted = kinds.get(click.brand_id)
            kind = click_kind(click)
            if wanted is None or kind not in wanted:
                continue
            ctx = self._context(click.brand_id, click.link_id, click.id in session_starts)
            body = _rendered(render_click, click, ctx)
            if body is not None:
                found.append(_item(click.id, click.brand_id, kind, click.created_at, body))
        for conversion in conversions:
            wanted = kinds.get(conversion.brand_id)
            if wanted is None or conversion.kind not in wanted:
                continue
            ctx = self._context(conversion.brand_id, conversion.link_id, False)
            body = _rendered(render_conversion, conversion, ctx)
            if body is not None:
                found.append(
                    _item(
                        conversion.id,
                        conversion.brand_id,
                        conversion.kind,
                        conversion.created_at,
                        body,
                    )
                )
        return found

    def committed(self) -> None:
        """A batch with items is stored: the dispatcher may send them."""
        self.wakeup.set()

    # --- destinations -----------------------------------------------------------------------

    def subscriptions(self) -> dict[int, frozenset[str]]:
        """brand -> the kinds its enabled destinations take, read again every
        :data:`REFRESH_SECONDS` (at once after :meth:`invalidate`)."""
        if time.monotonic() - self._loaded_at < REFRESH_SECONDS:
            return self._kinds
        with self._lock:
            if time.monotonic() - self._loaded_at >= REFRESH_SECONDS:
                self._reload()
        return self._kinds

    def _reload(self) -> None:
        try:
            destinations = self._store.list_webhooks(None)
        except Exception:
            # Keep what was known: a failed read must not stop ingest (tried again shortly).
            log.exception("the webhook destinations could not be read")
            self._loaded_at = time.monotonic() - REFRESH_SECONDS + 0.5
            return
        kinds: dict[int, set[str]] = {}
        for destination in destinations:
            if destination.enabled:
                kinds.setdefault(destination.brand_id, set()).update(destination.events)
        self._kinds = {brand: frozenset(events) for brand, events in kinds.items()}
        self._loaded_at = time.monotonic()

    def invalidate(self) -> None:
        """Destinations changed: read them again before the next batch."""
        self.version += 1
        self._loaded_at = float("-inf")

    # --- context ------------------------------------------------------------------------------

    def _context(self, brand_id: int, link_id: str | None, first: bool) -> ItemContext | None:
        brand = self._brands.by_id(brand_id)
        if brand is None:
            return None
        link = self.link(brand_id, link_id) if link_id else None
        return ItemContext(brand, link, first)

    def link(self, brand_id: int, link_id: str) -> ShortLink | None:
        """The short link ``link_id`` (its id, code and domain never change: cached)."""
        key = (brand_id, link_id)
        if key in self._links:
            return self._links[key]
        found = self._store.get_link(brand_id, link_id)
        if len(self._links) >= LINK_CACHE_SIZE:
            self._links.clear()
        self._links[key] = found
        return found


def _item(item_id: str, brand_id: int, kind: str, created_at: int, body: bytes) -> OutboxItem:
    return OutboxItem(
        item_id=item_id, brand_id=brand_id, kind=kind, created_at=created_at, body=body
    )


def _rendered(
    render: Callable[[Any, ItemContext], bytes], row: Any, ctx: ItemContext | None
) -> bytes | None:
    """The item's JSON; None (logged) when it cannot be made: a row is never refused for its
    clickstream item (the item is lost, the click is not; a replay of its range remakes it)."""
    if ctx is None:
        return None
    try:
        return render(row, ctx)
    except Exception:
        log.exception(
            "the clickstream item of %s %s could not be rendered", type(row).__name__, row.id
        )
        return None
