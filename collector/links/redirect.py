"""``GET /g/{code}`` and ``GET /q/{code}``: a short link's redirect, the click recorded durably
before the answer.

Like ``POST /collect`` this is a plain ASGI callable on a hot path (``app.py`` sends the two
prefixes straight here). Links are remembered for a few seconds, found and missing alike, so a
redirect costs no read; the click goes through the group-commit writer, and the 302 leaves only
once it is stored. The trigger is in the path (``/q/`` is what QR codes encode), so nothing in
the query can change it, and nothing in the query can change the destination either: the short
URL's query is forwarded onto the destination's, and ``ct_id`` is always Clicktrail's.
"""

from __future__ import annotations

import functools
import html
import logging
import re
import time
from collections import OrderedDict
from urllib.parse import parse_qsl, quote_plus, urlencode, urlsplit, urlunsplit

import msgspec
from starlette.types import Receive, Scope, Send

from collector.enrich.click import HitContext, make_click, page_url_parts
from collector.enrich.netaddr import client_ip
from collector.enrich.useragent import parse_user_agent
from collector.http.client import raw_headers
from collector.http.errors import ApiError, error_body, send_error
from collector.ids import new_id
from collector.ingest.collect import Ingestor
from collector.links.misses import MissCounter
from collector.links.service import choose_link, is_live
from collector.links.visits import LinkVisit
from collector.storage.base import Brand, ShortLink

log = logging.getLogger("clicktrail.links")

CODE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
CACHE_SECONDS = 5.0
CACHE_SIZE = 50_000
REPEAT_WINDOW_MS = 3600 * 1000  # the same visitor and link within an hour: a repeat click
MAX_FORWARDED = 50  # query parameters forwarded from the short URL
MAX_FORWARDED_BYTES = 4096
CLICK_ID_PARAM = "ct_id"
_WANTED = {
    b"host",
    b"user-agent",
    b"referer",
    b"x-forwarded-for",
    b"accept-language",
    b"accept",
}
_NOT_FOUND_PAGE = (
    "<!doctype html><html lang=en><meta charset=utf-8>"
    "<meta name=viewport content='width=device-width,initial-scale=1'>"
    "<title>Link not found</title><body style='font:16px/1.5 system-ui,sans-serif;"
    "max-width:32rem;margin:15vh auto;padding:0 1rem;color:#222'>"
    "<h1 style='font-size:1.4rem'>This link does not exist</h1>"
    "<p>The short link <code>{code}</code> is unknown, has expired or was removed.</p>"
)


def forward_query(destination: str, query_string: bytes, click_id: str) -> tuple[str, str]:
    """(the URL the visitor is sent to, the same without ``ct_id``): the short URL's query
    parameters on top of the destination's (a name in both takes the short URL's value), and
    ``ct_id`` last."""
    if len(query_string) > MAX_FORWARDED_BYTES:
        query_string = b""  # too long to forward: none of it is
    head, query, tail = _destination_parts(destination, query_string)
    clean = f"{head}?{query}{tail}" if query else f"{head}{tail}"
    plain = click_id.isascii() and click_id.isalnum()  # our ids: nothing to quote
    tagged = f"{CLICK_ID_PARAM}={click_id if plain else quote_plus(click_id)}"
    full = f"{head}?{query}&{tagged}{tail}" if query else f"{head}?{tagged}{tail}"
    return full, clean


@functools.lru_cache(maxsize=1024)
def _destination_parts(destination: str, query_string: bytes) -> tuple[str, str, str]:
    """(the destination before its query, the query to send without ``ct_id``, ``#fragment`` or
    ""), as ``urlunsplit`` joins them. Cached: a link is mostly followed with the same query (a
    campaign's), and this costs more than the rest of a redirect's URL work."""
    parts = urlsplit(destination)
    forwarded: list[tuple[str, str]] = []
    if query_string:
        text = query_string.decode("latin-1")
        try:
            forwarded = parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_FORWARDED)
        except ValueError:
            forwarded = []  # more parameters than forwarded: none are
        forwarded = [(k, v) for k, v in forwarded if k != CLICK_ID_PARAM]
    if forwarded:
        names = {k for k, _ in forwarded}
        own = [
            (k, v)
            for k, v in parse_qsl(parts.query, keep_blank_values=True)
            if k not in names and k != CLICK_ID_PARAM
        ]
        query = urlencode(own + forwarded)
    else:
        query = parts.query
    head = urlunsplit(parts._replace(query="", fragment=""))
    return head, query, f"#{parts.fragment}" if parts.fragment else ""


def _language(accept: str | None) -> str | None:
    if not accept:
        return None
    first = accept.split(",", 1)[0].split(";", 1)[0].strip()
    return first[:35] or None


class LinkCache:
    """Links by code, found or not, for a few seconds (a change made here is seen at once:
    :meth:`forget`)."""

    def __init__(self, ttl: float = CACHE_SECONDS, size: int = CACHE_SIZE) -> None:
        self._ttl = ttl
        self._size = size
        self._links: dict[str, tuple[float, list[ShortLink]]] = {}

    def get(self, code: str) -> list[ShortLink] | None:
        found = self._links.get(code)
        if found is None or time.monotonic() - found[0] >= self._ttl:
            return None
        return found[1]

    def put(self, code: str, links: list[ShortLink]) -> None:
        if len(self._links) >= self._size:
            self._links.clear()
        self._links[code] = (time.monotonic(), links)

    def forget(self, code: str) -> None:
        self._links.pop(code, None)


