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


# ---------------------------------------------------------------------------------------------
# Every reference of untrusted CSS resolved or removed (the replay viewer's copy)

Resolve = Callable[[str, str], str | None]
"""``(reference as written, base URL) -> the URL to use instead, or None to remove it``."""

_URL_ARG = r"""\(\s*(?:"(?P<{0}dq>[^"]*)"|'(?P<{0}sq>[^']*)'|(?P<{0}bare>[^)"'\s]*))\s*\)"""
_REF_RE = re.compile(
    r"@import\s+(?:url" + _URL_ARG.format("i") + r"""|"(?P<idq2>[^"]*)"|'(?P<isq2>[^']*)')"""
    r"(?P<rest>[^;{}]*);?"
    r"|url" + _URL_ARG.format("u") + r"|(?P<set>(?:-webkit-)?image-set\()",
    re.IGNORECASE,
)
_HEX_ESCAPE_RE = re.compile(r"\\([0-9a-fA-F]{1,6})[ \t\n]?|\\([g-zG-Z])")
DROPPED_URL = "none"  # what a removed url() becomes: valid wherever an image is


def _unescape_letters(css: str) -> str:
    """CSS escapes of ASCII letters written as the letters (the same CSS), so ``\\75 rl(`` or
    ``@\\69mport`` cannot hide a reference from the patterns below."""

    def letter(match: re.Match[str]) -> str:
        if match.group(2):
            return match.group(2)
        code = int(match.group(1), 16)
        return chr(code) if code < 128 and chr(code).isalpha() else match.group(0)

    return _HEX_ESCAPE_RE.sub(letter, css) if "\\" in css else css


def _quoted(url: str) -> str:
    return '"' + url.translate(_CSS_UNSAFE) + '"'


def _image_set_end(css: str, start: int) -> int:
    """The index after the ``)`` closing the function whose arguments start at ``start``."""
    depth, pos, quote = 1, start, ""
    while pos < len(css) and depth:
        char = css[pos]
        if quote:
            quote = "" if char == quote else quote
            pos += 1 if char != "\\" else 2
            continue
        if char in "\"'":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        pos += 1
    return pos


_STRING_RE = re.compile(r""""([^"\\]*)"|'([^'\\]*)'""")


def _image_set_strings(args: str, base: str, resolve: Resolve) -> str:
    """The strings directly inside ``image-set(...)`` arguments are URLs (not those of a nested
    ``type("image/avif")``)."""
    out, depth, pos, last = [], 0, 0, 0
    while pos < len(args):
        char = args[pos]
        match = _STRING_RE.match(args, pos) if char in "\"'" else None
        if match is None:
            depth += (char == "(") - (char == ")")
            pos += 1
            continue
        if depth == 0:
            ref = match.group(1) if match.group(1) is not None else match.group(2)
            new = resolve(ref, base)
            out.append(args[last:pos] + _quoted(new if new is not None else "data:,"))
            last = match.end()
        pos = match.end()
    return "".join(out) + args[last:]


def _ref_of(match: re.Match[str], groups: tuple[str, ...]) -> str:
    for group in groups:
        value = match.group(group)
        if value is not None:
            return value
    return ""


_IMPORT_GROUPS = ("idq", "isq", "ibare", "idq2", "isq2")
_URL_GROUPS_U = ("udq", "usq", "ubare")


def sanitize_css(css: str, base: str, resolve: Resolve) -> str:
    """``css`` with every ``@import``, ``url()`` and ``image-set()`` reference replaced by what
    ``resolve`` answers; a reference it refuses is removed (an ``@import`` rule goes, a
    ``url()`` becomes ``none``). Unlike :func:`rewrite_css`, nothing is left as it was."""
    css = _unescape_letters(css)
    out, pos = [], 0
    while (match := _REF_RE.search(css, pos)) is not None:
        out.append(css[pos : match.start()])
        pos = match.end()
        if match.group("set"):
            end = _image_set_end(css, pos)
            args = _image_set_strings(css[pos:end], base, resolve)
            out.append(match.group(0) + sanitize_css(args, base, resolve))
            pos = end
        elif match.group(0)[0] == "@":
            new = resolve(_ref_of(match, _IMPORT_GROUPS), base)
            out.append("" if new is None else f"@import url({_quoted(new)}){match.group('rest')};")
        else:
            new = resolve(_ref_of(match, _URL_GROUPS_U), base)
            out.append(DROPPED_URL if new is None else f"url({_quoted(new)})")
    out.append(css[pos:])
    return "".join(out)
