"""collector.enrich.bots: why a hit looks automated, and that real browsers are left alone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from collector.enrich.bots import bot_reason
from collector.enrich.useragent import parse_user_agent

# Browser families of uap-core's test_ua.yaml whose cases must not be flagged as bots
BROWSER_FAMILIES = {
    "Chrome",
    "Chrome Mobile",
    "Chrome Mobile iOS",
    "Chrome Mobile WebView",
    "Edge",
    "Edge Mobile",
    "Firefox",
    "Firefox Beta",
    "Firefox Mobile",
    "Firefox iOS",
    "Mobile Safari",
    "Mobile Safari UI/WKWebView",
    "Opera",
    "Opera Mini",
    "Opera Mobile",
    "Safari",
    "Samsung Internet",
    "UC Browser",
}

HUMANS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.67",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4.1 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Mobile Safari/537.36",
    # a Cubot phone: "bot" inside a brand name is not a crawler
    "Mozilla/5.0 (Linux; Android 9; CUBOT_X19) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/100.0.4896.127 Mobile Safari/537.36",
    # Facebook's in-app browser is a person on a phone, unlike facebookexternalhit
    "Mozilla/5.0 (Linux; Android 13; SM-S911B Build/TP1A.220624.014; wv) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Version/4.0 Chrome/124.0.6367.82 Mobile Safari/537.36 "
    "[FB_IAB/FB4A;FBAV/460.0.0.48.109;]",
]


@pytest.mark.parametrize("ua", HUMANS)
def test_common_browsers_are_not_bots(ua: str) -> None:
    assert bot_reason(ua, parse_user_agent(ua)) is None


@pytest.mark.parametrize(
    ("ua", "reason"),
    [
        (None, "empty user agent"),
        ("", "empty user agent"),
        ("   ", "empty user agent"),
        ("Mozilla/5.0", "short user agent"),
        ("-", "short user agent"),
    ],
)
def test_empty_and_very_short_user_agents_are_bots(ua: str | None, reason: str) -> None:
    assert bot_reason(ua, parse_user_agent(ua)) == reason


@pytest.mark.parametrize(
    ("ua", "reason"),
    [
        (
            "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
            "known crawler: Googlebot",
        ),
        (
            "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; bingbot/2.0; "
            "+http://www.bing.com/bingbot.htm) Chrome/116.0.1938.76 Safari/537.36",
            "known crawler: bingbot",
        ),
        ("Mediapartners-Google", "known crawler: Mediapartners-Google"),
        (
            "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
            "known crawler: AhrefsBot",
        ),
        (
            "Mozilla/5.0 (compatible; SemrushBot/7~bl; +http://www.semrush.com/bot.html)",
            "known crawler: SemrushBot",
        ),
        (
            "Mozilla/5.0 (Linux; Android 7.0; Moto G (4)) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/119.0.6045.199 Mobile Safari/537.36 Chrome-Lighthouse",
            "headless browser: Chrome-Lighthouse",
        ),
        (
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/120.0.0.0 Safari/537.36 PTST/1.0 GTmetrix",
            "known crawler: PTST",  # WebPageTest's token, which GTmetrix runs on: leftmost wins
        ),
        (
            "Mozilla/5.0+(compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)",
            "known crawler: UptimeRobot",
        ),
        (
            "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
            "link preview: facebookexternalhit",
        ),
        ("WhatsApp/2.23.20.0 A", "link preview: WhatsApp"),
    ],
)
def test_crawlers_and_link_previews_are_named(ua: str, reason: str) -> None:
    assert bot_reason(ua, parse_user_agent(ua)) == reason


@pytest.mark.parametrize(
    ("ua", "reason"),
    [
        (
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "HeadlessChrome/124.0.0.0 Safari/537.36",
            "headless browser: HeadlessChrome",
        ),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X) AppleWebKit/534.34 (KHTML, like Gecko) "
            "PhantomJS/2.1.1 Safari/534.34",
            "headless browser: PhantomJS",
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/124.0.0.0 Safari/537.36 Puppeteer",
            "headless browser: Puppeteer",
        ),
        ("curl/8.5.0", "http library: curl"),
        ("Wget/1.21.4", "http library: Wget"),
        ("python-requests/2.31.0", "http library: python-requests"),
        ("Python-urllib/3.11", "http library: Python-urllib"),
        ("Python/3.11 aiohttp/3.9.5", "http library: aiohttp"),
        ("python-httpx/0.27.0", "http library: python-httpx"),
        ("Go-http-client/2.0", "http library: Go-http-client"),
        ("Java/17.0.9", "http library: Java"),
        ("okhttp/4.12.0", "http library: okhttp"),
        ("axios/1.6.8", "http library: axios"),
        ("node-fetch/1.0 (+https://github.com/bitinn/node-fetch)", "http library: node-fetch"),
        ("libwww-perl/6.72", "http library: libwww-perl"),
        ("Scrapy/2.11.1 (+https://scrapy.org)", "http library: Scrapy"),
    ],
)
def test_headless_browsers_and_http_libraries_are_named(ua: str, reason: str) -> None:
    assert bot_reason(ua, parse_user_agent(ua)) == reason


def test_spider_known_only_to_the_parser_is_still_a_bot() -> None:
    ua = "Mozilla/5.0 (compatible; Vagabondo/4.0; webcrawler at wise-guys dot nl)"
    info = parse_user_agent(ua)
    assert info.is_bot
    assert bot_reason(ua, info) is not None


def _cases(testdata_dir: Path, name: str) -> list[dict[str, Any]]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load((testdata_dir / "useragents" / name).read_text(), Loader=loader)["test_cases"]


def test_no_real_browser_case_of_uap_core_is_flagged(testdata_dir: Path) -> None:
    cases = [c for c in _cases(testdata_dir, "test_ua.yaml") if c["family"] in BROWSER_FAMILIES]
    assert len(cases) > 80
    flagged = []
    for case in cases:
        ua = case["user_agent_string"]
        info = parse_user_agent(ua)
        reason = bot_reason(ua, info)
        # "Google Web Preview" poses as Chrome but is a fetcher the parser knows as a spider
        if reason is not None and not info.is_bot:
            flagged.append((reason, ua))
    assert flagged == []


def test_every_spider_of_uap_core_device_cases_is_flagged(testdata_dir: Path) -> None:
    spiders = [c for c in _cases(testdata_dir, "test_device.yaml") if c["family"] == "Spider"]
    assert len(spiders) > 50
    missed = [
        c["user_agent_string"]
        for c in spiders
        if bot_reason(c["user_agent_string"], parse_user_agent(c["user_agent_string"])) is None
    ]
    assert missed == []
