"""The inbox's files: a directory of append-only segment files and a small state file.

A segment is named by the sequence number of its first record (``00000000000000000001.log``)
and holds records back to back, each a 16-byte header and a payload::

    payload length (u32) | CRC-32 of the payload (u32) | seq (u64)     little-endian
    payload: msgpack of (received_at, ip, user_agent, accept_language, body)

A group of records is written by one ``write()``, so a committed record is in the page cache
(it survives ``kill -9``) when the write returns, and on disk after ``fdatasync`` (full sync).
A torn tail, which only a power loss or a full disk can leave, fails its length or CRC check and
is cut off when the log is opened. Sequence numbers are contiguous across segments: a segment
holds ``first .. next segment's first - 1``.

``state.json`` keeps the log's id and its ``done`` and ``claimed`` marks; it is replaced whole
(written beside, then renamed), so a crash leaves the old marks or the new ones.

The group writes (on the event loop, or the committer thread with full sync) append, rewrite
and take the segment being appended to off the log; the marks' thread writes the state file and
deletes closed segments that are all done (:meth:`SegmentFiles.trim_closed`); one reader at a
time (the enricher) reads. :attr:`SegmentFiles.lock` guards the list of segments between them.
"""

from __future__ import annotations

import bisect
import fcntl
import itertools
import json
import logging
import os
import struct
import threading
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path

import msgspec

log = logging.getLogger("clicktrail.inbox")

HEADER = struct.Struct("<IIQ")
MAX_PAYLOAD = 64 << 20  # a longer length is a torn or foreign header
SEGMENT_BYTES = 8 << 20  # a segment is closed once it holds this much
READ_CHUNK = 1 << 20
STATE_FILE = "state.json"
LOCK_FILE = "lock"  # locked (flock) by the collector appending here
SUFFIX = ".log"
STAGED = ".new"  # a segment being rewritten, renamed into place once whole

Row = tuple[int, str | None, str | None, str | None, bytes]
_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(tuple[int, str | None, str | None, str | None, bytes])


def encode_records(rows: Sequence[Row], first_seq: int) -> bytes:
    """The records of ``rows``, numbered from ``first_seq``, as one buffer to write."""
    parts: list[bytes] = []
    for seq, row in enumerate(rows, first_seq):
        payload = _encoder.encode(row)
        parts.append(HEADER.pack(len(payload), zlib.crc32(payload), seq))
        parts.append(payload)
    return b"".join(parts)


def decode_row(payload: bytes) -> Row:
    return _decoder.decode(payload)


def scan(fd: int, offset: int = 0) -> Iterator[tuple[int, int, int, bytes]]:
    """``(seq, start, end, payload)`` of each intact record from byte ``offset`` of the file on;
    stops at its end or at the first record that is torn or fails its CRC."""
    buf, base, pos = b"", offset, 0  # buf holds the file's bytes from ``base``
    while True:
        need = HEADER.size
        if len(buf) - pos >= need:
            length, crc, seq = HEADER.unpack_from(buf, pos)
            if length > MAX_PAYLOAD:
                return
            need += length
            if len(buf) - pos >= need:
                payload = buf[pos + HEADER.size : pos + need]
                if zlib.crc32(payload) != crc:
                    return
                yield seq, base + pos, base + pos + need, payload
                pos += need
                continue
        chunk = os.pread(fd, max(READ_CHUNK, need), base + len(buf))
        if not chunk:
            return
        buf, base, pos = buf[pos:] + chunk, base + pos, 0


