"""collector.enrich.referrer: traffic-source classification and ad click ids."""

from __future__ import annotations

import pytest

from collector.enrich.referrer import ReferrerInfo, ad_click, classify_referrer

PAGE = "shop.example.com"


def classify(referrer: str | None, **query: str) -> tuple[str, str | None]:
    info = classify_referrer(referrer, PAGE, query)
    return info.type, info.name


@pytest.mark.parametrize(
    ("referrer", "name"),
    [
        ("https://www.google.com/", "Google"),
        ("https://www.google.co.uk/search?q=shoes", "Google"),
        ("https://www.google.com.au/", "Google"),
        ("https://google.de/", "Google"),
        ("https://www.bing.com/search?q=x", "Bing"),
        ("https://duckduckgo.com/", "DuckDuckGo"),
        ("https://search.yahoo.com/search?p=x", "Yahoo"),
        ("https://r.search.yahoo.com/_ylt=abc", "Yahoo"),
        ("https://search.yahoo.co.jp/search?p=x", "Yahoo"),
        ("https://www.baidu.com/link?url=x", "Baidu"),
        ("https://yandex.ru/search/?text=x", "Yandex"),
        ("https://yandex.com.tr/", "Yandex"),
        ("https://www.ecosia.org/search?q=x", "Ecosia"),
        ("https://search.brave.com/search?q=x", "Brave"),
        ("https://www.startpage.com/", "Startpage"),
        ("https://search.naver.com/search.naver?query=x", "Naver"),
        ("https://search.seznam.cz/?q=x", "Seznam"),
        ("https://www.qwant.com/?q=x", "Qwant"),
        ("android-app://com.google.android.googlequicksearchbox/", "Google"),
    ],
)
def test_known_search_engines_are_search(referrer: str, name: str) -> None:
    assert classify(referrer) == ("search", name)


@pytest.mark.parametrize(
    ("referrer", "name"),
    [
        ("https://www.facebook.com/", "Facebook"),
        ("https://l.facebook.com/l.php?u=x", "Facebook"),
        ("https://m.facebook.com/", "Facebook"),
        ("https://lm.facebook.com/", "Facebook"),
        ("https://www.instagram.com/", "Instagram"),
        ("https://l.instagram.com/?u=x", "Instagram"),
        ("https://t.co/AbCd123", "X"),
        ("https://twitter.com/someone", "X"),
        ("https://x.com/someone/status/1", "X"),
        ("https://www.linkedin.com/feed/", "LinkedIn"),
        ("https://lnkd.in/abc", "LinkedIn"),
        ("https://www.reddit.com/r/python/", "Reddit"),
        ("https://out.reddit.com/t3_x", "Reddit"),
        ("https://www.youtube.com/watch?v=x", "YouTube"),
        ("https://youtu.be/x", "YouTube"),
        ("https://www.tiktok.com/@someone", "TikTok"),
        ("https://www.pinterest.com/pin/1/", "Pinterest"),
        ("https://www.pinterest.co.uk/pin/1/", "Pinterest"),
        ("https://www.snapchat.com/", "Snapchat"),
        ("https://www.threads.net/@someone", "Threads"),
        ("https://bsky.app/profile/someone", "Bluesky"),
        ("https://web.whatsapp.com/", "WhatsApp"),
        ("https://t.me/channel", "Telegram"),
        ("https://vk.com/wall1", "VK"),
        ("https://news.ycombinator.com/item?id=1", "Hacker News"),
        ("android-app://com.facebook.katana/", "Facebook"),
    ],
)
def test_known_social_networks_are_social(referrer: str, name: str) -> None:
    assert classify(referrer) == ("social", name)


@pytest.mark.parametrize(
    ("referrer", "name"),
    [
        ("https://mail.google.com/mail/u/0/", "Gmail"),
        ("https://outlook.live.com/mail/0/inbox", "Outlook"),
        ("https://outlook.office.com/mail/", "Outlook"),
        ("https://mail.yahoo.com/d/folders/1", "Yahoo Mail"),
        ("https://mail.proton.me/u/0/inbox", "Proton Mail"),
        ("android-app://com.google.android.gm/", "Gmail"),
        ("https://webmail.example.org/", None),
    ],
)
def test_webmail_referrers_are_email(referrer: str, name: str | None) -> None:
    assert classify(referrer) == ("email", name)


@pytest.mark.parametrize("medium", ["email", "newsletter", "Email"])
def test_email_utm_medium_is_email_named_by_utm_source(medium: str) -> None:
    assert classify(None, utm_medium=medium, utm_source="spring-sale") == ("email", "spring-sale")


