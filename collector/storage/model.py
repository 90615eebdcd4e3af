"""The entities Clicktrail keeps: msgspec structs every engine reads and writes.

The API layer speaks only these types. All times are integers: milliseconds since the Unix epoch,
UTC. The fields of :class:`Click` and :class:`Event` declare the columns of the ``clicks`` and
``events`` tables, in table order (see ``columns.py``: adding a field is one edit here plus a
migration).
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec

from .columns import Millis

Scope = Literal["read", "write", "admin"]
SCOPE_RANK: dict[str, int] = {"read": 1, "write": 2, "admin": 3}

IpMode = Literal["full", "truncated", "off"]
# What a replay may load from the recorded site: "proxy" (stored copies, else fetched on demand
# through the collector), "stored" (stored copies only), "off" (nothing: not even fetched).
ExternalAssets = Literal["proxy", "stored", "off"]


class BrandSettings(msgspec.Struct, kw_only=True):
    """Per-brand options. New options get a default so old rows keep decoding."""

    replay_sample_rate: float = 0.0
    ip_mode: IpMode = "full"
    cookieless: bool = False
    respect_dnt: bool = False
    retention_days: int = 395
    short_domain: str | None = None
    mask_all_inputs: bool = True
    block_selector: str = "[data-ct-block]"
    mask_text_selector: str = "[data-ct-mask]"
    replay_external_assets: ExternalAssets = "proxy"
    # How long the tracker keeps a short link's click id (``ct_id``) to attribute later visits.
    attribution_days: int = 90
    # Clickstream destinations must be https (checked when one is made or changed).
    webhooks_https_only: bool = False
    # Dead and error clicks found in the page (the tracker loads /t/x.js after its config).
    frustration_signals: bool = True
    # Requests a minute to /collect, /collect/replay and /g/ (0: no limit), per client address
    # and for the whole site key, in each collector process (docs/DEPLOY.md, "Rate limits").
    rate_limit_per_ip: int = 0
    rate_limit_per_site_key: int = 0


class Brand(msgspec.Struct, kw_only=True):
    id: int
    name: str
    site_key: str
    domains: list[str] = []
    settings: BrandSettings = msgspec.field(default_factory=BrandSettings)
    created_at: int = 0


class ApiKey(msgspec.Struct, kw_only=True):
    id: str  # public id (also the key's visible prefix)
    brand_id: int
    scope: Scope
    key_hash: str  # hex sha256 of the secret; the secret itself is never stored
    created_at: int = 0
    label: str = ""  # what made it or what it is for ("demo": made by `clicktrail demo`)


class Domain(msgspec.Struct, kw_only=True):
    id: int
    brand_id: int
    domain: str


class Click(msgspec.Struct, kw_only=True, gc=False):
    """One tracked entry into a page (a page load or a short-link redirect). ``id`` is the click
    code. The fields are the ``clicks`` table's columns, in order (``columns.py``)."""

    id: str
    brand_id: int
    session_id: str
    visitor_id: str
    created_at: Millis
    trigger: str = "pageview"  # pageview | link | qr
    ip_address: str | None = None
    url: str = ""
    domain_id: int | None = None
    funnel_id: int | None = None
    sub1: str | None = None
    sub2: str | None = None
    sub3: str | None = None
    sub4: str | None = None
    sub5: str | None = None
    affiliate: str | None = None
    external_id: str | None = None
    utm_source: str | None = None
    utm_medium: str | None = None
    utm_campaign: str | None = None
    utm_term: str | None = None
    utm_content: str | None = None
    ad_click_id: str | None = None  # gclid / fbclid / msclkid / ttclid value
    ad_network: str | None = None  # google | facebook | microsoft | tiktok
    query: dict[str, str] = {}
    referrer: str | None = None
    referrer_host: str | None = None
    referrer_type: str = "direct"  # search | social | email | paid | direct | referral
    referrer_name: str | None = None
    country: str | None = None
    region: str | None = None
    city: str | None = None
    zip: str | None = None
    lat: float | None = None
    lon: float | None = None
    time_zone: str | None = None
    continent: str | None = None
    asn: int | None = None
    isp: str | None = None
    device_type: str | None = None  # desktop | mobile | tablet | bot | other
    device_brand: str | None = None
    device_model: str | None = None
    os: str | None = None
    os_version: str | None = None
    browser: str | None = None
    browser_version: str | None = None
    user_agent: str | None = None
    language: str | None = None
    viewport_width: int | None = None
    viewport_height: int | None = None
    is_bot: bool = False
    # The short link this click came through: the link's own click (trigger link or qr), or a
    # page view that carried that click's id (``ct_id``) within the attribution window.
    link_id: str | None = None
    # The same visitor followed the same short link within the hour before (link clicks only).
    is_repeat: bool = False
    # Issue 14: the hit's raw Accept-Language header (at most 256 characters), and the network
    # facts of the MaxMind ISP, Connection-Type and Anonymous-IP databases (when configured).
    accept_language: str | None = None
    organization: str | None = None  # ISP db: the organisation the address is registered to
    connection_type: str | None = None  # Dialup | Cable/DSL | Corporate | Cellular | Satellite
    mobile_carrier: str | None = None  # ISP db: "NAME (mcc-mnc)" when the network is mobile
    is_proxy: bool = False  # Anonymous-IP db: anonymous, VPN, proxy, Tor, hosting or resi proxy
    proxy_type: str | None = None  # tor|vpn|public_proxy|residential_proxy|hosting|anonymous
    # Issue 17: why ``is_bot`` is true ("known crawler: Googlebot", "zero-size viewport", ...);
    # None exactly when ``is_bot`` is false (collector.enrich.click sets both).
    bot_reason: str | None = None