class RepeatClicks:
    """When each (brand, visitor, link) was last followed, for the newest ones."""

    def __init__(self, size: int = 200_000) -> None:
        self._size = size
        self._last: OrderedDict[tuple[int, str, str], int] = OrderedDict()

    def seen(self, brand_id: int, visitor_id: str, link_id: str, now_ms: int) -> bool:
        """True when the same visitor followed the same link within the window; records now."""
        key = (brand_id, visitor_id, link_id)
        before = self._last.get(key)
        self._last[key] = now_ms
        self._last.move_to_end(key)
        if len(self._last) > self._size:
            self._last.popitem(last=False)
        return before is not None and now_ms - before <= REPEAT_WINDOW_MS


class Redirector:
    """Everything the redirects need, built once by the runtime."""

    def __init__(
        self,
        ingestor: Ingestor,
        misses: MissCounter,
        cache: LinkCache | None = None,
    ) -> None:
        self.ingestor = ingestor
        self.misses = misses
        self.cache = cache or LinkCache()
        self.repeats = RepeatClicks()

    async def links_for(self, code: str) -> list[ShortLink]:
        found = self.cache.get(code)
        if found is None:
            found = await self.ingestor.blocking(self.ingestor.store.links_by_code, code)
            self.cache.put(code, found)
        return found

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope["path"]
        trigger = "qr" if path.startswith("/q/") else "link"
        code = path[3:]
        headers = raw_headers(scope, _WANTED)
        host = headers.get(b"host", "").rsplit(":", 1)[0].lower() or None
        now_ms = self.ingestor.clock()
        link = None
        if CODE.match(code):
            link = choose_link(await self.links_for(code), host)
        brand = await self.brand_of(link) if link is not None else None
        if link is None or brand is None or not is_live(link, now_ms):
            self.misses.count(link.brand_id if link else 0, code[:64])
            await _not_found(send, code[:64], _wants_json(headers.get(b"accept")))
            return
        ip = self.client_ip(scope, headers)
        try:
            self.ingestor.budgets.check_ingest(brand, ip)
        except ApiError as error:
            await send_error(send, error)
            return
        try:
            location = await self.record(scope, ip, headers, brand, link, trigger, now_ms)
        except Exception:
            # The visitor still reaches the destination: a lost count costs less than a lost
            # customer (docs/DECISIONS.md). The error is logged with the link.
            log.exception("the click on short link %s could not be stored", link.id)
            location = link.destination_url
        await send(
            {
                "type": "http.response.start",
                "status": 302,
                "headers": [
                    (b"location", location.encode("latin-1", "replace")),
                    (b"cache-control", b"no-store"),
                    (b"referrer-policy", b"no-referrer-when-downgrade"),
                    (b"content-length", b"0"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": b""})

    async def brand_of(self, link: ShortLink) -> Brand | None:
        brands = self.ingestor.brands
        if brands.is_fresh_id(link.brand_id):
            return brands.by_id(link.brand_id)
        return await self.ingestor.blocking(brands.by_id, link.brand_id)

    def client_ip(self, scope: Scope, headers: dict[bytes, str]) -> str | None:
        peer = scope.get("client")
        forwarded = headers.get(b"x-forwarded-for")
        return client_ip(peer[0] if peer else None, forwarded, self.ingestor.trusted_proxies)

    async def record(
        self,
        scope: Scope,
        ip: str | None,
        headers: dict[bytes, str],
        brand: Brand,
        link: ShortLink,
        trigger: str,
        now_ms: int,
    ) -> str:
        """Store the click of this redirect (durably) and give the destination to send to."""
        ingestor = self.ingestor
        user_agent = headers.get(b"user-agent")
        visitor_id = ingestor.cookieless.visitor_id(brand.id, ip, user_agent)
        session_id, opened = await ingestor.open_session(brand.id, visitor_id, None, now_ms)
        click_id = new_id(now_ms)
        location, url = forward_query(
            link.destination_url, scope.get("query_string", b""), click_id
        )
        dest_host = page_url_parts(url)[0]
        ctx = HitContext(
            brand=brand,
            visitor_id=visitor_id,
            session_id=session_id,
            ip=ip,
            user_agent=user_agent,
            ua=parse_user_agent(user_agent),
            geo=ingestor.geo.lookup(ip),
            now_ms=now_ms,
            accept_language=headers.get(b"accept-language"),
        )
        click = make_click(
            ctx,
            click_id=click_id,
            trigger=trigger,
            url=url,
            domain_id=await ingestor.domain_id(brand.id, dest_host),
            referrer=headers.get(b"referer"),
            created_at=now_ms,
            language=_language(headers.get(b"accept-language")),
            link_id=link.id,
            is_repeat=self.repeats.seen(brand.id, visitor_id, link.id, now_ms),
        )
        starts = frozenset((click_id,)) if opened else frozenset()
        await ingestor.writer.submit([click], [], session_starts=starts)
        ingestor.link_clicks.remember(LinkVisit.of(click, ip))
        return location


def _wants_json(accept: str | None) -> bool:
    """A client that asks for JSON and not HTML (a tool, not a browser) gets the JSON error."""
    return accept is not None and "json" in accept and "html" not in accept


async def _not_found(send: Send, code: str, as_json: bool) -> None:
    if as_json:
        body = msgspec.json.encode(error_body(404, f"no short link {code!r}", "not_found", None))
        content_type = b"application/json"
    else:
        body = _NOT_FOUND_PAGE.format(code=html.escape(code)).encode()
        content_type = b"text/html; charset=utf-8"
    await send(
        {
            "type": "http.response.start",
            "status": 404,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(body)).encode()),
                (b"cache-control", b"no-store"),
                (b"x-content-type-options", b"nosniff"),
                (b"content-security-policy", b"default-src 'none'; style-src 'unsafe-inline'"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
