"""Bounds for JSON that is kept as sent (custom event data, rrweb events): how deep it nests, and
whether every string in it is text.

msgspec checks the strings it decodes, but JSON kept as ``msgspec.Raw`` is only skipped over:
its strings may hold invalid UTF-8 or lone UTF-16 surrogates, and its nesting is bounded only by
the recursion limit of whoever decodes it later. Both would break reads for good, so raw JSON is
checked here before it is stored.

The checks are byte-level and scan a window of :data:`WINDOW` bytes at a time, so their copies
stay small whatever the input (about 8 ms per MB on the depth scan, well under 1 ms per MB on
text), and skip the work whenever a cheap count proves it needless.
"""

from __future__ import annotations

import codecs
import itertools
import operator
import re
from collections.abc import Iterator

import msgspec

from collector.utf8 import SURROGATE_ESCAPE

_ESCAPE = re.compile(rb"\\.", re.S)
_NOT_STRUCTURE = bytes(b for b in range(256) if b not in b'[]{}"')
# Opening brackets count 2 and closing ones 0: the running sum minus the position is the depth.
_STEPS = bytes.maketrans(b"{[}]", b"\x02\x02\x00\x00")


WINDOW = 1 << 20  # bytes scanned at a time: the copies a check makes stay this small


def _windows(data: bytes) -> Iterator[bytes]:
    """``data`` in pieces of about :data:`WINDOW` bytes, never cut inside a backslash escape
    (each piece ends on a byte that is not a backslash, so every escape is whole in one)."""
    start = 0
    while start < len(data):
        end = min(start + WINDOW, len(data))
        while end < len(data) and data[end - 1] == 0x5C:  # "\\"
            end += 1
        yield data[start:end]
        start = end


class _Depth:
    """The running height of brackets outside strings, over consecutive windows."""

    def __init__(self) -> None:
        self.height = 0
        self.peak = 0
        self.in_string = False

    def feed(self, window: bytes) -> None:
        if b"\\" in window:
            window = _ESCAPE.sub(b"", window)  # no escaped quote can end a string early
        pieces = window.translate(None, _NOT_STRUCTURE).split(b'"')
        outside = pieces[1::2] if self.in_string else pieces[::2]
        if len(pieces) % 2 == 0:  # an odd number of quotes
            self.in_string = not self.in_string
        steps = b"".join(outside).translate(_STEPS)
        if not steps:
            return
        heights = map(operator.sub, itertools.accumulate(steps), range(1, len(steps) + 1))
        self.peak = max(self.peak, self.height + max(heights))
        self.height += 2 * steps.count(2) - len(steps)


def nesting_depth(raw: bytes | memoryview) -> int:
    """How deep arrays and objects nest in valid JSON ``raw`` (0 for a scalar)."""
    depth = _Depth()
    for window in _windows(bytes(raw)):
        depth.feed(window)
    return depth.peak


def within_depth(raw: bytes, max_depth: int) -> bool:
    """Whether JSON ``raw`` nests at most ``max_depth`` levels (a bracket count settles most)."""
    if raw.count(b"{") + raw.count(b"[") <= max_depth:
        return True
    return nesting_depth(raw) <= max_depth


def _utf8_problem(data: bytes) -> str | None:
    """Where ``data`` stops being UTF-8, checked a window at a time (a str of a whole 16 MB chunk
    would take up to 64 MB)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    for start in range(0, len(data) + 1, WINDOW):
        pending = len(decoder.getstate()[0])  # the cut character's first bytes, from before
        try:
            decoder.decode(data[start : start + WINDOW], final=start + WINDOW >= len(data))
        except UnicodeDecodeError as exc:
            return f"is not valid UTF-8 (byte {start - pending + exc.start})"
    return None


def json_problem(raw: bytes | msgspec.Raw, max_depth: int) -> str | None:
    """Why valid-looking raw JSON may not be stored, or None when it may: nested deeper than
    ``max_depth``, invalid UTF-8, or an escaped lone surrogate (not text in any encoding)."""
    data = raw if isinstance(raw, bytes) else bytes(raw)
    if not within_depth(data, max_depth):
        return f"nests deeper than {max_depth} levels"
    if not data.isascii():
        problem = _utf8_problem(data)
        if problem is not None:
            return problem
    if SURROGATE_ESCAPE.search(data) is not None:
        try:
            msgspec.json.decode(data)
        except msgspec.DecodeError:
            return "holds a \\u escape that is not text (a lone UTF-16 surrogate)"
    return None


def decode_error_text(data: bytes, error: msgspec.DecodeError) -> str:
    """msgspec's reason for refusing JSON, in words that say what to fix (it reports a lone
    surrogate escape as truncated input)."""
    reason = str(error)
    if reason == "Input data was truncated" and SURROGATE_ESCAPE.search(data) is not None:
        return "a \\u escape is not text (a lone UTF-16 surrogate)"
    return reason
