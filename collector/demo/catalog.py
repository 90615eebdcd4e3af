"""What the sample visitors are made of: addresses by country, browsers, sources, campaigns,
pages and the demo's short links. Plain tables; :mod:`collector.demo.plan` draws from them."""

from __future__ import annotations

from typing import NamedTuple

# One public address per country, with the visitors' weight: DB-IP's City Lite database (the
# version geo/package.json pins) resolves its whole /24 to the country's capital or main city,
# and each visitor gets an address of it.
COUNTRY_ADDRESSES: tuple[tuple[str, str, float], ...] = (
    ("US", "153.40.159.205", 26.0),  # New York
    ("GB", "25.24.232.17", 11.0),  # London
    ("DE", "89.13.197.171", 10.0),  # Berlin
    ("FR", "90.122.30.207", 7.0),  # Paris
    ("CA", "130.107.238.6", 5.0),  # Toronto
    ("NL", "94.157.201.248", 4.0),  # Amsterdam
    ("AU", "203.2.19.94", 4.0),  # Sydney
    ("ES", "15.217.4.117", 3.5),  # Madrid
    ("IT", "16.23.163.1", 3.5),  # Milan
    ("SE", "194.114.178.152", 3.0),  # Stockholm
    ("IN", "65.3.255.51", 3.0),  # Mumbai
    ("JP", "219.59.85.206", 2.5),  # Tokyo
    ("PL", "178.73.30.36", 2.0),  # Warsaw
    ("IE", "132.164.230.41", 2.0),  # Dublin
    ("CH", "185.201.129.122", 2.0),  # Zurich
    ("MX", "132.247.63.22", 1.5),  # Mexico City
    ("AT", "84.115.144.229", 1.5),  # Vienna
    ("BE", "207.175.73.21", 1.5),  # Brussels
    ("DK", "141.144.71.62", 1.2),  # Copenhagen
    ("NO", "146.72.41.250", 1.2),  # Oslo
    ("FI", "194.211.252.254", 1.0),  # Helsinki
    ("PT", "185.39.210.147", 1.0),  # Lisbon
    ("SG", "195.21.168.42", 1.0),  # Singapore
    ("KR", "27.166.138.206", 1.0),  # Seoul
    ("NZ", "3.102.12.10", 0.8),  # Auckland
    ("ZA", "196.30.75.151", 0.8),  # Johannesburg
    ("AR", "186.13.170.107", 0.8),  # Buenos Aires
)

# Addresses MaxMind's test City database (GeoIP2-City-Test.mmdb) resolves: used when it is the
# configured database and resolves none of the addresses above (tests, the shared checks).
TEST_DB_ADDRESSES: tuple[str, ...] = (
    "81.2.69.160",  # GB, London
    "216.160.83.56",  # US, Milton
    "89.160.20.112",  # SE, Linköping
    "175.16.199.1",  # CN, Changchun
    "2.125.160.216",  # GB, Boxford
    "214.0.1.1",  # AU
    "202.196.224.1",  # PH
    "67.43.156.1",  # BT
)


class Device(NamedTuple):
    """A browser as a user-agent string, with its share, viewport and whether it is a bot."""

    user_agent: str
    weight: float
    viewport: tuple[int, int]
    bot: bool = False


_WIN = "Mozilla/5.0 (Windows NT 10.0; Win64; x64)"
_MAC = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7)"
_WEBKIT = "AppleWebKit/537.36 (KHTML, like Gecko)"
_SAFARI = "AppleWebKit/605.1.15 (KHTML, like Gecko)"

DEVICES: tuple[Device, ...] = (
    Device(f"{_WIN} {_WEBKIT} Chrome/131.0.0.0 Safari/537.36", 24, (1536, 864)),
    Device(f"{_WIN} {_WEBKIT} Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0", 7, (1920, 1080)),
    Device(
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
        4,
        (1366, 768),
    ),
    Device(f"{_MAC} {_WEBKIT} Chrome/131.0.0.0 Safari/537.36", 9, (1440, 900)),
    Device(f"{_MAC} {_SAFARI} Version/17.5 Safari/605.1.15", 7, (1512, 982)),
    Device(
        "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0", 2, (1920, 1080)
    ),
    Device(
        f"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) {_SAFARI} "
        "Version/17.5 Mobile/15E148 Safari/604.1",
        22,
        (390, 844),
    ),
    Device(
        f"Mozilla/5.0 (Linux; Android 14; Pixel 8) {_WEBKIT} Chrome/131.0.0.0 Mobile Safari/537.36",
        8,
        (412, 915),
    ),
    Device(
        f"Mozilla/5.0 (Linux; Android 14; SM-S918B) {_WEBKIT} SamsungBrowser/25.0 "
        "Chrome/121.0.0.0 Mobile Safari/537.36",
        6,
        (384, 854),
    ),
    Device(
        f"Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) {_SAFARI} "
        "Version/17.5 Mobile/15E148 Safari/604.1",
        4,
        (820, 1180),
    ),
    Device(
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        2,
        (1280, 800),
        bot=True,
    ),
    Device(
        "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
        1,
        (1280, 800),
        bot=True,
    ),
)

