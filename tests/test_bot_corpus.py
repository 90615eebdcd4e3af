"""Bot detection measured on public corpora: recall on crawler lists, false positives on real
browsers (docs/DECISIONS.md, "Bots caught", says what each corpus is and why)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from collector.enrich.bots import LIST_VERSION, bot_reason
from collector.enrich.crawler_list import DROPPED_PATTERNS, load
from collector.enrich.useragent import parse_user_agent

MIN_RECALL = 0.97
MAX_FALSE_POSITIVES = 0.001

# uap-core families of test_ua.yaml whose user agents look like a browser's but whose own name
# says they are automation (monitors, scanners, crawlers, headless browsers, site copiers):
# uap-core labels them bots by name, not by its "Spider" device, so they are not real browsers.
AUTOMATION_FAMILIES = {
    "Catchpoint",
    "HeadlessChrome",
    "HTTrack",
    "Monitis",
    "msnbot",
    "OpenVAS Scanner",
    "PhantomJS",
    "PHPCrawl",
    "PingdomBot",
    "RSScrawler",
    "SSL-Crawler",
    "Ruxit Synthetic",
    "Web-sniffer",
}


def _reason(ua: str) -> str | None:
    return bot_reason(ua, parse_user_agent(ua))


def _uap_cases(testdata_dir: Path, name: str) -> list[dict[str, Any]]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    text = (testdata_dir / "useragents" / name).read_text()
    cases: list[dict[str, Any]] = yaml.load(text, Loader=loader)["test_cases"]
    return cases


def _recall(agents: list[str]) -> tuple[float, list[str]]:
    missed = [ua for ua in agents if _reason(ua) is None]
    return 1 - len(missed) / len(agents), missed


def test_recall_on_the_crawler_lists_instances() -> None:
    """Every example user agent the list ships (2,100+), except those of the patterns we drop."""
    listed = load()
    assert len(listed.instances) > 2000
    recall, missed = _recall(listed.instances)
    assert recall >= MIN_RECALL, (LIST_VERSION, missed[:20])
    dropped = [re.compile(p) for p in DROPPED_PATTERNS]
    assert all(any(p.search(ua) for p in dropped) for ua in missed), missed


def test_recall_on_uap_core_spiders(testdata_dir: Path) -> None:
    """uap-core's spiders: its test_device.yaml "Spider" cases and the test_ua.yaml cases its
    device rules name "Spider" (an outside list: none of these came from crawler-user-agents)."""
    devices = _uap_cases(testdata_dir, "test_device.yaml")
    agents = [c["user_agent_string"] for c in _uap_cases(testdata_dir, "test_ua.yaml")]
    spiders = [c["user_agent_string"] for c in devices if c["family"] == "Spider"]
    spiders += [ua for ua in agents if parse_user_agent(ua).is_bot]
    assert len(spiders) > 800
    recall, missed = _recall(spiders)
    assert recall >= MIN_RECALL, missed[:20]


def _browser_cases(testdata_dir: Path) -> list[dict[str, Any]]:
    """test_ua.yaml's cases that send what a browser sends ("Mozilla/..." or "Opera/..."),
    without uap-core's spiders and :data:`AUTOMATION_FAMILIES`."""
    return [
        case
        for case in _uap_cases(testdata_dir, "test_ua.yaml")
        if re.match(r"(Mozilla|Opera)/", case["user_agent_string"])
        and case["family"] not in AUTOMATION_FAMILIES
        and not parse_user_agent(case["user_agent_string"]).is_bot
    ]


def test_false_positives_on_uap_core_browsers(testdata_dir: Path) -> None:
    browsers = _browser_cases(testdata_dir)
    assert len(browsers) > 450
    flagged = [
        (case["family"], reason, case["user_agent_string"])
        for case in browsers
        if (reason := _reason(case["user_agent_string"])) is not None
    ]
    assert len(flagged) / len(browsers) <= MAX_FALSE_POSITIVES, flagged


def test_the_automation_families_left_out_of_the_browsers_are_flagged(testdata_dir: Path) -> None:
    cases = [
        c for c in _uap_cases(testdata_dir, "test_ua.yaml") if c["family"] in AUTOMATION_FAMILIES
    ]
    assert {c["family"] for c in cases} == AUTOMATION_FAMILIES
    assert [c["user_agent_string"] for c in cases if _reason(c["user_agent_string"]) is None] == []


@pytest.mark.parametrize(
    ("ua", "reason"),
    [
        ("Miniflux/2.0.50 (https://miniflux.app)", "known crawler: Miniflux"),
        ("Mastodon/4.2.8 (http.rb/5.1.1; +https://mastodon.social/)", "link preview: Mastodon"),
        ("CommaFeed/4.3.0 (https://github.com/Athou/commafeed)", "known crawler: CommaFeed"),
        ("Mozilla/5.0 zgrab/0.x", "known crawler: zgrab"),
        ("Mozilla/5.00 (Nikto/2.1.6) (Evasions:None) (Test:Port Check)", "known crawler: Nikto"),
        ("Mozilla/5.0 [en] (X11, U; OpenVAS 7.0.10)", "known crawler: OpenVAS"),
        (
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/120.0.0.0 Safari/537.36 NewRelicSynthetics/1.0",
            "known crawler: NewRelicSynthetics",
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/120.0.0.0 Safari/537.36 ThousandEyes-Dragonfly-x1",
            "known crawler: ThousandEyes-Dragonfly-x1",
        ),
        # the generic rule: a product and a URL in "(compatible; ...)", on no list
        (
            "Mozilla/5.0 (compatible; Zorblax/1.0; +https://zorblax.example/)",
            "known crawler: Zorblax",
        ),
        (
            "Mozilla/5.0 (compatible; Quux Reader/2.3.1; http://quux.example)",
            "known crawler: Quux Reader",
        ),
    ],
)
def test_the_crawlers_we_used_to_miss_are_named(ua: str, reason: str) -> None:
    assert _reason(ua) == reason


@pytest.mark.parametrize(
    "ua",
    [
        # "(compatible; ...)" without a product and a URL: old Internet Explorer, a person
        "Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 6.1; Trident/4.0; .NET CLR 2.0.50727)",
        "Mozilla/5.0 (compatible; MSIE 10.0; Windows NT 6.1; Trident/6.0)",
        # the browsers behind the patterns we drop from the list
        "Opera/9.80 (MAUI Runtime; Opera Mini/4.4.39008/37.9178; U; en) Presto/2.12.423 "
        "Version/12.16",
        "Mozilla/5.0 (iPad; U; CPU iPhone OS 7_0 like Mac OS X; de-DE) WIRED/3.2.3.11.87970",
        "Mozilla/5.0 (Linux; Android 15; CPH2617 Build/AP3A.240617.008) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/125.0.6422.72 Mobile Safari/537.36",
    ],
)
def test_near_misses_of_the_rules_are_people(ua: str) -> None:
    assert _reason(ua) is None
