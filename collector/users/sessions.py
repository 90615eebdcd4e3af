"""Sign-in sessions of the dashboard.

Signing in makes a random token (256 bits) for the ``ct_session`` cookie and a CSRF token the
pages send back on every change; the store keeps only the token's sha256, so a copy of the
database signs nobody in. A session lasts :data:`SESSION_DAYS` days; signing out deletes it.

:class:`LoginSessions` remembers look-ups for :data:`CACHE_SECONDS`, as the API keys' checker
does, so the brand API's calls from the dashboard do not each read the store; signing out
forgets the session in this process at once (another process on the same database sees the
sign-out within the cache time).
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from dataclasses import dataclass

from collector.storage.base import LoginSession, Store, User

SESSION_COOKIE = "ct_session"
SESSION_DAYS = 14
SESSION_MS = SESSION_DAYS * 24 * 3600 * 1000
CACHE_SECONDS = 30.0
_CACHE_LIMIT = 10_000


def token_hash(token: str) -> str:
    """What the store keeps of a session token (256 random bits: a fast hash is enough)."""
    return hashlib.sha256(token.encode()).hexdigest()


def now_ms() -> int:
    return time.time_ns() // 1_000_000


@dataclass(frozen=True)
class SignedIn:
    """A live session and its user."""

    session: LoginSession
    user: User


class LoginSessions:
    """Starts, finds and ends sign-in sessions (blocking: store calls)."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._cache: dict[str, tuple[float, SignedIn | None]] = {}
        # A look-up that read a session before a sign-out deleted it must not cache it after
        # the sign-out forgot it: loading-and-caching and deleting-and-forgetting take turns.
        self._lock = threading.Lock()

    def start(self, user: User) -> tuple[str, LoginSession]:
        """A new session of ``user``: (the cookie's token, the stored session)."""
        now = now_ms()
        token = secrets.token_urlsafe(32)
        session = LoginSession(
            token_hash=token_hash(token),
            user_id=user.id,
            csrf_token=secrets.token_urlsafe(24),
            created_at=now,
            expires_at=now + SESSION_MS,
        )
        self._store.delete_expired_login_sessions(now)
        self._store.add_login_session(session)
        return token, session

    def find(self, token: str | None) -> SignedIn | None:
        """The live session of a cookie's token and its user, or None."""
        if not token or len(token) > 200:
            return None
        key = token_hash(token)
        found = self._cached(key)
        if found is not None and found.session.expires_at <= now_ms():
            return None
        return found

    def _cached(self, key: str) -> SignedIn | None:
        now = time.monotonic()
        cached = self._cache.get(key)
        if cached and now - cached[0] < CACHE_SECONDS:
            return cached[1]
        with self._lock:
            found = self._load(key)
            if len(self._cache) > _CACHE_LIMIT:
                self._cache.clear()
            self._cache[key] = (now, found)
        return found

    def _load(self, key: str) -> SignedIn | None:
        session = self._store.login_session(key)
        if session is None:
            return None
        user = self._store.get_user(session.user_id)
        return SignedIn(session, user) if user is not None else None

    def end(self, token: str) -> None:
        """Sign-out: the session is deleted and forgotten."""
        key = token_hash(token)
        with self._lock:
            self._store.delete_login_session(key)
            self._cache.pop(key, None)
