"""A token bucket per key, kept as one number (GCRA: the theoretical arrival time of the next
request), in memory of one process.

A budget of ``n`` requests a minute lets a key make up to ``burst`` requests at once and then
``n / 60`` a second. A refused request costs nothing. The table of keys is bounded: past
``max_keys``, the least recently seen key is forgotten (it starts again with a full bucket), so
a flood of distinct addresses costs memory only up to the bound.

Several collectors each keep their own buckets: behind a load balancer the effective budget is
the per-process one times the processes a key's requests reach (docs/DEPLOY.md).
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable

DEFAULT_MAX_KEYS = 200_000


class RateLimiter:
    """``check(key, per_minute, burst)``: 0.0 when allowed (and counted), else the seconds to
    wait before the next request of that key can be allowed."""

    def __init__(
        self, max_keys: int = DEFAULT_MAX_KEYS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._arrivals: OrderedDict[Hashable, float] = OrderedDict()
        self._max_keys = max_keys
        self._clock = clock

    def check(self, key: Hashable, per_minute: int, burst: int) -> float:
        if per_minute <= 0:
            return 0.0  # no limit
        interval = 60.0 / per_minute
        now = self._clock()
        arrivals = self._arrivals
        tat = arrivals.get(key, now)
        if tat < now:
            tat = now
        allowance = (burst - 1) * interval
        if tat - now > allowance:
            arrivals.move_to_end(key)  # a refused key stays remembered, hence refused
            return tat - now - allowance
        arrivals[key] = tat + interval
        arrivals.move_to_end(key)
        if len(arrivals) > self._max_keys:
            arrivals.popitem(last=False)
        return 0.0

    def __len__(self) -> int:
        return len(self._arrivals)


def retry_after(wait_seconds: float) -> str:
    """The ``Retry-After`` header value: whole seconds, at least 1."""
    return str(max(1, math.ceil(wait_seconds)))
