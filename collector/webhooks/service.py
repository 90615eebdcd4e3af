"""What the webhooks API does, apart from HTTP: checking a destination, making and changing
one, showing it, and rendering a replay's items. Blocking (the URL check resolves the host):
the routes call these from a thread."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Iterable
from datetime import UTC, datetime

import msgspec

from collector.errors import Conflict, Invalid, NotFound
from collector.http.params import iso
from collector.ids import new_id
from collector.net import IPNetwork, vet_destination
from collector.storage.base import (
    Brand,
    Delivery,
    OutboxItem,
    Store,
    WebhookDestination,
)

from .payload import ItemContext, click_kind, render_click, render_conversion
from .schema import (
    KINDS,
    DeliveryJson,
    WebhookCreate,
    WebhookCreated,
    WebhookJson,
    WebhookUpdate,
)

MAX_DESTINATIONS = 20
MAX_REPLAY_ITEMS = 100_000
RESERVED_HEADERS = ("content-type", "content-length", "host", "user-agent", "transfer-encoding")


def webhook_json(d: WebhookDestination) -> WebhookJson:
    return WebhookJson(
        id=d.id,
        url=d.url,
        method=d.method,
        header_key=d.header_key,
        has_header_value=bool(d.header_value),
        events=list(d.events),
        enabled=d.enabled,
        disabled_reason=d.disabled_reason,
        disabled_at=iso(d.disabled_at) if d.disabled_at is not None else None,
        failing_since=iso(d.failing_since) if d.failing_since is not None else None,
        key=d.public_key,
        created_at=iso(d.created_at),
        updated_at=iso(d.updated_at),
    )


def created_json(destination: WebhookDestination) -> WebhookCreated:
    """The destination and, this once, its secret."""
    shown = msgspec.structs.asdict(webhook_json(destination))
    return WebhookCreated(**shown, secret=destination.secret)


def delivery_json(delivery: Delivery) -> DeliveryJson:
    return DeliveryJson(
        id=delivery.id,
        batch_id=delivery.batch_id,
        attempt=delivery.attempt,
        items=delivery.items,
        kinds=list(delivery.kinds),
        status=delivery.status,
        error=delivery.error,
        latency_ms=delivery.latency_ms,
        response=delivery.response,
        attempted_at=iso(delivery.attempted_at),
        next_attempt_at=(
            iso(delivery.next_attempt_at) if delivery.next_attempt_at is not None else None
        ),
        outcome=delivery.outcome,
    )


# --- checks ------------------------------------------------------------------------------------


def check_url(url: str, allowed: tuple[IPNetwork, ...], brand: Brand) -> None:
    problem = vet_destination(url, allowed, brand.settings.webhooks_https_only)
    if problem is not None:
        raise Invalid(f"`url`: {problem}", param="url")


def check_header(key: str | None, value: str | None) -> None:
    """The auth header: both or neither; a name that is not ours; a value a header can carry."""
    if (key is None) != (value is None):
        missing = "header_value" if value is None else "header_key"
        raise Invalid("`header_key` and `header_value` come together", param=missing)
    if key is None or value is None:
        return
    lowered = key.lower()
    if lowered in RESERVED_HEADERS or lowered.startswith("webhook-"):
        raise Invalid(
            f"`header_key` {key!r} is set by the collector; choose another", param="header_key"
        )
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in value) or not value.isascii():
        raise Invalid(
            "`header_value` must be printable ASCII (no control characters)",
            param="header_value",
        )


def _events(events: Iterable[str]) -> list[str]:
    """The kinds, each once, in the documentation's order."""
    wanted = set(events)
    return [kind for kind in KINDS if kind in wanted]


# --- making and changing -----------------------------------------------------------------------


def create_destination(
    store: Store, brand: Brand, body: WebhookCreate, allowed: tuple[IPNetwork, ...], now: int
) -> WebhookDestination:
    check_header(body.header_key, body.header_value)
    if len(store.list_webhooks(brand.id)) >= MAX_DESTINATIONS:
        raise Conflict(f"a brand has at most {MAX_DESTINATIONS} destinations")
    check_url(body.url, allowed, brand)
    destination = WebhookDestination(
        id=new_id(now),
        brand_id=brand.id,
        url=body.url,
        method=body.method,
        header_key=body.header_key,
        header_value=body.header_value,
        secret=new_secret(),
        public_key=secrets.token_hex(16),
        events=_events(body.events),
        enabled=body.enabled,
        created_at=now,
        updated_at=now,
    )
    store.add_webhook(destination)
    return destination


