"""Replay assets: stylesheets and fonts a recorded page used, fetched and kept by content hash.

The recorder inlines what it can read; a cross-origin ``<link rel=stylesheet>`` keeps its
``href`` and fonts stay ``url()`` references inside ``@font-face``. After a chunk is stored,
:class:`AssetCollector` extracts those URLs (:func:`asset_urls`), :class:`AssetFetcher` downloads
them under strict rules and :class:`AssetStore` keeps them in files named by sha256. The viewer
can then ask for the stream with the URLs rewritten to the stored copies
(:func:`rewrite_asset_urls`).

Fetching is SSRF-hardened: the URLs come from recorded pages, that is from anyone who knows a
site key. Only http(s), no credentials in the URL. Every address the host resolves to must be
public (loopback, private, shared, link-local, multicast, reserved and unspecified are refused,
also as IPv4-mapped, 6to4, Teredo or NAT64 addresses) unless it lies in ``allowed_networks``;
one refused address refuses the host. DNS rebinding: the socket connects to the vetted address
itself (``http.client`` never resolves the name again; the name is only sent as ``Host`` and,
over TLS, as SNI and for certificate checking), so the answer cannot change between check and
use. Environment proxies are not used. Redirects are followed by hand, at most
:data:`MAX_REDIRECTS`, each target vetted again. Bodies stop at ``max_bytes`` (nothing stored),
the whole download has a deadline, only CSS and font types are kept, and a stylesheet's own
references are followed at most :data:`MAX_NESTED_REFS` per sheet, :data:`MAX_NESTED_DEPTH`
deep and :data:`MAX_DOWNLOADS` in all. Name resolution itself (``getaddrinfo``) cannot be
given a timeout.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import ipaddress
import logging
import os
import queue
import re
import socket
import ssl
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import urljoin, urlsplit

import msgspec

log = logging.getLogger("clicktrail.assets")

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Link = Callable[[int, str, dict[str, str]], None]

ASSET_PREFIX = "/replay-assets/"
MAX_REDIRECTS = 3
MAX_URL_LENGTH = 2048
MAX_NESTED_REFS = 32  # url()s followed inside one fetched stylesheet
MAX_NESTED_DEPTH = 2  # sheet -> @import'ed sheet -> its fonts, and no further
MAX_DOWNLOADS = 64  # downloads one top-level fetch may cause, nested ones included
FONT_TYPES = frozenset(
    {
        "application/font-woff",
        "application/font-woff2",
        "application/x-font-woff",
        "application/x-font-ttf",
        "application/x-font-otf",
        "application/x-font-opentype",
        "application/vnd.ms-fontobject",
    }
)
_FONT_TYPE_BY_EXTENSION = {
    ".woff2": "font/woff2",
    ".woff": "font/woff",
    ".ttf": "font/ttf",
    ".otf": "font/otf",
    ".eot": "application/vnd.ms-fontobject",
}
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_USER_AGENT = "Clicktrail-AssetFetcher/1.0"

# ---------------------------------------------------------------------------------------------
# CSS: url() references, @font-face blocks, rewriting

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
_MAYBE_ASSETS_RE = re.compile(rb"stylesheet|url\(|@import", re.IGNORECASE)
_CSS_UNSAFE = str.maketrans(
    {'"': "%22", "'": "%27", "(": "%28", ")": "%29", " ": "%20", "\\": "%5C", "\n": "%0A"}
)
_HASH_RE = re.compile(r"[0-9a-f]{64}")


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
# rrweb event walking: one walker for extraction and rewriting


class _Visitor:
    """Callbacks of :func:`_walk_events`; a non-``None`` answer replaces the visited value."""

    def css(self, text: str, base: str) -> str | None:
        return None

    def link(self, href: str, base: str) -> str | None:
        return None


class _DomIds:
    """Node ids the walk needs to understand later mutations (rrweb never reuses an id)."""

    def __init__(self) -> None:
        self.styles: set[int] = set()  # <style> elements
        self.style_texts: set[int] = set()  # text nodes holding CSS
        self.sheet_links: set[int] = set()  # <link rel=stylesheet> elements


def _is_stylesheet_rel(rel: Any) -> bool:
    return isinstance(rel, str) and "stylesheet" in rel.lower().split()


def _visit_css_field(holder: dict, key: str, base: str, visitor: _Visitor) -> None:
    value = holder.get(key)
    if isinstance(value, str):
        new = visitor.css(value, base)
        if new is not None:
            holder[key] = new


def _visit_element(node: dict, base: str, ids: _DomIds, visitor: _Visitor) -> str:
    tag = node.get("tagName")
    tag = tag.lower() if isinstance(tag, str) else ""
    attrs = node.get("attributes")
    node_id = node.get("id")
    if tag == "style" and isinstance(node_id, int):
        ids.styles.add(node_id)
    if not isinstance(attrs, dict):
        return tag
    href = attrs.get("href")
    own_base = (_absolute(href, base) or base) if isinstance(href, str) else base
    _visit_css_field(attrs, "_cssText", own_base, visitor)
    if tag == "link" and _is_stylesheet_rel(attrs.get("rel")):
        if isinstance(node_id, int):
            ids.sheet_links.add(node_id)
        _visit_link_href(attrs, base, visitor)
    return tag


def _visit_link_href(attrs: dict, base: str, visitor: _Visitor) -> None:
    href = attrs.get("href")
    if isinstance(href, str) and "_cssText" not in attrs:
        new = visitor.link(href, base)
        if new is not None:
            attrs["href"] = new


def _visit_text(node: dict, parent_tag: str | None, base: str, ids: _DomIds, v: _Visitor) -> None:
    if not (node.get("isStyle") or parent_tag == "style"):
        return
    node_id = node.get("id")
    if isinstance(node_id, int):
        ids.style_texts.add(node_id)
    _visit_css_field(node, "textContent", base, v)


def _walk_tree(
    root: Any, parent_tag: str | None, base: str, ids: _DomIds, visitor: _Visitor
) -> None:
    """Visit a serialized node tree depth-first in document order, without recursion."""
    stack: list[tuple[Any, str | None]] = [(root, parent_tag)]
    while stack:
        node, parent = stack.pop()
        if not isinstance(node, dict):
            continue
        kind = node.get("type")
        if kind == 3:
            _visit_text(node, parent, base, ids, visitor)
            continue
        tag = _visit_element(node, base, ids, visitor) if kind == 2 else None
        children = node.get("childNodes")
        if isinstance(children, list) and children:
            stack.extend((child, tag) for child in reversed(children))


def _dicts(value: Any) -> Iterator[dict]:
    if isinstance(value, list):
        yield from (item for item in value if isinstance(item, dict))


def _walk_mutation(data: dict, base: str, ids: _DomIds, visitor: _Visitor) -> None:
    for add in _dicts(data.get("adds")):
        parent = "style" if add.get("parentId") in ids.styles else None
        _walk_tree(add.get("node"), parent, base, ids, visitor)
    for text in _dicts(data.get("texts")):
        if text.get("id") in ids.style_texts:
            _visit_css_field(text, "value", base, visitor)
    for change in _dicts(data.get("attributes")):
        attrs = change.get("attributes")
        if not isinstance(attrs, dict):
            continue
        _visit_css_field(attrs, "_cssText", base, visitor)
        if change.get("id") in ids.sheet_links:
            _visit_link_href(attrs, base, visitor)


def _walk_incremental(data: dict, base: str, ids: _DomIds, visitor: _Visitor) -> None:
    source = data.get("source")
    if source == 0:  # Mutation
        _walk_mutation(data, base, ids, visitor)
    elif source == 8:  # StyleSheetRule (CSSOM insertRule / replace)
        for add in _dicts(data.get("adds")):
            _visit_css_field(add, "rule", base, visitor)
        _visit_css_field(data, "replace", base, visitor)
        _visit_css_field(data, "replaceSync", base, visitor)
    elif source == 15:  # AdoptedStyleSheet
        for style in _dicts(data.get("styles")):
            for rule in _dicts(style.get("rules")):
                _visit_css_field(rule, "rule", base, visitor)


def _walk_events(events: Any, page_url: str, visitor: _Visitor) -> None:
    """Visit stylesheet links and CSS text of an rrweb event array, in stream order."""
    if not isinstance(events, list):
        return
    base = page_url
    ids = _DomIds()
    for event in _dicts(events):
        data = event.get("data")
        if not isinstance(data, dict):
            continue
        kind = event.get("type")
        if kind == 4:  # Meta: the page the following snapshot belongs to
            href = data.get("href")
            base = (_absolute(href, page_url) if isinstance(href, str) else None) or page_url
        elif kind == 2:  # FullSnapshot
            ids = _DomIds()
            _walk_tree(data.get("node"), None, base, ids, visitor)
        elif kind == 3:
            _walk_incremental(data, base, ids, visitor)


class _Collect(_Visitor):
    def __init__(self) -> None:
        self.urls: dict[str, None] = {}

    def css(self, text: str, base: str) -> None:
        for url in font_urls(text, base):
            self.urls.setdefault(url)

    def link(self, href: str, base: str) -> None:
        url = _absolute(href, base)
        if url:
            self.urls.setdefault(url)


class _Rewrite(_Visitor):
    def __init__(self, mapping: dict[str, str], prefix: str) -> None:
        self.mapping = mapping
        self.prefix = prefix
        self.changed = False

    def _replacement(self, url: str) -> str | None:
        sha = self.mapping.get(url)
        if not sha:
            return None
        self.changed = True
        return self.prefix + sha

    def css(self, text: str, base: str) -> str | None:
        new = rewrite_css(text, base, self._replacement)
        return new if new != text else None

    def link(self, href: str, base: str) -> str | None:
        url = _absolute(href, base)
        return self._replacement(url) if url else None


def _decode(events_json: bytes) -> Any:
    """The decoded JSON, or ``None`` when malformed or nested deeper than the interpreter's
    recursion limit allows msgspec (about 480 DOM levels: each is an object and a list)."""
    try:
        return msgspec.json.decode(events_json)
    except (msgspec.DecodeError, RecursionError):
        return None


def asset_urls(events_json: bytes, page_url: str) -> list[str]:
    """Absolute http(s) URLs of the stylesheets the recorder could not inline and of the fonts
    in ``@font-face`` rules of inlined CSS, in order of appearance, without duplicates.

    Relative references resolve against the Meta event's ``href`` (``page_url`` before the first
    Meta event), CSS text of a ``<link>`` against the sheet's own ``href`` when it kept one.
    Malformed JSON gives ``[]``. A chunk without ``stylesheet``, ``url(`` or ``@import`` in its
    bytes is answered without decoding.
    """
    if not _MAYBE_ASSETS_RE.search(events_json):
        return []
    collect = _Collect()
    _walk_events(_decode(events_json), page_url, collect)
    return list(collect.urls)


def rewrite_asset_urls(
    events_json: bytes, mapping: dict[str, str], prefix: str = ASSET_PREFIX
) -> bytes:
    """``events_json`` with the URLs of ``mapping`` (url -> sha256) replaced by ``prefix`` +
    sha256 in stylesheet ``<link href>`` attributes and ``url()`` references of CSS text.

    The input itself (not a copy) when ``mapping`` is empty, when nothing was replaced, or when
    the bytes are not a JSON array.
    """
    if not mapping:
        return events_json
    events = _decode(events_json)
    if not isinstance(events, list):
        return events_json
    rewrite = _Rewrite(mapping, prefix)
    _walk_events(events, _first_meta_href(events), rewrite)
    return msgspec.json.encode(events) if rewrite.changed else events_json


def _first_meta_href(events: list) -> str:
    for event in _dicts(events):
        data = event.get("data")
        if event.get("type") == 4 and isinstance(data, dict) and isinstance(data.get("href"), str):
            return data["href"]
    return ""


# ---------------------------------------------------------------------------------------------
# Content-addressed store


def is_asset_hash(text: Any) -> bool:
    """Whether ``text`` is a sha256 in lowercase hex: the only names :class:`AssetStore` opens."""
    return isinstance(text, str) and _HASH_RE.fullmatch(text) is not None


_CONTENT_TYPE_RE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*(; ?[ -~]*)?")


class AssetStore:
    """Files named by the sha256 of their bytes under ``root`` (``ab/cdef…``), each with its
    content type beside it (``ab/cdef….type``). Writes are atomic (temporary file, then
    ``os.replace``) and idempotent: the same bytes are stored once, the first type wins."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    def _paths(self, sha256: str) -> tuple[Path, Path]:
        shard = self.root / sha256[:2]
        return shard / sha256[2:], shard / f"{sha256[2:]}.type"

    def put(self, body: bytes, content_type: str) -> str:
        """Store ``body``; returns its sha256. ``ValueError`` for a malformed content type."""
        if len(content_type) > 200 or not _CONTENT_TYPE_RE.fullmatch(content_type.lower()):
            raise ValueError(f"invalid content type {content_type!r}")
        sha256 = hashlib.sha256(body).hexdigest()
        body_path, type_path = self._paths(sha256)
        if body_path.exists():
            return sha256
        body_path.parent.mkdir(parents=True, exist_ok=True)
        _write_atomic(type_path, content_type.encode("ascii"))  # first: a body implies a type
        _write_atomic(body_path, body)
        return sha256

    def get(self, sha256: str) -> tuple[str, bytes] | None:
        """``(content_type, body)``, or ``None`` when absent or ``sha256`` is not 64 lowercase
        hex digits (nothing else is ever turned into a path)."""
        if not is_asset_hash(sha256):
            return None
        body_path, type_path = self._paths(sha256)
        try:
            body = body_path.read_bytes()
            content_type = type_path.read_text("ascii").strip()
        except (FileNotFoundError, UnicodeDecodeError):
            return None
        return content_type or "application/octet-stream", body

    def has(self, sha256: str) -> bool:
        return is_asset_hash(sha256) and self._paths(sha256)[0].exists()


def _write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


# ---------------------------------------------------------------------------------------------
# Address vetting


def _embedded(addr: IPAddress) -> list[IPAddress]:
    """What to judge for ``addr``: itself and the IPv4 addresses it carries (6to4, Teredo, NAT64
    64:ff9b::/96), or only the IPv4 address of an IPv4-mapped one."""
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped:
        return [addr.ipv4_mapped]  # ::ffff:0:0/96 itself counts as private: judge the IPv4
    found: list[IPAddress] = [addr]
    if isinstance(addr, ipaddress.IPv6Address):
        if addr.sixtofour:
            found.append(addr.sixtofour)
        if addr.teredo:
            found.extend(addr.teredo)
        if addr in _NAT64:
            found.append(ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF))
    return found


