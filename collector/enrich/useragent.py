"""User-agent parsing: browser, OS and device of a hit, from the ``User-Agent`` header.

Built directly on ``ua-parser`` (the uap-core rules). Its fastest installed resolver is used:
the pure-Python one by default, ``google-re2`` or ``ua-parser-rs`` when one of those is
installed (``pip install 'ua-parser[re2]'``), with no change to the results' shape. Results are
cached per user-agent string, since the same few strings make up most of the traffic.
"""

from __future__ import annotations

import functools
import re
from typing import Literal

import msgspec
import ua_parser
from ua_parser import OS, Device, Domain, UserAgent

DeviceType = Literal["desktop", "mobile", "tablet", "bot", "other"]

CACHE_SIZE = 20_000
MAX_UA_LENGTH = 1024  # longer headers are cut before parsing (bounds regex cost)

# TVs, set-top boxes and game consoles: device type "other"
_TV_OR_CONSOLE = re.compile(
    r"smart-?tv|hbbtv|\bTV Safari|googletv|android tv|\bcrkey\b|\bAFT[A-Z]|roku|appletv"
    r"|web0s|netcast|bravia|playstation|xbox|nintendo",
    re.IGNORECASE,
)

# Device families (ua-parser) that are tablets or phones outright.
_TABLET_DEVICES = frozenset(
    {"iPad", "Kindle", "Kindle Fire", "Kindle Fire HD", "Galaxy Tab", "Xoom", "Dell Streak"}
)
_MOBILE_DEVICES = frozenset(
    {"iPhone", "iPod", "Generic Smartphone", "Generic Feature Phone", "PlayStation Vita"}
)
_MOBILE_BROWSERS = frozenset(
    {
        "IE Mobile",
        "Opera Mobile",
        "Opera Mini",
        "Chrome Mobile",
        "Chrome Mobile WebView",
        "Chrome Mobile iOS",
        "Firefox Mobile",
        "Firefox iOS",
        "Mobile Safari",
        "Mobile Safari UI/WKWebView",
        "Samsung Internet",
        "UC Browser",
    }
)
_MOBILE_OSES = frozenset(
    {
        "iOS",
        "Android",
        "Windows Phone",
        "Windows Mobile",
        "Windows CE",
        "Symbian OS",
        "Symbian^3",
        "BlackBerry OS",
        "Bada",
        "Maemo",
        "Firefox OS",
        "KaiOS",
        "Tizen",
        "webOS",
        "HarmonyOS",
    }
)
_DESKTOP_OSES = frozenset(
    {
        "Windows",
        "Mac OS X",
        "Linux",
        "Ubuntu",
        "Debian",
        "Fedora",
        "Red Hat",
        "SUSE",
        "openSUSE",
        "Mint",
        "Arch Linux",
        "Gentoo",
        "Chrome OS",
        "FreeBSD",
        "OpenBSD",
        "NetBSD",
        "Solaris",
        "Windows 95",
        "Windows 98",
    }
)


class UAInfo(msgspec.Struct, frozen=True):
    """What a user-agent string says about the visitor's software and device."""

    browser: str | None = None
    browser_version: str | None = None
    os: str | None = None
    os_version: str | None = None
    device_type: DeviceType | None = None
    device_brand: str | None = None
    device_model: str | None = None
    is_bot: bool = False


EMPTY = UAInfo()


@functools.cache
def _resolver() -> ua_parser.Resolver:
    """The uncached ua-parser resolver, built on first use (compiling the rules takes ~0.1 s)."""
    best = ua_parser.BestAvailableResolver
    if best is ua_parser.BasicResolver:
        return best(ua_parser.load_builtins())
    return best(ua_parser.load_lazy_builtins())  # re2 / regex compile the rules themselves


def _known(value: str | None) -> str | None:
    """``None`` for ua-parser's "unknown" markers ("Other", empty)."""
    return None if not value or value == "Other" else value


def _version(*parts: str | None) -> str | None:
    """``"major.minor.patch"`` cut at the first missing part; ``None`` without a major."""
    kept: list[str] = []
    for part in parts:
        if not part:
            break
        kept.append(part)
    return ".".join(kept) or None


def _device_type(
    ua: str, browser: UserAgent | None, os: OS | None, dev: Device | None
) -> DeviceType:
    """Classify the device as desktop, mobile, tablet, bot or other (heuristics over the parse,
    after the ``user-agents`` package)."""
    device = dev.family if dev else ""
    os_family = os.family if os else ""
    browser_family = browser.family if browser else ""
    if device == "Spider":
        return "bot"
    if _TV_OR_CONSOLE.search(ua):
        return "other"
    if device in _TABLET_DEVICES or ("Tablet" in ua and "Tablet PC" not in ua):
        return "tablet"
    if os_family == "Android" and "Mobile" not in ua:
        return "tablet"  # Android tablets leave "Mobile" out of the UA; phones include it
    if device in _MOBILE_DEVICES or browser_family in _MOBILE_BROWSERS:
        return "mobile"
    if os_family in _MOBILE_OSES or "Mobi" in ua or "J2ME" in ua or "MIDP" in ua:
        return "mobile"
    if os_family in _DESKTOP_OSES or "Windows NT" in ua or ("X11" in ua and "Linux" in ua):
        return "desktop"
    return "other"


def _brand_model(dev: Device | None) -> tuple[str | None, str | None]:
    """Device brand and model, with uap's placeholders dropped: "Generic*" brands (the model
    stays when it is a real one, e.g. "SM-X700") and the "K" model of Chrome's reduced Android
    user agent ("Linux; Android 10; K")."""
    if dev is None:
        return None, None
    brand, model = _known(dev.brand), _known(dev.model)
    if brand and brand.startswith("Generic"):
        if brand == "Generic" or model == "K":
            model = None
        brand = None
    return brand, model


@functools.lru_cache(maxsize=CACHE_SIZE)
def _parse(ua: str) -> UAInfo:
    """Parse one (non-empty, length-capped) user-agent string."""
    result = _resolver()(ua, Domain.ALL).complete()
    browser, os, dev = result.user_agent, result.os, result.device
    device_type = _device_type(ua, browser, os, dev)
    is_bot = device_type == "bot"
    brand, model = (None, None) if is_bot else _brand_model(dev)
    return UAInfo(
        browser=_known(browser.family) if browser else None,
        browser_version=_version(browser.major, browser.minor, browser.patch) if browser else None,
        os=_known(os.family) if os else None,
        os_version=_version(os.major, os.minor, os.patch) if os else None,
        device_type=device_type,
        device_brand=brand,
        device_model=model,
        is_bot=is_bot,
    )


def parse_user_agent(ua: str | None) -> UAInfo:
    """Browser, OS and device of a ``User-Agent`` header; all-``None`` fields when unknown.

    Cached (LRU, ``CACHE_SIZE`` entries). Never raises. Bots recognised by the uap rules get
    ``device_type="bot"`` and ``is_bot=True`` (see :mod:`collector.enrich.bots` for the wider
    check).
    """
    if not ua or not (ua := ua.strip()):
        return EMPTY
    return _parse(ua[:MAX_UA_LENGTH])
