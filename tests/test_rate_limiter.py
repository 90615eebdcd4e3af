"""The token bucket behind the rate limits: a burst, then the steady rate; keys apart; a bounded
table; the wait it reports."""

from __future__ import annotations

from collector.ratelimit.limiter import RateLimiter, retry_after


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_is_allowed_then_requests_wait_for_the_steady_rate():
    clock = Clock()
    limiter = RateLimiter(clock=clock)
    allowed = [limiter.check("ip", per_minute=60, burst=5) == 0 for _ in range(8)]
    assert allowed == [True] * 5 + [False] * 3
    clock.now += 1.0  # 60 a minute: one more a second
    assert limiter.check("ip", 60, 5) == 0
    assert limiter.check("ip", 60, 5) > 0


def test_a_refused_request_reports_how_long_to_wait_and_costs_nothing():
    clock = Clock()
    limiter = RateLimiter(clock=clock)
    for _ in range(3):
        assert limiter.check("k", per_minute=6, burst=3) == 0
    wait = limiter.check("k", 6, 3)
    assert 9.9 < wait <= 10.0  # one request every 10 s
    assert limiter.check("k", 6, 3) == wait  # refusing did not push the next slot back
    clock.now += wait
    assert limiter.check("k", 6, 3) == 0
    assert retry_after(wait) == "10" and retry_after(0.01) == "1"


def test_keys_have_their_own_buckets():
    limiter = RateLimiter(clock=Clock())
    for _ in range(2):
        assert limiter.check(("brand", 1), 60, 2) == 0
    assert limiter.check(("brand", 1), 60, 2) > 0
    assert limiter.check(("brand", 2), 60, 2) == 0


def test_no_budget_means_no_limit():
    limiter = RateLimiter(clock=Clock())
    assert all(limiter.check("x", 0, 1) == 0 for _ in range(1000))
    assert len(limiter) == 0


def test_the_table_forgets_the_least_recently_seen_key_past_its_bound():
    limiter = RateLimiter(max_keys=3, clock=Clock())
    for key in ("a", "b", "c"):
        limiter.check(key, 60, 1)
    limiter.check("a", 60, 1)  # refused: a is still the most recent
    limiter.check("d", 60, 1)  # b, the least recently seen, goes
    assert len(limiter) == 3
    assert limiter.check("b", 60, 1) == 0  # a full bucket again
