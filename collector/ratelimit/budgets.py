"""The budgets of ingest (a brand's ``rate_limit_per_ip`` and ``rate_limit_per_site_key``, on
``/collect``, ``/collect/replay`` and ``/g/``) and of the API (``--api-rate-limit`` per key).

A request over budget gets 429 with ``Retry-After`` and the one error shape, before anything of
it is stored. The address is checked first, so one noisy address is refused without spending
the site key's budget that everyone else shares.
"""

from __future__ import annotations

from collector.http.errors import ApiError
from collector.ratelimit.limiter import RateLimiter, retry_after
from collector.storage.base import Brand


def burst_of(per_minute: int) -> int:
    """Requests a key may make at once: ten seconds' worth, at least 10."""
    return max(10, per_minute // 6)


def too_many(whose: str, wait: float) -> ApiError:
    after = retry_after(wait)
    return ApiError(
        429,
        f"too many requests from {whose}: wait {after} s (Retry-After) and send again",
        headers={"Retry-After": after},
    )


class Budgets:
    """One limiter for a collector process's ingest and API budgets."""

    def __init__(self, api_per_minute: int = 0, limiter: RateLimiter | None = None) -> None:
        self.api_per_minute = api_per_minute
        self.limiter = limiter or RateLimiter()

    def check_ingest(self, brand: Brand, ip: str | None) -> None:
        """Raises a 429 :class:`ApiError` when this request is over the brand's budgets."""
        settings = brand.settings
        per_ip = settings.rate_limit_per_ip
        if per_ip and ip is not None:
            wait = self.limiter.check(("ip", brand.id, ip), per_ip, burst_of(per_ip))
            if wait:
                raise too_many("this address", wait)
        per_site = settings.rate_limit_per_site_key
        if per_site:
            wait = self.limiter.check(("site", brand.id), per_site, burst_of(per_site))
            if wait:
                raise too_many("this site key", wait)

    def check_api(self, key_id: str) -> None:
        if self.api_per_minute:
            per_minute = self.api_per_minute
            wait = self.limiter.check(("key", key_id), per_minute, burst_of(per_minute))
            if wait:
                raise too_many("this API key", wait)
