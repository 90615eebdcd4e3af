"""Answered means stored exactly once (issue 17, the inbox): under sustained ingest of page views
and multi-event beacons the collector is killed with ``kill -9`` while enrichment is behind,
then restarted on the same database and inbox; every beacon answered 204 has its click stored
once and each of its events once, and a beacon in flight at the kill is stored whole or not at
all."""

from __future__ import annotations

from collections import Counter

import pytest

from tests.inbox_kill_run import EventKey, KillRun, kill_run

ENGINES = {
    "sqlite": ("sqlite:///{tmp}/ct.db", "ct.db-inbox", ()),
    # the door's process is killed; its enrichment process may still be storing a batch
    "sqlite-enrich-processes": (
        "sqlite:///{tmp}/ct.db",
        "ct.db-inbox",
        ("--enrich-processes", "2"),
    ),
    "chdb": ("chdb:///{tmp}/ch", "ch/inbox", ()),
}


@pytest.mark.parametrize("engine", list(ENGINES))
def test_every_answered_beacon_is_stored_exactly_once_after_a_kill_9(tmp_path, engine):
    database, inbox, flags = ENGINES[engine]
    run = kill_run(database.format(tmp=tmp_path), tmp_path, tmp_path / inbox, *flags)
    print(_summary(run))  # shown with -s: how far behind the enricher was at the kill
    assert len(run.sent.answered_pages) > 50, _summary(run)
    assert _click_problems(run) == [], _summary(run)
    assert _event_problems(run) == [], _summary(run)


def _click_problems(run: KillRun) -> list[str]:
    """Answered pages not stored exactly once; stored clicks more than once or never sent."""
    problems = [
        f"answered page {page} stored {run.stored_clicks[page]} times"
        for page in run.sent.answered_pages
        if run.stored_clicks[page] != 1
    ]
    problems += [
        f"click {page} stored {count} times{'' if page in run.sent.pages else ', never sent'}"
        for page, count in run.stored_clicks.items()
        if count != 1 or page not in run.sent.pages
    ]
    return sorted(set(problems))[:20]


def _event_problems(run: KillRun) -> list[str]:
    """Every answered event stored once; each beacon in doubt stored whole once or not at all;
    nothing else."""
    stored = Counter(run.stored_events)
    problems = [
        f"answered event {key} stored {stored[key]} times"
        for key in run.sent.answered
        if stored[key] != 1
    ]
    expected: Counter[EventKey] = Counter(run.sent.answered)
    for beacon in run.sent.in_doubt:
        counts = {stored[key] for key in beacon}
        if counts not in ({0}, {1}):
            problems.append(f"a beacon in flight at the kill stored in part: {beacon} {counts}")
        if counts == {1}:
            expected.update(beacon)
    problems += [f"event {key} stored {n} times" for key, n in (stored - expected).items()]
    return problems[:20]


def _summary(run: KillRun) -> str:
    return (
        f"answered pages {len(run.sent.answered_pages)}, answered events {len(run.sent.answered)},"
        f" in flight at the kill {len(run.sent.in_doubt)}; pending at the last scrape"
        f" {run.pending_seen}, inbox rows past done after the kill {run.inbox_left}"
        f" (claimed {run.claimed_left}); caught up in {run.seconds_to_catch_up:.1f} s;"
        f" stored clicks {sum(run.stored_clicks.values())},"
        f" events {sum(run.stored_events.values())}"
    )
