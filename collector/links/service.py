"""Short links as the domain sees them: codes, destinations, the short URL, and the changes the
API makes. Functions here are synchronous (they call the store); the routes run them in a
thread. Errors are domain errors (``collector/errors.py``)."""

from __future__ import annotations

import secrets
import string
from datetime import UTC, datetime
from urllib.parse import urlsplit

import msgspec

from collector.errors import Conflict, Invalid, NotFound
from collector.ids import new_id
from collector.links.schema import LinkCreate, LinkUpdate
from collector.storage.base import Brand, ShortLink, Store

CODE_LENGTH = 7
CODE_ALPHABET = string.ascii_letters + string.digits  # 62**7: 3.5e12 codes
CODE_ATTEMPTS = 8
REDIRECT_PATH = "/g/"
QR_PATH = "/q/"


def generate_code() -> str:
    """A fresh code from the operating system's random source (unguessable)."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def check_destination(url: str) -> str:
    """The destination as stored, or :class:`Invalid` naming ``destination_url`` unless it is an
    absolute http(s) URL with a host (no user name or password, no spaces or control
    characters)."""
    problem = _destination_problem(url)
    if problem is not None:
        raise Invalid(f"`destination_url` {problem}", param="destination_url")
    return url


def _destination_problem(url: str) -> str | None:
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        return "must not contain spaces or control characters"
    try:
        parts = urlsplit(url)
        host = parts.hostname
        _ = parts.port
    except ValueError:
        return "is not a valid URL"
    if parts.scheme.lower() not in ("http", "https"):
        return (
            "must be an absolute http:// or https:// URL"
            " (javascript:, data: and relative URLs are refused)"
        )
    if not host:
        return "must name a host, as in https://example.com/offer"
    if parts.username is not None or parts.password is not None:
        return "must not carry a user name or password"
    return None


def parse_expiry(value: str | None, now_ms: int) -> int | None:
    """``expires_at`` (ISO 8601, UTC unless it has an offset) as ms; :class:`Invalid` when it
    does not read or lies in the past."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise Invalid(
            f"`expires_at` must be an ISO 8601 date-time, not {value[:40]!r}", param="expires_at"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        ms = int(moment.timestamp() * 1000)
    except (OverflowError, ValueError):
        raise Invalid("`expires_at` is out of range", param="expires_at") from None
    if ms <= now_ms:
        raise Invalid("`expires_at` is in the past", param="expires_at")
    return ms


def short_base(brand: Brand, collector_url: str) -> tuple[str, str]:
    """(origin of the short URLs, domain key): the brand's short domain, else the collector's
    public URL (domain key "")."""
    if brand.settings.short_domain:
        base = brand.settings.short_domain.rstrip("/")
        return base, (urlsplit(base).hostname or "").lower()
    return collector_url.rstrip("/"), ""


def link_url(link: ShortLink) -> str:
    return f"{link.base_url}{REDIRECT_PATH}{link.code}"


def shown_domain(link: ShortLink) -> str:
    """The domain a link shows: its short domain, else the host of the URL it was made on (the
    events API's ``domain`` filter reads the same, ``query/events.py``)."""
    return link.domain or link.base_url.split("://", 1)[-1]


def qr_url(link: ShortLink) -> str:
    return f"{link.base_url}{QR_PATH}{link.code}"


def is_live(link: ShortLink, now_ms: int) -> bool:
    return not link.deleted and (link.expires_at is None or link.expires_at > now_ms)


def create_link(
    store: Store, brand: Brand, body: LinkCreate, collector_url: str, now_ms: int
) -> ShortLink:
    """Store a new link; a generated code is retried on a collision, a custom ``key`` that is
    taken on the short domain is :class:`Conflict`."""
    base, domain = short_base(brand, collector_url)
    link = ShortLink(
        id=new_id(now_ms),
        brand_id=brand.id,
        domain=domain,
        code=body.key or generate_code(),
        destination_url=check_destination(body.destination_url),
        base_url=base,
        tags=list(dict.fromkeys(body.tags)),
        folder=body.folder,
        external_id=body.external_id,
        tenant_id=body.tenant_id,
        group_id=body.group_id,
        partner_id=body.partner_id,
        expires_at=parse_expiry(body.expires_at, now_ms),
        created_at=now_ms,
        updated_at=now_ms,
    )
    if body.key is not None:
        if not store.add_link(link, unique_everywhere=False):
            raise Conflict(f"the key {body.key!r} is taken on this short domain", param="key")
        return link
    for _ in range(CODE_ATTEMPTS):
        if store.add_link(link, unique_everywhere=True):
            return link
        link = msgspec.structs.replace(link, code=generate_code())
    raise Conflict("no free code was found; try again")  # 8 collisions in 3.5e12: never


def find_link(store: Store, brand_id: int, id_or_code: str) -> ShortLink:
    """The brand's live link with this id or code; :class:`NotFound` otherwise."""
    link = store.get_link(brand_id, id_or_code)
    if link is None:
        found = [
            candidate
            for candidate in store.links_by_code(id_or_code)
            if candidate.brand_id == brand_id and not candidate.deleted
        ]
        link = found[0] if found else None
    if link is None:
        raise NotFound(f"no short link {id_or_code[:64]!r}")
    return link


def update_link(
    store: Store, brand_id: int, id_or_code: str, patch: LinkUpdate, now_ms: int
) -> ShortLink:
    link = find_link(store, brand_id, id_or_code)
    changes: dict[str, object] = {"updated_at": max(now_ms, link.updated_at + 1)}
    if patch.destination_url is not msgspec.UNSET:
        changes["destination_url"] = check_destination(patch.destination_url)
    if patch.tags is not msgspec.UNSET:
        changes["tags"] = list(dict.fromkeys(patch.tags))
    for name in ("folder", "external_id", "tenant_id", "group_id", "partner_id"):
        value = getattr(patch, name)
        if value is not msgspec.UNSET:
            changes[name] = value
    if patch.expires_at is not msgspec.UNSET:
        changes["expires_at"] = parse_expiry(patch.expires_at, now_ms)
    updated = msgspec.structs.replace(link, **changes)
    store.save_link(updated)
    return updated


def delete_link(store: Store, brand_id: int, id_or_code: str, now_ms: int) -> ShortLink:
    """Mark the link deleted: it answers 404 from now on, and its code is never reused."""
    link = find_link(store, brand_id, id_or_code)
    deleted = msgspec.structs.replace(
        link, deleted=True, updated_at=max(now_ms, link.updated_at + 1)
    )
    store.save_link(deleted)
    return deleted


def choose_link(candidates: list[ShortLink], host: str | None) -> ShortLink | None:
    """The link a request for a code means: the only one with that code, or the one on the
    request's host, else the one on the collector's own URL."""
    if len(candidates) <= 1:
        return candidates[0] if candidates else None
    by_domain = {link.domain: link for link in candidates}
    return by_domain.get((host or "").lower()) or by_domain.get("")
