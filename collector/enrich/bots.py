"""Bot detection: says why a hit looks automated, from its user agent.

The patterns of the ``crawler-user-agents`` list (:mod:`collector.enrich.crawler_list`), a few
of our own for headless browsers and HTTP libraries the list lacks, and a rule for the
``(compatible; Name/1.0; +http://...)`` form no browser sends are compiled once into one RE2
pattern (a DFA: one pass over the string, ~6 us for a browser, where Python's ``re`` takes
~1.3 ms on 1,500 alternatives), and into one per reason label, searched only to name a bot
(~60 us). What ua-parser already recognises as a spider (:attr:`UAInfo.is_bot`) counts too.
"""

from __future__ import annotations

import functools
from typing import Any

import re2  # type: ignore[import-untyped]  # google-re2, also ua-parser's engine

from collector.enrich import crawler_list
from collector.enrich.useragent import UAInfo

MIN_UA_LENGTH = 12  # "Mozilla/5.0" alone (11) is not a browser

# Ours, case-insensitive, where the list has no pattern for them (each adds recall on uap-core).
_HEADLESS = (
    r"headlesschrome|headless|phantomjs|slimerjs|puppeteer|playwright|selenium|webdriver"
    r"|chrome-lighthouse|jsdom/|cypress/|splash"
)
_LIBRARIES = (
    r"\bcurl/|\bwget/|python-requests|python-urllib|python-httpx|aiohttp/|\bhttpx/"
    r"|go-http-client|(?:^|[^\w-])java/\d|apache-httpclient|okhttp|\baxios/|node-fetch"
    r"|\bundici|libwww-perl|\blwp-|scrapy|\bruby/|rest-client|faraday|guzzlehttp|\bphp/"
    r"|winhttp|\bdart/|\bdeno/|postmanruntime|insomnia/|httpie/|reqwest/|\bhttpclient/"
)
# Words only crawlers use, for the ones the list lacks (RSScrawler, SSL-Crawler in uap-core).
_CRAWLER_WORDS = r"crawl|spider"
# "(compatible; Name/1.0; +http://...)": a browser never names a product and a URL there.
_GENERIC = r"\(compatible; ?(?P<name>[a-z][\w.\- ]*?)/v?\d[\w.~\-]*; ?\+?https?://"

# RE2's default 8 MiB runs out of DFA states on the whole list, and RE2 then falls back to its
# slow NFA (it logs "DFA out of memory"); 64 MiB is an upper bound, used as states are built.
_RE2_MEMORY = 64 << 20

_LABELS = {
    "headless": "headless browser",
    "library": "http library",
    "preview": "link preview",
    "crawler": "known crawler",
    "generic": "known crawler",
}


def _alternation(patterns: list[str]) -> str:
    return "|".join(f"(?:{pattern})" for pattern in patterns)


def _re2(pattern: str) -> Any:
    options = re2.Options()
    options.max_mem = _RE2_MEMORY
    return re2.compile(pattern, options)


def _compile() -> tuple[Any, dict[str, Any], str]:
    """One pattern of everything (the fast "no" of a browser), and one per label to name a
    bot: ours case-insensitive, the list's as it is (case-sensitive, as its maintainers test it)."""
    listed = crawler_list.load()
    kinds = {
        "headless": _alternation([f"(?i:{_HEADLESS})", *listed.patterns["headless"]]),
        "library": _alternation([f"(?i:{_LIBRARIES})", *listed.patterns["library"]]),
        "preview": _alternation(listed.patterns["preview"]),
        "crawler": _alternation([*listed.patterns["crawler"], f"(?i:{_CRAWLER_WORDS})"]),
        "generic": f"(?i:{_GENERIC})",
    }
    anything = _re2("|".join(f"(?:{body})" for body in kinds.values()))
    return anything, {kind: _re2(body) for kind, body in kinds.items()}, listed.version


_ANY, _BY_KIND, LIST_VERSION = _compile()


def _token(text: str, start: int, end: int) -> str:
    """The product token around ``text[start:end]``: "YandexBot" for a "bot" match in
    "YandexBot/3.0", "curl" for "curl/", "unirest-java" for "java/1" in "unirest-java/1.3"."""
    while start < end and not _is_word(text[start]):
        start += 1
    slash = text.find("/", start, end)
    if slash > start:
        end = slash
    while end > start and not _is_word(text[end - 1]):
        end -= 1
    while start > 0 and _is_word(text[start - 1]):
        start -= 1
    while end < len(text) and _is_word(text[end]):
        end += 1
    return text[start:end][:60].rstrip("-_. ")


def _is_word(char: str) -> bool:
    """Whether ``char`` can be part of a product name."""
    return char.isalnum() or char in "-_."


def bot_reason(user_agent: str | None, ua: UAInfo) -> str | None:
    """``None`` for a human visitor, else a short reason the hit is automated:
    "empty user agent", "short user agent", "headless browser: puppeteer",
    "http library: curl", "link preview: WhatsApp", "known crawler: Googlebot".

    ``ua`` is :func:`collector.enrich.useragent.parse_user_agent` of the same string.
    """
    return _reason(user_agent or "", ua.is_bot or ua.device_type == "bot", ua.browser)


def _matched(text: str) -> str | None:
    """The reason the pattern gives for ``text``, or None."""
    if _ANY.search(text) is None:
        return None
    # The leftmost match names the bot; at one position the first kind wins.
    found = [
        (m.start(), i, kind, m)
        for i, (kind, p) in enumerate(_BY_KIND.items())
        if (m := p.search(text))
    ]
    _, _, kind, match = min(found, key=lambda row: row[:2])
    if kind == "generic":
        return f"{_LABELS[kind]}: {match.group('name').strip()[:60]}"
    return f"{_LABELS[kind]}: {_token(text, *match.span())}"


@functools.lru_cache(maxsize=20_000)
def _reason(user_agent: str, parser_says_bot: bool, browser: str | None) -> str | None:
    """The uncached check (~5 us; user agents repeat a lot, so it is cached)."""
    text = user_agent.strip()
    if not text:
        return "empty user agent"
    if reason := _matched(text):
        return reason
    if len(text) < MIN_UA_LENGTH:
        return "short user agent"
    if parser_says_bot:
        return f"known crawler: {browser or 'spider'}"
    return None
