"""A background service that runs one pass every so often in a daemon thread (replay
compaction, the retention purger)."""

from __future__ import annotations

import threading


class PeriodicService:
    """Runs :meth:`run_once` every ``interval_s`` seconds in a daemon thread called ``name``,
    the first time ``first_wait_s`` after :meth:`start` (one interval unless given). A pass that
    can end early asks :meth:`stopping`; :meth:`stop` waits for the pass under way."""

    def __init__(self, name: str, interval_s: float, first_wait_s: float | None = None) -> None:
        self.name = name
        self.interval_s = interval_s
        self.first_wait_s = interval_s if first_wait_s is None else first_wait_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> object:
        raise NotImplementedError

    def stopping(self) -> bool:
        return self._stop.is_set()

    def _run(self) -> None:
        wait = self.first_wait_s
        while not self._stop.wait(wait):
            self.run_once()
            wait = self.interval_s

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
