"""The ``query`` parameter: a search of the metadata of leads and sales.

Grammar (terms separated by spaces; every term must match)::

    query  := term (" "+ term)*
    term   := key ":" value        the metadata's top-level ``key`` holds ``value``
            | word | '"' text '"'  the text appears anywhere in the metadata (any case)
    key    := [A-Za-z0-9_.-]{1,64} a top-level key, taken literally ("a.b" is one key)
    value  := word                 a JSON number, true, false or null as itself, and as text
            | '"' text '"'         text only

``plan:pro`` matches ``{"plan": "pro"}``; ``seats:5`` matches ``{"seats": 5}``,
``{"seats": 5.0}`` and ``{"seats": "5"}`` (values compare by JSON type and value);
``plan:"pro plus"`` matches ``{"plan": "pro plus"}``; ``annual`` matches a metadata object with
"annual" (or "Annual") anywhere in its JSON. Inside quotes, ``\\"`` is a quote and ``\\\\`` a
backslash. Metadata is stored decoded and re-encoded (``conversions/service.py``), so escapes
in what a client sent (``\\u00fc``) do not hide a value from either search.
"""

from __future__ import annotations

import re

import msgspec

from collector.errors import Invalid
from collector.query.model import Condition, Contains, HasValue, JsonValue

MAX_TERMS = 20
_TERM = re.compile(
    r'\s*(?:(?P<key>[A-Za-z0-9_.-]{1,64}):)?(?:"(?P<quoted>(?:[^"\\]|\\.)*)"|(?P<word>[^\s"]+))'
)
_LITERAL = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?|true|false|null")
_UNESCAPE = re.compile(r"\\(.)")


def conditions(text: str) -> list[Condition]:
    """The filters of a metadata search, or :class:`Invalid` saying where it is malformed."""
    found: list[Condition] = []
    position = 0
    text = text.strip()
    while position < len(text):
        match = _TERM.match(text, position)
        if match is None or match.end() == position:
            raise Invalid(
                f"`query`: cannot read {text[position : position + 30]!r} (at character "
                f'{position + 1}); write key:value, a word or a "quoted phrase"',
                param="query",
            )
        found.append(_condition(match))
        position = match.end()
        if position < len(text) and not text[position].isspace():
            raise Invalid(f"`query`: a space must follow character {position}", param="query")
        if len(found) > MAX_TERMS:
            raise Invalid(f"`query`: at most {MAX_TERMS} terms", param="query")
    return found


def _condition(match: re.Match[str]) -> Condition:
    quoted = match.group("quoted")
    value = _UNESCAPE.sub(r"\1", quoted) if quoted is not None else match.group("word")
    key = match.group("key")
    if key is None:
        return Contains("metadata", value)
    candidates: list[JsonValue] = [value]
    if quoted is None and _LITERAL.fullmatch(value):
        candidates += _literal(value)
    return HasValue("metadata", key, tuple(candidates))


def _literal(word: str) -> list[JsonValue]:
    """The number, true, false or null a word spells, when it is one a search can compare:
    a finite number, an integer within int64 (else the word is text only)."""
    try:
        value = msgspec.json.decode(word)
    except msgspec.DecodeError:  # a number out of range, such as 1e400
        return []
    if isinstance(value, int) and not isinstance(value, bool) and not -(2**63) <= value < 2**63:
        return []
    return [value]
