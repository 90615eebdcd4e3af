"""Session assignment: a visitor's activity with no gap over 30 minutes is one session.

The tracker proposes a session id; the collector accepts it only when it is well formed and
either the visitor's current session or freshly minted (its time part within the last five
minutes). Otherwise the visitor's current session continues if it was active in the last
30 minutes, or a new id is minted. Visitors' current sessions are remembered in memory and read
from the store on a miss, so a restart does not split sessions.

When this process is the only writer (SQLite), memory is complete for every visitor first seen
since it started, so a visitor id minted after that (ids carry their creation time) and not in
memory belongs to a new visitor: no read is needed. That is the first beacon of most landing-page
traffic. An eviction from memory moves that point forward, since an evicted visitor's id was
minted before its eviction.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Literal

from collector.ids import id_time_ms, is_valid_id, new_id

SESSION_TIMEOUT_MS = 30 * 60 * 1000
FRESH_PROPOSAL_MS = 5 * 60 * 1000
CLOCK_SKEW_MS = 60 * 1000

LastSession = Callable[[int, str], "tuple[str, int] | None"]


class SessionAssigner:
    """Chooses the session of each hit and remembers the current session of up to
    ``cache_size`` visitors, least recently active evicted first."""

    def __init__(
        self,
        last_session: LastSession,
        cache_size: int = 200_000,
        sole_writer: bool = False,
        now_ms: int | None = None,
    ) -> None:
        self._last_session = last_session
        self._cache: OrderedDict[tuple[int, str], tuple[str, int]] = OrderedDict()
        self._cache_size = cache_size
        self._sole_writer = sole_writer
        # Every visitor first seen after this time (ms) is in memory (see the module docstring).
        self._complete_since = time.time_ns() // 1_000_000 if now_ms is None else now_ms

    def cached(
        self, brand_id: int, visitor_id: str, now_ms: int
    ) -> tuple[str, int] | Literal[False] | None:
        """The visitor's current (session id, last activity) from memory, ``None`` for a visitor
        known to be new, or ``False`` when the store must be asked."""
        found = self._cache.get((brand_id, visitor_id))
        if found is not None:
            return found
        if self._sole_writer and self._minted_lately(visitor_id, now_ms):
            return None
        return False

    def _minted_lately(self, visitor_id: str, now_ms: int) -> bool:
        if not is_valid_id(visitor_id):
            return False
        minted = id_time_ms(visitor_id)
        return self._complete_since < minted <= now_ms + CLOCK_SKEW_MS

    def stored(self, brand_id: int, visitor_id: str) -> tuple[str, int] | None:
        """The visitor's current session as the store has it (blocking: call from a thread)."""
        return self._last_session(brand_id, visitor_id)

    def assign(
        self,
        brand_id: int,
        visitor_id: str,
        proposed: str | None,
        now_ms: int,
        known: tuple[str, int] | None,
    ) -> str:
        """The session of this hit, given the visitor's ``known`` current session."""
        session_id = self._choose(known, proposed, now_ms)
        self._remember((brand_id, visitor_id), (session_id, now_ms))
        return session_id

    @staticmethod
    def _choose(known: tuple[str, int] | None, proposed: str | None, now_ms: int) -> str:
        if proposed is not None and is_valid_id(proposed):
            if known is not None and known[0] == proposed:
                return proposed
            age = now_ms - id_time_ms(proposed)
            if -CLOCK_SKEW_MS <= age <= FRESH_PROPOSAL_MS:
                return proposed
        if known is not None and now_ms - known[1] <= SESSION_TIMEOUT_MS:
            return known[0]
        return new_id(now_ms)

    def _remember(self, key: tuple[int, str], value: tuple[str, int]) -> None:
        self._cache[key] = value
        self._cache.move_to_end(key)
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
            self._complete_since = max(self._complete_since, value[1])


class CookielessVisitors:
    """Visitor ids for cookieless brands: a keyed hash of (brand, IP, user agent) under a salt
    that is random, held only in memory and replaced every UTC day, so yesterday's ids cannot be
    recomputed or reversed."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._day = -1
        self._salt = b""

    def visitor_id(self, brand_id: int, ip: str | None, user_agent: str | None) -> str:
        day = int(self._clock() // 86400)
        if day != self._day:
            self._day, self._salt = day, os.urandom(32)
        message = f"{brand_id}\n{ip or ''}\n{user_agent or ''}".encode()
        digest = hmac.new(self._salt, message, hashlib.sha256).hexdigest()
        return "h" + digest[:25]