# The click fields issue 14 added (one migration on each engine).
NETWORK_FACTS: tuple[str, ...] = (
    *("accept_language", "organization", "connection_type", "mobile_carrier"),
    *("is_proxy", "proxy_type"),
)


class Event(msgspec.Struct, kw_only=True, gc=False):
    """Something that happened in a click's page. ``seq`` orders events that share a timestamp.
    The fields are the ``events`` table's columns, in order (``columns.py``).

    ``gc=False`` (and on Click): an event refers to no object that could refer back to it, and
    the enricher keeps a hundred thousand alive until their batch is stored, which the garbage
    collector then need not walk (the door's p99: bench/README.md)."""

    brand_id: int
    click_id: str
    session_id: str
    type: str
    url: str | None = None
    timestamp: Millis
    seq: int = 0
    # A dict, or a msgspec.Raw JSON object straight from the beacon: engines store it with
    # msgspec.json.encode (which embeds Raw as is) and always read back a dict.
    data: Any = {}


SortColumn = Literal["created_at", "funnel_id", "country", "browser", "os", "device_type"]
SORT_COLUMNS: tuple[str, ...] = SortColumn.__args__  # type: ignore[attr-defined]


class ClickQuery(msgspec.Struct, kw_only=True):
    """Filters of ``GET clicks`` (seed 01). ``None`` means "no filter"."""

    funnel_id: int | None = None
    url: str | None = None  # partial match, case-insensitive
    sub1: str | None = None
    visitor_id: str | None = None  # the visit tracking id
    # a click code or a session id: matches clicks with that id or in that session, and the
    # results collapse to one row per session (its first click)
    click_or_session: str | None = None
    exclude_bots: bool = False
    click_ids: tuple[str, ...] | None = None  # only these clicks (the external id filter)
    start: int | None = None  # inclusive, ms
    end: int | None = None  # inclusive, ms
    sort: SortColumn = "created_at"
    direction: Literal["asc", "desc"] = "desc"
    limit: int = 30
    offset: int = 0


