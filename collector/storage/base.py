"""The storage contract: one protocol per domain, and :class:`Store`, which every engine
implements, composing them.

Each domain protocol matches the module of the same name in each engine package
(``sqlite/brands.py`` and ``clickhouse/brands.py`` implement :class:`BrandStore`, and so on);
a new domain (links, conversions, an outbox) adds a protocol, a module beside them in both
engines, and a base of :class:`Store`. The core domains' protocols are here; the reporting
reads are in ``reads.py`` and the outbound side (webhooks, exports) in ``outbound.py``, all
exported here. The entities live in ``model.py`` and are exported here too. SQL of any engine
stays inside its own package.
"""

from __future__ import annotations

from typing import Any, Protocol

from .deletion import DeletionStore
from .inbox import InboxBatch, InboxMarks
from .model import (
    SCOPE_RANK,
    SORT_COLUMNS,
    ApiKey,
    Brand,
    BrandSettings,
    Click,
    ClickQuery,
    Conversion,
    Delivery,
    Domain,
    Event,
    ExportJob,
    ExternalAssets,
    IpMode,
    KeyInfo,
    LinkQuery,
    LoginSession,
    OutboxItem,
    Replay,
    ReplayChunk,
    ReplayPart,
    ReplaySegment,
    Role,
    Scope,
    ShortLink,
    SortColumn,
    User,
    WebhookCursor,
    WebhookDestination,
)
from .outbound import ExportStore, WebhookStore
from .reads import (
    AnalyticsStore,
    ExplorerStore,
    HeatmapStore,
    PageScope,
    SessionStore,
    StreamStore,
)

__all__ = [
    "SCOPE_RANK",
    "SORT_COLUMNS",
    "AnalyticsStore",
    "ApiKey",
    "Brand",
    "BrandSettings",
    "BrandStore",
    "Click",
    "ClickQuery",
    "ClickStore",
    "Conversion",
    "ConversionStore",
    "Delivery",
    "Domain",
    "Event",
    "ExplorerStore",
    "ExportJob",
    "ExportStore",
    "ExternalAssets",
    "HeatmapStore",
    "InboxBatch",
    "InboxMarks",
    "IpMode",
    "KeyInfo",
    "Lifecycle",
    "LinkQuery",
    "LinkStore",
    "LoginSession",
    "OutboxItem",
    "PageScope",
    "Replay",
    "ReplayChunk",
    "ReplayPart",
    "ReplaySegment",
    "ReplayStore",
    "Role",
    "Scope",
    "SecretStore",
    "SessionStore",
    "ShortLink",
    "SortColumn",
    "Store",
    "User",
    "UserStore",
    "WebhookCursor",
    "WebhookDestination",
    "WebhookStore",
]


class Lifecycle(Protocol):
    """Opening, migrating and closing an engine (``connection.py`` of each engine)."""

    url: str
    # True when a keyed read (brand, domain, last session) is a local call of microseconds, so
    # the ingest path may run it inline instead of hopping to a thread.
    local_reads: bool

    def migrate(self) -> None:
        """Create or upgrade the schema (idempotent)."""

    def schema_version(self) -> int:
        """How many migrations the database has applied."""

    def close(self) -> None: ...


class BrandStore(Protocol):
    """Brands, their API keys and their domains (``brands.py`` of each engine)."""

    def create_brand(
        self, name: str, site_key: str, domains: list[str], settings: BrandSettings, now: int
    ) -> Brand:
        """A new brand; ValueError when the site key is taken."""

    def get_brand(self, brand_id: int) -> Brand | None: ...

    def brand_by_site_key(self, site_key: str) -> Brand | None: ...

    def list_brands(self) -> list[Brand]: ...

    def update_brand(self, brand: Brand) -> None:
        """Replace name, domains and settings of an existing brand (KeyError if unknown)."""

    def add_api_key(self, key: ApiKey) -> None:
        """Store a key; ValueError when its id is taken."""

    def api_key_by_id(self, key_id: str) -> ApiKey | None: ...

    def ensure_domain(self, brand_id: int, domain: str) -> int:
        """The id of ``domain`` (a lower-case host name) for the brand, creating it if new."""

    def domains_by_id(self, brand_id: int, ids: list[int]) -> dict[int, str]: ...


