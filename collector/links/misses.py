"""Requests for short codes no link answers (unknown, expired or deleted), counted per code.

A 404 must stay as cheap as a redirect, and anyone can send any code, so misses are added up in
memory and written every few seconds by a background worker, at most :data:`MAX_CODES`
distinct codes per write (the rest of a flood is counted in the log, not stored).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

import anyio

from collector.storage.base import Store

log = logging.getLogger("clicktrail.links")

FLUSH_SECONDS = 5.0
MAX_CODES = 10_000


class MissCounter:
    """Adds up misses by (brand id, or 0 when the code is nobody's, code)."""

    def __init__(self, store: Store, interval_s: float = FLUSH_SECONDS) -> None:
        self._store = store
        self._interval = interval_s
        self._counts: dict[tuple[int, str], int] = {}
        self._dropped = 0
        self._task: asyncio.Task[None] | None = None

    def count(self, brand_id: int, code: str) -> None:
        key = (brand_id, code)
        if key in self._counts:
            self._counts[key] += 1
        elif len(self._counts) < MAX_CODES:
            self._counts[key] = 1
        else:
            self._dropped += 1

    async def flush(self) -> None:
        counts, self._counts = self._counts, {}
        if self._dropped:
            log.warning("%d requests for unknown short codes were not counted", self._dropped)
            self._dropped = 0
        if counts:
            now = time.time_ns() // 1_000_000
            await anyio.to_thread.run_sync(self._store.count_link_misses, counts, now)

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="link-misses")

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                await self.flush()
            except Exception:
                log.exception("counting unknown short codes failed")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.flush()
