"""Traffic-source classification of a hit: search, social, email, paid, direct or referral.

Decided from the landing page's query (ad click ids, ``utm_medium``) first, then from the
referrer's host, matched against the tables below by host suffix on label boundaries:
``google.co.uk`` and ``www.google.com`` are Google, ``notgoogle.com`` and ``google.evil.com``
are not. A ``.*`` key stands for any top-level domain, including two-part ones (``co.uk``,
``com.au``). The tables are module-level dicts, built once.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Literal
from urllib.parse import urlsplit

import msgspec

ReferrerType = Literal["search", "social", "email", "paid", "direct", "referral"]
Rule = tuple[ReferrerType, str | None]


class ReferrerInfo(msgspec.Struct, frozen=True):
    """Where a visit came from. ``name`` is the source ("Google", "Facebook", "Gmail"), ``None``
    for direct traffic and for plain referrals; ``host`` the lower-case referrer host."""

    type: ReferrerType = "direct"
    name: str | None = None
    host: str | None = None


# --- data tables -----------------------------------------------------------------------------


def _rules(kind: ReferrerType, names: Mapping[str, tuple[str, ...]]) -> dict[str, Rule]:
    """``{host key: (kind, name)}`` from ``{name: host keys}``."""
    return {host: (kind, name) for name, hosts in names.items() for host in hosts}


_SEARCH = _rules(
    "search",
    {
        "Bing": ("bing.com",),
        "DuckDuckGo": ("duckduckgo.com", "ddg.gg"),
        "Yahoo": ("search.yahoo.*",),
        "Baidu": ("baidu.com", "m.baidu.com"),
        "Yandex": ("yandex.*", "ya.ru"),
        "Ecosia": ("ecosia.org",),
        "Brave": ("search.brave.com",),
        "Startpage": ("startpage.com", "startpage.nl"),
        "Naver": ("search.naver.com", "m.search.naver.com"),
        "Seznam": ("search.seznam.cz", "seznam.cz"),
        "Qwant": ("qwant.com",),
        "Ask": ("ask.com",),
        "AOL": ("search.aol.*",),
        "Sogou": ("sogou.com",),
        "360 Search": ("so.com",),
        "Shenma": ("sm.cn",),
        "Daum": ("search.daum.net",),
        "Kagi": ("kagi.com",),
        "Mojeek": ("mojeek.com",),
        "Swisscows": ("swisscows.com",),
        "MetaGer": ("metager.org", "metager.de"),
        "Presearch": ("presearch.com",),
        "Lilo": ("search.lilo.org",),
    },
)

# Google: only its search hosts count as search (docs.google.com, sites.google.com... are
# referrals), so these must equal the whole host.
_SEARCH_EXACT = _rules(
    "search",
    {"Google": ("google.*", "www.google.*", "m.google.*", "images.google.*", "news.google.*")},
)

_SOCIAL = _rules(
    "social",
    {
        "Facebook": ("facebook.com", "fb.com", "fb.me", "fb.watch"),
        "Messenger": ("messenger.com", "m.me"),
        "Instagram": ("instagram.com",),
        "Threads": ("threads.net", "threads.com"),
        "X": ("t.co", "twitter.com", "x.com"),
        "LinkedIn": ("linkedin.com", "lnkd.in"),
        "Reddit": ("reddit.com", "redd.it"),
        "YouTube": ("youtube.com", "youtu.be"),
        "TikTok": ("tiktok.com",),
        "Pinterest": ("pinterest.*", "pin.it"),
        "Snapchat": ("snapchat.com",),
        "Bluesky": ("bsky.app", "bsky.social"),
        "Mastodon": ("mastodon.social", "mstdn.social"),
        "WhatsApp": ("whatsapp.com", "wa.me"),
        "Telegram": ("telegram.org", "telegram.me", "t.me"),
        "VK": ("vk.com", "vk.ru", "vk.me"),
        "Odnoklassniki": ("ok.ru",),
        "Weibo": ("weibo.com", "weibo.cn"),
        "Discord": ("discord.com", "discord.gg", "discordapp.com"),
        "Tumblr": ("tumblr.com",),
        "Quora": ("quora.com",),
        "Hacker News": ("news.ycombinator.com",),
        "Xing": ("xing.com",),
        "LINE": ("line.me",),
        "Twitch": ("twitch.tv",),
        "Douyin": ("douyin.com",),
        "Xiaohongshu": ("xiaohongshu.com",),
        "Nextdoor": ("nextdoor.com",),
        "Flickr": ("flickr.com",),
    },
)

_EMAIL = _rules(
    "email",
    {
        "Gmail": ("mail.google.com", "inbox.google.com"),
        "Outlook": (
            "outlook.live.com",
            "outlook.office.com",
            "outlook.office365.com",
            "outlook.cloud.microsoft",
            "mail.live.com",
        ),
        "Yahoo Mail": ("mail.yahoo.*",),
        "AOL Mail": ("mail.aol.com",),
        "Proton Mail": ("mail.proton.me", "mail.protonmail.com"),
        "Zoho Mail": ("mail.zoho.*",),
        "Yandex Mail": ("mail.yandex.*",),
        "Mail.ru": ("e.mail.ru", "touch.mail.ru"),
        "GMX": ("gmx.net", "gmx.de", "gmx.at", "gmx.ch", "gmx.com"),
        "WEB.DE": ("web.de",),
        "T-Online Mail": ("email.t-online.de",),
        "mail.com": ("mail.com",),
        "iCloud Mail": ("icloud.com",),
        "Fastmail": ("fastmail.com",),
        "Tuta": ("app.tuta.com", "mail.tutanota.com"),
        "QQ Mail": ("mail.qq.com", "exmail.qq.com"),
        "NetEase Mail": ("mail.163.com", "mail.126.com"),
        "Naver Mail": ("mail.naver.com",),
        "Daum Mail": ("mail.daum.net",),
        "Seznam Email": ("email.seznam.cz",),
        "HEY": ("app.hey.com",),
    },
)

# host (or subdomain of it) -> rule; more specific keys win (mail.google.com over google.*)
HOST_RULES: dict[str, Rule] = {**_SEARCH, **_SOCIAL, **_EMAIL}
# host exactly -> rule
EXACT_HOST_RULES: dict[str, Rule] = dict(_SEARCH_EXACT)

# ``android-app://PACKAGE/`` referrers (Chrome on Android, opened from an app)
APP_RULES: dict[str, Rule] = {
    "com.google.android.googlequicksearchbox": ("search", "Google"),
    "com.google.android.gm": ("email", "Gmail"),
    "com.microsoft.office.outlook": ("email", "Outlook"),
    "com.yahoo.mobile.client.android.mail": ("email", "Yahoo Mail"),
    "com.facebook.katana": ("social", "Facebook"),
    "com.facebook.lite": ("social", "Facebook"),
    "com.facebook.orca": ("social", "Messenger"),
    "com.instagram.android": ("social", "Instagram"),
    "com.twitter.android": ("social", "X"),
    "com.linkedin.android": ("social", "LinkedIn"),
    "com.reddit.frontpage": ("social", "Reddit"),
    "com.google.android.youtube": ("social", "YouTube"),
    "com.zhiliaoapp.musically": ("social", "TikTok"),
    "com.pinterest": ("social", "Pinterest"),
    "com.whatsapp": ("social", "WhatsApp"),
    "org.telegram.messenger": ("social", "Telegram"),
}

# Webmail served from a company's own domain: webmail.example.com, owa.example.com
_WEBMAIL_LABELS = frozenset({"webmail", "owa"})

# Second-level labels under which a country code forms a "TLD" (google.co.uk, google.com.au)
_SECOND_LEVELS = frozenset(
    {"co", "com", "org", "net", "ac", "gov", "edu", "ne", "or", "go", "gob", "gen", "ltd", "nic"}
)

# Ad click ids: (query parameter, ad network). The first one present wins.
_AD_CLICK_IDS: tuple[tuple[str, str], ...] = (
    ("gclid", "google"),
    ("gbraid", "google"),
    ("wbraid", "google"),
    ("msclkid", "microsoft"),
    ("ttclid", "tiktok"),
    ("fbclid", "facebook"),
)
# Click ids that only paid ads carry. fbclid is missing on purpose: Facebook and Instagram add
# it to every outbound link, organic posts included.
_PAID_CLICK_IDS: dict[str, str] = {
    "gclid": "Google",
    "gbraid": "Google",
    "wbraid": "Google",
    "dclid": "Google",
    "msclkid": "Microsoft",
    "ttclid": "TikTok",
    "twclid": "X",
    "li_fat_id": "LinkedIn",
    "ScCid": "Snapchat",
    "epik": "Pinterest",
    "yclid": "Yandex",
}

_PAID_MEDIUMS = frozenset(
    {
        "cpc",
        "ppc",
        "paid",
        "paidsearch",
        "paid_search",
        "paid-search",
        "paidsocial",
        "paid_social",
        "paid-social",
        "display",
        "banner",
        "cpm",
        "cpv",
        "cpa",
        "cpl",
        "cpp",
        "retargeting",
        "remarketing",
        "ads",
        "ad",
        "sem",
    }
)
_EMAIL_MEDIUMS = frozenset({"email", "e-mail", "e_mail", "mail", "newsletter", "edm"})
_SOCIAL_MEDIUMS = frozenset(
    {
        "social",
        "social-media",
        "social_media",
        "socialmedia",
        "social-network",
        "sm",
        "organic_social",
    }
)

# utm_source spellings -> source name
_SOURCE_NAMES: dict[str, str] = {
    "google": "Google",
    "adwords": "Google",
    "googleads": "Google",
    "bing": "Bing",
    "microsoft": "Microsoft",
    "facebook": "Facebook",
    "fb": "Facebook",
    "meta": "Facebook",
    "instagram": "Instagram",
    "ig": "Instagram",
    "tiktok": "TikTok",
    "linkedin": "LinkedIn",
    "twitter": "X",
    "x": "X",
    "reddit": "Reddit",
    "youtube": "YouTube",
    "pinterest": "Pinterest",
    "snapchat": "Snapchat",
    "gmail": "Gmail",
    "outlook": "Outlook",
}


# --- host matching ---------------------------------------------------------------------------

# a host name (IDN allowed) or an IP address (IPv6 without its brackets)
_HOST_RE = re.compile(r"^[\w-]+(?:\.[\w-]+)*$|^[0-9a-f:.]*:[0-9a-f:.]*$")


def _tld_length(labels: list[str]) -> int:
    """How many trailing labels form the top-level domain (2 for ``co.uk``, else 1)."""
    if len(labels) >= 3 and labels[-2] in _SECOND_LEVELS and len(labels[-1]) == 2:
        return 2
    return 1


def match_host(host: str) -> Rule | None:
    """The rule of the most specific table key matching ``host`` (lower case), if any."""
    labels = host.split(".")
    base = len(labels) - _tld_length(labels)  # labels before the TLD
    for i in range(len(labels)):
        keys = [".".join(labels[i:])]
        if i < base:
            keys.append(".".join(labels[i:base]) + ".*")
        for key in keys:
            if i == 0 and key in EXACT_HOST_RULES:
                return EXACT_HOST_RULES[key]
            if key in HOST_RULES:
                return HOST_RULES[key]
    if labels[0] in _WEBMAIL_LABELS:
        return ("email", None)
    return None


def _referrer_host(referrer: str | None) -> tuple[str | None, str]:
    """(lower-case host without port or trailing dot, URL scheme) of a referrer URL."""
    if not referrer or not (referrer := referrer.strip()):
        return None, ""
    bare = "://" not in referrer
    if bare:
        referrer = "//" + referrer  # "example.com/path"; "about:blank" or "garbage" fail below
    try:
        parts = urlsplit(referrer)
        host = (parts.hostname or "").rstrip(".")
    except ValueError:
        return None, ""
    if not _HOST_RE.match(host) or (bare and "." not in host):
        return None, ""
    return host, parts.scheme.lower()


def _same_site(host: str, page_host: str | None) -> bool:
    """Whether ``host`` is the page's own host (``www.`` ignored on both sides)."""
    if not page_host:
        return False
    page = page_host.lower().split(":")[0].rstrip(".")
    return host.removeprefix("www.") == page.removeprefix("www.")


