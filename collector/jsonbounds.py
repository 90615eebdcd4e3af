"""Bounds for JSON that is kept as sent (custom event data, rrweb events): how deep it nests, and
whether every string in it is text.

msgspec checks the strings it decodes, but JSON kept as ``msgspec.Raw`` is only skipped over:
its strings may hold invalid UTF-8 or lone UTF-16 surrogates, and its nesting is bounded only by
the recursion limit of whoever decodes it later. Both would break reads for good, so raw JSON is
checked here before it is stored.

The checks are byte-level and allocation-light (about 8 ms per MB on the depth scan, a few
hundred microseconds per MB on text), and skip the work whenever a cheap count proves it needless.
"""

from __future__ import annotations

import itertools
import operator
import re

import msgspec

_ESCAPE = re.compile(rb"\\.", re.S)
_NOT_STRUCTURE = bytes(b for b in range(256) if b not in b'[]{}"')
# Opening brackets count 2 and closing ones 0: the running sum minus the position is the depth.
_STEPS = bytes.maketrans(b"{[}]", b"\x02\x02\x00\x00")
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def nesting_depth(raw: bytes | memoryview) -> int:
    """How deep arrays and objects nest in valid JSON ``raw`` (0 for a scalar)."""
    data = bytes(raw)
    if b"\\" in data:
        data = _ESCAPE.sub(b"", data)  # no escaped quote can end a string early
    structure = data.translate(None, _NOT_STRUCTURE)
    brackets = b"".join(structure.split(b'"')[::2]).translate(_STEPS)  # string contents dropped
    heights = map(operator.sub, itertools.accumulate(brackets), range(1, len(brackets) + 1))
    return max(heights, default=0)


def _within_depth(raw: bytes, max_depth: int) -> bool:
    if raw.count(b"{") + raw.count(b"[") <= max_depth:
        return True
    return nesting_depth(raw) <= max_depth


def json_problem(raw: bytes | msgspec.Raw, max_depth: int) -> str | None:
    """Why valid-looking raw JSON may not be stored, or None when it may: nested deeper than
    ``max_depth``, invalid UTF-8, or an escaped lone surrogate (not text in any encoding)."""
    data = bytes(raw)
    if not _within_depth(data, max_depth):
        return f"nests deeper than {max_depth} levels"
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"is not valid UTF-8 (byte {exc.start})"
    if _SURROGATE_ESCAPE.search(data) is not None:
        try:
            msgspec.json.decode(data)
        except msgspec.DecodeError:
            return "holds a \\u escape that is not text (a lone UTF-16 surrogate)"
    return None


def decode_error_text(data: bytes, error: msgspec.DecodeError) -> str:
    """msgspec's reason for refusing JSON, in words that say what to fix (it reports a lone
    surrogate escape as truncated input)."""
    reason = str(error)
    if reason == "Input data was truncated" and _SURROGATE_ESCAPE.search(data) is not None:
        return "a \\u escape is not text (a lone UTF-16 surrogate)"
    return reason
