"""The demo brand's sample data: filled once, in the background, while the collector serves.

``clicktrail demo`` gives the app a :class:`SampleData`; once the runtime has started it plans
30 days of traffic (:mod:`collector.demo.plan`) and sends it through the ingest path
(:mod:`collector.demo.drive`) in waves of concurrent visits, printing its progress and keeping
it for ``GET /demo/status``. It runs once per database: a brand that already has clicks older
than a day has been filled.
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
START_MARGIN_MS = 3_600_000  # the oldest sample visit is this much younger than `days` ...
END_MARGIN_MS = 10 * 60_000  # ... and the range ends this long before the start


def already_filled(store: Store, brand_id: int, now_ms: int) -> bool:
    """Whether the brand has clicks older than a day: the sample data went in before."""
    total, _ = store.list_clicks(brand_id, ClickQuery(end=now_ms - DAY_MS, limit=1))
    return total > 0


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

    def plan(self, now_ms: int) -> Plan:
        start = now_ms - self.days * DAY_MS + START_MARGIN_MS
        return make_plan(self.seed, start, now_ms - END_MARGIN_MS, self.visits)

    async def fill(self, runtime: Runtime) -> None:
        """Plan and send the sample traffic, unless the brand has it already."""
        now = self.clock()
        store = runtime.store
        if await asyncio.to_thread(already_filled, store, self.brand_id, now):
            self.status.state = "skipped"
            self.status.done = self.status.total
            return
        began = time.monotonic()
        brand = await asyncio.to_thread(store.get_brand, self.brand_id)
        if brand is None:
            raise LookupError(f"no brand {self.brand_id}")
        plan = self.planned = self.plan(now)
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