def _param(query: Mapping[str, str], name: str) -> str | None:
    """A non-blank query parameter, by exact name or lower-case name."""
    value = query.get(name)
    if value is None and name != name.lower():
        value = query.get(name.lower())
    return value.strip() if isinstance(value, str) and value.strip() else None


def ad_click(query: Mapping[str, str]) -> tuple[str, str] | None:
    """``(ad network, click id)`` from the landing query: gclid (also gbraid, wbraid) ->
    google, msclkid -> microsoft, ttclid -> tiktok, fbclid -> facebook. ``None`` without one."""
    for param, network in _AD_CLICK_IDS:
        if value := _param(query, param):
            return network, value
    return None


def _source_name(query: Mapping[str, str], fallback: str | None) -> str | None:
    """Source name from ``utm_source`` (canonical spelling when known) or the fallback."""
    source = _param(query, "utm_source")
    if source is None:
        return fallback
    return _SOURCE_NAMES.get(source.lower()) or fallback or source[:100]


def _host_rule(host: str | None, scheme: str) -> Rule | None:
    """The table rule of a referrer host (``android-app://`` package ids included)."""
    if host is None:
        return None
    if scheme == "android-app":
        return APP_RULES.get(host)
    return match_host(host)


def _from_query(query: Mapping[str, str], rule: Rule | None) -> Rule | None:
    """Classification decided by the landing query alone (ad ids, ``utm_medium``), if any."""
    known = rule[1] if rule else None
    for param, name in _PAID_CLICK_IDS.items():
        if _param(query, param):
            return "paid", name
    medium = (_param(query, "utm_medium") or "").lower()
    if medium in _PAID_MEDIUMS or medium.startswith("paid"):
        fbclid = "Facebook" if _param(query, "fbclid") else None
        return "paid", _source_name(query, known or fbclid)
    if medium in _EMAIL_MEDIUMS:
        return "email", _source_name(query, known if rule and rule[0] == "email" else None)
    if medium in _SOCIAL_MEDIUMS:
        return "social", _source_name(query, known if rule and rule[0] == "social" else None)
    if _param(query, "fbclid"):  # organic Facebook/Instagram link
        return "social", known if rule and rule[0] == "social" else "Facebook"
    return None


@functools.lru_cache(maxsize=20_000)
def _source(referrer: str | None) -> tuple[str | None, Rule | None]:
    """The referrer's host and its rule, cached: most hits come from a few referrers."""
    host, scheme = _referrer_host(referrer)
    return host, _host_rule(host, scheme)


def classify_referrer(
    referrer: str | None, page_host: str | None, query: Mapping[str, str]
) -> ReferrerInfo:
    """Classify a hit's traffic source.

    Order: paid (ad click id other than fbclid, or a paid ``utm_medium`` such as cpc, display,
    paid_social), then email / social ``utm_medium``, then fbclid (organic Facebook), then the
    referrer: none, or the page's own host, is direct; known webmail, search engines and social
    networks by host; anything else is a referral.
    """
    host, rule = _source(referrer)
    decided = _from_query(query, rule)
    if decided is not None:
        return ReferrerInfo(type=decided[0], name=decided[1], host=host)
    if host is None or _same_site(host, page_host):
        return ReferrerInfo(type="direct", name=None, host=host)
    if rule is not None:
        return ReferrerInfo(type=rule[0], name=rule[1], host=host)
    return ReferrerInfo(type="referral", name=None, host=host)
