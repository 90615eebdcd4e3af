"""The demo brand's sample data: filled once, in the background, while the collector serves.

``clicktrail demo`` gives the app a :class:`SampleData`; once the runtime has started it plans
30 days of traffic (:mod:`collector.demo.plan`) and sends it through the ingest path
(:mod:`collector.demo.drive`) in waves of concurrent visits, printing its progress and keeping
it for ``GET /demo/status``.

Fresh, not aged out: each demo start tops the data up to now. An empty brand gets ``days`` of
traffic; a brand whose newest click is more than a day old gets the days since then (at most
``days``), at the same rate (``visits`` per ``days``), drawn from a seed of its own; a brand with
a click of the last day is left as it is ("skipped"). Stored data is never rewritten (shifting
times would rewrite every table, and ClickHouse sorts by them): the last ``days`` stay full, and
what is older ages out with the brand's ``retention_days`` like any brand's data
(``collector/retention/``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TextIO

from collector.demo.drive import Driver
from collector.demo.plan import DAY_MS, Plan, Visit, make_plan
from collector.storage.base import Store
from collector.storage.model import ClickQuery

if TYPE_CHECKING:
    from collector.runtime import Runtime

log = logging.getLogger("clicktrail.demo")

DAYS = 30
VISITS = 3_000
SEED = 12
WAVE = 48  # visits in flight at once: their commits are grouped
ENRICHED_WAIT_S = 300.0  # the longest the fill waits for its last visits to be enriched
START_MARGIN_MS = 3_600_000  # the oldest sample visit is this much younger than `days` ...
END_MARGIN_MS = 10 * 60_000  # ... and the range ends this long before the start


def newest_click(store: Store, brand_id: int) -> int | None:
    """When the brand's newest click was made (ms), None without clicks."""
    _, clicks = store.list_clicks(brand_id, ClickQuery(limit=1))
    return clicks[0].created_at if clicks else None


def top_up_range(newest: int | None, now_ms: int, days: int) -> tuple[int, int] | None:
    """The range (start, end) of sample traffic to add at ``now_ms``, None when the brand has a
    click of the last day: ``days`` up to now, or the time since the newest click if shorter."""
    if newest is not None and now_ms - newest < DAY_MS:
        return None
    start = now_ms - days * DAY_MS + START_MARGIN_MS
    if newest is not None:
        start = max(start, newest + START_MARGIN_MS)
    return start, now_ms - END_MARGIN_MS


def waves(visits: list[Visit], size: int) -> list[list[Visit]]:
    """The visits in time order, cut into groups of at most ``size`` with no visitor twice in
    a group (a visitor's visits must go one after the other)."""
    groups: list[list[Visit]] = []
    current: list[Visit] = []
    visitors: set[str] = set()
    for visit in visits:
        if len(current) >= size or visit.visitor.id in visitors:
            groups.append(current)
            current, visitors = [], set()
        current.append(visit)
        visitors.add(visit.visitor.id)
    if current:
        groups.append(current)
    return groups


@dataclass
class SampleStatus:
    done: int = 0
    total: int = 0
    state: str = "waiting"  # waiting, filling, done, skipped (filled before), failed


class SampleData:
    """Fills the demo brand once: ``visits`` visits over the last ``days`` days from ``seed``."""

    def __init__(
        self,
        brand_id: int,
        base_url: str,
        *,
        visits: int = VISITS,
        days: int = DAYS,
        seed: int = SEED,
        out: TextIO | None = sys.stdout,
        clock: Callable[[], int] = lambda: time.time_ns() // 1_000_000,
    ) -> None:
        self.brand_id = brand_id
        self.base_url = base_url
        self.visits, self.days, self.seed = visits, days, seed
        self.out = out
        self.clock = clock
        self.status = SampleStatus(total=visits)
        self.seconds: float | None = None  # how long the filling took
        self.planned: Plan | None = None  # what was sent

    def plan(self, now_ms: int, newest: int | None = None) -> Plan | None:
        """The traffic to add at ``now_ms`` when the brand's newest click is ``newest``
        (module docstring); None when there is nothing to add."""
        span = top_up_range(newest, now_ms, self.days)
        if span is None:
            return None
        start, end = span
        if newest is None:
            return make_plan(self.seed, start, end, self.visits)
        visits = max(1, round(self.visits * (end - start) / (self.days * DAY_MS)))
        return make_plan(self.seed + start // DAY_MS, start, end, visits)

    async def fill(self, runtime: Runtime) -> None:
        """Plan and send the sample traffic that brings the brand's data up to now."""
        now = self.clock()
        store = runtime.store
        newest = await asyncio.to_thread(newest_click, store, self.brand_id)
        plan = self.plan(now, newest)
        if plan is None:
            self.status.state = "skipped"
            self.status.done = self.status.total
            return
        self.status.total = len(plan.visits)
        began = time.monotonic()
        brand = await asyncio.to_thread(store.get_brand, self.brand_id)
        if brand is None:
            raise LookupError(f"no brand {self.brand_id}")
        self.planned = plan
        driver = Driver(runtime, brand, self.base_url, plan.start)
        await asyncio.to_thread(driver.create_links, plan.start)
        self.status.state = "filling"
        self._say(0)
        shown = 0
        for wave in waves(plan.visits, WAVE):
            await asyncio.gather(*(driver.visit(visit) for visit in wave))
            self.status.done += len(wave)
            percent = self.status.done * 100 // self.status.total
            if percent >= shown + 10:
                shown = percent - percent % 10
                self._say(shown)
        # Done once it can be read: every visit enriched (chDB's enricher can lag the fill).
        await runtime.enricher.settled(timeout=ENRICHED_WAIT_S)
        self.seconds = time.monotonic() - began
        self.status.state = "done"
        self._print(f"sample data: done, {self.status.done:,} visits in {self.seconds:.1f} s")

    def _say(self, percent: int) -> None:
        status = self.status
        self._print(f"sample data: {percent}% ({status.done:,} of {status.total:,} visits)")

    def _print(self, line: str) -> None:
        if self.out is not None:
            print(f"  {line}", file=self.out, flush=True)

    async def _fill_logged(self, runtime: Runtime) -> None:
        try:
            await self.fill(runtime)
        except asyncio.CancelledError:
            raise
        except Exception:
            self.status.state = "failed"
            log.exception("the sample data could not be filled")

    @contextlib.asynccontextmanager
    async def running(self, runtime: Runtime) -> AsyncIterator[None]:
        """Fill in the background while the block runs; stopped (cancelled) when it ends."""
        task = asyncio.get_running_loop().create_task(self._fill_logged(runtime))
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
