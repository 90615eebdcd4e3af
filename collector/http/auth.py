"""API keys: minting, hashing at rest, and checking a request's key and scope; and the
dashboard's session cookie in their place.

A key reads ``ct_<id>_<secret>``. Only sha256(secret) is stored; the id finds the row, and the
hashes are compared in constant time. Secrets carry 192 random bits, so a fast hash is enough.
A key's last use is recorded at most once a minute per key and process, in a worker thread.

Revocation deletes the key's row. On SQLite every request reads the row again (a primary-key
look-up of a few microseconds), so a key revoked by any process sharing the file is refused by
the very next request. On ClickHouse, where a read is a query of milliseconds, a row is kept for
:data:`REMOTE_KEY_CACHE_SECONDS`: a revocation made through this collector (its API, or the
commands through its control socket on chDB, ``collector/control.py``) is at once; one made
through another collector of the same ClickHouse server, within that second.

A request without a key may carry the dashboard's ``ct_session`` cookie instead
(``collector/users/sessions.py``): the user's role gives the scope (viewer: read, admin:
admin) on the brands the user was given only; any other brand is a 404, as for a key of
another brand. A change (any method but GET, HEAD and OPTIONS) made with the cookie must send
the session's CSRF token as ``X-CSRF-Token`` and must not come from another site
(``collector/users/origin.py``), else 403.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import secrets
import time

import msgspec
from starlette.requests import Request

from collector.http.errors import ApiError
from collector.http.params import parse_int
from collector.http.state import runtime
from collector.ratelimit.budgets import Budgets
from collector.replay.share import ShareSigner, looks_like_share_token
from collector.storage.base import SCOPE_RANK, ApiKey, Scope, Store
from collector.storage.model import ROLE_SCOPE
from collector.users.limits import LoginLimiter
from collector.users.origin import cross_site_problem, tokens_match
from collector.users.sessions import SESSION_COOKIE, LoginSessions, SignedIn, now_ms

log = logging.getLogger("clicktrail")

_PREFIX = "ct_"
REMOTE_KEY_CACHE_SECONDS = 1.0
_USE_EVERY_SECONDS = 60.0
_SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
CSRF_HEADER = "X-CSRF-Token"


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def mint_api_key(
    brand_id: int, scope: Scope, now_ms: int, *, label: str = ""
) -> tuple[str, ApiKey]:
    """A new key: (the full key to show once, the record to store)."""
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(24)
    record = ApiKey(
        id=key_id,
        brand_id=brand_id,
        scope=scope,
        key_hash=hash_secret(secret),
        created_at=now_ms,
        label=label,
    )
    return f"{key_prefix(key_id)}{secret}", record


def key_prefix(key_id: str) -> str:
    """How a key starts, all that is shown of it after it was made: ``ct_<id>_``."""
    return f"{_PREFIX}{key_id}_"


# Headers that carry a key, first found wins: the seed's, ours, and Everflow's own (so its
# existing clients work unchanged). ``Authorization: Bearer KEY`` is read after them.
KEY_HEADERS = ("ef-access-key", "x-api-key", "x-eflow-api-key")


def key_from_headers(request: Request) -> str | None:
    headers = request.headers
    key = next((value for name in KEY_HEADERS if (value := headers.get(name))), None)
    if key:
        return key.strip()
    authorization = headers.get("authorization", "")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


class Access(msgspec.Struct):
    """Who may read what: a brand, and for a share link, only one session of it."""

    brand_id: int
    session_id: str | None = None

    def check_session(self, session_id: str) -> None:
        """404 (never reveal it exists) when a share link asks for another session."""
        if self.session_id is not None and session_id != self.session_id:
            raise ApiError(404, "not found (a share link opens only its own session)")


class KeyChecker:
    """Verifies keys against the store (on ClickHouse, remembering rows for a second: see the
    module's docstring). Given a :class:`ShareSigner` (``share``), share-link tokens are
    accepted too, on the routes that ask for it (``shared=True``) and for reading only."""

    def __init__(
        self, store: Store, share: ShareSigner | None = None, budgets: Budgets | None = None
    ) -> None:
        self._store = store
        self.budgets = budgets or Budgets()
        self._cache: dict[str, tuple[float, ApiKey | None]] = {}
        local = getattr(store, "local_reads", False)
        self._cache_seconds = 0.0 if local else REMOTE_KEY_CACHE_SECONDS
        self._used: dict[str, float] = {}
        self.share = share
        self.sessions = LoginSessions(store)
        self.logins = LoginLimiter()

    def forget(self, key_id: str) -> None:
        """Drop a key from the cache (it was revoked: it fails at once in this process)."""
        self._cache.pop(key_id, None)

    def _record(self, key_id: str) -> ApiKey | None:
        if not self._cache_seconds:
            return self._store.api_key_by_id(key_id)
        now = time.monotonic()
        cached = self._cache.get(key_id)
        if cached and now - cached[0] < self._cache_seconds:
            return cached[1]
        record = self._store.api_key_by_id(key_id)
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[key_id] = (now, record)
        return record

    def verify(self, key: str | None) -> ApiKey:
        """The key's record, or a 401 ApiError."""
        if not key:
            raise ApiError(
                401,
                "an API key is required (EF-Access-Key, X-Api-Key, X-Eflow-Api-Key or Bearer)",
            )
        if not key.startswith(_PREFIX) or key.count("_") < 2:
            raise ApiError(401, "the API key is not valid")
        key_id, _, secret = key[len(_PREFIX) :].partition("_")
        record = self._record(key_id)
        if record is None or not hmac.compare_digest(record.key_hash, hash_secret(secret)):
            raise ApiError(401, "the API key is not valid")
        self.budgets.check_api(record.id)  # 429 past --api-rate-limit
        self._note_use(record.id)
        return record

    def _note_use(self, key_id: str) -> None:
        """Record the key's use, at most once a minute, off the request's path."""
        now = time.monotonic()
        if now - self._used.get(key_id, -_USE_EVERY_SECONDS) < _USE_EVERY_SECONDS:
            return
        if len(self._used) > 10_000:
            self._used.clear()
        self._used[key_id] = now
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self._touch(key_id, now_ms())
            return
        loop.run_in_executor(None, self._touch, key_id, now_ms())

    def _touch(self, key_id: str, at_ms: int) -> None:
        try:
            self._store.touch_api_key(key_id, at_ms)
        except Exception:  # a closed store at shutdown, a busy database: only a statistic
            log.warning("could not record the use of API key %s", key_id, exc_info=True)

    def authorize(
        self, request: Request, brand_id: int, scope: Scope, *, shared: bool = False
    ) -> Access:
        """Checks the request's key: 401 without a good key, 404 for another brand's resources
        (never reveal they exist), 403 when the key's scope is too low. A share token passes
        only where ``shared`` is set and ``scope`` is read; the caller then checks the session
        with :meth:`Access.check_session`."""
        credential = key_from_headers(request)
        if credential is None and SESSION_COOKIE in request.cookies:
            return self._signed_in(request, brand_id, scope)
        if credential and looks_like_share_token(credential):
            return self._shared(credential, brand_id, scope, shared)
        record = self.verify(credential)
        if record.brand_id != brand_id:
            raise ApiError(404, f"no brand {brand_id}")
        if SCOPE_RANK[record.scope] < SCOPE_RANK[scope]:
            raise ApiError(403, f"this needs a key with the {scope!r} scope")
        return Access(brand_id)

    def _signed_in(self, request: Request, brand_id: int, scope: Scope) -> Access:
        """Access by the dashboard's session cookie (see the module's docstring)."""
        signed_in = self.sessions.find(request.cookies.get(SESSION_COOKIE))
        if signed_in is None:
            raise ApiError(401, "the session has ended: sign in again at /login")
        user = signed_in.user
        if brand_id not in user.brands:
            raise ApiError(404, f"no brand {brand_id}")
        if SCOPE_RANK[ROLE_SCOPE[user.role]] < SCOPE_RANK[scope]:
            raise ApiError(403, f"this needs the admin role (signed in as a {user.role})")
        if request.method not in _SAFE_METHODS:
            check_change(request, signed_in)
        return Access(brand_id)

    def _shared(self, token: str, brand_id: int, scope: Scope, shared: bool) -> Access:
        if self.share is None:
            raise ApiError(401, "the share link is not valid")
        grant = self.share.verify(token, int(time.time()))
        if grant.b != brand_id:
            raise ApiError(404, f"no brand {brand_id}")
        if not shared or scope != "read":
            raise ApiError(403, "a share link only reads the session it was made for")
        return Access(brand_id, grant.s)


def check_change(request: Request, signed_in: SignedIn) -> None:
    """403 unless a change made with the session cookie comes from the dashboard's own pages
    and sends the session's CSRF token."""
    problem = cross_site_problem(request, runtime(request).settings)
    if problem is not None:
        raise ApiError(403, problem)
    if not tokens_match(request.headers.get(CSRF_HEADER), signed_in.session.csrf_token):
        raise ApiError(
            403,
            f"a change made with the dashboard's session cookie needs the {CSRF_HEADER} header "
            "(the page's csrf-token)",
        )


def path_brand(request: Request) -> int:
    """The brand of the path: ASCII digits within int64, else 404."""
    raw = request.path_params["brand"]
    number = parse_int(raw, minimum=1)
    if number is None:
        raise ApiError(404, f"no brand {raw[:40]!r}")
    return number


def authorize(request: Request, scope: Scope = "read") -> int:
    """The path's brand, once the request's API key has ``scope`` on it (else 401/403/404)."""
    brand = path_brand(request)
    runtime(request).keys.authorize(request, brand, scope)
    return brand


def authorize_shared(request: Request) -> Access:
    """Read access by an API key, or by a share link (then limited to its session)."""
    return runtime(request).keys.authorize(request, path_brand(request), "read", shared=True)
