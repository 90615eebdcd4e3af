"""The sample traffic as a plan: who visits when, from where, which pages, what they click,
who signs up and buys, which visits are recorded. Pure and seeded: the same seed, range and
size give the same plan (ids included), so tests can count what it holds.

Visits follow a daily rhythm (quiet nights, busy lunch and evening hours), a weekly one
(weekends are quieter), a slow growth, and campaign days (newsletters, a paid push).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Any

from collector.demo import catalog
from collector.demo.catalog import DemoLink, Device
from collector.ids import ALPHABET

DAY_MS = 86_400_000
HOUR_WEIGHTS = (
    1, 0.6, 0.4, 0.3, 0.3, 0.5, 1, 2, 3.5, 4.5, 5, 5.5,
    6, 5.5, 5, 4.5, 4.5, 5, 5.5, 6, 5.5, 4, 3, 1.8,
)  # fmt: skip
WEEKDAY_WEIGHTS = (1.0, 1.05, 1.0, 0.95, 0.9, 0.6, 0.55)  # Monday first
LANDINGS: dict[str, tuple[tuple[str, float], ...]] = {
    "direct": ((catalog.HOME, 8), ("/demo/pricing", 2)),
    "search": ((catalog.HOME, 5), ("/demo/blog/brewing-guide", 3), ("/demo/beans", 2)),
    "social": ((catalog.HOME, 5), ("/demo/blog/brewing-guide", 2.5), ("/demo/pricing", 2.5)),
    "email": (("/demo/pricing", 6), (catalog.HOME, 4)),
    "referral": ((catalog.HOME, 4), ("/demo/blog/brewing-guide", 3), ("/demo/beans", 3)),
    "paid": ((catalog.HOME, 6), ("/demo/pricing", 4)),
}
BOUNCE = {"direct": 0.35, "search": 0.45, "social": 0.6, "email": 0.3, "referral": 0.5}
NEWSLETTER_WEEKDAY = 1  # Tuesday: the weekly newsletter goes out, email visits peak
LAST_VISIT_BEFORE_END_MS = 45 * 60_000  # every visit is over by the end of the range
RETURNING_SHARE = 0.18
LEAD_SHARE = 0.06  # of checkout page views
SALE_SHARE = 0.45  # of leads
REPLAYED_VISITS = 12
FIRST_NAMES = ("Ana", "Ben", "Chloé", "Dev", "Emma", "Felix", "Grace", "Hugo", "Ines", "Jon")
LAST_NAMES = ("Silva", "Okafor", "Martin", "Patel", "Schmidt", "Kowalski", "Tanaka", "Berg")


def _weekday(at_ms: int) -> int:
    """0 for Monday (UTC); 1970-01-01 was a Thursday."""
    return (at_ms // DAY_MS + 3) % 7


def seeded_id(rng: random.Random, at_ms: int) -> str:
    """An id in the layout of :func:`collector.ids.new_id` (time part ``at_ms``), with its
    random part drawn from ``rng``: what the tracker would mint, reproducibly."""
    value = (at_ms << 80) | rng.getrandbits(80)
    return "".join(ALPHABET[(value >> shift) & 31] for shift in range(125, -1, -5))


@dataclass(frozen=True, slots=True)
class Visitor:
    id: str
    country: int  # index into catalog.COUNTRY_ADDRESSES
    device: Device
    language: str


@dataclass(slots=True)
class PageLoad:
    """One page load: its tracker ids, URL, referrer and events (``{"t", "ts", "d"?}``)."""

    page_id: str
    url: str  # path and query, joined to the collector's base URL when sent
    referrer: str | None
    events: list[dict[str, Any]]
    external_id: str | None = None

    @property
    def sent_at(self) -> int:
        """When its beacon goes: just after its last event."""
        return max(event["ts"] for event in self.events) + 250


@dataclass(slots=True)
class Conversion:
    customer_id: str
    name: str
    email: str
    lead_at: int
    page_id: str  # the landing page load (click): the lead's attribution, unless a short link's
    sale_amount: int | None = None
    sale_at: int = 0


@dataclass(slots=True)
class Visit:
    visitor: Visitor
    session_id: str  # the tracker's proposal
    start: int
    source: str
    link: DemoLink | None = None  # a short link (or its QR code) the visit started with
    pages: list[PageLoad] = field(default_factory=list)
    conversion: Conversion | None = None
    recorded: bool = False  # every page load sends a replay

    @property
    def trigger(self) -> str:
        return "qr" if self.source == "qr" else "link"


@dataclass(slots=True)
class Plan:
    visits: list[Visit]
    start: int
    end: int

    @property
    def page_loads(self) -> int:
        return sum(len(v.pages) for v in self.visits)


def _pick(rng: random.Random, weighted: tuple[tuple[str, float], ...] | dict[str, float]) -> str:
    items = list(weighted.items()) if isinstance(weighted, dict) else list(weighted)
    return rng.choices([k for k, _ in items], [w for _, w in items])[0]


class _Planner:
    def __init__(self, seed: int, start: int, end: int) -> None:
        self.rng = random.Random(seed)
        self.start, self.end = start, end
        self.last_start = end - LAST_VISIT_BEFORE_END_MS
        self.days = list(range(start // DAY_MS, self.last_start // DAY_MS + 1))  # UTC days
        self.customers = 0

    def visit_times(self, count: int) -> list[int]:
        """``count`` start times over the range, by day weight then hour weight (UTC)."""
        rng = self.rng
        day_weights = [self._day_weight(day) for day in self.days]
        times: list[int] = []
        while len(times) < count:
            day = rng.choices(self.days, day_weights)[0]
            hour = rng.choices(range(24), HOUR_WEIGHTS)[0]
            at = day * DAY_MS + hour * 3_600_000 + rng.randrange(3_600_000)
            if self.start <= at <= self.last_start:
                times.append(at)
        return sorted(times)

    def _day_weight(self, day: int) -> float:
        weekday = _weekday(day * DAY_MS)
        growth = 0.8 + 0.4 * (day - self.days[0]) / len(self.days)
        campaign = 1.4 if weekday == NEWSLETTER_WEEKDAY else 1.0
        return WEEKDAY_WEIGHTS[weekday] * growth * campaign * (0.9 + 0.2 * self.rng.random())

    def visitor(self, at: int) -> Visitor:
        rng = self.rng
        countries = catalog.COUNTRY_ADDRESSES
        country = rng.choices(range(len(countries)), [c[2] for c in countries])[0]
        device = rng.choices(catalog.DEVICES, [d.weight for d in catalog.DEVICES])[0]
        language = catalog.LANGUAGES.get(countries[country][0], "en-US")
        return Visitor(seeded_id(rng, at), country, device, language)

    def source(self, at: int) -> str:
        weights = dict(catalog.SOURCES)
        if _weekday(at) == NEWSLETTER_WEEKDAY:
            weights["email"] *= 4
        return _pick(self.rng, weights)

    def landing(self, visit: Visit) -> tuple[str, str | None]:
        """(path and query, referrer) of the visit's first page."""
        rng, source = self.rng, visit.source
        if visit.link is not None:
            referrer = "https://www.instagram.com/" if visit.link.key == "spring" else None
            url = f"{visit.link.path}?{visit.link.query}"
            return url, referrer if source == "link" else None
        path = _pick(rng, LANDINGS[source])
        referrer = {
            "search": lambda: rng.choice(catalog.SEARCH_REFERRERS),
            "social": lambda: rng.choice(catalog.SOCIAL_REFERRERS),
            "referral": lambda: rng.choice(catalog.REFERRAL_REFERRERS),
            "email": lambda: rng.choice(catalog.EMAIL_REFERRERS),
            "paid": lambda: "https://www.google.com/",
        }.get(source, lambda: None)()
        campaign = rng.choice(catalog.CAMPAIGNS.get(source, (None,)))
        if campaign is None:
            return path, referrer
        query = "utm_source={}&utm_medium={}&utm_campaign={}".format(*campaign)
        if source == "paid":
            click_param = "gclid" if campaign[0] == "google" else "fbclid"
            query += f"&{click_param}={seeded_id(rng, visit.start)[10:]}"
            referrer = "https://www.google.com/" if campaign[0] == "google" else None
        return f"{path}?{query}", referrer

    def page_events(self, path: str, at: int, dwell: int, bounced: bool) -> list[dict[str, Any]]:
        rng = self.rng
        events: list[dict[str, Any]] = [{"t": "page_view", "ts": at}]
        if bounced:
            return events
        targets = catalog.CLICK_TARGETS[path]
        for _ in range(rng.choice((0, 1, 1, 2))):
            selector, text, x, y = rng.choice(targets)
            ts = at + rng.randrange(2_000, max(3_000, dwell))
            events.append(
                {"t": "click", "ts": ts, "d": {"s": selector, "x": x, "y": y, "tx": text}}
            )
            if selector == "button#add-to-cart":
                data = {"product_id": 3, "plan": "sampler"}
                events.append({"t": "add_to_cart", "ts": ts + 40, "d": data})
            elif selector == "button.plan":
                plan = text.split()[-1]
                events.append({"t": "choose_plan", "ts": ts + 40, "d": {"plan": plan}})
        if path == "/demo/checkout" and rng.random() < 0.7:
            events.append({"t": "begin_checkout", "ts": at + 1_500, "d": {"currency": "EUR"}})
        return sorted(events, key=lambda e: e["ts"])

    def pages(self, visit: Visit) -> None:
        rng = self.rng
        path, referrer = self.landing(visit)
        bot = visit.visitor.device.bot
        bounced = bot or rng.random() < BOUNCE.get(visit.source, 0.4)
        at = visit.start + (1_500 if visit.link else 0)
        previous_url: str | None = None
        while True:
            dwell = int(min(300_000, max(4_000, rng.lognormvariate(math.log(35_000), 0.8))))
            page_path = path.split("?", 1)[0]
            load = PageLoad(
                page_id=seeded_id(rng, at),
                url=path,
                referrer=referrer if previous_url is None else previous_url,
                events=self.page_events(page_path, at, dwell, bounced),
            )
            visit.pages.append(load)
            if page_path == "/demo/checkout" and rng.random() < LEAD_SHARE:
                self.convert(visit, load, at + dwell // 2)
            if bounced or len(visit.pages) >= 6 or (len(visit.pages) > 1 and rng.random() < 0.4):
                return
            previous_url, at = path, at + dwell
            path = _pick(rng, catalog.NEXT_PAGES[page_path])

    def convert(self, visit: Visit, load: PageLoad, at: int) -> None:
        """The visitor signs up (a lead) on this page, and may buy a plan minutes later."""
        rng = self.rng
        self.customers += 1
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        customer = Conversion(
            customer_id=f"cus_{self.customers:04d}",
            name=f"{first} {last}",
            email=f"{first.lower()}.{last.lower()}{self.customers}@example.com",
            lead_at=at,
            page_id=visit.pages[0].page_id,
        )
        signup = {"s": "button#signup", "x": 520, "y": 520, "tx": "Get 20% off"}
        load.events.append({"t": "click", "ts": at - 60, "d": signup})
        load.events.append({"t": "lead", "ts": at - 20, "d": {"form": "checkout"}})
        load.events.sort(key=lambda e: e["ts"])
        load.external_id = customer.customer_id
        if rng.random() < SALE_SHARE:
            customer.sale_amount = rng.choice(tuple(catalog.PLANS.values()))
            customer.sale_at = at + rng.randrange(60_000, 600_000)
        visit.conversion = customer


def make_plan(seed: int, start: int, end: int, visits: int) -> Plan:
    """``visits`` visits between ``start`` and ``end`` (ms), drawn from ``seed``."""
    planner = _Planner(seed, start, end)
    rng = planner.rng
    links = {link.key: link for link in catalog.DEMO_LINKS}
    planned: list[Visit] = []
    last_seen: dict[str, tuple[Visitor, int]] = {}
    for at in planner.visit_times(visits):
        returning = [v for v, ended in last_seen.values() if at - ended > 3 * 3_600_000]
        if returning and rng.random() < RETURNING_SHARE:
            visitor = rng.choice(returning[-200:])
        else:
            visitor = planner.visitor(at)
        source = planner.source(at)
        visit = Visit(visitor, seeded_id(rng, at), at, source)
        if source == "link":
            visit.link = rng.choice((links["spring"], links["podcast"]))
        elif source == "qr":
            visit.link = links["menu-qr"]
        planner.pages(visit)
        planned.append(visit)
        last_seen[visitor.id] = (visitor, max(p.sent_at for p in visit.pages))
    _choose_recorded(rng, planned)
    return Plan(planned, start, end)


def _choose_recorded(rng: random.Random, visits: list[Visit]) -> None:
    """A handful of multi-page visits by people (a third of them with a lead) are recorded."""
    eligible = [v for v in visits if len(v.pages) > 1 and not v.visitor.device.bot]
    with_lead = [v for v in eligible if v.conversion is not None]
    chosen = rng.sample(with_lead, min(len(with_lead), REPLAYED_VISITS // 3))
    rest = [v for v in eligible if v not in chosen]
    chosen += rng.sample(rest, min(len(rest), REPLAYED_VISITS - len(chosen)))
    for visit in chosen:
        visit.recorded = True
