"""Repeated wrong passwords: after :data:`PER_EMAIL` failures for one email, or
:data:`PER_ADDRESS` from one client address, within :data:`WINDOW_SECONDS`, sign-in attempts
for it are refused (429 with Retry-After) until the oldest of those failures is older than the
window. Attempts refused meanwhile check no password and count no further. A success clears the
email's failures, not the address's. Kept in memory, per process.
"""

from __future__ import annotations

import math
import time
from collections import deque

PER_EMAIL = 5
PER_ADDRESS = 20
WINDOW_SECONDS = 15 * 60
_MAX_KEYS = 10_000


class LoginLimiter:
    """Counts failed sign-ins per email and per client address in a sliding window."""

    def __init__(
        self,
        per_email: int = PER_EMAIL,
        per_address: int = PER_ADDRESS,
        window_s: float = WINDOW_SECONDS,
    ) -> None:
        self.window_s = window_s
        self._limits = {"email": per_email, "address": per_address}
        self._failures: dict[tuple[str, str], deque[float]] = {}

    def _keys(self, email: str, address: str | None) -> list[tuple[str, str]]:
        keys = [("email", email.strip().lower())]
        if address:
            keys.append(("address", address))
        return keys

    def retry_after(self, email: str, address: str | None) -> int | None:
        """Seconds until sign-in may be tried again, or None when it may be tried now."""
        now = time.monotonic()
        waits = []
        for key in self._keys(email, address):
            failures = self._failures.get(key)
            if failures and len(failures) >= self._limits[key[0]]:
                wait = failures[0] + self.window_s - now
                if wait > 0:
                    waits.append(wait)
        return math.ceil(max(waits)) if waits else None

    def failed(self, email: str, address: str | None) -> None:
        now = time.monotonic()
        if len(self._failures) > _MAX_KEYS:
            self._forget_old(now)
        for key in self._keys(email, address):
            failures = self._failures.setdefault(key, deque(maxlen=self._limits[key[0]]))
            failures.append(now)

    def succeeded(self, email: str) -> None:
        self._failures.pop(("email", email.strip().lower()), None)

    def _forget_old(self, now: float) -> None:
        old = [k for k, v in self._failures.items() if not v or v[-1] + self.window_s < now]
        for key in old:
            del self._failures[key]
        if len(self._failures) > _MAX_KEYS:  # a flood of fresh keys: start over
            self._failures.clear()