class SegmentFiles:
    """The inbox directory: its segments, the one open for appends, and the state file."""

    def __init__(self, path: Path, full_sync: bool = False) -> None:
        if path.exists() and not path.is_dir():
            raise RuntimeError(
                f"the inbox {path} is a file, not a directory (an older build's SQLite inbox?):"
                " move it away, or give another path with --inbox"
            )
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.path = path
        self.full_sync = full_sync
        self.lock = threading.Lock()
        self.firsts: list[int] = []  # listed once the directory is this collector's
        self._fd: int | None = None  # the segment being appended to (always the last one)
        self._size = 0
        self._owner: int | None = None  # the locked lock file: this collector appends here

    # --- one collector at a time ----------------------------------------------------------------

    def claim_directory(self) -> bool:
        """Lock the directory for this collector; False when another one (in this process or
        another) holds it. The kernel lets go of it when the process dies, even by ``kill -9``."""
        if self._owner is not None:
            return True
        fd = os.open(self.path / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._owner = fd
        return True

    def release_directory(self) -> None:
        if self._owner is not None:
            os.close(self._owner)
            self._owner = None

    def list_segments(self) -> None:
        """The segments as the directory has them (a copy a crash cut short is deleted); only
        once the directory is this collector's."""
        for staged in self.path.glob("*" + SUFFIX + STAGED):
            staged.unlink()
        found = (int(p.stem) for p in self.path.glob("*" + SUFFIX) if p.stem.isdigit())
        self.firsts = sorted(found)

    def file(self, first: int) -> Path:
        return self.path / f"{first:020d}{SUFFIX}"

    # --- state --------------------------------------------------------------------------------

    def read_state(self) -> dict[str, object]:
        return read_state(self.path)

    def write_state(self, state: dict[str, object]) -> None:
        staged = self.path / (STATE_FILE + ".new")
        with open(staged, "w") as out:
            out.write(json.dumps(state))
            if self.full_sync:
                out.flush()
                os.fsync(out.fileno())
        os.replace(staged, self.path / STATE_FILE)
        self._sync_directory()

    def _sync_directory(self) -> None:
        if self.full_sync:
            fd = os.open(self.path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)

    # --- appending ----------------------------------------------------------------------------

    def recover(self) -> int:
        """The seq of the last intact record (0 when there is none). A torn tail is cut off the
        last segment; trailing segments without a record are removed."""
        while self.firsts:
            first = self.firsts[-1]
            fd = os.open(self.file(first), os.O_RDWR)
            try:
                last, intact = 0, 0
                for seq, _, record_end, _ in scan(fd):
                    last, intact = seq, record_end
                if os.fstat(fd).st_size > intact:
                    log.warning("inbox segment %d: a torn tail cut at byte %d", first, intact)
                    os.ftruncate(fd, intact)
            finally:
                os.close(fd)
            if last:
                return last
            os.unlink(self.file(first))
            self.firsts.pop()
        return 0

    def append(self, data: bytes, first_seq: int) -> None:
        """Write the records of ``data`` (their first is ``first_seq``) at the log's end; on an
        error nothing of them stays."""
        if self._fd is None:
            self._open_segment(first_seq)
        assert self._fd is not None
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(self._fd, view) :]
            if self.full_sync:
                os.fdatasync(self._fd)
        except BaseException:
            os.ftruncate(self._fd, self._size)
            raise
        self._size += len(data)
        if self._size >= SEGMENT_BYTES:
            self.close_active()

    def _open_segment(self, first: int) -> None:
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND
        self._fd, self._size = os.open(self.file(first), flags, 0o600), 0
        self._sync_directory()
        with self.lock:
            bisect.insort(self.firsts, first)

    def close_active(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    # --- trimming -----------------------------------------------------------------------------

    def trim(self, done: int, written: int) -> None:
        """Delete every segment whose records are all at or below ``done``; the one being
        appended to as well when ``done`` reaches ``written``, the last record written."""
        self.trim_closed(done)
        detached = self.detach_active(done, written)
        if detached is not None:
            detached.unlink(missing_ok=True)

    def trim_closed(self, done: int) -> None:
        """Delete every segment but the last whose records are all at or below ``done``: the
        part of :meth:`trim` that leaves the segment appends go to alone, so it may run on a
        thread of its own while the group writes append."""
        with self.lock:
            firsts = list(self.firsts)
        drop = [first for first, following in itertools.pairwise(firsts) if following - 1 <= done]
        self._delete(drop)

    def detach_active(self, done: int, written: int) -> Path | None:
        """When every record written is done, close the segment being appended to and take it
        off the log (the next append opens a new one); its path, to delete. Runs where the
        group writes run."""
        with self.lock:
            last = self.firsts[-1] if self.firsts else None
            if last is None or done < written:
                return None
            self.firsts.remove(last)
        self.close_active()
        return self.file(last)

    def _delete(self, firsts: list[int]) -> None:
        for first in firsts:
            self.file(first).unlink(missing_ok=True)
            with self.lock:
                if first in self.firsts:
                    self.firsts.remove(first)

    def drop_before(self, seq: int) -> None:
        """Rewrite the segment holding ``seq`` without its records before ``seq`` (a new file
        named ``seq``; the old one deleted), so no copy of them is left in the log."""
        with self.lock:
            index = bisect.bisect_right(self.firsts, seq) - 1
            if index < 0 or self.firsts[index] == seq:
                return
            first, is_last = self.firsts[index], index == len(self.firsts) - 1
        if is_last:
            self.close_active()  # appends go on in a new segment
        fd = os.open(self.file(first), os.O_RDONLY)
        try:
            start = next((at for rec, at, _, _ in scan(fd) if rec >= seq), None)
            if start is not None:
                self._copy_tail(fd, start, seq)
        finally:
            os.close(fd)
        self._delete([first])

    def _copy_tail(self, source: int, start: int, first: int) -> None:
        """Copy from byte ``start`` on into a new segment named ``first``: written beside, then
        renamed, so a failed or killed copy never leaves a short segment in the log."""
        staged = self.path / (self.file(first).name + STAGED)
        size = os.fstat(source).st_size
        target = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            while start < size:
                chunk = os.pread(source, READ_CHUNK, start)
                if not chunk:
                    break
                start += os.write(target, chunk)  # a short write: the rest on the next turn
            if self.full_sync:
                os.fdatasync(target)
        except BaseException:
            staged.unlink(missing_ok=True)
            raise
        finally:
            os.close(target)
        os.replace(staged, self.file(first))
        self._sync_directory()
        with self.lock:
            bisect.insort(self.firsts, first)

    # --- reading ------------------------------------------------------------------------------

    def open_holding(self, seq: int) -> tuple[int, int, int | None] | None:
        """``(first, fd, next segment's first)`` of the segment holding ``seq`` (the first one
        when ``seq`` is before it), opened for reading; None when there is no segment."""
        with self.lock:
            if not self.firsts:
                return None
            index = max(0, bisect.bisect_right(self.firsts, seq) - 1)
            first = self.firsts[index]
            following = self.firsts[index + 1] if index + 1 < len(self.firsts) else None
            return first, os.open(self.file(first), os.O_RDONLY), following


def read_state(path: Path) -> dict[str, object]:
    """The state file of the inbox directory ``path`` ({} before the first mark)."""
    try:
        state = json.loads((path / STATE_FILE).read_text())
    except FileNotFoundError:
        return {}
    return state if isinstance(state, dict) else {}


def read_directory(path: Path) -> tuple[dict[str, object], list[tuple[int, Row]]]:
    """The state and every intact record of an inbox directory, read without changing it
    (operators and tests look into a log this way)."""
    state = read_state(path)
    records: list[tuple[int, Row]] = []
    for segment in sorted(path.glob("*" + SUFFIX)):
        fd = os.open(segment, os.O_RDONLY)
        try:
            records += [(seq, decode_row(payload)) for seq, _, _, payload in scan(fd)]
        finally:
            os.close(fd)
    return state, records
