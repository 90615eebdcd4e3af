"""The purger: each brand's data older than its ``retention_days`` is deleted, on a timer.

One pass (:func:`purge_once`) reads every brand's ``retention_days`` and asks the engine
(``storage/sqlite/purge.py`` or ``storage/clickhouse/purge.py``) to delete the brand's clicks,
events, conversions and replays (summary, chunks, segments, asset links) older than
``now - retention_days``; then the replay dictionaries no segment names any more, then the stored
asset files no replay links (``assets.py``). A pass is idempotent: a second one at the same
``now`` deletes nothing. :class:`Purger` runs a pass every ``purge_interval_seconds`` (an hour)
in a thread of its own, as a service of the runtime; ``clicktrail purge`` runs one pass. The
clock is injectable so tests move time forward.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Protocol

from collector.periodic import PeriodicService
from collector.replay.assets import AssetStore
from collector.retention.assets import sweep_assets
from collector.storage.base import Store

log = logging.getLogger(__name__)

DAY_MS = 86_400_000
FIRST_PASS_S = 60.0


class PurgeEngine(Protocol):
    """What an engine gives retention (``storage/<engine>/purge.py``)."""

    def purge_rows(self, cutoffs: Mapping[int, int]) -> dict[str, int]:
        """Delete each brand's (key) clicks, events, conversions and replays older than its
        cutoff (value, ms, exclusive); how many of each went, by table."""

    def purge_dictionaries(self, brand_ids: Iterable[int]) -> int:
        """Delete the brands' replay dictionaries no segment uses (a brand's newest stays while
        the brand has any replay); how many went."""

    def asset_hashes_in_use(self) -> set[str]:
        """The sha256 of every stored asset some replay links."""


def purge_engine(store: Store, stopping: Callable[[], bool] = lambda: False) -> PurgeEngine:
    """The retention side of ``store``'s engine; ``stopping`` is asked between batches (true:
    the pass ends early, the next one goes on)."""
    from collector.storage.sqlite.connection import SQLiteBase

    if isinstance(store, SQLiteBase):
        from collector.storage.sqlite.purge import SQLitePurge

        return SQLitePurge(store, stopping=stopping)
    from collector.storage.clickhouse.connection import ClickHouseBase

    if isinstance(store, ClickHouseBase):
        from collector.storage.clickhouse.purge import ClickHousePurge

        return ClickHousePurge(store, stopping=stopping)
    raise TypeError(f"no retention for a {type(store).__name__}")


def cutoffs(store: Store, now: int) -> dict[int, int]:
    """Each brand's cutoff: data created before it is past the brand's retention."""
    return {b.id: now - b.settings.retention_days * DAY_MS for b in store.list_brands()}


def purge_once(
    store: Store,
    assets: AssetStore | None,
    now: int,
    stopping: Callable[[], bool] = lambda: False,
) -> dict[str, int]:
    """One pass at ``now`` (ms); how much of each kind was deleted."""
    engine = purge_engine(store, stopping)
    by_brand = cutoffs(store, now)
    report = engine.purge_rows(by_brand)
    report["replay_dicts"] = report["assets"] = 0
    if stopping():
        return report
    report["replay_dicts"] = engine.purge_dictionaries(by_brand)
    if assets is not None:
        report["assets"] = sweep_assets(assets, engine.asset_hashes_in_use(), now)
    return report


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


class Purger(PeriodicService):
    """Runs :func:`purge_once` every ``interval_s`` seconds in a daemon thread; the first pass
    :data:`FIRST_PASS_S` after the start (or one interval, if shorter), so that starting stays
    quick and a collector restarted more often than the interval still purges."""

    def __init__(
        self,
        store: Store,
        assets: AssetStore | None,
        interval_s: float = 3600.0,
        clock: Callable[[], int] = _now_ms,
    ) -> None:
        super().__init__("retention-purger", interval_s, min(FIRST_PASS_S, interval_s))
        self.store = store
        self.assets = assets
        self.clock = clock

    def run_once(self) -> dict[str, int] | None:
        """One pass; None when it failed (logged, never raised)."""
        try:
            report = purge_once(self.store, self.assets, self.clock(), self.stopping)
        except Exception:
            log.exception("retention purge failed")
            return None
        if any(report.values()):
            log.info("retention purge: %s", report)
        return report