# replays ------------------------------------------------------------------------------------
# A replay is one sampled page session's rrweb stream. The recorder sends it in chunks; each is
# stored zstd-compressed as it arrives. Compaction later rewrites a replay that has ended as
# segments: zstd at a high level with the brand's trained dictionary, each segment starting at a
# seek point (an rrweb Meta + FullSnapshot pair). See docs/REPLAY.md.


class ReplayChunk(msgspec.Struct, kw_only=True):
    """One flushed piece of a replay, as the recorder sent it. ``(brand_id, replay_id, seq)`` is
    unique: a chunk sent twice is stored once."""

    brand_id: int
    replay_id: str
    seq: int
    session_id: str
    page_session_id: str
    visitor_id: str
    url: str
    received_at: int  # ms, collector clock
    first_ts: int  # rrweb timestamps of the first and last event (ms, recorder clock)
    last_ts: int
    event_count: int
    viewport_width: int | None = None  # from a Meta event in the chunk, if any
    viewport_height: int | None = None
    raw_bytes: int  # size of the events' JSON array, uncompressed
    body: bytes  # a zstd frame (no dictionary) of that JSON array


class ReplaySegment(msgspec.Struct, kw_only=True):
    """A piece of a compacted replay; ``idx`` orders them. Every segment but possibly the first
    starts with a Meta event followed by a FullSnapshot, so playback can start there."""

    brand_id: int
    replay_id: str
    idx: int
    first_ts: int
    last_ts: int
    event_count: int
    raw_bytes: int
    dict_id: int | None  # the brand dictionary it was compressed with, if any
    body: bytes  # a zstd frame of the segment's JSON array of events, as ``codec`` says
    codec: int = 0  # how body is written (collector/replay/codec.py): 0 is JSON, 1 packed JSON


class Replay(msgspec.Struct, kw_only=True):
    """What an engine knows about a replay, summed over its segments and live chunks."""

    id: str
    brand_id: int
    session_id: str
    page_session_id: str
    visitor_id: str
    url: str  # of the first chunk
    started_at: int  # first_ts of the first event
    ended_at: int  # last_ts of the last event
    viewport_width: int | None = None  # the first known
    viewport_height: int | None = None
    event_count: int = 0
    raw_bytes: int = 0
    stored_bytes: int = 0  # bytes of stored bodies (segments + live chunks), dictionaries excluded
    live_chunks: int = 0  # chunks not yet compacted
    compacted_seq: int = -1  # chunks up to this seq are in the segments
    updated_at: int = 0  # received_at of the newest chunk


class ReplayPart(msgspec.Struct, kw_only=True):
    """A stored body of a replay, in playback order: segments by idx, then live chunks by seq."""

    kind: Literal["segment", "chunk"]
    number: int  # idx of a segment, seq of a chunk
    first_ts: int
    last_ts: int
    dict_id: int | None
    body: bytes
    codec: int = 0  # a segment's codec (chunks are always 0)
    brand_id: int = 0  # whose part it is: a segment compressed against its replay's first one
    replay_id: str = ""  # is read with that one (collector/replay/codec.py)


# short links and conversions ------------------------------------------------------------------


class ShortLink(msgspec.Struct, kw_only=True):
    """A short link: ``{base}/g/{code}`` redirects to ``destination_url``. ``domain`` is the host
    of the brand's short domain when the link was made ("" for the collector's own URL), and
    ``(domain, code)`` is unique. The fields are the ``links`` table's columns."""

    id: str
    brand_id: int
    domain: str
    code: str
    destination_url: str
    base_url: str  # the origin of the short URL (short domain, else the collector's public URL)
    tags: Any = []  # a JSON array of strings (a "json" column on both engines)
    folder: str | None = None
    external_id: str | None = None
    tenant_id: str | None = None
    expires_at: int | None = None  # ms; after it the link answers 404
    created_at: int
    updated_at: int
    deleted: bool = False
    # Dub's groupId and partnerId: set by whoever makes the link, for the events API's filters.
    group_id: str | None = None
    partner_id: str | None = None


