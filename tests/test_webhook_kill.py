"""Answered means delivered (issue 13): under sustained ingest the collector is killed with
``kill -9`` and restarted, and every page view answered 204 before the kill reaches the
receiver at least once. ``bench/webhooks.py --kill-runs 3`` repeats it and reports duplicates."""

from __future__ import annotations

import pytest

from tests.webhook_kill_run import kill_run

ENGINES = {"sqlite": "sqlite:///{tmp}/ct.db", "chdb": "chdb:///{tmp}/ch"}


@pytest.mark.parametrize("engine", list(ENGINES))
def test_every_answered_click_is_delivered_after_a_kill_9(tmp_path, engine):
    run = kill_run(ENGINES[engine].format(tmp=tmp_path), tmp_path)
    assert run.answered > 50, run
    assert run.lost == 0, run
    assert run.delivered == run.answered, run
