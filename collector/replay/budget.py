"""A bound on the memory replay ingest holds: decompressed bytes in flight, across requests.

A replay chunk inflates up to ``replay_max_chunk_bytes`` (16 MiB) from a body a few hundred
times smaller, and checking it makes copies. Each request reserves what its chunk will cost
(the size its gzip trailer claims, times :data:`COPIES`) before inflating it; past the budget
it is answered 503 with ``Retry-After`` and nothing is inflated. A chunk bigger than the whole
budget is taken when nothing else is in flight, alone. The compressed body is reserved too while
it arrives (its Content-Length, or the body limit when none is sent), so many slow uploads at
once cannot hold more than the budget either.

Freed memory must go back to the system, or a burst leaves the process at its peak for good:
glibc serves big blocks from per-thread arenas once its dynamic mmap threshold has grown (it
grows to the size of each big block freed), and keeps them. :func:`tune_malloc` pins the
threshold, so blocks of a MiB or more are mapped and unmapped; :class:`InflightBudget` trims
the heap when the last request of a burst is done.
"""

from __future__ import annotations

import ctypes
import logging
import platform
from collections.abc import Iterator
from contextlib import contextmanager

from collector.errors import Busy

log = logging.getLogger("clicktrail")

# What checking a chunk of n bytes may hold at its peak (tracemalloc, 16 MB chunks): inflating
# 2n (zlib's output blocks, then the joined bytes); the event heads up to 3n (tiny events). The
# factor was set when the UTF-8 check built a str of the whole chunk (up to 5n); the checks now
# scan 1 MiB windows, so 6 is a margin, not a measured peak.
COPIES = 6
RETRY_AFTER_S = 5
TRIM_AFTER_BYTES = 8 * 1024 * 1024  # freed since the last trim

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 1024 * 1024
TRIM_THRESHOLD = 8 * 1024 * 1024


def _glibc() -> ctypes.CDLL | None:
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return None
    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:
        return None


_libc = _glibc()


def tune_malloc() -> bool:
    """Pin glibc's mmap and trim thresholds (no-op elsewhere); True when done."""
    if _libc is None:
        return False
    mapped = _libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)
    trimmed = _libc.mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    return bool(mapped and trimmed)


def trim_malloc() -> None:
    """Give the free memory at the top of glibc's heaps back to the system."""
    if _libc is not None:
        _libc.malloc_trim(0)


class InflightBudget:
    """Bytes reserved by the requests in flight. Used from the event loop only."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.reserved = 0
        self.requests = 0
        self._freed_since_trim = 0

    @contextmanager
    def reserve(self, chunk_bytes: int, copies: int = COPIES) -> Iterator[None]:
        """Hold what a chunk of ``chunk_bytes`` costs (``copies`` of it) while the block runs;
        :class:`~collector.errors.Busy` when the budget cannot take it now (the HTTP layer
        answers 503 with ``Retry-After``)."""
        cost = chunk_bytes * copies
        if self.requests and self.reserved + cost > self.limit:
            raise Busy(
                f"the collector is busy with {self.reserved} bytes of replay chunks; send this"
                f" chunk again in {RETRY_AFTER_S} seconds (Retry-After)",
                retry_after=RETRY_AFTER_S,
            )
        self.reserved += cost
        self.requests += 1
        try:
            yield
        finally:
            self._release(cost)

    def _release(self, cost: int) -> None:
        self.reserved -= cost
        self.requests -= 1
        self._freed_since_trim += cost
        if self.requests == 0 and self._freed_since_trim >= TRIM_AFTER_BYTES:
            self._freed_since_trim = 0
            trim_malloc()
