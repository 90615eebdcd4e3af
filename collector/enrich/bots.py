"""Bot detection: says why a hit looks automated, from its user agent.

One precompiled pattern covers headless browsers, HTTP libraries and crawler tokens, on top of
what ua-parser already recognises as a spider (:attr:`UAInfo.is_bot`).
"""

from __future__ import annotations

import functools
import re

from collector.enrich.useragent import UAInfo

MIN_UA_LENGTH = 12  # "Mozilla/5.0" alone (11) is not a browser

_HEADLESS = (
    r"headlesschrome|headless|phantomjs|slimerjs|puppeteer|playwright|selenium|webdriver"
    r"|chrome-lighthouse|jsdom/|cypress/|splash"
)
_LIBRARIES = (
    r"\bcurl/|\bwget/|python-requests|python-urllib|python-httpx|aiohttp/|\bhttpx/"
    r"|go-http-client|(?<![\w-])java/\d|apache-httpclient|okhttp|\baxios/|node-fetch"
    r"|\bundici|libwww-perl|\blwp-|scrapy|\bruby/|rest-client|faraday|guzzlehttp|\bphp/"
    r"|winhttp|\bdart/|\bdeno/|postmanruntime|insomnia/|httpie/|reqwest/|\bhttpclient/"
)
_CRAWLERS = (
    r"(?<!cu)bots?(?:\b|_)|crawl|spider|slurp|facebookcatalog|meta-external|mediapartners"
    r"|google-inspectiontool|googleother|feedfetcher|google favicon|apis-google"
    r"|google-read-aloud|google-extended|lighthouse|pagespeed|gtmetrix|pingdom|uptimerobot"
    r"|statuscake|site24x7|newrelicpinger|datadog|checkly|ahrefs|semrush|mj12|petalsearch"
    r"|bytespider|chatgpt-user|perplexity-user|claude-web|anthropic-ai|ccbot|ia_archiver"
    r"|archive\.org|heritrix|nutch|httrack|screaming frog|sitebulb|qwantify|w3c_validator"
    r"|validator\.nu|fetcher|scanner|monitor/"
)
_PREVIEWS = (
    r"facebookexternalhit|bingpreview|skypeuripreview|whatsapp/|embedly|iframely|vkshare"
    r"|slack-imgproxy|\bpreview\b"
)
_PATTERN = re.compile(
    rf"(?P<headless>{_HEADLESS})|(?P<library>{_LIBRARIES})|(?P<preview>{_PREVIEWS})"
    rf"|(?P<crawler>{_CRAWLERS})",
    re.IGNORECASE,
)

_LABELS = {
    "headless": "headless browser",
    "library": "http library",
    "preview": "link preview",
    "crawler": "known crawler",
}


def _token(text: str, start: int, end: int) -> str:
    """The product token around ``text[start:end]``: "YandexBot" for a "bot" match in
    "YandexBot/3.0", "curl" for "curl/", "unirest-java" for "java/1" in "unirest-java/1.3"."""
    slash = text.find("/", start, end)
    if slash > start:
        end = slash
    while end > start and not _is_word(text[end - 1]):
        end -= 1
    while start > 0 and _is_word(text[start - 1]):
        start -= 1
    while end < len(text) and _is_word(text[end]):
        end += 1
    return text[start:end][:60]


def _is_word(char: str) -> bool:
    """Whether ``char`` can be part of a product name."""
    return char.isalnum() or char in "-_."


def bot_reason(user_agent: str | None, ua: UAInfo) -> str | None:
    """``None`` for a human visitor, else a short reason the hit is automated:
    "empty user agent", "short user agent", "headless browser: puppeteer",
    "http library: curl", "known crawler: Googlebot".

    ``ua`` is :func:`collector.enrich.useragent.parse_user_agent` of the same string.
    """
    return _reason(user_agent or "", ua.is_bot or ua.device_type == "bot", ua.browser)


@functools.lru_cache(maxsize=20_000)
def _reason(user_agent: str, parser_says_bot: bool, browser: str | None) -> str | None:
    """The uncached check; user agents repeat a lot and the pattern costs ~0.1 ms a search."""
    text = user_agent.strip()
    if not text:
        return "empty user agent"
    if match := _PATTERN.search(text):
        kind = match.lastgroup or "crawler"
        return f"{_LABELS[kind]}: {_token(text, *match.span())}"
    if len(text) < MIN_UA_LENGTH:
        return "short user agent"
    if parser_says_bot:
        return f"known crawler: {browser or 'spider'}"
    return None
