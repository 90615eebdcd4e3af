"""One clickstream item (seed 05) as JSON: a click, a page view, a lead or a sale.

Items keep the seed's shape key for key (``timestamp``, ``client``, ``referral``, ``route``)
and add ``id`` (the item's own id: its click's or its conversion's), ``type``, ``click_id``,
``visitor_id`` and ``session_id``; a lead or a sale also carries ``conversion``. Our values
are put in the seed's vocabulary (docs/API.md, "Clickstream webhooks"):

- names (browser, OS, referrer origin) lower-case, every run of other characters than letters
  and digits one ``-`` ("Mobile Safari" -> "mobile-safari"); an OS version is the OS's name and
  its version joined by ``-`` ("android-9.0"), as the seed's ``android-9.0-pie``;
- the country lower-case ISO 3166 alpha-2; the language its primary subtag ("pt-BR" -> "pt");
- the device type: mobile -> smartphone; desktop, tablet and the rest as they are;
- times ISO 8601 UTC with six fraction digits and ``Z``, as the seed's.

This runs in the writer's thread for every item, so it is plain structs encoded by msgspec,
with the parsing of URLs cached. The JSON is ASCII: any other character is a ``\\u`` escape,
so a receiver that reads the body as Latin-1 or ASCII still reads it right.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import msgspec

from collector.enrich.click import page_url_parts
from collector.enrich.referrer import classify_referrer
from collector.ids import id_time_ms, is_valid_id
from collector.storage.base import Brand, Click, Conversion, ShortLink

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NOT_NAME = re.compile(r"[^a-z0-9]+")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
DEVICE_NAMES = {"mobile": "smartphone"}


# --- the item's parts, in the seed's order ------------------------------------------------------


class Location(msgspec.Struct):
    country: str | None
    region: str | None
    city: str | None


class NameVersion(msgspec.Struct):
    name: str | None
    version: str | None


class Device(msgspec.Struct):
    name: str | None


class Agent(msgspec.Struct):
    browser: NameVersion
    os: NameVersion
    device: Device
    type: str  # human | bot


class SessionPart(msgspec.Struct):
    started: str | None
    first: bool


class ClientPart(msgspec.Struct):
    language: str | None
    location: Location
    agent: Agent
    session: SessionPart


class Origin(msgspec.Struct):
    type: str | None
    name: str | None


class Referral(msgspec.Struct):
    hostname: str | None
    protocol: str | None
    path: str | None
    origin: Origin


class Workspace(msgspec.Struct):
    id: str
    name: str


class Creator(msgspec.Struct):
    id: str | None
    workspace: Workspace


class RouteDomain(msgspec.Struct):
    id: str | None
    raw: str | None


class Params(msgspec.Struct):
    query: dict[str, list[str]]


class Destination(msgspec.Struct):
    raw: str | None
    protocol: str | None
    hostname: str | None
    path: str | None
    params: Params


class Route(msgspec.Struct):
    id: str | None
    slashtag: str | None
    creator: Creator
    domain: RouteDomain
    destination: Destination


class Customer(msgspec.Struct):
    external_id: str
    name: str | None
    email: str | None


class ConversionPart(msgspec.Struct):
    type: str  # lead | sale
    event_name: str
    customer: Customer
    amount: int | None
    currency: str | None
    invoice_id: str | None
    payment_processor: str | None
    sale_type: str | None
    metadata: object


class Item(msgspec.Struct, omit_defaults=True):
    id: str
    type: str  # click | pageview | lead | sale
    click_id: str
    timestamp: str
    client: ClientPart
    referral: Referral
    route: Route
    visitor_id: str
    session_id: str
    conversion: ConversionPart | None = None


_encode = msgspec.json.Encoder().encode


@dataclass(frozen=True, slots=True)
class ItemContext:
    """What an item needs beside its row: the brand (the seed's workspace), the short link the
    row came through, and whether the click opened its session."""

    brand: Brand
    link: ShortLink | None = None
    first_in_session: bool = False


# --- rendering ---------------------------------------------------------------------------------


def click_kind(click: Click) -> str:
    """The item type of a click: ``click`` for a short-link click or QR scan, else ``pageview``."""
    return "click" if click.trigger in ("link", "qr") else "pageview"


def render_click(click: Click, ctx: ItemContext) -> bytes:
    """The item of a click or a page view, as JSON."""
    item = Item(
        id=click.id,
        type=click_kind(click),
        click_id=click.id,
        timestamp=iso6(click.created_at),
        client=ClientPart(
            language=language(click.language),
            location=Location(lower(click.country), click.region, click.city),
            agent=_agent(click.browser, click.browser_version, click.os, click.os_version, click),
            session=SessionPart(session_started(click.session_id), ctx.first_in_session),
        ),
        referral=referral(click.referrer, click.referrer_type, click.referrer_name),
        route=_route(ctx, click.url, click.domain_id),
        visitor_id=click.visitor_id,
        session_id=click.session_id,
    )
    return ascii_json(_encode(item))


def render_conversion(conversion: Conversion, ctx: ItemContext) -> bytes:
    """The item of a lead or a sale: the envelope from the click facts the conversion copied
    (what it did not copy is null), and ``conversion``."""
    item = Item(
        id=conversion.id,
        type=conversion.kind,
        click_id=conversion.click_id,
        timestamp=iso6(conversion.created_at),
        client=ClientPart(
            language=None,
            location=Location(lower(conversion.country), conversion.region, conversion.city),
            agent=_agent(conversion.browser, None, conversion.os, None, conversion),
            session=SessionPart(session_started(conversion.session_id), False),
        ),
        referral=conversion_referral(conversion.referrer, conversion.url),
        route=_route(ctx, conversion.url, None),
        visitor_id=conversion.visitor_id,
        session_id=conversion.session_id,
        conversion=ConversionPart(
            type=conversion.kind,
            event_name=conversion.event_name,
            customer=Customer(
                conversion.customer_external_id,
                conversion.customer_name,
                conversion.customer_email,
            ),
            amount=conversion.amount,
            currency=conversion.currency,
            invoice_id=conversion.invoice_id,
            payment_processor=conversion.payment_processor,
            sale_type=conversion.sale_type,
            metadata=conversion.metadata if conversion.metadata is not None else {},
        ),
    )
    return ascii_json(_encode(item))


def _agent(
    browser: str | None,
    browser_version: str | None,
    os: str | None,
    os_version: str | None,
    row: Click | Conversion,
) -> Agent:
    os_name = slug(os)
    return Agent(
        browser=NameVersion(slug(browser), browser_version),
        os=NameVersion(os_name, f"{os_name}-{os_version}" if os_name and os_version else None),
        device=Device(device_name(row.device_type)),
        type="bot" if row.is_bot else "human",
    )


def _route(ctx: ItemContext, url: str, domain_id: int | None) -> Route:
    """The link's route for a short-link click (or a page it led to): its id, code and short
    domain (a short domain has no id: its host is its id); a page view without a link has no id
    or slashtag, and its page's domain. Clicktrail keeps no link's maker: the creator is the
    brand, as the workspace. The
    destination is where the visitor went: the link's destination with the short URL's query
    forwarded (``ct_id`` left out), or the page's URL."""
    brand, link = ctx.brand, ctx.link
    creator = Creator(str(brand.id), Workspace(str(brand.id), brand.name))
    if link is not None:
        short_host = link.domain or _host(link.base_url)
        domain = RouteDomain(short_host, short_host)
        return Route(link.id, link.code, creator, domain, destination(url))
    host = _host(url)
    domain = RouteDomain(str(domain_id) if domain_id is not None else None, host)
    return Route(None, None, creator, domain, destination(url))


# --- the vocabulary -----------------------------------------------------------------------------


@functools.lru_cache(maxsize=4096)
def slug(name: str | None) -> str | None:
    """A name in the seed's style: lower-case, other characters than letters and digits one
    ``-`` ("Mobile Safari" -> "mobile-safari")."""
    if not name:
        return None
    return _NOT_NAME.sub("-", name.lower()).strip("-") or None


def lower(value: str | None) -> str | None:
    return value.lower() if value else None


@functools.lru_cache(maxsize=1024)
def language(tag: str | None) -> str | None:
    """The primary subtag, lower-case, as the seed's ``pt``."""
    if not tag:
        return None
    primary = tag.split("-", 1)[0].split("_", 1)[0].strip().lower()
    return primary or None


def device_name(device_type: str | None) -> str | None:
    if not device_type:
        return None
    return DEVICE_NAMES.get(device_type, device_type)


def iso6(ms: int) -> str:
    """ms since the epoch as the seed's timestamp: ``2019-07-02T14:07:06.981000Z``."""
    try:
        return (_EPOCH + timedelta(milliseconds=ms)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    except OverflowError:
        return ""


def session_started(session_id: str) -> str | None:
    """When the session started: the time part of its id (ids carry their creation time)."""
    return iso6(id_time_ms(session_id)) if is_valid_id(session_id) else None


@functools.lru_cache(maxsize=8192)
def referral(referrer: str | None, kind: str | None, name: str | None) -> Referral:
    """The referrer's parts; all null but the origin's type (``direct``) without one."""
    if not referrer:
        return Referral(None, None, None, Origin(kind or "direct", None))
    try:
        parts = urlsplit(referrer)
    except ValueError:  # as sent by the browser or the tracker: anything
        return Referral(None, None, None, Origin(kind, slug(name)))
    return Referral(
        parts.hostname or None, parts.scheme or None, parts.path or "/", Origin(kind, slug(name))
    )


@functools.lru_cache(maxsize=4096)
def conversion_referral(referrer: str | None, url: str) -> Referral:
    """A conversion's referral: it copied its click's referrer and URL, not their class, which
    is the click's again (the same rules)."""
    host, query = page_url_parts(url)
    classified = classify_referrer(referrer, host, query)
    return referral(referrer, classified.type, classified.name)


@functools.lru_cache(maxsize=8192)
def destination(url: str) -> Destination:
    """A URL's parts, its query as the seed's ``{name: [values]}``."""
    if not url:
        return Destination(None, None, None, None, Params({}))
    try:
        parts = urlsplit(url)
        query = parse_qs(parts.query, keep_blank_values=True)
    except ValueError:
        return Destination(url, None, None, None, Params({}))
    return Destination(url, parts.scheme or None, parts.hostname, parts.path or "/", Params(query))


@functools.lru_cache(maxsize=4096)
def _host(url: str) -> str | None:
    try:
        return urlsplit(url).hostname
    except ValueError:
        return None


def ascii_json(body: bytes) -> bytes:
    """``body`` with every non-ASCII character as a JSON ``\\u`` escape (surrogate pairs beyond
    the BMP); ASCII bodies, nearly all of them, are returned as they are."""
    if body.isascii():
        return body
    return _NON_ASCII.sub(_escape, body.decode()).encode()


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
