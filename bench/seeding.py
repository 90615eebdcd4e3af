"""What the query benchmarks seed and share (`bench/query.py`, `bench/analytics.py`): a brand
with a read key on a fresh store, timed GETs of the API, and realistic traffic to query.

The traffic (:func:`seed`) is skewed like a real site's: 40 countries Zipf-like (continent,
ISO 3166-2 region and city consistent with the country), desktop/mobile/tablet with matching OS
and browser, referrers and UTM tags mostly missing and otherwise led by a few sources, 2,000
page URLs Zipf-like, 300 short links (stored) behind the link (~15 %) and QR (~3 %) clicks, 2 %
bots, a little more traffic lately and by day than by night. Leads are attributed to random
human clicks; sales to the click of a customer's lead (some customers buy again: recurring
sales). Conversions carry their click's facts where `Conversion` has fields named as on
`Click`.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from collector.cli import create_brand
from collector.conversions.service import lead_key, sale_key
from collector.enrich.referrer import classify_referrer
from collector.http.auth import mint_api_key
from collector.ids import new_id
from collector.storage import open_store
from collector.storage.base import BrandSettings, Store
from collector.storage.model import Click, Conversion, ShortLink


def open_bench_brand(url: str) -> tuple[Store, int, str]:
    """(store, brand id, read-scoped API key) on a fresh store at ``url``."""
    store = open_store(url)
    brand = create_brand(store, "bench", [], BrandSettings())
    key, record = mint_api_key(brand.id, "read", 0)
    store.add_api_key(record)
    return store, brand.id, key


def fetch_timed(http: httpx.Client, path: str, key: str) -> tuple[float, httpx.Response]:
    """(milliseconds, response) of one GET; anything but a 200 raises."""
    start = time.perf_counter()
    response = http.get(path, headers={"Authorization": f"Bearer {key}"})
    elapsed = (time.perf_counter() - start) * 1000
    if response.status_code != 200:
        raise RuntimeError(f"{path}: {response.status_code} {response.text[:200]}")
    return elapsed, response


def timed(http: httpx.Client, path: str, key: str, runs: int) -> list[float]:
    return [fetch_timed(http, path, key)[0] for _ in range(runs)]


def percentile(values: list[float], share: float) -> float:
    """The value below which ``share`` of ``values`` lie (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


DAY = 86_400_000
SITE = "shop.example"

# country, continent, (region, city) pairs, most visited first (ISO 3166-2 without the prefix)
GEO: list[tuple[str, str, tuple[tuple[str, str], ...]]] = [
    ("US", "NA", (("CA", "Los Angeles"), ("NY", "New York"), ("TX", "Houston"),
                  ("IL", "Chicago"), ("WA", "Seattle"), ("CA", "San Francisco"))),
    ("GB", "EU", (("ENG", "London"), ("ENG", "Manchester"), ("SCT", "Glasgow"),
                  ("WLS", "Cardiff"))),
    ("DE", "EU", (("BE", "Berlin"), ("BY", "Munich"), ("HH", "Hamburg"), ("NW", "Cologne"))),
    ("IN", "AS", (("MH", "Mumbai"), ("DL", "Delhi"), ("KA", "Bengaluru"))),
    ("CA", "NA", (("ON", "Toronto"), ("QC", "Montreal"), ("BC", "Vancouver"))),
    ("FR", "EU", (("IDF", "Paris"), ("ARA", "Lyon"), ("PAC", "Marseille"))),
    ("BR", "SA", (("SP", "São Paulo"), ("RJ", "Rio de Janeiro"), ("MG", "Belo Horizonte"))),
    ("AU", "OC", (("NSW", "Sydney"), ("VIC", "Melbourne"), ("QLD", "Brisbane"))),
    ("NL", "EU", (("NH", "Amsterdam"), ("ZH", "Rotterdam"), ("UT", "Utrecht"))),
    ("ES", "EU", (("MD", "Madrid"), ("CT", "Barcelona"), ("VC", "Valencia"))),
    ("IT", "EU", (("25", "Milan"), ("62", "Rome"), ("72", "Naples"))),
    ("JP", "AS", (("13", "Tokyo"), ("27", "Osaka"), ("23", "Nagoya"))),
    ("MX", "NA", (("CMX", "Mexico City"), ("JAL", "Guadalajara"), ("NLE", "Monterrey"))),
    ("PL", "EU", (("14", "Warsaw"), ("12", "Kraków"), ("02", "Wrocław"))),
    ("SE", "EU", (("AB", "Stockholm"), ("O", "Gothenburg"), ("M", "Malmö"))),
    ("CH", "EU", (("ZH", "Zurich"), ("GE", "Geneva"), ("BE", "Bern"))),
    ("BE", "EU", (("BRU", "Brussels"), ("VAN", "Antwerp"), ("VOV", "Ghent"))),
    ("IE", "EU", (("D", "Dublin"), ("CO", "Cork"))),
    ("AT", "EU", (("9", "Vienna"), ("6", "Graz"))),
    ("KR", "AS", (("11", "Seoul"), ("26", "Busan"))),
    ("SG", "AS", (("01", "Singapore"),)),
    ("TR", "AS", (("34", "Istanbul"), ("06", "Ankara"), ("35", "Izmir"))),
    ("ZA", "AF", (("GP", "Johannesburg"), ("WC", "Cape Town"), ("KZN", "Durban"))),
    ("DK", "EU", (("84", "Copenhagen"), ("82", "Aarhus"))),
    ("NO", "EU", (("03", "Oslo"), ("46", "Bergen"))),
    ("FI", "EU", (("18", "Helsinki"), ("11", "Tampere"))),
    ("PT", "EU", (("11", "Lisbon"), ("13", "Porto"))),
    ("CZ", "EU", (("10", "Prague"), ("64", "Brno"))),
    ("AR", "SA", (("C", "Buenos Aires"), ("X", "Córdoba"))),
    ("CO", "SA", (("DC", "Bogotá"), ("ANT", "Medellín"))),
    ("CL", "SA", (("RM", "Santiago"), ("VS", "Valparaíso"))),
    ("ID", "AS", (("JK", "Jakarta"), ("JI", "Surabaya"))),
    ("PH", "AS", (("00", "Manila"), ("CEB", "Cebu City"))),
    ("VN", "AS", (("SG", "Ho Chi Minh City"), ("HN", "Hanoi"))),
    ("TH", "AS", (("10", "Bangkok"), ("50", "Chiang Mai"))),
    ("NG", "AF", (("LA", "Lagos"), ("FC", "Abuja"))),
    ("EG", "AF", (("C", "Cairo"), ("ALX", "Alexandria"))),
    ("AE", "AS", (("DU", "Dubai"), ("AZ", "Abu Dhabi"))),
    ("IL", "AS", (("TA", "Tel Aviv"), ("JM", "Jerusalem"))),
    ("NZ", "OC", (("AUK", "Auckland"), ("WGN", "Wellington"))),
]  # fmt: skip

# device type, os, browser (names as ua-parser gives them), share in %
DEVICES: list[tuple[tuple[str, str, str], float]] = [
    (("desktop", "Windows", "Chrome"), 24), (("desktop", "Windows", "Edge"), 6),
    (("desktop", "Windows", "Firefox"), 3), (("desktop", "Mac OS X", "Chrome"), 8),
    (("desktop", "Mac OS X", "Safari"), 7), (("desktop", "Mac OS X", "Firefox"), 1),
    (("desktop", "Linux", "Chrome"), 1.5), (("desktop", "Linux", "Firefox"), 1),
    (("desktop", "Chrome OS", "Chrome"), 1.5), (("mobile", "iOS", "Mobile Safari"), 16),
    (("mobile", "iOS", "Chrome Mobile iOS"), 3), (("mobile", "Android", "Chrome Mobile"), 16),
    (("mobile", "Android", "Samsung Internet"), 4), (("mobile", "Android", "Firefox Mobile"), 1),
    (("tablet", "iOS", "Mobile Safari"), 3.5), (("tablet", "Android", "Chrome"), 1.5),
    (("tablet", "Android", "Samsung Internet"), 1),
]  # fmt: skip
BOT_DEVICES = [("bot", "Linux", "Googlebot"), ("bot", "Other", "bingbot"),
               ("bot", "Linux", "HeadlessChrome"), ("bot", "Other", "AhrefsBot")]  # fmt: skip

# landing referrers (None: typed in or an app), share in %; a long tail of blogs follows
REFERRERS: list[tuple[str | None, float]] = [
    (None, 42), ("https://www.google.com/", 24), ("https://www.bing.com/", 3),
    ("https://duckduckgo.com/", 1.5), ("https://l.facebook.com/", 5), ("https://t.co/", 3),
    ("https://www.instagram.com/", 2), ("https://www.linkedin.com/", 2),
    ("https://www.reddit.com/", 2), ("https://www.youtube.com/", 1.2),
    ("https://news.ycombinator.com/", 0.8), ("https://mail.google.com/", 1),
    ("https://www.google.co.uk/", 1.5), ("https://www.google.de/", 1),
]  # fmt: skip
BLOGS = 60  # referral hosts sharing the remaining share, Zipf-like
# utm_source, utm_medium, share in % (the rest: no UTM tags)
UTM: list[tuple[tuple[str, str], float]] = [
    (("google", "cpc"), 9), (("newsletter", "email"), 6), (("facebook", "paid_social"), 5),
    (("twitter", "social"), 2), (("linkedin", "social"), 2), (("partner", "referral"), 1.5),
    (("bing", "cpc"), 1), (("tiktok", "paid_social"), 1),
]  # fmt: skip
CAMPAIGNS = 30


def zipf(count: int, exponent: float = 1.0) -> list[float]:
    return [1 / (rank + 1) ** exponent for rank in range(count)]


class Pool:
    """Weighted choices, drawn in bulk (``random.choices`` with cumulative weights)."""

    def __init__(self, items: Sequence[Any], weights: Sequence[float]) -> None:
        self.items = list(items)
        self.cum = list(_cumulative(weights))

    def draw(self, rng: random.Random, k: int) -> list[Any]:
        return rng.choices(self.items, cum_weights=self.cum, k=k)


def _cumulative(weights: Sequence[float]) -> list[float]:
    total, out = 0.0, []
    for weight in weights:
        total += weight
        out.append(total)
    return out


PRICE = Pool([1900, 2900, 4900, 9900, 19900, 49900], [20, 30, 25, 15, 7, 3])  # cents
PROCESSOR = Pool(["stripe", "paddle", "paypal"], [80, 12, 8])


def geo_pool() -> Pool:
    """(country, continent, region, city): countries Zipf-like, their cities Zipf-like; 1 % of
    clicks with no location."""
    items: list[tuple[str | None, ...]] = [(None, None, None, None)]
    weights = [1.0]
    for share, (country, continent, places) in zip(zipf(len(GEO), 1.1), GEO, strict=True):
        city_shares = zipf(len(places), 1.0)
        for city_share, (region, city) in zip(city_shares, places, strict=True):
            items.append((country, continent, region, city))
            weights.append(99 * share / sum(zipf(len(GEO), 1.1)) * city_share / sum(city_shares))
    return Pool(items, weights)


def source_pool(rng: random.Random) -> Pool:
    """(referrer, referrer_host, referrer_type, referrer_name, utm 5-tuple) of a landing."""
    referrers = list(REFERRERS)
    rest = 100 - sum(share for _, share in REFERRERS)
    blog_weights = zipf(BLOGS)
    for blog, weight in enumerate(blog_weights):
        blog_url = f"https://blog{blog}.example.org/post/{blog * 7}"
        referrers.append((blog_url, rest * weight / sum(blog_weights)))
    tags = [((None,) * 5, 100 - sum(share for _, share in UTM))]
    for (source, medium), share in UTM:
        campaigns = zipf(CAMPAIGNS)
        for campaign, weight in enumerate(campaigns):
            content = f"variant-{campaign % 3}" if campaign % 2 else None
            term = "running shoes" if medium == "cpc" and campaign % 4 == 0 else None
            utm = (source, medium, f"campaign-{campaign}", term, content)
            tags.append((utm, share * weight / sum(campaigns)))
    items, weights = [], []
    for referrer, referrer_share in referrers:  # independent: tagged mail has no referrer...
        for utm, utm_share in tags:
            query = {"utm_medium": utm[1]} if utm[1] else {}
            info = classify_referrer(referrer, SITE, query)
            items.append((referrer, info.host, info.type, info.name, utm))
            weights.append(referrer_share * utm_share)
    return Pool(items, weights)


def page_urls(rng: random.Random) -> list[str]:
    """2,000 pages, most visited first: the home page, then a mix of categories, products,
    blog posts and the usual service pages."""
    fixed = ["/", "/pricing", "/cart", "/checkout", "/about", "/contact", "/faq", "/login"]
    pages = [f"/c/category-{n}" for n in range(40)]
    pages += [f"/p/product-{n}" for n in range(1500)]
    pages += [f"/blog/post-{n}" for n in range(2000 - 1540 - len(fixed))]
    rng.shuffle(pages)
    return [f"https://{SITE}{path}" for path in fixed[:1] + pages[:10] + fixed[1:] + pages[10:]]


SHORT_DOMAINS = [
    ("go.shop.example", "https://go.shop.example", 6),
    ("shp.link", "https://shp.link", 3),
    ("", "http://collector.example", 1),
]
TAGS = ["spring", "summer", "black-friday", "newsletter", "influencer", "print", "podcast"]
FOLDERS = [None, None, None, "newsletters", "social", "print", "partners", "ads"]


def make_links(brand_id: int, urls: list[str], rng: random.Random, at: int) -> list[ShortLink]:
    """300 short links to the site's pages, on three domains, with tags, folders, tenants."""
    domains = Pool(SHORT_DOMAINS, [weight for *_, weight in SHORT_DOMAINS])
    links = []
    for n in range(300):
        domain, base, _ = domains.draw(rng, 1)[0]
        made = at + n * 60_000
        links.append(
            ShortLink(
                id=new_id(made),
                brand_id=brand_id,
                domain=domain,
                code="".join(rng.choices("abcdefghjkmnpqrstuvwxyz23456789", k=7)),
                destination_url=urls[rng.randrange(1, 400)],  # campaign pages
                base_url=base,
                tags=rng.sample(TAGS, rng.choice([0, 1, 1, 2])),
                folder=rng.choice(FOLDERS),
                external_id=f"crm-{n}" if n % 3 == 0 else None,
                tenant_id=f"tenant-{n % 12}" if n % 4 == 0 else None,
                created_at=made,
                updated_at=made,
            )
        )
    return links


def click_times(rng: random.Random, count: int, start: int, end: int) -> list[int]:
    """``count`` sorted times in [start, end): density rising by half from the first day to the
    last, and higher around 15:00 UTC than at night."""
    diurnal = [0.6 + 0.4 * math.cos(2 * math.pi * (hour - 15) / 24) for hour in range(24)]
    span, times = end - start, []
    while len(times) < count:
        x = (-0.8 + math.sqrt(0.64 + 0.8 * rng.random())) / 0.4  # density 0.8 + 0.4 x
        ts = start + int(x * span)
        if rng.random() < diurnal[ts // 3_600_000 % 24]:
            times.append(ts)
    times.sort()
    return times


@dataclass
class Session:
    first: int  # index of its first click
    length: int
    is_bot: bool


def plan_sessions(rng: random.Random, clicks: int) -> list[Session]:
    """Consecutive clicks grouped in sessions of 1-6 clicks (2.2 on average), 2 % of them bots."""
    sessions, at = [], 0
    while at < clicks:
        length = min(clicks - at, rng.choice((1, 1, 1, 1, 2, 2, 3, 3, 4, 6)))
        sessions.append(Session(at, length, rng.random() < 0.02))
        at += length
    return sessions


TRIGGERS = Pool(["pageview", "link", "qr"], [82, 15, 3])
CLICK_FACTS = ("trigger", "url", "country", "region", "city", "continent", "device_type",
               "browser", "os", "referrer", "referrer_host", "utm_source", "utm_medium",
               "utm_campaign", "utm_term", "utm_content", "is_bot")  # fmt: skip


NO_SOURCE = (None, None, "direct", None, (None,) * 5)


@dataclass
class Visit:
    """What the clicks of a session share."""

    session_id: str
    visitor_id: str
    place: tuple[str | None, ...]  # country, continent, region, city
    device: tuple[str, str, str]  # device type, os, browser
    is_bot: bool


@dataclass
class Traffic:
    """Builds the clicks of sessions, with the pools drawn from."""

    brand_id: int
    domain_id: int
    rng: random.Random
    links: list[ShortLink]
    urls: list[str]
    geo: Pool = field(default_factory=geo_pool)
    devices: Pool = field(default_factory=lambda: Pool(*zip(*DEVICES, strict=True)))
    sources: Pool = field(init=False)
    pages: Pool = field(init=False)
    link_pool: Pool = field(init=False)
    returning: list[Visit] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.sources = source_pool(self.rng)
        self.pages = Pool(self.urls, zipf(len(self.urls), 1.05))
        self.link_pool = Pool(self.links, zipf(len(self.links), 0.9))

    def visit(self, ts: int, is_bot: bool) -> Visit:
        """A new session: of a returning visitor (same place and device) one time in five."""
        rng, session_id = self.rng, new_id(ts)
        if not is_bot and self.returning and rng.random() < 0.2:
            known = self.returning[rng.randrange(len(self.returning))]
            return Visit(session_id, known.visitor_id, known.place, known.device, False)
        device = rng.choice(BOT_DEVICES) if is_bot else self.devices.draw(rng, 1)[0]
        found = Visit(session_id, new_id(ts - DAY), self.geo.draw(rng, 1)[0], device, is_bot)
        if not is_bot and len(self.returning) < 5000:
            self.returning.append(found)
        elif not is_bot:
            self.returning[rng.randrange(5000)] = found
        return found

    def session(self, times: list[int], is_bot: bool) -> list[Click]:
        """Clicks of one session: the landing's referrer and UTM tags on its first click (none
        for a QR scan), the previous page as the referrer of the others."""
        rng, visit = self.rng, self.visit(times[0], is_bot)
        landing = NO_SOURCE if is_bot else self.sources.draw(rng, 1)[0]
        urls = self.pages.draw(rng, len(times))
        clicks = []
        for n, trigger in enumerate(TRIGGERS.draw(rng, len(times))):
            link = None if trigger == "pageview" else self.link_pool.draw(rng, 1)[0]
            if link is not None:
                urls[n] = link.destination_url
            if n > 0:  # a page of the site, unless the browser hid it (a no-referrer policy)
                hidden = rng.random() < 0.25
                source = NO_SOURCE if hidden else (urls[n - 1], SITE, "direct", None, NO_SOURCE[-1])
            else:
                source = NO_SOURCE if trigger == "qr" else landing
            clicks.append(self.click(visit, times[n], urls[n], trigger, link, source))
        return clicks

    def click(self, visit: Visit, ts: int, url: str, trigger: str, link: ShortLink | None,
              source: Any) -> Click:  # fmt: skip
        referrer, host, kind, name, utm = source
        place, device = visit.place, visit.device
        return Click(
            id=new_id(ts), brand_id=self.brand_id, session_id=visit.session_id,
            visitor_id=visit.visitor_id, created_at=ts, trigger=trigger, url=url,
            domain_id=self.domain_id, utm_source=utm[0], utm_medium=utm[1],
            utm_campaign=utm[2], utm_term=utm[3], utm_content=utm[4], referrer=referrer,
            referrer_host=host, referrer_type=kind, referrer_name=name, country=place[0],
            continent=place[1], region=place[2], city=place[3], device_type=device[0],
            os=device[1], browser=device[2], is_bot=visit.is_bot,
            link_id=link.id if link else None,
        )  # fmt: skip


CONVERSION_FACTS = tuple(name for name in CLICK_FACTS if name in Conversion.__struct_fields__)


def conversion(click: Click, kind: str, at: int, customer: str, **fields: Any) -> Conversion:
    """A lead or sale attributed to ``click``, with the click's facts where Conversion has them."""
    facts = {name: getattr(click, name) for name in CONVERSION_FACTS}
    return Conversion(
        id=new_id(at), brand_id=click.brand_id, kind=kind, click_id=click.id,
        session_id=click.session_id, visitor_id=click.visitor_id, link_id=click.link_id,
        customer_external_id=customer, created_at=at, **fields, **facts,
    )  # fmt: skip


def lead(rng: random.Random, click: Click, n: int, end: int) -> Conversion:
    name = "Sign up" if rng.random() < 0.85 else "Demo request"
    at = min(end, click.created_at + rng.randrange(5_000, 7_200_000))
    customer = f"cus_{n}"
    return conversion(click, "lead", at, customer, dedupe_key=lead_key(customer, name),
                      event_name=name, customer_email=f"user{n}@mail.example")  # fmt: skip


def sales(rng: random.Random, leads: dict[str, tuple[Click, Conversion]], count: int,
          end: int) -> list[Conversion]:  # fmt: skip
    """``count`` sales of lead customers, each attributed to the customer's lead click: three
    buyers in four buy once, the others again every month."""
    buyers = rng.sample(sorted(leads), min(len(leads), count * 3 // 4))
    times: dict[str, list[int]] = {}
    for customer in buyers + rng.choices(buyers, k=count - len(buyers)):
        stamps = times.setdefault(customer, [])
        first = leads[customer][1].created_at + int(rng.expovariate(1 / (5 * DAY)))
        stamps.append(stamps[-1] + 30 * DAY if stamps else first)
    found = []
    for customer, stamps in times.items():
        click, lead = leads[customer]
        for at in stamps:
            invoice = f"in_{len(found)}"
            made = conversion(click, "sale", min(end, at), customer, event_name="Purchase",
                              amount=PRICE.draw(rng, 1)[0], currency="USD",
                              payment_processor=PROCESSOR.draw(rng, 1)[0], invoice_id=invoice,
                              customer_email=lead.customer_email, dedupe_key="")  # fmt: skip
            made.dedupe_key = sale_key(invoice, made.id)
            found.append(made)
    return found


@dataclass
class Seeded:
    human_times: list[int]  # created_at of the human clicks, sorted
    clicks: int
    leads: int
    sales: int
    sale_amount: int  # cents


def seed(store: Store, brand_id: int, clicks: int) -> Seeded:
    """300 links, then ``clicks`` clicks over the last 89 days, then 5 % leads and 1 % sales."""
    rng = random.Random(11)
    now = time.time_ns() // 1_000_000
    start, end = now - 89 * DAY, now - 60_000
    urls = page_urls(rng)
    links = make_links(brand_id, urls, rng, start - 30 * DAY)
    for link in links:
        if not store.add_link(link, unique_everywhere=True):
            raise RuntimeError(f"link code {link.code} drawn twice")
    traffic = Traffic(brand_id, store.ensure_domain(brand_id, SITE), rng, links, urls)
    times = click_times(random.Random(12), clicks, start, end)  # own stream: same data each run
    sessions = plan_sessions(rng, clicks)
    humans = [i for s in sessions if not s.is_bot for i in range(s.first, s.first + s.length)]
    chosen = set(rng.sample(humans, clicks * 5 // 100))
    lead_clicks = store_clicks(store, traffic, sessions, times, chosen)
    leads = {}
    for n, click in enumerate(lead_clicks):
        found = lead(rng, click, n, end)
        leads[found.customer_external_id] = (click, found)
    sold = sales(rng, leads, clicks // 100, end)
    conversions = sorted([c for _, c in leads.values()] + sold, key=lambda c: c.created_at)
    for at in range(0, len(conversions), 5_000):
        store.write_batch([], [], conversions=conversions[at : at + 5_000])
    print(f", {len(leads):,} leads, {len(sold):,} sales")
    amount = sum(sale.amount or 0 for sale in sold)
    return Seeded([times[i] for i in humans], clicks, len(leads), len(sold), amount)


def store_clicks(store: Store, traffic: Traffic, sessions: list[Session], times: list[int],
                 chosen: set[int], batch: int = 20_000) -> list[Click]:  # fmt: skip
    """Store the sessions' clicks in batches; returns the clicks whose index is ``chosen``."""
    pending: list[Click] = []
    kept: list[Click] = []
    for session in sessions:
        end = session.first + session.length
        made = traffic.session(times[session.first : end], session.is_bot)
        kept += [click for n, click in enumerate(made, session.first) if n in chosen]
        pending += made
        if len(pending) >= batch or end == len(times):
            store.write_batch(pending, [])
            print(f"\r  stored {end:,} clicks", end="", flush=True)
            pending = []
    return kept
