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
    body: bytes  # a zstd frame of the segment's JSON array of events


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


class ReplayStore(Protocol):
    """Replay storage; part of :class:`Store` (every engine implements both)."""

    def replays_for_session(self, brand_id: int, session_id: str) -> list[Replay]:
        """The session's replays ordered by started_at."""

    def get_replay(self, brand_id: int, replay_id: str) -> Replay | None: ...

    def replay_parts(self, brand_id: int, replay_id: str) -> list[ReplayPart]:
        """Segments (by idx), then chunks with seq > compacted_seq (by seq)."""

    def ended_replays(self, idle_since: int, limit: int) -> list[Replay]:
        """Replays of any brand with live chunks, none received at or after ``idle_since`` (ms),
        oldest first."""

    def compact_replay(
        self, brand_id: int, replay_id: str, segments: list[ReplaySegment], upto_seq: int
    ) -> None:
        """Replace the replay's segments and its chunks with seq <= upto_seq by ``segments``.
        Readers never see a half-done state: either the old parts or the new ones. Chunks with a
        higher seq (arrived meanwhile) stay live. A chunk arriving later with seq <= upto_seq is
        ignored by write_batch."""

    def brand_replays(self, brand_id: int, limit: int) -> list[Replay]:
        """The brand's newest replays (by started_at), for training its dictionary."""

    def count_replays(self, brand_id: int, before: int | None = None) -> int:
        """How many replays the brand has (created before ``before`` ms, if given)."""

    def dictionary_created_at(self, brand_id: int, dict_id: int) -> int | None: ...

    def brand_dictionary(self, brand_id: int) -> tuple[int, bytes] | None:
        """The brand's newest replay dictionary: (dict_id, zstd dictionary bytes)."""

    def get_dictionary(self, dict_id: int) -> bytes | None: ...

    def add_dictionary(self, brand_id: int, body: bytes, now: int) -> int:
        """Store a trained dictionary; returns its id (unique across brands)."""

    def link_replay_assets(self, brand_id: int, replay_id: str, links: dict[str, str]) -> None:
        """Remember that the replay's page used these URLs, fetched as these asset hashes
        (sha256 hex). A URL linked again keeps its first hash."""

    def replay_assets(self, brand_id: int, replay_id: str) -> dict[str, str]:
        """url -> sha256 of every asset linked to the replay."""

    def secret(self, name: str) -> bytes:
        """A 32-byte random secret kept in the database (created on first use, the same for
        every process on the database afterwards). Used to sign share links."""


class Store(ReplayStore, Protocol):
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
    def write_batch(
        self, clicks: list[Click], events: list[Event], chunks: list[ReplayChunk] | None = None
    ) -> None:
        """Store all of it durably, or nothing (one transaction). A click whose id is already
        stored is ignored (not an error); so is a replay chunk whose (brand_id, replay_id, seq)
        is already stored or whose seq is at or below the replay's compacted_seq."""

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
