"""Session assignment rules and cookieless visitor ids."""

from __future__ import annotations

from collector.ids import new_id
from collector.ingest.sessions import SESSION_TIMEOUT_MS, CookielessVisitors, SessionAssigner

NOW = 1_750_000_000_000
MINUTE = 60_000


class Reads:
    """Counts the store reads a SessionAssigner makes, answering from a dict."""

    def __init__(self, stored: dict | None = None) -> None:
        self.stored = stored or {}
        self.count = 0

    def __call__(self, brand_id: int, visitor_id: str):
        self.count += 1
        return self.stored.get((brand_id, visitor_id))


def _assign(sessions: SessionAssigner, visitor: str, proposed: str | None, now: int) -> str:
    known = sessions.cached(1, visitor, now)
    if known is False:
        known = sessions.stored(1, visitor)
    return sessions.assign(1, visitor, proposed, now, known)


def test_fresh_proposal_is_accepted_and_continued():
    sessions = SessionAssigner(Reads())
    proposed = new_id(NOW - MINUTE)
    assert _assign(sessions, "v", proposed, NOW) == proposed
    assert _assign(sessions, "v", proposed, NOW + 20 * MINUTE) == proposed


def test_stale_unknown_proposal_is_replaced_by_a_new_session():
    sessions = SessionAssigner(Reads())
    stale = new_id(NOW - 3 * 24 * 60 * MINUTE)
    assigned = _assign(sessions, "v", stale, NOW)
    assert assigned != stale


def test_activity_after_thirty_quiet_minutes_starts_a_new_session():
    sessions = SessionAssigner(Reads())
    first = _assign(sessions, "v", None, NOW)
    assert _assign(sessions, "v", None, NOW + 10 * MINUTE) == first
    later = NOW + 10 * MINUTE + SESSION_TIMEOUT_MS + 1
    assert _assign(sessions, "v", None, later) != first


def test_a_visitor_unknown_to_memory_is_read_from_the_store():
    session = new_id(NOW - 10 * MINUTE)
    reads = Reads({(1, "old-visitor"): (session, NOW - 5 * MINUTE)})
    sessions = SessionAssigner(reads, sole_writer=True, now_ms=NOW - MINUTE)
    assert _assign(sessions, "old-visitor", None, NOW) == session
    assert reads.count == 1


def test_sole_writer_skips_the_read_for_a_visitor_minted_since_start():
    reads = Reads()
    sessions = SessionAssigner(reads, sole_writer=True, now_ms=NOW - MINUTE)
    _assign(sessions, new_id(NOW - 1000), None, NOW)
    assert reads.count == 0
    _assign(sessions, new_id(NOW - 2 * MINUTE), None, NOW)  # minted before start: read
    assert reads.count == 1


def test_after_an_eviction_visitors_minted_before_it_are_read_again():
    reads = Reads()
    sessions = SessionAssigner(reads, cache_size=1, sole_writer=True, now_ms=NOW - MINUTE)
    early = new_id(NOW - 1000)
    _assign(sessions, early, None, NOW)
    _assign(sessions, new_id(NOW), None, NOW + 1000)  # evicts `early`
    _assign(sessions, early, None, NOW + 2000)
    assert reads.count == 1


def test_several_writers_always_ask_the_store():
    reads = Reads()
    sessions = SessionAssigner(reads, sole_writer=False, now_ms=NOW - MINUTE)
    _assign(sessions, new_id(NOW), None, NOW)
    assert reads.count == 1


def test_cookieless_visitor_is_stable_within_a_day_and_unlinkable_across_days():
    clock = [NOW / 1000]
    visitors = CookielessVisitors(clock=lambda: clock[0])
    today = visitors.visitor_id(1, "81.2.69.160", "UA")
    assert visitors.visitor_id(1, "81.2.69.160", "UA") == today
    assert visitors.visitor_id(2, "81.2.69.160", "UA") != today
    clock[0] += 86_400
    assert visitors.visitor_id(1, "81.2.69.160", "UA") != today