def new_secret() -> str:
    """A Standard Webhooks signing secret: ``whsec_`` and 24 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def find_destination(store: Store, brand_id: int, dest_id: str) -> WebhookDestination:
    found = store.get_webhook(brand_id, dest_id)
    if found is None:
        raise NotFound(f"no webhook destination {dest_id[:64]!r}")
    return found


def update_destination(
    store: Store,
    brand: Brand,
    dest_id: str,
    patch: WebhookUpdate,
    allowed: tuple[IPNetwork, ...],
    now: int,
) -> WebhookDestination:
    current = find_destination(store, brand.id, dest_id)
    changes: dict[str, object] = {"updated_at": now}
    if isinstance(patch.url, str):
        check_url(patch.url, allowed, brand)
        changes["url"] = patch.url
    if isinstance(patch.method, str):
        changes["method"] = patch.method
    if isinstance(patch.events, list):
        changes["events"] = _events(patch.events)
    changes.update(_header_changes(current, patch))
    if isinstance(patch.enabled, bool):
        changes["enabled"] = patch.enabled
        if patch.enabled:
            changes.update(disabled_reason=None, disabled_at=None, failing_since=None)
    updated = msgspec.structs.replace(current, **changes)
    store.update_webhook(updated)
    return updated


def _header_changes(current: WebhookDestination, patch: WebhookUpdate) -> dict[str, object]:
    key, value = patch.header_key, patch.header_value
    if key is None:
        if isinstance(value, str):
            raise Invalid("`header_value` needs a `header_key`", param="header_value")
        return {"header_key": None, "header_value": None}
    if isinstance(key, str):
        check_header(key, value if isinstance(value, str) else None)
        return {"header_key": key, "header_value": value}
    if isinstance(value, str):
        if current.header_key is None:
            raise Invalid("`header_value` needs a `header_key`", param="header_value")
        check_header(current.header_key, value)
        return {"header_value": value}
    return {}


# --- replays -----------------------------------------------------------------------------------


def parse_moment(value: str, name: str) -> int:
    """An RFC 3339 time as ms; 422 naming ``name`` when it is not one."""
    try:
        moment = datetime.fromisoformat(value.strip().replace("z", "Z"))
    except ValueError:
        raise Invalid(
            f"`{name}` must be an RFC 3339 date-time, not {value[:40]!r}", param=name
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def replay_items(
    store: Store, brand: Brand, destination: WebhookDestination, start: int, end: int
) -> list[OutboxItem]:
    """The items of ``[start, end]`` (ms) of the kinds the destination takes, addressed to it
    alone; 422 when there are more than :data:`MAX_REPLAY_ITEMS`."""
    clicks, conversions, starts = store.webhook_sources(
        brand.id, start, end, list(destination.events), MAX_REPLAY_ITEMS
    )
    if len(clicks) + len(conversions) > MAX_REPLAY_ITEMS:
        raise Invalid(
            f"more than {MAX_REPLAY_ITEMS:,} items in the range: narrow the range", param="end"
        )
    link_ids = {click.link_id for click in clicks if click.link_id}
    link_ids.update(conversion.link_id for conversion in conversions if conversion.link_id)
    links = store.links_by_id(brand.id, sorted(link_ids)) if link_ids else {}
    items: list[OutboxItem] = []
    for click in clicks:
        ctx = ItemContext(brand, links.get(click.link_id or ""), click.id in starts)
        body = render_click(click, ctx)
        items.append(_addressed(click.id, click_kind(click), click.created_at, body, destination))
    for conversion in conversions:
        ctx = ItemContext(brand, links.get(conversion.link_id or ""), False)
        body = render_conversion(conversion, ctx)
        items.append(
            _addressed(conversion.id, conversion.kind, conversion.created_at, body, destination)
        )
    items.sort(key=lambda item: item.created_at)
    return items


def _addressed(
    item_id: str, kind: str, created_at: int, body: bytes, destination: WebhookDestination
) -> OutboxItem:
    return OutboxItem(
        item_id=item_id,
        brand_id=destination.brand_id,
        kind=kind,
        created_at=created_at,
        body=body,
        dest_id=destination.id,
    )
