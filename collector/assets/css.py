"""References in CSS text: ``url()``, ``@import`` and ``@font-face`` URLs, made absolute,
and rewriting them."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from urllib.parse import urljoin, urlsplit

MAX_URL_LENGTH = 2048

_URL_RE = re.compile(
    r"""url\(\s*(?:"(?P<dq>[^"]*)"|'(?P<sq>[^']*)'|(?P<bare>[^)"'\s]*))\s*\)"""
    r"""|@import\s+(?:"(?P<idq>[^"]*)"|'(?P<isq>[^']*)')""",
    re.IGNORECASE,
)
_URL_GROUPS = ("dq", "sq", "bare", "idq", "isq")
_COMMENT_RE = re.compile(r"/\*.*?\*/", re.DOTALL)
_FONT_FACE_RE = re.compile(r"@font-face\s*\{([^}]*)\}", re.IGNORECASE)
_IMPORT_RE = re.compile(
    r"""@import\s+(?:url\(\s*(?:"([^"]*)"|'([^']*)'|([^)"'\s]*))\s*\)|"([^"]*)"|'([^']*)')""",
    re.IGNORECASE,
)
_CSS_UNSAFE = str.maketrans(
    {'"': "%22", "'": "%27", "(": "%28", ")": "%29", " ": "%20", "\\": "%5C", "\n": "%0A"}
)


def _absolute(ref: str, base: str) -> str | None:
    """``ref`` resolved against ``base`` when that gives an http(s) URL; fragment dropped."""
    ref = ref.strip()
    if not ref or ref.startswith("#") or len(ref) > MAX_URL_LENGTH:
        return None
    try:
        url = urljoin(base, ref)
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return parts._replace(fragment="").geturl()


def _match_ref(match: re.Match[str]) -> tuple[str, str] | None:
    """The URL of a :data:`_URL_RE` match and the group it is in."""
    for group in _URL_GROUPS:
        value = match.group(group)
        if value is not None:
            return group, value
    return None


def font_urls(css: str, base: str) -> Iterator[str]:
    """Absolute URLs of the ``url()`` references inside ``@font-face`` rules of ``css``."""
    if "@font-face" not in css.lower():
        return
    for block in _FONT_FACE_RE.finditer(_COMMENT_RE.sub("", css)):
        for match in _URL_RE.finditer(block.group(1)):
            found = _match_ref(match)
            url = _absolute(found[1], base) if found else None
            if url:
                yield url


def import_urls(css: str, base: str) -> Iterator[str]:
    """Absolute URLs of the ``@import`` rules of ``css``."""
    for match in _IMPORT_RE.finditer(_COMMENT_RE.sub("", css)):
        ref = next((g for g in match.groups() if g is not None), "")
        url = _absolute(ref, base)
        if url:
            yield url


def rewrite_css(css: str, base: str, replace: Callable[[str], str | None]) -> str:
    """``css`` with every ``url()`` / ``@import`` reference whose absolute URL ``replace`` maps
    (to a non-``None`` string) replaced by that string; other references are left as they are."""

    def one(match: re.Match[str]) -> str:
        found = _match_ref(match)
        if found is None:
            return match.group(0)
        group, ref = found
        url = _absolute(ref, base)
        new = replace(url) if url else None
        if new is None:
            return match.group(0)
        start, end = match.span(group)
        offset = match.start()
        whole = match.group(0)
        return whole[: start - offset] + new.translate(_CSS_UNSAFE) + whole[end - offset :]

    return _URL_RE.sub(one, css)
