"""The export runner: a thread worker of the runtime that writes queued export jobs to files.

- Jobs run oldest first on ``threads`` threads, at most ``per_brand`` of one brand at a time:
  one brand's big exports never hold up every other brand's.
- A job reads its clicks a page at a time by keyset (``Store.export_csv``: ``(created_at, id)``
  after the last row written), each page as CSV lines the store's statement formatted, and
  writes it to a gzip file before reading the next, so memory stays at one page whatever the
  export's size.
- Queued jobs live in the store, so they survive a restart. A job that was running when the
  collector stopped (or died) is queued again at start and written from the start; so is one
  the runner stops in the middle (its part file is removed).
- Finished jobs expire ``ttl_ms`` after they finish: their file and their row are deleted by a
  sweep every ``sweep_s`` seconds.
- ``on_finished`` is called with every job that ends (``done`` or ``failed``): the hook for
  announcing it to the brand's webhooks (``collector/webhooks/announce.py``, the ``export``
  kind).
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import msgspec

from collector.ops import jobs as ops_jobs
from collector.storage.base import ExportJob, Store

from .csvfile import CsvFile
from .service import file_path, job_query

log = logging.getLogger("clicktrail.exports")

PAGE_ROWS = 100_000
PAGE_CELLS = 2_000_000  # a page of many columns has fewer rows: memory follows the cells
PROGRESS_PAGES = 10  # a running job's `rows` is saved every this many pages
OPEN = ["queued", "running"]
ENDED = ["done", "failed"]


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


class Stopped(Exception):
    """The runner is stopping: the job goes back to the queue."""


class ExportRunner:
    """Writes queued export jobs (see the module's docstring)."""

    def __init__(
        self,
        store: Store,
        directory: Path,
        ttl_ms: int,
        *,
        threads: int = 2,
        per_brand: int = 1,
        poll_s: float = 2.0,
        sweep_s: float = 60.0,
        on_finished: Callable[[ExportJob], None] | None = None,
        clock: Callable[[], int] = _now_ms,
    ) -> None:
        self.store = store
        self.directory = directory
        self.ttl_ms = ttl_ms
        self.threads = threads
        self.per_brand = per_brand
        self.poll_s = poll_s
        self.sweep_s = sweep_s
        self.on_finished = on_finished
        self.clock = clock
        self._stop = threading.Event()
        self._wake = threading.Condition()
        self._claim_lock = threading.Lock()
        self._running: Counter[int] = Counter()  # brand -> jobs running in this process
        self._workers: list[threading.Thread] = []
        self._last_sweep = 0.0

    # the runtime's side ----------------------------------------------------------------
    def start(self) -> None:
        if self._workers:
            return
        self._stop.clear()
        self._requeue_interrupted()
        for n in range(self.threads):
            worker = threading.Thread(target=self._work, name=f"export-{n}", daemon=True)
            worker.start()
            self._workers.append(worker)

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        self.wakeup()
        deadline = time.monotonic() + timeout
        for worker in self._workers:
            worker.join(max(0.0, deadline - time.monotonic()))
        self._workers = []

    def wakeup(self) -> None:
        """A job was queued: a waiting thread looks now rather than at its next poll."""
        with self._wake:
            self._wake.notify_all()

    # the threads ----------------------------------------------------------------------
    def _requeue_interrupted(self) -> None:
        for job in self.store.exports_in(["running"]):
            log.info("export %s was interrupted: queued again", job.id)
            self.store.save_export(msgspec.structs.replace(job, status="queued", rows=0))

    def _work(self) -> None:
        while not self._stop.is_set():
            try:
                self._sweep_when_due()
                job = self._claim()
                if job is None:
                    with self._wake:
                        self._wake.wait(self.poll_s)
                    continue
                try:
                    self._run(job)
                finally:
                    with self._claim_lock:
                        self._running[job.brand_id] -= 1
            except Exception:
                log.exception("export runner failed; retrying in %s s", self.poll_s)
                self._stop.wait(self.poll_s)

    def _claim(self) -> ExportJob | None:
        """The oldest queued job whose brand is under its limit, marked running."""
        with self._claim_lock:
            for job in self.store.exports_in(["queued"]):
                if self._running[job.brand_id] >= self.per_brand:
                    continue
                started = msgspec.structs.replace(job, status="running", started_at=self.clock())
                self.store.save_export(started)
                self._running[job.brand_id] += 1
                return started
        return None

    def _run(self, job: ExportJob) -> None:
        path = file_path(self.directory, job)
        # a name of this thread's own: two collectors sharing the directory never mix writes
        part = path.with_name(f"{path.name}.{os.getpid()}-{threading.get_ident()}.part")
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            rows = self._write(job, part)
            part.replace(path)
        except Stopped:
            _discard(part)
            self.store.save_export(msgspec.structs.replace(job, status="queued", rows=0))
            return
        except Exception as error:
            log.exception("export %s failed", job.id)
            _discard(part)
            self._finish(job, "failed", job.rows, f"the export failed: {type(error).__name__}")
            return
        self._finish(job, "done", rows, None)

    def _write(self, job: ExportJob, part: Path) -> int:
        """Every matching click's row written to ``part``; the number of rows."""
        query = job_query(self.store, job)
        names = tuple(job.columns)
        page = max(1_000, min(PAGE_ROWS, PAGE_CELLS // len(names)))
        out = CsvFile(str(part), job.columns)
        written = 0
        after: tuple[int, str] | None = None
        try:
            while True:
                if self._stop.is_set():
                    raise Stopped
                lines, rows, last = self.store.export_csv(job.brand_id, query, names, after, page)
                out.write(lines)
                written += rows
                if rows and written % (page * PROGRESS_PAGES) == 0:
                    self.store.save_export(msgspec.structs.replace(job, rows=written))
                if last is None:
                    break
                after = last
        finally:
            out.close()
        return written

    def _finish(self, job: ExportJob, status: str, rows: int, error: str | None) -> None:
        now = self.clock()
        ended = msgspec.structs.replace(
            job,
            status=status,
            rows=rows,
            error=error,
            finished_at=now,
            expires_at=now + self.ttl_ms,
        )
        self.store.save_export(ended)
        ops_jobs.export_finished(ended)
        if self.on_finished is not None:
            try:
                self.on_finished(ended)
            except Exception:
                log.exception("announcing export %s failed", job.id)

    # expiry ---------------------------------------------------------------------------
    def _sweep_when_due(self) -> None:
        with self._claim_lock:
            if time.monotonic() - self._last_sweep < self.sweep_s:
                return
            self._last_sweep = time.monotonic()
        self.sweep()

    def sweep(self) -> int:
        """Delete the files and rows of ended jobs past their expiry; how many went."""
        now = self.clock()
        gone = 0
        for job in self.store.exports_in(ENDED):
            if job.expires_at is not None and job.expires_at <= now:
                with contextlib.suppress(FileNotFoundError):
                    file_path(self.directory, job).unlink()
                self.store.delete_export(job.brand_id, job.id)
                gone += 1
        return gone


def _discard(part: Path) -> None:
    """Remove a partial file, if it could be made at all (a failed job must still end)."""
    with contextlib.suppress(OSError):
        part.unlink(missing_ok=True)
