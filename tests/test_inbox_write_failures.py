"""The inbox's files when writes fail: a disk that fills during an append or during a scrub's
copy, and a process killed half-way through that copy. No answered record is lost or renumbered,
and no half record or half copy is left behind."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest

from collector.inbox.segments import SUFFIX
from tests.inbox_files import (
    Records,
    append_numbered,
    assert_no_done_body_left,
    body,
    error_of,
    fill_disk_on,
    numbered,
    open_log,
    raw_bytes,
    record,
    rows_in,
    seqs_and_bodies,
)


def other_files(path: Path) -> list[str]:
    """The inbox directory's files that are not segments."""
    return sorted(p.name for p in path.iterdir() if not p.name.endswith(SUFFIX))


def test_a_failed_write_leaves_no_half_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The disk fills mid-record: the first write() takes half the group, the next fails."""
    path, count = tmp_path / "inbox", 3
    disk = fill_disk_on(monkeypatch, path)

    def log_bytes() -> int:
        return sum(p.stat().st_size for p in path.glob("*" + SUFFIX))

    async def scenario() -> tuple[str, Records, Records]:
        log = await open_log(path, full_sync=True)
        await append_numbered(log, 1, count)
        size, disk[0] = log_bytes(), "nearly-full"
        error = await error_of(log.append(record(99)))
        assert (disk[0], log_bytes()) == ("full", size)  # half was written, then cut
        after_failure = rows_in(path)
        disk[0] = "roomy"
        await log.append(record(count + 1))
        read = seqs_and_bodies(log.read(0, log.appended, 100))
        await log.stop()
        return error, after_failure, read

    error, after_failure, read = asyncio.run(scenario())
    assert error == "ENOSPC"
    assert after_failure == numbered(1, count)
    assert read == numbered(1, count + 1)  # the failed record took no seq
    assert rows_in(path) == numbered(1, count + 1)
    assert body(99) not in raw_bytes(path)


def test_a_scrub_that_runs_out_of_disk_loses_no_pending_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The disk fills while the scrub copies the pending records: the scrub fails, and every
    answered record is still read, now and after a restart, under its own seq."""
    path, count, done = tmp_path / "inbox", 10, 5
    disk = fill_disk_on(monkeypatch, path)

    async def failed_scrub() -> tuple[str, list[str], Records]:
        log = await open_log(path)
        await append_numbered(log, 1, count)
        log.read(0, done, 1000)
        await log.mark_done(done)
        disk[0] = "nearly-full"
        error = await error_of(log.scrub())
        disk[0], left = "roomy", other_files(path)
        read = seqs_and_bodies(log.read(done, log.appended, 1000))
        await log.append(record(count + 1))
        await log.stop()
        return error, left, read

    async def next_life() -> tuple[int, Records]:
        log = await open_log(path)
        read = seqs_and_bodies(log.read(log.done, log.appended, 1000))
        await log.scrub()
        await log.stop()
        return log.appended, read

    error, left, read = asyncio.run(failed_scrub())
    assert (error, left, read) == ("ENOSPC", ["lock", "state.json"], numbered(done + 1, count))
    assert asyncio.run(next_life()) == (count + 1, numbered(done + 1, count + 1))
    assert_no_done_body_left(path, done, count)
    assert other_files(path) == ["lock", "state.json"]  # no half copy beside the segments


CRASH_DURING_SCRUB = """
import asyncio, os, sys, time
from pathlib import Path
from collector.inbox.log import InboxLog, InboxRecord

path, count, done = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
real_write = os.write

def write_half_then_die(fd, data):
    if not os.readlink(f"/proc/self/fd/{fd}").startswith(str(path) + "/"):
        return real_write(fd, data)
    real_write(fd, bytes(data[: len(data) // 2]))
    os._exit(9)

async def main():
    log = InboxLog(path)
    log.start()
    for n in range(1, count + 1):
        body = b'{"visitor":"secret-%04d"}' % n  # tests.inbox_files.body(n)
        await log.append(InboxRecord(int(time.time() * 1000), None, None, None, body))
    log.read(0, done, 1000)
    await log.mark_done(done)
    os.write = write_half_then_die
    await log.scrub()

asyncio.run(main())
"""


def test_a_crash_while_scrub_copies_loses_no_pending_record(tmp_path: Path) -> None:
    """A process killed half-way through the scrub's copy: at restart every answered record is
    read under its own seq, and nothing of the half copy stays once all is done."""
    path, count, done = (tmp_path / "inbox").resolve(), 10, 5
    arguments = [sys.executable, "-c", CRASH_DURING_SCRUB, str(path), str(count), str(done)]
    repository = Path(__file__).resolve().parents[1]
    crashed = subprocess.run(arguments, cwd=repository, capture_output=True, timeout=30)
    assert crashed.returncode == 9, crashed.stderr.decode()

    async def next_life() -> tuple[int, Records]:
        log = await open_log(path)
        read = seqs_and_bodies(log.read(log.done, log.appended, 1000))
        await log.append(record(count + 1))
        await log.mark_done(log.appended)
        await log.stop()
        return log.appended, read

    assert asyncio.run(next_life()) == (count + 1, numbered(done + 1, count))
    assert [n for n in range(1, count + 2) if body(n) in raw_bytes(path)] == []
    assert other_files(path) == ["lock", "state.json"]
