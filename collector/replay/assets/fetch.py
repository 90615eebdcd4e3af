"""Fetching is SSRF-hardened: the URLs come from recorded pages, that is from anyone who knows a
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

import http.client
import logging
import ssl
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any
from urllib.parse import urljoin

from collector.net import (
    IPNetwork,
    NotAllowed,
    Target,
    Unresolvable,
    pinned_connection,
    vetted_addresses,
)
from collector.replay.assets.css import font_urls, import_urls, rewrite_css
from collector.replay.assets.store import ASSET_PREFIX, AssetStore
from collector.replay.assets.transport import (
    Accept,
    _accepted_type,
    _Download,
    _NotPublic,
    _read_capped,
    _Refused,
    _target,
)

log = logging.getLogger("clicktrail.assets")

MAX_REDIRECTS = 3
MAX_NESTED_REFS = 32  # url()s followed inside one fetched stylesheet
MAX_NESTED_DEPTH = 2  # sheet -> @import'ed sheet -> its fonts, and no further
MAX_DOWNLOADS = 64  # downloads one top-level fetch may cause, nested ones included
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_USER_AGENT = "Clicktrail-AssetFetcher/1.0"


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
            sha256 = self._store(self.download(url), depth, budget)
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

    def download(self, url: str, accept: Accept = _accepted_type) -> _Download:
        """One download under the rules of the module docstring, without storing it; ``accept``
        judges the content type. Raises ``_Refused`` (its ``refusal`` says why), ``OSError``,
        ``http.client.HTTPException`` or ``ValueError``."""
        deadline = time.monotonic() + self.timeout_s
        current = url
        for _ in range(MAX_REDIRECTS + 1):
            target = _target(current)
            addresses = self._vetted_addresses(target.host, target.port)
            location = self._request(current, target, addresses, deadline, accept)
            if isinstance(location, _Download):
                return location
            current = urljoin(current, location)
        raise _Refused(f"more than {MAX_REDIRECTS} redirects")

    def _vetted_addresses(self, host: str, port: int) -> list[str]:
        """Every address ``host`` resolves to, each checked; one forbidden address refuses."""
        try:
            return vetted_addresses(host, port, self.allowed_networks)
        except NotAllowed as exc:
            raise _NotPublic(str(exc)) from None
        except Unresolvable as exc:
            raise _Refused(str(exc)) from None

    def _connection(self, target: Target, address: str, timeout: float) -> Any:
        return pinned_connection(target, address, timeout, self._tls)

    def _request(
        self, url: str, target: Target, addresses: list[str], deadline: float, accept: Accept
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
                return self._exchange(conn, url, target, deadline, accept)
            finally:
                conn.close()
        raise error

    def _exchange(
        self, conn: Any, url: str, target: Target, deadline: float, accept: Accept
    ) -> _Download | str:
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
        kind, content_type = accept(response.getheader("Content-Type"), url)
        body = _read_capped(response, self.max_bytes, deadline)
        return _Download(url, kind, content_type, body)