class SecretStore(Protocol):
    """Database-wide secrets (``brands.py`` of each engine)."""

    def secret(self, name: str) -> bytes:
        """A 32-byte random secret kept in the database (created on first use, the same for
        every process on the database afterwards). Used to sign share links."""


class ClickStore(Protocol):
    """Clicks, their events and sessions: ingest and queries (``clicks.py`` of each engine)."""

    def write_batch(
        self,
        clicks: list[Click],
        events: list[Event],
        chunks: list[ReplayChunk] | None = None,
        conversions: list[Conversion] | None = None,
        outbox: list[OutboxItem] | None = None,
        inbox_batch: InboxBatch | None = None,
        event_rows: list[tuple[Any, ...]] | None = None,
    ) -> None:
        """Store all of it durably, or nothing (one transaction). ``inbox_batch`` names the
        inbox rows these were enriched from (``storage/inbox.py``): written again, they add
        nothing. ``event_rows``, when given, are the rows of ``events``
        (``EVENT_ROWS.row``, storage/rows.py) built already: the enricher builds them between
        two turns of the event loop, so that the writer's thread needs the GIL for little more
        than the database's calls, which let go of it. ``outbox`` holds the
        clickstream items rendered from these clicks and conversions: an item is written only
        when its source is (a click or conversion ignored as a repeat, below, writes no item),
        in the same commit (SQLite) or, on ClickHouse, into the collector's local outbox file
        right after the rows, before this returns (webhooks.py). A click whose id is already
        stored is ignored (not an error); so is a replay chunk whose (brand_id, replay_id, seq)
        is already stored or whose seq is at or below the replay's compacted_seq, and a
        conversion whose (brand_id, dedupe_key) is stored (the first one stays). A sale's
        ``sale_type`` is set here: ``new`` for the customer's first stored sale, else
        ``recurring``."""

    def last_session(self, brand_id: int, visitor_id: str) -> tuple[str, int] | None:
        """The newest (session_id, last activity ms) of a visitor, if any."""

    def list_clicks(self, brand_id: int, query: ClickQuery) -> tuple[int, list[Click]]:
        """(total matching, one page of clicks). With ``click_or_session`` set, one row per
        session (the session's first matching click) and ``total`` counts sessions."""

    def get_click(self, brand_id: int, click_id: str) -> Click | None: ...

    def clicks_by_id(self, brand_id: int, click_ids: list[str]) -> dict[str, Click]:
        """The brand's clicks with these ids (the clicks of a page of conversions)."""

    def identified_clicks(self, brand_id: int, identify_data: str, limit: int) -> list[str]:
        """Ids of the newest clicks (at most ``limit``) identified as an external id: stored
        with it (``external_id``), or given it later by an ``identify`` event whose ``data`` is
        the JSON text ``identify_data`` (``{"external_id": ...}``, see ingest/identity.py)."""

    def events_for_clicks(self, brand_id: int, click_ids: list[str]) -> list[Event]:
        """Events of those clicks ordered by (timestamp, seq)."""

    def session_clicks(self, brand_id: int, session_id: str) -> list[Click]:
        """Clicks of a session ordered by created_at."""

    def session_events(self, brand_id: int, session_id: str) -> list[Event]:
        """Events of a session ordered by (timestamp, seq)."""