def test_email_utm_medium_from_webmail_takes_the_webmail_name() -> None:
    assert classify("https://mail.google.com/", utm_medium="email") == ("email", "Gmail")


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ({"gclid": "Cj0KCQ"}, "Google"),
        ({"gbraid": "0AAAA"}, "Google"),
        ({"wbraid": "0AAAA"}, "Google"),
        ({"dclid": "CJb"}, "Google"),
        ({"msclkid": "5f3e"}, "Microsoft"),
        ({"ttclid": "E.C.P"}, "TikTok"),
    ],
)
def test_paid_click_ids_make_the_visit_paid(query: dict[str, str], name: str) -> None:
    assert classify_referrer("https://www.google.com/", PAGE, query).type == "paid"
    assert classify_referrer(None, PAGE, query) == ReferrerInfo("paid", name, None)


@pytest.mark.parametrize("medium", ["cpc", "ppc", "paid", "paidsearch", "paid_social", "display"])
def test_paid_utm_medium_makes_the_visit_paid(medium: str) -> None:
    assert classify("https://www.bing.com/", utm_medium=medium) == ("paid", "Bing")


def test_paid_utm_source_is_named_with_its_canonical_spelling() -> None:
    assert classify(None, utm_medium="cpc", utm_source="fb") == ("paid", "Facebook")
    assert classify(None, utm_medium="cpm", utm_source="Acme DSP") == ("paid", "Acme DSP")


def test_fbclid_alone_is_organic_facebook_social() -> None:
    assert classify(None, fbclid="IwAR0abc") == ("social", "Facebook")
    assert classify("https://l.facebook.com/", fbclid="IwAR0abc") == ("social", "Facebook")


def test_fbclid_from_instagram_keeps_the_instagram_name() -> None:
    assert classify("https://l.instagram.com/", fbclid="IwAR0abc") == ("social", "Instagram")


def test_fbclid_with_paid_utm_medium_is_paid_facebook() -> None:
    assert classify(None, fbclid="IwAR0abc", utm_medium="paid_social") == ("paid", "Facebook")


def test_social_utm_medium_is_social() -> None:
    assert classify(None, utm_medium="social", utm_source="linkedin") == ("social", "LinkedIn")


def test_no_referrer_is_direct() -> None:
    assert classify_referrer(None, PAGE, {}) == ReferrerInfo("direct", None, None)
    assert classify_referrer("", PAGE, {}) == ReferrerInfo("direct", None, None)


def test_internal_navigation_is_direct() -> None:
    info = classify_referrer("https://shop.example.com/cart", PAGE, {})
    assert info == ReferrerInfo("direct", None, "shop.example.com")
    assert classify("https://www.shop.example.com/") == ("direct", None)


@pytest.mark.parametrize("referrer", ["about:blank", "garbage", "javascript:void(0)", "https:///"])
def test_referrer_without_a_host_is_direct(referrer: str) -> None:
    assert classify_referrer(referrer, PAGE, {}) == ReferrerInfo("direct", None, None)


@pytest.mark.parametrize(
    "referrer",
    [
        "https://notgoogle.com/",
        "https://google.evil.com/",
        "https://docs.google.com/document/d/1",
        "https://blog.example.org/post",
        "https://example.com/",
        "https://myfacebook.com/",
        "https://t.com/",
    ],
)
def test_other_sites_are_referrals_without_a_name(referrer: str) -> None:
    assert classify(referrer) == ("referral", None)


def test_referrer_host_is_lower_case_without_port() -> None:
    info = classify_referrer("HTTPS://WWW.Reddit.COM:443/r/x", PAGE, {})
    assert info == ReferrerInfo("social", "Reddit", "www.reddit.com")


def test_referral_keeps_its_host() -> None:
    info = classify_referrer("https://Blog.Example.org/post?id=1", PAGE, {})
    assert info == ReferrerInfo("referral", None, "blog.example.org")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"gclid": "Cj0KCQ"}, ("google", "Cj0KCQ")),
        ({"gbraid": "0AAA"}, ("google", "0AAA")),
        ({"fbclid": "IwAR0"}, ("facebook", "IwAR0")),
        ({"msclkid": "5f3e"}, ("microsoft", "5f3e")),
        ({"ttclid": "E.C.P"}, ("tiktok", "E.C.P")),
        ({"gclid": "Cj0", "fbclid": "IwAR0"}, ("google", "Cj0")),
    ],
)
def test_ad_click_returns_network_and_click_id(
    query: dict[str, str], expected: tuple[str, str]
) -> None:
    assert ad_click(query) == expected


@pytest.mark.parametrize("query", [{}, {"utm_source": "google"}, {"gclid": ""}, {"gclid": " "}])
def test_ad_click_is_none_without_a_click_id(query: dict[str, str]) -> None:
    assert ad_click(query) is None