class LinkQuery(msgspec.Struct, kw_only=True):
    """Filters of ``GET short-links``; ``None`` means no filter."""

    tag: str | None = None
    folder: str | None = None
    tenant_id: str | None = None
    external_id: str | None = None
    group_id: str | None = None
    partner_id: str | None = None
    search: str | None = None  # part of the code or the destination
    limit: int = 100
    offset: int = 0


ConversionKind = Literal["lead", "sale"]


class Conversion(msgspec.Struct, kw_only=True):
    """A lead or a sale, attributed to a click. ``dedupe_key`` is unique per brand: a lead's is
    its customer and event name, a sale's its invoice id (or its own id without one), so the
    store keeps the first and a retry finds it. The fields are the ``conversions`` table's
    columns. The fields after ``created_at`` are a copy of the attributed click's analytic facts
    (:data:`CLICK_FACTS`, named and typed as on :class:`Click`), made when the conversion is, so
    leads and sales filter and group by the click's dimensions without a join."""

    id: str
    brand_id: int
    kind: str  # lead | sale
    dedupe_key: str
    event_name: str
    click_id: str
    session_id: str
    visitor_id: str
    link_id: str | None = None
    customer_external_id: str
    customer_name: str | None = None
    customer_email: str | None = None
    amount: int | None = None  # minor units of ``currency``
    currency: str | None = None  # ISO 4217, upper case
    payment_processor: str | None = None
    invoice_id: str | None = None
    sale_type: str | None = None  # new | recurring (set by the store, in the write)
    metadata: Any = {}
    created_at: Millis
    trigger: str = "pageview"
    url: str = ""
    country: str | None = None
    region: str | None = None
    city: str | None = None
    continent: str | None = None
    device_type: str | None = None
    browser: str | None = None
    os: str | None = None
    referrer: str | None = None
    referrer_host: str | None = None
    utm_source: str | None = None
    utm_medium: str | None = None
    utm_campaign: str | None = None
    utm_term: str | None = None
    utm_content: str | None = None
    is_bot: bool = False


# The attributed click's facts a conversion carries: fields of both Click and Conversion, of the
# same type and default (tests/test_storage_links.py checks).
CLICK_FACTS: tuple[str, ...] = (
    "trigger",
    "url",
    "country",
    "region",
    "city",
    "continent",
    "device_type",
    "browser",
    "os",
    "referrer",
    "referrer_host",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
    "is_bot",
)


# Dashboard users (issue 12) -----------------------------------------------------------------
Role = Literal["viewer", "admin"]
# The API scope a dashboard user's role gives, on the brands the user was given.
ROLE_SCOPE: dict[str, Scope] = {"viewer": "read", "admin": "admin"}


class User(msgspec.Struct, kw_only=True):
    """A person who signs in to the dashboard. ``email`` is kept as given and unique
    case-insensitively; ``password_hash`` is the self-describing scrypt string of
    ``collector/users/passwords.py``; ``brands`` are the ids of the brands the user sees."""

    id: int
    email: str
    password_hash: str
    role: Role
    brands: list[int]
    created_at: int = 0


def email_key(email: str) -> str:
    """What makes two emails the same user (both engines' unique key): case does not count."""
    return email.strip().lower()


class LoginSession(msgspec.Struct, kw_only=True):
    """A signed-in browser: only the sha256 of its cookie's token is stored, with the CSRF
    token its pages send back on every change."""

    token_hash: str
    user_id: int
    csrf_token: str
    created_at: int
    expires_at: int


class KeyInfo(msgspec.Struct, kw_only=True):
    """An API key as its brand's admins see it: never the secret or its hash."""

    id: str
    brand_id: int
    scope: Scope
    created_at: int
    last_used_at: int | None = None
    label: str = ""