_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def is_public_address(addr: IPAddress) -> bool:
    """False for loopback, private, link-local, multicast, reserved, unspecified, shared
    (100.64/10) and every other non-global address, also when embedded in an IPv6 address."""
    return not any(
        a.is_loopback
        or a.is_private
        or a.is_link_local
        or a.is_multicast
        or a.is_reserved
        or a.is_unspecified
        or not a.is_global
        for a in _embedded(addr)
    )


class _Refused(Exception):
    """An asset is not fetched; the message says why (logged, never raised to callers)."""


def _parse_address(text: str) -> IPAddress:
    return ipaddress.ip_address(text.split("%", 1)[0])  # drop an IPv6 zone id


# ---------------------------------------------------------------------------------------------
# HTTP on a vetted address


class _Target(NamedTuple):
    scheme: str
    host: str
    port: int
    path: str


def _target(url: str) -> _Target:
    """The parts of an http(s) URL needed for a request; :class:`_Refused` otherwise."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise _Refused(f"malformed URL ({exc})") from None
    if parts.scheme not in ("http", "https"):
        raise _Refused(f"scheme {parts.scheme!r} is not http(s)")
    if not parts.hostname:
        raise _Refused("no host")
    if parts.username is not None or parts.password is not None:
        raise _Refused("credentials in URL")
    if len(url) > MAX_URL_LENGTH:
        raise _Refused("URL too long")
    default = 443 if parts.scheme == "https" else 80
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return _Target(parts.scheme, parts.hostname, port or default, path)


class _PinnedHTTP(http.client.HTTPConnection):
    """An HTTP connection to a given address; ``host`` only names it (Host header)."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    """An HTTPS connection to a given address; SNI and the certificate check use ``host``."""

    def __init__(
        self, host: str, port: int, address: str, timeout: float, context: ssl.SSLContext
    ) -> None:
        super().__init__(host, port, timeout=timeout, context=context)
        self._address = address

    def connect(self) -> None:
        raw = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(raw, server_hostname=self.host)


def _accepted_type(header: str | None, url: str) -> tuple[str, str]:
    """``(kind, content type to store)`` where kind is ``css`` or ``font``; else refused."""
    media, _, params = (header or "").partition(";")
    media = media.strip().lower()
    if media == "text/css":
        charset = re.search(r"charset=\"?([A-Za-z0-9._-]+)", params)
        return "css", f"text/css; charset={charset.group(1)}" if charset else "text/css"
    if media.startswith("font/") and _CONTENT_TYPE_RE.fullmatch(media):
        return "font", media
    if media in FONT_TYPES:
        return "font", media
    extension = os.path.splitext(urlsplit(url).path.lower())[1]
    if media == "application/octet-stream" and extension in _FONT_TYPE_BY_EXTENSION:
        return "font", _FONT_TYPE_BY_EXTENSION[extension]
    raise _Refused(f"content type {media or 'missing'!r} is neither CSS nor a font")


def _read_capped(response: http.client.HTTPResponse, max_bytes: int, deadline: float) -> bytes:
    """The body, or :class:`_Refused` past ``max_bytes``, past ``deadline`` or when cut short."""
    declared = response.getheader("Content-Length", "")
    if declared.strip().isdigit() and int(declared) > max_bytes:
        raise _Refused(f"Content-Length {declared} over {max_bytes} bytes")
    chunks: list[bytes] = []
    size = 0
    while chunk := response.read1(65536):
        size += len(chunk)
        if size > max_bytes:
            raise _Refused(f"body over {max_bytes} bytes")
        if time.monotonic() > deadline:
            raise _Refused("timed out reading the body")
        chunks.append(chunk)
    if declared.strip().isdigit() and size != int(declared):
        raise _Refused("body shorter than its Content-Length")
    return b"".join(chunks)


class _Download(NamedTuple):
    url: str  # after redirects
    kind: str  # css | font
    content_type: str
    body: bytes


class _TTLCache:
    """url -> sha256 (or ``None`` for a failure, kept for a shorter time), LRU-bounded."""

    def __init__(self, ttl_s: float, failure_ttl_s: float, max_entries: int) -> None:
        self.ttl_s = ttl_s
        self.failure_ttl_s = failure_ttl_s
        self.max_entries = max_entries
        self._items: OrderedDict[str, tuple[float, str | None]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, url: str) -> tuple[bool, str | None]:
        """``(found, sha256 or None)``."""
        with self._lock:
            item = self._items.get(url)
            if item is None:
                return False, None
            if item[0] < time.monotonic():
                del self._items[url]
                return False, None
            self._items.move_to_end(url)
            return True, item[1]

    def put(self, url: str, sha256: str | None) -> None:
        ttl = self.ttl_s if sha256 else self.failure_ttl_s
        with self._lock:
            self._items[url] = (time.monotonic() + ttl, sha256)
            self._items.move_to_end(url)
            while len(self._items) > self.max_entries:
                self._items.popitem(last=False)


class _Budget:
    """How many more downloads one top-level fetch may start."""

    def __init__(self, downloads: int) -> None:
        self.left = downloads

    def take(self) -> bool:
        if self.left <= 0:
            return False
        self.left -= 1
        return True


class AssetFetcher:
    """Downloads stylesheets and fonts into an :class:`AssetStore` (see the module docstring
    for the rules). Thread-safe; one instance is shared by the collector's workers."""

    def __init__(
        self,
        store: AssetStore,
        allowed_networks: Iterable[IPNetwork] = (),
        max_bytes: int = 5 * 1024 * 1024,
        timeout_s: float = 10.0,
        *,
        cache_ttl_s: float = 3600.0,
        failure_ttl_s: float = 300.0,
        cache_entries: int = 10_000,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.store = store
        self.allowed_networks = tuple(allowed_networks)
        self.max_bytes = max_bytes
        self.timeout_s = timeout_s
        self._cache = _TTLCache(cache_ttl_s, failure_ttl_s, cache_entries)
        self._tls = tls or ssl.create_default_context()  # certificates verified

    def fetch(self, url: str) -> str | None:
        """The sha256 of the stored asset at ``url``, or ``None`` (the reason is logged).
        Never raises. A stylesheet's fonts and ``@import``s are fetched too and rewritten to
        ``/replay-assets/{sha256}`` inside the stored copy."""
        try:
            return self._fetch(url, 0, _Budget(MAX_DOWNLOADS))
        except Exception:
            log.exception("asset %s: unexpected error", url[:200])
            return None

    def _fetch(self, url: str, depth: int, budget: _Budget) -> str | None:
        found, sha256 = self._cache.get(url)
        if found and (sha256 is None or self.store.has(sha256)):
            return sha256
        if not budget.take():
            log.info("asset %s skipped: download budget of this fetch used up", url[:200])
            return None  # not cached: the URL itself is fine
        try:
            sha256 = self._store(self._download(url), depth, budget)
        except _Refused as exc:
            log.info("asset %s refused: %s", url[:200], exc)
            sha256 = None
        except (OSError, http.client.HTTPException, ValueError) as exc:
            log.info("asset %s failed: %s", url[:200], exc)
            sha256 = None
        self._cache.put(url, sha256)
        return sha256

    def _store(self, download: _Download, depth: int, budget: _Budget) -> str:
        body = download.body
        if download.kind == "css":
            body = self._self_contained(download.url, body, depth, budget)
        return self.store.put(body, download.content_type)

    def _self_contained(self, sheet_url: str, body: bytes, depth: int, budget: _Budget) -> bytes:
        """The sheet with its fonts and imports stored and pointed at, every other reference
        made absolute (the copy is served from another origin and path)."""
        text = body.decode("utf-8", "surrogateescape")  # round-trips any byte
        stored: dict[str, str] = {}
        if depth < MAX_NESTED_DEPTH:
            refs = dict.fromkeys([*import_urls(text, sheet_url), *font_urls(text, sheet_url)])
            for ref in list(refs)[:MAX_NESTED_REFS]:
                sha256 = self._fetch(ref, depth + 1, budget)
                if sha256:
                    stored[ref] = sha256

        def replace(url: str) -> str:
            return ASSET_PREFIX + stored[url] if url in stored else url

        return rewrite_css(text, sheet_url, replace).encode("utf-8", "surrogateescape")

    def _download(self, url: str) -> _Download:
        deadline = time.monotonic() + self.timeout_s
        current = url
        for _ in range(MAX_REDIRECTS + 1):
            target = _target(current)
            addresses = self._vetted_addresses(target.host, target.port)
            location = self._request(current, target, addresses, deadline)
            if isinstance(location, _Download):
                return location
            current = urljoin(current, location)
        raise _Refused(f"more than {MAX_REDIRECTS} redirects")

    def _vetted_addresses(self, host: str, port: int) -> list[str]:
        """Every address ``host`` resolves to, each checked; one forbidden address refuses."""
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as exc:
            raise _Refused(f"cannot resolve {host!r} ({exc})") from None
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        for text in addresses:
            addr = _parse_address(text)
            if not self._permitted(addr):
                raise _Refused(f"{host} resolves to {addr}, not a public address")
        if not addresses:
            raise _Refused(f"no address for {host!r}")
        return addresses

    def _permitted(self, addr: IPAddress) -> bool:
        """Public, or inside ``allowed_networks`` (an IPv4-mapped address as its IPv4 too)."""
        own = [addr]
        if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped:
            own.append(addr.ipv4_mapped)
        if any(a in net for a in own for net in self.allowed_networks):
            return True
        return is_public_address(addr)

    def _connection(self, target: _Target, address: str, timeout: float) -> Any:
        if target.scheme == "https":
            return _PinnedHTTPS(target.host, target.port, address, timeout, self._tls)
        return _PinnedHTTP(target.host, target.port, address, timeout)

    def _request(
        self, url: str, target: _Target, addresses: list[str], deadline: float
    ) -> _Download | str:
        """One GET to the first vetted address that accepts the connection: the download, or a
        redirect's ``Location``."""
        error: Exception = _Refused("no address answered")
        for address in addresses:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise _Refused("timed out")
            conn = self._connection(target, address, remaining)
            try:
                conn.connect()
            except OSError as exc:
                conn.close()
                error = exc  # unreachable or refused: try the next vetted address
                continue
            try:
                return self._exchange(conn, url, target, deadline)
            finally:
                conn.close()
        raise error

    def _exchange(self, conn: Any, url: str, target: _Target, deadline: float) -> _Download | str:
        headers = {
            "User-Agent": _USER_AGENT,
            "Accept": "text/css,font/*;q=0.9,*/*;q=0.1",
            "Accept-Encoding": "identity",
        }
        conn.request("GET", target.path, headers=headers)
        response = conn.getresponse()
        if response.status in _REDIRECT_STATUSES:
            location = response.getheader("Location")
            if not location:
                raise _Refused(f"HTTP {response.status} without Location")
            return location
        if response.status != 200:
            raise _Refused(f"HTTP {response.status}")
        encoding = (response.getheader("Content-Encoding") or "identity").strip().lower()
        if encoding != "identity":
            raise _Refused(f"Content-Encoding {encoding!r}")
        kind, content_type = _accepted_type(response.getheader("Content-Type"), url)
        body = _read_capped(response, self.max_bytes, deadline)
        return _Download(url, kind, content_type, body)


# ---------------------------------------------------------------------------------------------
# Background collection


class _Job(NamedTuple):
    brand_id: int
    replay_id: str
    events_json: bytes
    page_url: str


_STOP = object()


class AssetCollector:
    """Fetches the assets of stored replay chunks in background threads.

    :meth:`submit` never blocks: when the queue is full the chunk's assets are skipped (logged).
    For each chunk, at most ``max_urls`` URLs are fetched and ``link(brand_id, replay_id,
    {url: sha256})`` is called, from a worker thread, with those that were stored.
    """

    def __init__(
        self,
        fetcher: AssetFetcher,
        link: Link,
        workers: int = 2,
        *,
        queue_size: int = 1000,
        max_urls: int = 64,
    ) -> None:
        self.fetcher = fetcher
        self.link = link
        self.workers = workers
        self.max_urls = max_urls
        self._queue: queue.Queue[_Job | object] = queue.Queue(maxsize=queue_size)
        self._threads: list[threading.Thread] = []
        self._pending = 0
        self._idle = threading.Condition()
        self._stopped = False

    def start(self) -> None:
        if self._threads:
            return
        self._stopped = False
        for n in range(self.workers):
            thread = threading.Thread(target=self._run, name=f"assets-{n}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 10.0) -> bool:
        """Finish the queued chunks, then end the workers; ``False`` if ``timeout`` ran out."""
        with self._idle:
            self._stopped = True  # no job is queued after this
        deadline = time.monotonic() + timeout
        for _ in self._threads:
            try:  # after the pending jobs: they drain first
                self._queue.put(_STOP, timeout=max(0.0, deadline - time.monotonic()))
            except queue.Full:
                break
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        done = not any(thread.is_alive() for thread in self._threads)
        self._threads = []
        return done

    def submit(self, brand_id: int, replay_id: str, events_json: bytes, page_url: str) -> None:
        """Queue a stored chunk (before :meth:`start` too); returns at once."""
        with self._idle:
            if self._stopped:
                log.warning("asset collector stopped; assets of replay %s skipped", replay_id)
                return
            try:
                self._queue.put_nowait(_Job(brand_id, replay_id, events_json, page_url))
            except queue.Full:
                log.warning("asset queue full; assets of replay %s skipped", replay_id)
                return
            self._pending += 1

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait until every submitted chunk is processed; ``False`` on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def _done(self) -> None:
        with self._idle:
            self._pending -= 1
            if self._pending == 0:
                self._idle.notify_all()

    def _run(self) -> None:
        while (job := self._queue.get()) is not _STOP:
            try:
                self._process(job)  # type: ignore[arg-type]
            except Exception:
                log.exception("assets of replay %s failed", getattr(job, "replay_id", "?"))
            finally:
                self._done()

    def _process(self, job: _Job) -> None:
        urls = asset_urls(job.events_json, job.page_url)
        if len(urls) > self.max_urls:
            log.info(
                "replay %s: %d asset URLs, only %d fetched", job.replay_id, len(urls), self.max_urls
            )
            urls = urls[: self.max_urls]
        mapping = {url: sha for url in urls if (sha := self.fetcher.fetch(url))}
        if mapping:
            self.link(job.brand_id, job.replay_id, mapping)
