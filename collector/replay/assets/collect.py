"""Background collection: the assets of stored replay chunks, fetched in worker threads."""

from __future__ import annotations

import logging
import queue
import re
import threading
import time
from collections.abc import Callable
from typing import NamedTuple
from urllib.parse import urlsplit

from collector.replay.assets.extract import asset_urls
from collector.replay.assets.fetch import AssetFetcher

log = logging.getLogger("clicktrail.assets")

Link = Callable[[int, str, dict[str, str]], None]
Wanted = Callable[[int], bool]


class _Job(NamedTuple):
    brand_id: int
    replay_id: str
    events_json: bytes
    page_url: str


_STOP = object()
# rrweb serialises an event as {"type", "data", "timestamp"}; a FullSnapshot starts like this.
_FULL_SNAPSHOT = re.compile(rb'"type":\s*2,\s*"data":\s*\{\s*"node"')
SNAPSHOT_MEMO_S = 600.0
_MEMO_ENTRIES = 10_000


class _SnapshotMemo:
    """The asset URLs found in a page's full snapshot, per brand and page (URL without query),
    for a few minutes: every visitor of a landing page records the same stylesheets, and a
    snapshot is by far the most expensive chunk to scan (it is decoded whole)."""

    def __init__(self, ttl_s: float = SNAPSHOT_MEMO_S) -> None:
        self.ttl_s = ttl_s
        self._found: dict[tuple[int, str], tuple[float, list[str]]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def key(brand_id: int, page_url: str) -> tuple[int, str]:
        return brand_id, urlsplit(page_url)._replace(query="", fragment="").geturl()

    def get(self, key: tuple[int, str]) -> list[str] | None:
        with self._lock:
            found = self._found.get(key)
        if found is None or time.monotonic() - found[0] > self.ttl_s:
            return None
        return found[1]

    def put(self, key: tuple[int, str], urls: list[str]) -> None:
        with self._lock:
            if len(self._found) >= _MEMO_ENTRIES:
                self._found.clear()
            self._found[key] = (time.monotonic(), urls)


class AssetCollector:
    """Fetches the assets of stored replay chunks in background threads.

    :meth:`submit` never blocks: when the queue is full, or holds ``max_queued_bytes`` of chunks
    already, the chunk's assets are skipped (logged); so are those of a chunk over
    ``max_chunk_bytes`` (scanning decodes it whole). The viewer's proxy serves what was skipped.
    For each chunk, at most ``max_urls`` URLs are fetched and ``link(brand_id, replay_id,
    {url: sha256})`` is called, from a worker thread, with those that were stored. A chunk with
    URLs is fetched only when ``wanted(brand_id)`` (the brand's ``replay_external_assets`` is not
    ``off``).
    """

    def __init__(
        self,
        fetcher: AssetFetcher,
        link: Link,
        workers: int = 2,
        *,
        queue_size: int = 1000,
        max_queued_bytes: int = 32 * 1024 * 1024,
        max_chunk_bytes: int = 8 * 1024 * 1024,
        max_urls: int = 64,
        wanted: Wanted = lambda brand_id: True,
    ) -> None:
        self.fetcher = fetcher
        self.link = link
        self.wanted = wanted
        self.workers = workers
        self.max_urls = max_urls
        self.max_queued_bytes = max_queued_bytes
        self.max_chunk_bytes = max_chunk_bytes
        self._queued_bytes = 0
        self._queue: queue.Queue[_Job | object] = queue.Queue(maxsize=queue_size)
        self._threads: list[threading.Thread] = []
        self._pending = 0
        self._idle = threading.Condition()
        self._stopped = False
        self._snapshots = _SnapshotMemo()

    def start(self) -> None:
        if self._threads:
            return
        self._stopped = False
        for n in range(self.workers):
            thread = threading.Thread(target=self._run, name=f"assets-{n}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 10.0) -> bool:
        """Finish the queued chunks, then end the workers; ``False`` if ``timeout`` ran out."""
        with self._idle:
            self._stopped = True  # no job is queued after this
        deadline = time.monotonic() + timeout
        for _ in self._threads:
            try:  # after the pending jobs: they drain first
                self._queue.put(_STOP, timeout=max(0.0, deadline - time.monotonic()))
            except queue.Full:
                break
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        done = not any(thread.is_alive() for thread in self._threads)
        self._threads = []
        return done

    def submit(self, brand_id: int, replay_id: str, events_json: bytes, page_url: str) -> None:
        """Queue a stored chunk (before :meth:`start` too); returns at once."""
        size = len(events_json)
        with self._idle:
            if self._stopped:
                log.warning("asset collector stopped; assets of replay %s skipped", replay_id)
                return
            if size > self.max_chunk_bytes or self._queued_bytes + size > self.max_queued_bytes:
                log.warning("asset queue holds too much; assets of replay %s skipped", replay_id)
                return
            try:
                self._queue.put_nowait(_Job(brand_id, replay_id, events_json, page_url))
            except queue.Full:
                log.warning("asset queue full; assets of replay %s skipped", replay_id)
                return
            self._pending += 1
            self._queued_bytes += size

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait until every submitted chunk is processed; ``False`` on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def _done(self, job: _Job) -> None:
        with self._idle:
            self._pending -= 1
            self._queued_bytes -= len(job.events_json)
            if self._pending == 0:
                self._idle.notify_all()

    def _run(self) -> None:
        while (job := self._queue.get()) is not _STOP:
            try:
                self._process(job)  # type: ignore[arg-type]
            except Exception:
                log.exception("assets of replay %s failed", getattr(job, "replay_id", "?"))
            finally:
                self._done(job)  # type: ignore[arg-type]

    def _urls(self, job: _Job) -> list[str]:
        """The chunk's asset URLs; a page's full snapshot is scanned once per few minutes."""
        if _FULL_SNAPSHOT.search(job.events_json) is None:
            return asset_urls(job.events_json, job.page_url)
        key = self._snapshots.key(job.brand_id, job.page_url)
        urls = self._snapshots.get(key)
        if urls is None:
            urls = asset_urls(job.events_json, job.page_url)
            self._snapshots.put(key, urls)
        return urls

    def _process(self, job: _Job) -> None:
        if not self.wanted(job.brand_id):
            return
        urls = self._urls(job)
        if not urls:
            return
        if len(urls) > self.max_urls:
            log.info(
                "replay %s: %d asset URLs, only %d fetched", job.replay_id, len(urls), self.max_urls
            )
            urls = urls[: self.max_urls]
        mapping = {url: sha for url in urls if (sha := self.fetcher.fetch(url))}
        if mapping:
            self.link(job.brand_id, job.replay_id, mapping)
