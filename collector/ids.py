"""Time-ordered, unguessable identifiers (ULID layout, lower-case Crockford base32).

An id is 26 characters: 10 encode the creation time in milliseconds (below 2**48, as in ULID,
so the first character is 0-7), 16 encode 80 random bits. Ids sort by creation time as plain
strings, and nobody can guess another visitor's id. The tracker mints ids in the same layout, so
the collector can check a proposed id's shape and the time it claims to have been made.
"""

from __future__ import annotations

import os
import re
import time

ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
ID_LENGTH = 26
_TIME_CHARS = 10
_DECODE = {c: i for i, c in enumerate(ALPHABET)}
_ID_RE = re.compile(r"^[0-7][0-9a-hjkmnp-tv-z]{25}$")  # time part < 2**48 ms


def encode(value: int, length: int) -> str:
    """``value``'s last ``length`` base32 digits (an id's time part is ``encode(ms, 10)``)."""
    chars = []
    for _ in range(length):
        chars.append(ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def new_id(now_ms: int | None = None) -> str:
    """A fresh id whose time part is ``now_ms`` (default: the current time)."""
    if now_ms is None:
        now_ms = time.time_ns() // 1_000_000
    randomness = int.from_bytes(os.urandom(10), "big")  # 80 bits: 16 characters of 5 bits
    return encode(now_ms, _TIME_CHARS) + encode(randomness, ID_LENGTH - _TIME_CHARS)


def is_valid_id(value: object) -> bool:
    """True when ``value`` has the shape of an id made by :func:`new_id` (or the tracker)."""
    return isinstance(value, str) and _ID_RE.match(value) is not None


def id_time_ms(value: str) -> int:
    """The creation time, in ms since the epoch, encoded in a valid id."""
    result = 0
    for char in value[:_TIME_CHARS]:
        result = (result << 5) | _DECODE[char]
    return result
