"""Clean-up of JSON text that may hold invalid UTF-8 or lone UTF-16 surrogate escapes, so that
every JSON decoder (msgspec, the browser's JSON.parse) accepts it and every answer is UTF-8.

Cheap when there is nothing to do: ``isascii`` and a regex search run at C speed, and only text
that needs it is rewritten.
"""

from __future__ import annotations

import re

SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")  # where a lone one may be
# An escaped backslash (kept), a surrogate pair (kept), or a lone surrogate (replaced).
_ESCAPES = re.compile(
    rb"(\\\\)|(\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2})"
    rb"|\\u[dD][89a-fA-F][0-9a-fA-F]{2}"
)
_REPLACEMENT_ESCAPE = rb"\ufffd"


def valid_utf8(data: bytes) -> bytes:
    """``data`` with every invalid UTF-8 sequence replaced by U+FFFD."""
    if data.isascii():
        return data
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("utf-8", "replace").encode()
    return data


def _keep_escape_or_pair(match: re.Match[bytes]) -> bytes:
    return match[0] if match[1] or match[2] else _REPLACEMENT_ESCAPE


def without_lone_surrogates(json: bytes) -> bytes:
    """JSON text with every lone ``\\uD800``-``\\uDFFF`` escape replaced by ``\\ufffd``."""
    if SURROGATE_ESCAPE.search(json) is None:
        return json
    return _ESCAPES.sub(_keep_escape_or_pair, json)


def clean_json(json: bytes) -> bytes:
    """Valid UTF-8 without lone surrogate escapes (what every JSON decoder accepts)."""
    return without_lone_surrogates(valid_utf8(json))
