"""Helpers of the inbox file tests: numbered records with bodies unique to each, a log opened
and filled on a real directory, the directory's files read raw, and a disk that fills up."""

from __future__ import annotations

import asyncio
import errno
import os
from collections.abc import Awaitable
from pathlib import Path

import pytest

from collector.inbox.log import InboxLog, InboxRecord
from collector.inbox.segments import SUFFIX, read_directory
from tests.appkit import CHROME_UA, now_ms

Records = list[tuple[int, bytes]]  # (seq, body) of each record read


def body(n: int) -> bytes:
    """A body unique to record ``n``, none a prefix of another's."""
    return b'{"visitor":"secret-%04d"}' % n


def record(n: int) -> InboxRecord:
    return InboxRecord(now_ms(), "192.0.2.1", CHROME_UA, "en-GB", body(n))


def segment_firsts(path: Path) -> list[int]:
    """The first seq of each segment file in the inbox directory, in order."""
    return sorted(int(p.stem) for p in path.glob("*" + SUFFIX))


def raw_bytes(path: Path) -> bytes:
    """Every file of the inbox directory, byte for byte."""
    return b"".join(p.read_bytes() for p in sorted(path.iterdir()) if p.is_file())


def snapshot(path: Path) -> dict[str, tuple[bytes, int]]:
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(path.iterdir())}


def rows_in(path: Path) -> Records:
    """(seq, body) of the intact records in the directory's files, read without the log."""
    return [(seq, row[4]) for seq, row in read_directory(path)[1]]


def seqs_and_bodies(records: list[InboxRecord]) -> Records:
    return [(r.seq, r.body) for r in records]


def numbered(first: int, last: int) -> Records:
    return [(n, body(n)) for n in range(first, last + 1)]


async def open_log(path: Path, full_sync: bool = False) -> InboxLog:
    log = InboxLog(path, full_sync=full_sync)
    log.start()
    return log


async def append_numbered(log: InboxLog, first: int, last: int) -> None:
    """Append records ``first..last`` one commit each (so small segments rotate on time)."""
    for n in range(first, last + 1):
        await log.append(record(n))


def fill(path: Path, count: int) -> None:
    """A log of ``count`` records, stopped."""

    async def scenario() -> None:
        log = await open_log(path)
        await append_numbered(log, 1, count)
        await log.stop()

    asyncio.run(scenario())


def fill_disk_on(monkeypatch: pytest.MonkeyPatch, path: Path) -> list[str]:
    """os.write on the files of the inbox ``path`` as the disk fills: "roomy" writes all,
    "nearly-full" writes half of one call and turns "full", "full" fails with ENOSPC."""
    real_write, disk, inside = os.write, ["roomy"], str(path.resolve()) + "/"

    def write_until_full(fd: int, data: bytes) -> int:
        if disk[0] == "roomy" or not os.readlink(f"/proc/self/fd/{fd}").startswith(inside):
            return real_write(fd, data)
        if disk[0] == "nearly-full":
            disk[0] = "full"
            return real_write(fd, bytes(data[: len(data) // 2]))
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "write", write_until_full)
    return disk


async def error_of(awaited: Awaitable[None]) -> str:
    """The errno name ``awaited`` failed with ("none" when it did not fail)."""
    try:
        await awaited
    except OSError as exc:
        return errno.errorcode[exc.errno or 0]
    return "none"


def assert_no_done_body_left(path: Path, done: int, count: int) -> None:
    files = raw_bytes(path)
    assert [n for n in range(1, done + 1) if body(n) in files] == []
    assert [n for n in range(done + 1, count + 2) if body(n) not in files] == []