WebhookKind = Literal["click", "pageview", "lead", "sale"]
WEBHOOK_KINDS: tuple[str, ...] = ("click", "pageview", "lead", "sale", "export")


class WebhookDestination(msgspec.Struct, kw_only=True):
    """A clickstream destination (seed 05): where a brand's items are delivered, and how.
    ``header_value`` and ``secret`` are stored but never shown again after creation (the
    secret once, in the creation's answer). ``public_key`` is the body's ``key``. A destination
    is turned off by its admins (``enabled``) or by the dispatcher (a 410, or 5 days of
    failure), which then says why and since when (``disabled_reason``, ``disabled_at``)."""

    id: str
    brand_id: int
    url: str
    method: str = "POST"  # POST | PUT
    header_key: str | None = None
    header_value: str | None = None
    secret: str  # whsec_<base64 of 24 random bytes>
    public_key: str
    events: list[str] = []  # any of WEBHOOK_KINDS
    enabled: bool = True
    disabled_reason: str | None = None
    disabled_at: int | None = None  # ms
    failing_since: int | None = None  # ms of the first failed attempt with no success since
    created_at: int
    updated_at: int


class OutboxItem(msgspec.Struct, kw_only=True):
    """One rendered clickstream item waiting in the outbox. ``item_id`` is the item's ``id``:
    its click's id (``click``, ``pageview``) or its conversion's (``lead``, ``sale``).
    ``dest_id`` "" fans the item out to every destination of the brand that takes ``kind``;
    a replay's items name their one destination. ``(item_id, dest_id)`` is unique: a second
    write of the same item is ignored."""

    item_id: str
    brand_id: int
    kind: str
    created_at: int  # the item's own time (its click's or conversion's), ms
    body: bytes  # the item as JSON
    dest_id: str = ""
    seq: int = 0  # its place in the outbox, given by the store on write


class Delivery(msgspec.Struct, kw_only=True):
    """One attempt to deliver a batch. ``batch_id`` is the ``webhook-id`` header: the same for
    every attempt of the batch. ``status`` is the receiver's HTTP status, ``None`` when no
    answer came (``error`` says why: a timeout, a refused connection, a name that did not
    resolve, an address that is not allowed)."""

    id: str
    brand_id: int
    dest_id: str
    batch_id: str
    attempt: int  # 1 for the first try of a batch
    items: int
    kinds: list[str] = []
    status: int | None = None
    error: str | None = None
    latency_ms: int = 0
    response: str = ""  # the first 512 characters of the answer's body
    attempted_at: int
    next_attempt_at: int | None = None  # when it is tried again; None: delivered or given up
    outcome: str = "failed"  # delivered | retrying | failed (not retried) | gave_up | disabled


class WebhookCursor(msgspec.Struct, kw_only=True):
    """Where one destination's deliveries stand in this process's outbox: every item up to
    ``seq`` is settled. A batch being retried is ``(seq, batch_end]``, tried ``attempt`` times,
    next at ``next_attempt_at``."""

    dest_id: str
    seq: int
    batch_id: str | None = None
    batch_end: int | None = None
    attempt: int = 0
    next_attempt_at: int | None = None


ExportStatus = Literal["queued", "running", "done", "failed"]


class ExportJob(msgspec.Struct, kw_only=True):
    """A CSV export of clicks (issue 14): what to write (``columns``, in order; ``filters``, the
    clicks list's query parameters as text; ``click_codes``, or None for no such limit), and how
    far it got. ``rows`` counts the rows written; ``expires_at`` is when its file (and the job)
    is deleted, set when it finishes."""

    id: str
    brand_id: int
    status: ExportStatus = "queued"
    columns: list[str] = []
    filters: dict[str, str] = {}
    click_codes: list[str] | None = None
    rows: int = 0
    error: str | None = None
    created_at: int
    started_at: int | None = None
    finished_at: int | None = None
    expires_at: int | None = None
