"""The inbox's segment files on real directories: a torn tail cut at reopen, reads across
segment boundaries, segments deleted once done, a scrub leaving no enriched body behind, the
full-sync committer thread, and read_directory looking without touching."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest

from collector.inbox import segments
from collector.inbox.segments import HEADER, SUFFIX, encode_records, read_directory
from tests.appkit import CHROME_UA, now_ms
from tests.inbox_files import (
    Records,
    append_numbered,
    assert_no_done_body_left,
    body,
    fill,
    numbered,
    open_log,
    raw_bytes,
    record,
    rows_in,
    segment_firsts,
    seqs_and_bodies,
    snapshot,
)

SMALL_SEGMENT = 2_000  # about 12 records of ``record()``: a few appends rotate the segment


@pytest.fixture
def small_segments(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(segments, "SEGMENT_BYTES", SMALL_SEGMENT)


# --- a torn tail -----------------------------------------------------------------------------


def _torn_record(seq: int) -> bytes:
    whole = encode_records([(now_ms(), None, None, None, b"torn-marker-0123456789")], seq)
    return whole[: len(whole) // 2]  # its header's length runs past the file's end


def _bad_crc_record(seq: int) -> bytes:
    whole = bytearray(encode_records([(now_ms(), None, None, None, b"torn-marker")], seq))
    whole[4] ^= 0xFF  # the CRC field
    return bytes(whole)


TORN_TAILS: dict[str, Callable[[int], bytes]] = {
    "half-a-header": lambda seq: HEADER.pack(100, 0, seq)[:7],
    "a-length-past-the-end": _torn_record,
    "a-wrong-crc": _bad_crc_record,
    "a-wrong-crc-then-an-intact-record": lambda seq: (
        _bad_crc_record(seq)
        + encode_records([(now_ms(), None, None, None, b"torn-marker-after")], seq + 1)
    ),
}


@pytest.mark.parametrize("tail", TORN_TAILS.values(), ids=TORN_TAILS.keys())
def test_a_torn_tail_is_cut_off_when_the_log_reopens(
    tmp_path: Path, tail: Callable[[int], bytes]
) -> None:
    path, count = tmp_path / "inbox", 5
    fill(path, count)
    [segment] = [path / f"{first:020d}{SUFFIX}" for first in segment_firsts(path)]
    intact = segment.read_bytes()
    with open(segment, "ab") as out:
        out.write(tail(count + 1))
    torn = snapshot(path)
    assert rows_in(path) == numbered(1, count)  # read_directory stops there, cuts nothing
    assert snapshot(path) == torn

    async def reopen() -> tuple[int, Records, Records]:
        log = await open_log(path)
        appended = log.appended
        before = seqs_and_bodies(log.read(0, log.appended, 100))
        await log.append(record(count + 1))
        after = seqs_and_bodies(log.read(0, log.appended, 100))
        await log.stop()
        return appended, before, after

    appended, before, after = asyncio.run(reopen())
    assert appended == count
    assert before == numbered(1, count)
    assert after == numbered(1, count + 1)  # the new record is N+1, read after the others
    assert segment.read_bytes() == intact  # the garbage is gone, the intact records are not
    assert b"torn-marker" not in raw_bytes(path)
    assert [seq for seq, _ in read_directory(path)[1]] == list(range(1, count + 2))


def test_a_last_segment_holding_only_a_torn_record_is_removed(
    tmp_path: Path, small_segments: None
) -> None:
    """The crash came in the first write to a new segment: the log goes on from the one before."""
    path, count = tmp_path / "inbox", 20
    fill(path, count)
    last = segment_firsts(path)[-1]
    stray = path / f"{count + 1:020d}{SUFFIX}"
    stray.write_bytes(_bad_crc_record(count + 1))

    async def reopen() -> tuple[int, list[int], Records]:
        log = await open_log(path)
        appended, files = log.appended, segment_firsts(path)
        await log.append(record(count + 1))
        read = seqs_and_bodies(log.read(last - 1, log.appended, 100))
        await log.stop()
        return appended, files, read

    assert asyncio.run(reopen()) == (count, segment_firsts(path)[:-1], numbered(last, count + 1))
    assert stray.read_bytes().count(body(count + 1)) == 1  # rewritten, not the torn record


# --- reads across segments -------------------------------------------------------------------


def test_records_over_several_segments_are_read_in_order_at_once_and_in_batches(
    tmp_path: Path, small_segments: None
) -> None:
    path, count, limit = tmp_path / "inbox", 40, 5
    fill(path, count)
    firsts = segment_firsts(path)
    # no segment ends where a batch does: every boundary is crossed inside a read
    assert len(firsts) >= 3 and all((first - 1) % limit for first in firsts[1:])

    async def read_at_once_then_in_batches() -> tuple[Records, list[Records]]:
        log = await open_log(path)
        at_once = seqs_and_bodies(log.read(0, log.appended, 1000))
        batches, last = [], 0
        while batch := seqs_and_bodies(log.read(last, log.appended, limit)):
            batches.append(batch)
            last = batch[-1][0]  # the next read goes on after the last seq this one read
        await log.stop()
        return at_once, batches

    at_once, batches = asyncio.run(read_at_once_then_in_batches())
    assert at_once == numbered(1, count)
    assert [record for batch in batches for record in batch] == numbered(1, count)
    assert [len(batch) for batch in batches] == [limit] * (count // limit)
    # some batches stop mid-segment and the next starts there; some cross a boundary
    assert any(batch[0][0] < first <= batch[-1][0] for batch in batches for first in firsts)


def test_a_reader_keeping_up_with_the_appends_sees_each_record_once(
    tmp_path: Path, small_segments: None
) -> None:
    path, count = tmp_path / "inbox", 40

    async def follow() -> tuple[Records, int]:
        log = await open_log(path)
        seen: Records = []
        for n in range(1, count + 1):
            await log.append(record(n))
            seen += seqs_and_bodies(log.read(len(seen), log.appended, 1000))
        await log.stop()
        return seen, len(segment_firsts(path))

    seen, segment_count = asyncio.run(follow())
    assert seen == numbered(1, count)
    assert segment_count >= 3


def test_a_read_starting_mid_segment_elsewhere_than_the_last_read_stopped(
    tmp_path: Path, small_segments: None
) -> None:
    path, count = tmp_path / "inbox", 40
    fill(path, count)
    firsts = segment_firsts(path)
    middle_of_second = firsts[1] + 3
    just_before_third = firsts[2] - 2

    async def scattered_reads() -> list[Records]:
        log = await open_log(path)
        reads = [
            log.read(0, log.appended, 4),  # leaves the cursor in the first segment
            log.read(middle_of_second, log.appended, 4),
            log.read(just_before_third, log.appended, 4),  # crosses into the third
            log.read(2, log.appended, 3),  # backwards, into the first again
            log.read(5, firsts[1] + 1, 1000),  # stops at ``upto``, in the second
        ]
        await log.stop()
        return [seqs_and_bodies(records) for records in reads]

    assert asyncio.run(scattered_reads()) == [
        numbered(1, 4),
        numbered(middle_of_second + 1, middle_of_second + 4),
        numbered(just_before_third + 1, just_before_third + 4),
        numbered(3, 5),
        numbered(6, firsts[1] + 1),
    ]


# --- deleting what is done -------------------------------------------------------------------


def test_mark_done_deletes_the_segments_whose_records_are_all_done(
    tmp_path: Path, small_segments: None
) -> None:
    path, count = tmp_path / "inbox", 40
    Seen = tuple[list[int], Records]  # segment files, records read after done

    async def mark_in_steps() -> tuple[list[int], list[Seen]]:
        log = await open_log(path)
        await append_numbered(log, 1, count)  # the last segment is open for appends
        firsts, seen = segment_firsts(path), []
        for done in (firsts[1] + 2, firsts[2] - 1, count):
            await log.mark_done(done)
            seen.append((segment_firsts(path), seqs_and_bodies(log.read(done, count, 1000))))
        await log.append(record(count + 1))  # in a new file, not the deleted one
        seen.append((segment_firsts(path), seqs_and_bodies(log.read(count, count + 1, 10))))
        await log.mark_done(count + 1)
        seen.append((segment_firsts(path), []))
        await log.stop()
        return firsts, seen

    async def next_life() -> tuple[int, int, Records]:
        log = await open_log(path)
        done, appended = log.done, log.appended
        await log.append(record(count + 2))
        read = seqs_and_bodies(log.read(done, log.appended, 1000))
        await log.stop()
        return done, appended, read

    firsts, seen = asyncio.run(mark_in_steps())
    assert len(firsts) >= 4
    expected = [
        (firsts[1:], numbered(firsts[1] + 3, count)),  # the second holds pending ones
        (firsts[2:], numbered(firsts[2], count)),  # done at its last record: deleted
        ([], []),  # all done: every file is gone, the one appended to as well
        ([count + 1], numbered(count + 1, count + 1)),
        ([], []),
    ]
    assert seen == expected
    assert asyncio.run(next_life()) == (count + 1, count + 1, numbered(count + 2, count + 2))
    assert segment_firsts(path) == [count + 2]  # named for its first record


# --- scrub -----------------------------------------------------------------------------------


def scrub_after(path: Path, count: int, done: int) -> tuple[Records, ...]:
    """Append ``count``, read and mark the first ``done`` (as the enricher does), scrub, then
    read what is pending, append one more and read again; then reopen and read."""

    async def scenario() -> tuple[Records, Records]:
        log = await open_log(path)
        await append_numbered(log, 1, count)
        assert len(log.read(0, done, 1000)) == done  # the reader's cursor is in there now
        await log.mark_done(done)
        await log.scrub()
        pending = seqs_and_bodies(log.read(done, log.appended, 1000))
        await log.append(record(count + 1))
        await log.stop()
        return pending, seqs_and_bodies(log.read(done, log.appended, 1000))

    async def reopened() -> Records:
        log = await open_log(path)
        read = seqs_and_bodies(log.read(log.done, log.appended, 1000))
        await log.stop()
        return read

    pending, after_append = asyncio.run(scenario())
    return pending, after_append, asyncio.run(reopened())


def test_scrub_leaves_no_done_body_beside_pending_records_in_the_same_segment(
    tmp_path: Path,
) -> None:
    path, count, done = tmp_path / "inbox", 6, 3
    pending, after_append, reopened = scrub_after(path, count, done)
    assert pending == numbered(done + 1, count)
    assert after_append == reopened == numbered(done + 1, count + 1)
    assert_no_done_body_left(path, done, count)


def test_scrub_rewrites_a_closed_segment_among_several(
    tmp_path: Path, small_segments: None
) -> None:
    path, count = tmp_path / "inbox", 40
    fill(tmp_path / "probe", count)  # where the segments of ``count`` records begin
    firsts = segment_firsts(tmp_path / "probe")
    done = firsts[1] + 4  # in the middle of the second of four: not the one appended to
    pending, after_append, reopened = scrub_after(path, count, done)
    assert pending == numbered(done + 1, count)
    assert after_append == reopened == numbered(done + 1, count + 1)
    assert_no_done_body_left(path, done, count)
    assert segment_firsts(path)[0] == done + 1


# --- full sync: the committer thread ---------------------------------------------------------


def test_full_sync_appends_are_durable_and_read_back(tmp_path: Path) -> None:
    path, count = tmp_path / "inbox", 20

    async def scenario() -> tuple[Records, Records, bool]:
        log = await open_log(path, full_sync=True)
        await asyncio.gather(*(log.append(record(n)) for n in range(1, count + 1)))
        on_disk = rows_in(path)  # on append's return, without the log
        read = seqs_and_bodies(log.read(0, log.appended, 1000))
        await log.stop()
        return on_disk, read, log.running

    on_disk, read, running = asyncio.run(scenario())
    assert on_disk == read == numbered(1, count)  # gathered in order: numbered in order
    assert not running


# --- read_directory --------------------------------------------------------------------------


def test_read_directory_on_a_live_log_changes_nothing(tmp_path: Path) -> None:
    path, count = tmp_path / "inbox", 5
    looked: dict[str, object] = {}

    async def scenario() -> Records:
        log = await open_log(path)
        await append_numbered(log, 1, count)
        await log.mark_done(2)
        await log.claim(4)
        before = snapshot(path)
        state, records = read_directory(path)
        looked.update(id=log.inbox_id, state=state, unchanged=snapshot(path) == before)
        looked["rows"] = [(seq, row[1:4], row[4]) for seq, row in records]
        await log.append(record(count + 1))  # the log goes on as if nothing happened
        read = seqs_and_bodies(log.read(2, log.appended, 100))
        await log.stop()
        return read

    read = asyncio.run(scenario())
    assert looked["state"] == {"id": looked["id"], "done": 2, "claimed": 4}
    facts = ("192.0.2.1", CHROME_UA, "en-GB")
    assert looked["rows"] == [(n, facts, body(n)) for n in range(1, count + 1)]
    assert looked["unchanged"] is True
    assert read == numbered(3, count + 1)
