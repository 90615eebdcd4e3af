"""A JSON array of rrweb events rearranged by key ("packed"), so that zstd sees like next to like.

rrweb events are JSON objects whose values of one key look alike (node ids that count up, class
names, inline styles, page text, stylesheets) while values of different keys do not. Packing
splits the text into:

- the skeleton: the JSON text with every value (the text of a string between its quotes, a
  number) replaced by a two-byte placeholder, ``\\x01`` and 1 + the number of its stream; keys,
  punctuation, whitespace and ``true``/``false``/``null`` stay as they are, so the skeleton is
  the same few shapes over and over;
- one stream per key and kind (string or number) of that key's values, in order: strings as
  their escaped JSON text joined by newlines, numbers as text joined by commas. A value that is
  an array element (no key right before it) goes to a stream of the empty key. After 254
  streams, the rest share one last stream (raw text joined by newlines).

Numbers of ``id``, ``parentId``, ``previousId``, ``nextId``, ``timestamp``, ``timeOffset``, ``x``
and ``y`` are stored as the difference from the previous value of their stream, which turns
rrweb's counting node ids and timestamps into runs of small repeating numbers. Only integers
(not ``-0``) are; anything else there is kept as written, marked with ``=``.

Reading is a handful of C-level passes (a split of the skeleton, a ``map`` over the streams), no
Python code per value but for streams that hold a ``=`` value.

Packing is exact: :func:`unpack` gives back the very bytes :func:`pack` was given. It relies on
the input being JSON (a raw newline or NUL inside a string would not come back), so :func:`pack`
checks the round trip and returns None when it does not hold, and for any text with a
``\\x01`` byte; the caller then stores the JSON as it is.

Layout: ``skeleton \\0 section \\0 section ...``, section *i* being stream *i*: its kind
(``S`` strings, ``N`` numbers, ``D`` numbers as differences, ``R`` the shared last stream), its
key, a newline, its values.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator

# A JSON string (group 1 its text), then a colon if it is a key (group 2); or a number (group 3).
_TOKEN = re.compile(rb'"((?:[^"\\]|\\.)*)"(\s*:)?|(-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?)')
_PLACE = re.compile(rb"\x01(.)", re.DOTALL)  # a placeholder; group 1: its stream
_INT = re.compile(rb"(?:0|-?[1-9]\d*)\Z")
_BLANK = re.compile(rb"\s*\Z")

DELTA_KEYS = frozenset(
    (b"id", b"parentId", b"previousId", b"nextId", b"timestamp", b"timeOffset", b"x", b"y")
)
STRINGS, NUMBERS, DELTAS, SHARED = b"S", b"N", b"D", b"R"
_SEPARATOR = {STRINGS: b"\n", NUMBERS: b",", DELTAS: b",", SHARED: b"\n"}
MAX_STREAMS = 255
_LITERAL = b"="


class _Stream:
    def __init__(self, kind: bytes, key: bytes, number: int) -> None:
        self.kind, self.key = kind, key
        self.placeholder = b"\x01" + bytes((number + 1,))  # never NUL, the section separator
        self.values: list[bytes] = []
        self.last = 0

    def add(self, token: bytes) -> None:
        if self.kind != DELTAS:
            self.values.append(token)
        elif _INT.match(token):
            value = int(token)
            self.values.append(b"%d" % (value - self.last))
            self.last = value
        else:
            self.values.append(_LITERAL + token)

    def section(self) -> bytes:
        return self.kind + self.key + b"\n" + _SEPARATOR[self.kind].join(self.values)


class _Streams:
    """The streams in the order they were opened; the last of MAX_STREAMS is shared."""

    def __init__(self) -> None:
        self.by_key: dict[tuple[bytes, bytes], _Stream] = {}
        self.ordered: list[_Stream] = []

    def of(self, kind: bytes, key: bytes) -> _Stream:
        found = self.by_key.get((kind, key))
        if found is None:
            if len(self.ordered) < MAX_STREAMS - 1:
                own_kind = DELTAS if kind == NUMBERS and key in DELTA_KEYS else kind
                found = _Stream(own_kind, key, len(self.ordered))
                self.ordered.append(found)
            else:
                if len(self.ordered) < MAX_STREAMS:
                    self.ordered.append(_Stream(SHARED, b"", MAX_STREAMS - 1))
                found = self.ordered[-1]
            self.by_key[(kind, key)] = found
        return found


def _split(events_json: bytes) -> tuple[bytes, list[_Stream]]:
    skeleton: list[bytes] = []
    streams = _Streams()
    pos = 0
    key = b""
    key_end = -1
    for match in _TOKEN.finditer(events_json):
        text, colon, number = match.groups()
        if colon is not None:
            key, key_end = text, match.end()
            continue
        start = match.start()
        owner = key if key_end >= 0 and _BLANK.match(events_json, key_end, start) else b""
        key_end = -1
        if text is not None:
            stream = streams.of(STRINGS, owner)
            skeleton.append(events_json[pos : start + 1])  # up to the opening quote
            stream.add(text)
            pos = match.end() - 1  # from the closing quote
        else:
            stream = streams.of(NUMBERS, owner)
            skeleton.append(events_json[pos:start])
            stream.add(number)
            pos = match.end()
        skeleton.append(stream.placeholder)
    skeleton.append(events_json[pos:])
    return b"".join(skeleton), streams.ordered


def pack(events_json: bytes) -> bytes | None:
    """The events' JSON rearranged by key; None when that would not give them back exactly."""
    if b"\x01" in events_json:
        return None
    skeleton, streams = _split(events_json)
    packed = b"\0".join([skeleton, *(stream.section() for stream in streams)])
    try:
        if unpack(packed) == events_json:
            return packed
    except ValueError:
        pass
    return None


def _undelta(body: bytes) -> list[bytes]:
    entries = body.split(b",")
    if _LITERAL not in body:
        sums = itertools.accumulate(map(int, entries))
        return ",".join(map(str, sums)).encode().split(b",")  # faster than b"%d" per value
    values, last = [], 0
    for entry in entries:
        if entry[:1] == _LITERAL:
            values.append(entry[1:])
        else:
            last += int(entry)
            values.append(b"%d" % last)
    return values


def unpack(packed: bytes) -> bytes:
    """The JSON text :func:`pack` was given; ValueError when ``packed`` is not what pack makes."""
    skeleton, *sections = packed.split(b"\0")
    if len(sections) > MAX_STREAMS:
        raise ValueError("packed replay: too many streams")
    cursors: dict[bytes, Iterator[bytes]] = {}
    for number, section in enumerate(sections):
        head, _, body = section.partition(b"\n")
        kind = head[:1]
        if kind not in _SEPARATOR:
            raise ValueError(f"packed replay: stream kind {kind!r}")
        values = _undelta(body) if kind == DELTAS else body.split(_SEPARATOR[kind])
        cursors[bytes((number + 1,))] = iter(values)
    pieces = _PLACE.split(skeleton)
    try:
        pieces[1::2] = list(map(next, map(cursors.__getitem__, pieces[1::2])))
    except KeyError:
        raise ValueError("packed replay: a placeholder names no stream") from None
    if any(next(cursor, None) is not None for cursor in cursors.values()):
        raise ValueError("packed replay: values left over")
    return b"".join(pieces)