class LinkStore(Protocol):
    """Short links and the codes nobody answers (``links.py`` of each engine)."""

    def add_link(self, link: ShortLink, *, unique_everywhere: bool) -> bool:
        """Store a new link; False (nothing stored) when its (domain, code) is taken, or with
        ``unique_everywhere`` when any link of any domain has its code. Deleted links keep
        their code."""

    def get_link(self, brand_id: int, link_id: str) -> ShortLink | None:
        """A link of the brand that is not deleted."""

    def links_by_code(self, code: str) -> list[ShortLink]:
        """Every link with this code, of any brand and domain, deleted ones included."""

    def list_links(self, brand_id: int, query: LinkQuery) -> tuple[int, list[ShortLink]]:
        """(total matching, one page), newest first; deleted links are left out."""

    def save_link(self, link: ShortLink) -> None:
        """Replace a stored link (same id) by this version: an update, or a delete (with
        ``deleted`` set)."""

    def links_by_id(self, brand_id: int, link_ids: list[str]) -> dict[str, ShortLink]:
        """The brand's links with these ids, deleted ones included (events outlive them)."""

    def link_clicks(self, brand_id: int, link_ids: list[str]) -> dict[str, tuple[int, int]]:
        """link id -> (clicks, of which QR scans) made through the link itself."""

    def count_link_misses(self, misses: dict[tuple[int, str], int], now: int) -> None:
        """Add requests for codes no link answered, by (brand id or 0, code)."""

    def link_misses(self, brand_id: int, limit: int) -> list[tuple[str, int, int]]:
        """(code, requests, last request ms) of the brand's unanswered codes, most requested
        first."""


class ConversionStore(Protocol):
    """Leads and sales (``conversions.py`` of each engine); written by ``write_batch``."""

    def conversion_by_key(self, brand_id: int, dedupe_key: str) -> Conversion | None:
        """The conversion stored first under this key."""

    def first_lead(self, brand_id: int, customer_external_id: str) -> Conversion | None:
        """The customer's first lead: where its sales are attributed."""

    def session_conversions(self, brand_id: int, session_id: str) -> list[Conversion]:
        """The session's leads and sales by created_at (each dedupe key once)."""


class ReplayStore(Protocol):
    """Replays: chunks, compacted segments, dictionaries, asset links (``replays.py`` of each
    engine). Chunks are written by :meth:`ClickStore.write_batch`."""

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
        """The brand's most recently updated replays, newest first (compaction trains the
        brand's dictionary on them)."""

    def count_replays(self, brand_id: int, before: int | None = None) -> int:
        """How many replays the brand has (only those updated before ``before`` ms, if
        given)."""

    def dictionary_created_at(self, brand_id: int, dict_id: int) -> int | None:
        """When the brand's dictionary was stored (ms), if it exists."""

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


class UserStore(Protocol):
    """Dashboard users, their sign-in sessions, and API keys as their admins manage them
    (``users.py`` of each engine)."""

    def create_user(
        self, email: str, password_hash: str, role: Role, brands: list[int], now: int
    ) -> User:
        """A new user; ValueError when the email is taken (compared case-insensitively)."""

    def user_by_email(self, email: str) -> User | None:
        """The user of ``email``, compared case-insensitively."""

    def get_user(self, user_id: int) -> User | None: ...

    def list_users(self) -> list[User]:
        """Every user, by id."""

    def add_login_session(self, session: LoginSession) -> None: ...

    def login_session(self, token_hash: str) -> LoginSession | None:
        """The session of a token's hash, expired or not (the caller checks ``expires_at``)."""

    def delete_login_session(self, token_hash: str) -> None:
        """Sign-out: the session no longer exists (nothing happens for an unknown hash)."""

    def delete_expired_login_sessions(self, now: int) -> None: ...

    def api_keys_of_brand(self, brand_id: int) -> list[KeyInfo]:
        """The brand's keys (revoked ones are gone), oldest first, with their last use."""

    def revoke_api_key(self, brand_id: int, key_id: str) -> bool:
        """Delete the brand's key (False when the brand has no such key)."""

    def touch_api_key(self, key_id: str, now: int) -> None:
        """Record that the key was used at ``now`` (ms)."""


class Store(
    Lifecycle,
    BrandStore,
    SecretStore,
    ClickStore,
    LinkStore,
    ConversionStore,
    AnalyticsStore,
    ReplayStore,
    SessionStore,
    UserStore,
    WebhookStore,
    ExportStore,
    ExplorerStore,
    StreamStore,
    HeatmapStore,
    DeletionStore,
    InboxMarks,
    Protocol,
):
    """What every storage engine provides. Methods are synchronous; the app calls them from a
    worker thread. Implementations must be safe to call from several threads."""
