"""The storage contract: the rows Clicktrail keeps and the one interface every engine implements.

The API layer speaks only these types. SQL of any engine stays inside its own module
(``sqlite.py``, ``clickhouse.py``). All times are integers: milliseconds since the Unix epoch, UTC.
"""

from __future__ import annotations

from typing import Any, Literal, Protocol

import msgspec

Scope = Literal["read", "write", "admin"]
SCOPE_RANK: dict[str, int] = {"read": 1, "write": 2, "admin": 3}

IpMode = Literal["full", "truncated", "off"]


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


class Domain(msgspec.Struct, kw_only=True):
    id: int
    brand_id: int
    domain: str


class Click(msgspec.Struct, kw_only=True):
    """One tracked entry into a page (a page load or a short-link redirect). ``id`` is the click
    code."""

    id: str
    brand_id: int
    session_id: str
    visitor_id: str
    created_at: int
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


class Event(msgspec.Struct, kw_only=True):
    """Something that happened in a click's page. ``seq`` orders events that share a timestamp."""

    brand_id: int
    click_id: str
    session_id: str
    type: str
    timestamp: int
    url: str | None = None
    # A dict, or a msgspec.Raw JSON object straight from the beacon: engines store it with
    # msgspec.json.encode (which embeds Raw as is) and always read back a dict.
    data: Any = {}
    seq: int = 0


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
    start: int | None = None  # inclusive, ms
    end: int | None = None  # inclusive, ms
    sort: SortColumn = "created_at"
    direction: Literal["asc", "desc"] = "desc"
    limit: int = 30
    offset: int = 0


class Store(Protocol):
    """What every storage engine provides. Methods are synchronous; the app calls them from a
    worker thread. Implementations must be safe to call from several threads."""

    url: str
    # True when a keyed read (brand, domain, last session) is a local call of microseconds, so
    # the ingest path may run it inline instead of hopping to a thread.
    local_reads: bool

    def migrate(self) -> None:
        """Create or upgrade the schema (idempotent)."""

    def close(self) -> None: ...

    # brands and keys -------------------------------------------------------------
    def create_brand(
        self, name: str, site_key: str, domains: list[str], settings: BrandSettings, now: int
    ) -> Brand: ...

    def get_brand(self, brand_id: int) -> Brand | None: ...

    def brand_by_site_key(self, site_key: str) -> Brand | None: ...

    def list_brands(self) -> list[Brand]: ...

    def update_brand(self, brand: Brand) -> None:
        """Replace name, domains and settings of an existing brand."""

    def add_api_key(self, key: ApiKey) -> None: ...

    def api_key_by_id(self, key_id: str) -> ApiKey | None: ...

    # domains ------------------------------------------------------------------------
    def ensure_domain(self, brand_id: int, domain: str) -> int:
        """The id of ``domain`` (a lower-case host name) for the brand, creating it if new."""

    def domains_by_id(self, brand_id: int, ids: list[int]) -> dict[int, str]: ...

    # ingest ---------------------------------------------------------------------------
    def write_batch(self, clicks: list[Click], events: list[Event]) -> None:
        """Store all of it durably, or nothing (one transaction). A click whose id is already
        stored is ignored (not an error)."""

    def last_session(self, brand_id: int, visitor_id: str) -> tuple[str, int] | None:
        """The newest (session_id, last activity ms) of a visitor, if any."""

    # queries ---------------------------------------------------------------------------
    def list_clicks(self, brand_id: int, query: ClickQuery) -> tuple[int, list[Click]]:
        """(total matching, one page of clicks). With ``click_or_session`` set, one row per
        session (the session's first matching click) and ``total`` counts sessions."""

    def get_click(self, brand_id: int, click_id: str) -> Click | None: ...

    def events_for_clicks(self, brand_id: int, click_ids: list[str]) -> list[Event]:
        """Events of those clicks ordered by (timestamp, seq)."""

    def session_clicks(self, brand_id: int, session_id: str) -> list[Click]:
        """Clicks of a session ordered by created_at."""

    def session_events(self, brand_id: int, session_id: str) -> list[Event]:
        """Events of a session ordered by (timestamp, seq)."""
