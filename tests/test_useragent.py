"""collector.enrich.useragent: browser, OS and device from real user-agent strings."""

from __future__ import annotations

import pytest

from collector.enrich.useragent import UAInfo, parse_user_agent

CHROME_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.6367.91 Safari/537.36"
)
SAFARI_MAC = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4.1 Safari/605.1.15"
)
FIREFOX_LINUX = "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0"
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1"
)
SAFARI_IPAD = (
    "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/16.6 Mobile/15E148 Safari/604.1"
)
SAMSUNG_PHONE = (
    "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.6367.82 Mobile Safari/537.36"
)
SAMSUNG_TABLET = (
    "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.6367.82 Safari/537.36"
)
REDUCED_ANDROID = (
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Mobile Safari/537.36"
)
SMART_TV = (
    "Mozilla/5.0 (SMART-TV; Linux; Tizen 6.0) AppleWebKit/537.36 (KHTML, like Gecko) "
    "SamsungBrowser/4.0 Chrome/76.0.3809.146 TV Safari/537.36"
)
PLAYSTATION = (
    "Mozilla/5.0 (PlayStation; PlayStation 5/2.26) AppleWebKit/605.1.15 (KHTML, like Gecko)"
)
EDGE_WINDOWS = CHROME_WINDOWS + " Edg/124.0.2478.67"
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


def test_chrome_on_windows_is_a_desktop() -> None:
    assert parse_user_agent(CHROME_WINDOWS) == UAInfo(
        browser="Chrome",
        browser_version="124.0.6367",
        os="Windows",
        os_version="10",
        device_type="desktop",
        device_brand=None,
        device_model=None,
        is_bot=False,
    )


def test_edge_is_not_mistaken_for_chrome() -> None:
    info = parse_user_agent(EDGE_WINDOWS)
    assert (info.browser, info.browser_version) == ("Edge", "124.0.2478")


def test_safari_on_mac_has_apple_device_and_macos_version() -> None:
    info = parse_user_agent(SAFARI_MAC)
    assert (info.browser, info.browser_version) == ("Safari", "17.4.1")
    assert (info.os, info.os_version) == ("Mac OS X", "10.15.7")
    assert (info.device_type, info.device_brand, info.device_model) == ("desktop", "Apple", "Mac")


def test_firefox_on_linux_is_a_desktop() -> None:
    info = parse_user_agent(FIREFOX_LINUX)
    assert (info.browser, info.browser_version, info.os) == ("Firefox", "125.0", "Ubuntu")
    assert info.device_type == "desktop"


def test_iphone_is_a_mobile_apple_device() -> None:
    info = parse_user_agent(SAFARI_IPHONE)
    assert (info.browser, info.os, info.os_version) == ("Mobile Safari", "iOS", "17.4.1")
    assert (info.device_type, info.device_brand, info.device_model) == (
        "mobile",
        "Apple",
        "iPhone",
    )


def test_ipad_is_a_tablet() -> None:
    info = parse_user_agent(SAFARI_IPAD)
    assert (info.device_type, info.device_brand, info.device_model) == ("tablet", "Apple", "iPad")


def test_android_phone_is_mobile_with_brand_and_model() -> None:
    info = parse_user_agent(SAMSUNG_PHONE)
    assert (info.browser, info.os, info.os_version) == ("Chrome Mobile", "Android", "14")
    assert (info.device_type, info.device_brand, info.device_model) == (
        "mobile",
        "Samsung",
        "SM-S918B",
    )


def test_android_without_mobile_token_is_a_tablet() -> None:
    info = parse_user_agent(SAMSUNG_TABLET)
    # uap has no rule for this model: its "Generic_Android_Tablet" brand placeholder is dropped
    assert (info.device_type, info.device_brand, info.device_model) == ("tablet", None, "SM-X700")


def test_reduced_chrome_android_user_agent_has_no_fake_model() -> None:
    info = parse_user_agent(REDUCED_ANDROID)
    assert (info.browser, info.os, info.device_type) == ("Chrome Mobile", "Android", "mobile")
    assert (info.device_brand, info.device_model) == (None, None)  # not "Generic_Android", "K"


@pytest.mark.parametrize("ua", [SMART_TV, PLAYSTATION])
def test_tvs_and_consoles_are_other_devices(ua: str) -> None:
    assert parse_user_agent(ua).device_type == "other"


def test_googlebot_is_a_bot_without_device_brand() -> None:
    info = parse_user_agent(GOOGLEBOT)
    assert info.is_bot is True
    assert (info.browser, info.browser_version, info.device_type) == ("Googlebot", "2.1", "bot")
    assert (info.device_brand, info.device_model) == (None, None)


@pytest.mark.parametrize("ua", [None, "", "   "])
def test_missing_user_agent_gives_empty_info(ua: str | None) -> None:
    assert parse_user_agent(ua) == UAInfo()


def test_unknown_user_agent_has_none_instead_of_other() -> None:
    info = parse_user_agent("zzqx-unknown-agent 42")
    assert (info.browser, info.os, info.device_brand, info.device_model) == (None,) * 4
    assert info.device_type == "other"
    assert info.is_bot is False


def test_versions_stop_at_the_first_missing_part() -> None:
    assert parse_user_agent(CHROME_WINDOWS).os_version == "10"  # no minor in "Windows NT 10.0"
    assert parse_user_agent("curl/7.29.0").browser_version == "7.29.0"
    assert parse_user_agent("Wget/1.14 (linux-gnu)").browser_version == "1.14"


def test_repeated_user_agent_is_served_from_the_cache() -> None:
    first = parse_user_agent(FIREFOX_LINUX)
    assert parse_user_agent(FIREFOX_LINUX) is first
    assert parse_user_agent("  " + FIREFOX_LINUX + " ") is first  # surrounding blanks ignored


def test_huge_user_agent_is_parsed_from_its_start() -> None:
    info = parse_user_agent(CHROME_WINDOWS + " x" * 50_000)
    assert (info.browser, info.device_type) == ("Chrome", "desktop")
