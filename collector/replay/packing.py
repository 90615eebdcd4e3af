"""A JSON array of rrweb events rearranged by key ("packed"), so that zstd sees like next to like.

rrweb events are JSON objects whose values of one key look alike (node ids that count up, class
names, inline styles, page text, stylesheets) while values of different keys do not. Packing
splits the text into:

- the skeleton: the JSON text with every string value replaced by ``$`` and every number by
  ``#`` (keys, punctuation, whitespace, ``true``/``false``/``null`` stay as they are), which is
  the same few shapes over and over;
- one stream per key of that key's values, in order: strings as their escaped JSON text joined by
  newlines, numbers as text joined by commas. A value that is an array element (no key right
  before it) goes to the stream of the empty key.

Numbers of a few keys are stored as differences, which turns rrweb's counting ids and timestamps
into runs of small repeating numbers: ``id``, ``parentId``, ``previousId`` and ``nextId`` against
the last ``id`` seen (a node's parent and siblings were usually added just before it), and
``timestamp``, ``timeOffset``, ``x`` and ``y`` against their own previous value. Only integers
without a sign trick (no ``-0``) are stored that way, node ids only when not negative; anything
else of those keys is kept as written, marked with ``=``.

Packing is exact: :func:`unpack` gives back the very bytes :func:`pack` was given. It relies on
the input being JSON (a raw newline or NUL inside a string, a ``#`` outside one, would not come
back), so :func:`pack` checks the round trip and returns None when it does not hold; the caller
then stores the JSON as it is.

Layout: ``skeleton \\0 section \\0 section ...``, a section being ``$key\\n`` + strings or
``#key\\n`` + numbers, in the order the keys first appear.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

# A JSON string (group 1 its text), then a colon if it is a key (group 2); or a number (group 3).
_TOKEN = re.compile(rb'"((?:[^"\\]|\\.)*)"(\s*:)?|(-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?)')
# In a skeleton: a key with the placeholder of its value, if that follows (groups 1-3), or a
# placeholder that is an array element (group 4).
_PLACE = re.compile(rb'"((?:[^"\\]|\\.)*)"(\s*:\s*)([#$])?|([#$])')
_INT = re.compile(rb"(?:0|-?[1-9]\d*)\Z")
_BLANK = re.compile(rb"\s*\Z")

NODE_KEYS = frozenset((b"id", b"parentId", b"previousId", b"nextId"))
DELTA_KEYS = frozenset((b"timestamp", b"timeOffset", b"x", b"y"))
_NODE = b"id"  # the state node ids are counted against
STRING, NUMBER = b"$", b"#"
_LITERAL = b"="


class _Deltas:
    """The running values numbers are stored against; the same on both sides."""

    def __init__(self) -> None:
        self.last: dict[bytes, int] = {}

    def encode(self, key: bytes, token: bytes) -> bytes:
        if key in NODE_KEYS:
            if not _INT.match(token) or token[:1] == b"-":
                return _LITERAL + token
            value = int(token)
            entry = b"%d" % (value - self.last.get(_NODE, 0))
            if key == _NODE:
                self.last[_NODE] = value
            return entry
        if key in DELTA_KEYS:
            if not _INT.match(token):
                return _LITERAL + token
            value = int(token)
            entry = b"%d" % (value - self.last.get(key, 0))
            self.last[key] = value
            return entry
        return token

    def decode(self, key: bytes, entry: bytes) -> bytes:
        if key in NODE_KEYS or key in DELTA_KEYS:
            if entry[:1] == _LITERAL:
                return entry[1:]
            state = _NODE if key in NODE_KEYS else key
            value = int(entry) + self.last.get(state, 0)
            if key == _NODE or key in DELTA_KEYS:
                self.last[state] = value
            return b"%d" % value
        return entry


def _split(events_json: bytes) -> tuple[bytes, dict[tuple[bytes, bytes], list[bytes]]]:
    skeleton: list[bytes] = []
    streams: dict[tuple[bytes, bytes], list[bytes]] = {}
    deltas = _Deltas()
    pos = 0
    key = b""
    key_end = -1
    for match in _TOKEN.finditer(events_json):
        text, colon, number = match.groups()
        start = match.start()
        if colon is not None:
            key, key_end = text, match.end()
            continue
        owner = key if key_end >= 0 and _BLANK.match(events_json, key_end, start) else b""
        skeleton.append(events_json[pos:start])
        pos = match.end()
        key_end = -1
        if text is not None:
            skeleton.append(STRING)
            streams.setdefault((STRING, owner), []).append(text)
        else:
            skeleton.append(NUMBER)
            streams.setdefault((NUMBER, owner), []).append(deltas.encode(owner, number))
    skeleton.append(events_json[pos:])
    return b"".join(skeleton), streams


def pack(events_json: bytes) -> bytes | None:
    """The events' JSON rearranged by key; None when that would not give them back exactly."""
    skeleton, streams = _split(events_json)
    sections = [skeleton]
    for (kind, key), values in streams.items():
        sections.append(kind + key + b"\n" + (b"\n" if kind == STRING else b",").join(values))
    packed = b"\0".join(sections)
    try:
        if unpack(packed) == events_json:
            return packed
    except (ValueError, KeyError, StopIteration):
        pass
    return None


def unpack(packed: bytes) -> bytes:
    """The JSON text :func:`pack` was given."""
    skeleton, *sections = packed.split(b"\0")
    cursors: dict[tuple[bytes, bytes], Iterator[bytes]] = {}
    for section in sections:
        head, _, body = section.partition(b"\n")
        kind, key = head[:1], head[1:]
        values = body.split(b"\n" if kind == STRING else b",")
        if kind == STRING:
            cursors[(kind, key)] = (b'"' + value + b'"' for value in values)
        elif key in NODE_KEYS or key in DELTA_KEYS:
            cursors[(kind, key)] = iter(values)
        else:
            cursors[(kind, key)] = iter(values)
    deltas = _Deltas()

    def value(match: re.Match[bytes]) -> bytes:
        key_text, gap, keyed, bare = match.groups()
        if keyed is not None:
            entry = next(cursors[(keyed, key_text)])
            if keyed == NUMBER and (key_text in NODE_KEYS or key_text in DELTA_KEYS):
                entry = deltas.decode(key_text, entry)
            return b'"' + key_text + b'"' + gap + entry
        if bare is not None:
            return next(cursors[(bare, b"")])
        return match.group(0)

    out = _PLACE.sub(value, skeleton)
    if any(next(cursor, None) is not None for cursor in cursors.values()):
        raise ValueError("packed replay: values left over")
    return out