LANGUAGES: dict[str, str] = {
    "US": "en-US",
    "GB": "en-GB",
    "DE": "de-DE",
    "FR": "fr-FR",
    "CA": "en-CA",
    "NL": "nl-NL",
    "AU": "en-AU",
    "ES": "es-ES",
    "IT": "it-IT",
    "SE": "sv-SE",
    "JP": "ja-JP",
    "PL": "pl-PL",
    "MX": "es-MX",
    "KR": "ko-KR",
}

# Where a visit comes from: its share, and the referrers and landing queries it may carry.
SOURCES: dict[str, float] = {
    "direct": 28,
    "search": 26,
    "social": 14,
    "email": 10,
    "referral": 10,
    "paid": 4,
    "link": 5,
    "qr": 3,
}
SEARCH_REFERRERS = (
    "https://www.google.com/",
    "https://www.google.com/",
    "https://www.google.co.uk/",
    "https://www.google.de/",
    "https://www.bing.com/",
    "https://duckduckgo.com/",
    "https://search.brave.com/",
    "https://www.ecosia.org/",
)
SOCIAL_REFERRERS = (
    "https://l.facebook.com/",
    "https://www.instagram.com/",
    "https://t.co/",
    "https://www.linkedin.com/",
    "https://www.reddit.com/r/Coffee/",
    "https://www.reddit.com/r/pourover/",
)
REFERRAL_REFERRERS = (
    "https://news.ycombinator.com/",
    "https://www.seriouseats.com/best-coffee-subscriptions",
    "https://sprudge.com/guides/subscriptions",
    "https://www.wired.com/gallery/best-coffee-subscriptions/",
    "https://beanreviews.example/trailhead",
)
EMAIL_REFERRERS = ("https://mail.google.com/", None, None, "https://outlook.live.com/")

# (utm_source, utm_medium, utm_campaign) per source; None: no UTM on that visit.
CAMPAIGNS: dict[str, tuple[tuple[str, str, str] | None, ...]] = {
    "email": (
        ("newsletter", "email", "spring-roast"),
        ("newsletter", "email", "weekly-digest"),
        ("newsletter", "email", "weekly-digest"),
    ),
    "social": (
        None,
        None,
        ("instagram", "social", "spring-roast"),
        ("facebook", "social", "launch"),
    ),
    "paid": (("google", "cpc", "brand-search"), ("facebook", "cpc", "spring-roast")),
}

HOME = "/demo"
PAGES: dict[str, str] = {
    HOME: "Home",
    "/demo/pricing": "Pricing",
    "/demo/beans": "Beans",
    "/demo/about": "About",
    "/demo/blog/brewing-guide": "Brewing guide",
    "/demo/checkout": "Checkout",
}
# Next page from each page (weights); a visit also ends after any page.
NEXT_PAGES: dict[str, tuple[tuple[str, float], ...]] = {
    HOME: (
        ("/demo/pricing", 5),
        ("/demo/beans", 4),
        ("/demo/about", 1),
        ("/demo/blog/brewing-guide", 1),
    ),
    "/demo/pricing": (("/demo/checkout", 4), ("/demo/beans", 2), (HOME, 1)),
    "/demo/beans": (("/demo/pricing", 4), (HOME, 1), ("/demo/checkout", 1)),
    "/demo/about": ((HOME, 2), ("/demo/pricing", 2)),
    "/demo/blog/brewing-guide": (("/demo/beans", 3), (HOME, 2)),
    "/demo/checkout": (("/demo/pricing", 1),),
}
# Clicks on each page: (CSS selector, text, x, y) as the tracker reports them.
CLICK_TARGETS: dict[str, tuple[tuple[str, str, int, int], ...]] = {
    HOME: (
        ("button#buy-now", "Start my subscription", 180, 420),
        ("button#add-to-cart", "Add sampler to cart", 420, 420),
        ("a#nav-pricing", "Pricing", 1180, 32),
        ("a#nav-beans", "Beans", 1100, 32),
    ),
    "/demo/pricing": (
        ("button.plan", "Choose weekly", 200, 760),
        ("button.plan", "Choose fortnightly", 620, 760),
        ("button.plan", "Choose monthly", 1040, 760),
    ),
    "/demo/beans": (
        ("a#nav-pricing", "Pricing", 1180, 32),
        ("button#add-to-cart", "Add sampler to cart", 420, 420),
    ),
    "/demo/about": (("a#nav-pricing", "Pricing", 1180, 32),),
    "/demo/blog/brewing-guide": (("a#nav-beans", "Beans", 1100, 32),),
    "/demo/checkout": (("button#signup", "Get 20% off", 520, 520),),
}
PLANS: dict[str, int] = {"weekly": 3600, "fortnightly": 2900, "monthly": 2400}  # cents


class DemoLink(NamedTuple):
    """A short link the sample data creates and clicks (``/g/{key}``, ``/q/{key}`` for QR)."""

    key: str
    path: str
    query: str
    tags: tuple[str, ...]


DEMO_LINKS: tuple[DemoLink, ...] = (
    DemoLink(
        "spring",
        "/demo/pricing",
        "utm_source=instagram&utm_medium=bio-link&utm_campaign=spring-roast",
        ("campaign",),
    ),
    DemoLink(
        "podcast",
        "/demo",
        "utm_source=podcast&utm_medium=audio&utm_campaign=brew-talk",
        ("podcast",),
    ),
    DemoLink(
        "menu-qr",
        "/demo/beans",
        "utm_source=cafe-menu&utm_medium=qr&utm_campaign=in-store",
        ("print", "qr"),
    ),
)
