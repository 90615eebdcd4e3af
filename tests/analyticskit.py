"""Seeding for the events and analytics API tests (tests/test_analytics_api.py).

:func:`seed` sends one brand's traffic through the real paths: short links made with the links
API, redirects through ``/g/`` and ``/q/``, beacons to ``/collect`` (a trusted proxy's
``X-Forwarded-For`` over MaxMind's test database, varied user agents, UTM parameters and
referrers) and ``POST track/lead`` / ``track/sale``. It keeps a plain model of what it sent
(:class:`World`): each event's facts as the API names its parameters, worked out from the seed
itself (the place each test address is in, what each user agent is), so a test computes every
expected number from the model, never from the API.

:func:`series` writes clicks and sales at chosen instants around daylight-saving changes
through ``store.write_batch`` (``/collect`` stamps rows with the server's clock).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple
from urllib.parse import urlencode, urlsplit

from collector.ids import new_id
from collector.storage.base import Click, Conversion
from tests.appkit import CHROME_UA, Kit, now_ms
from tests.linkkit import click_id_of, follow, make_link, write


class Agent(NamedTuple):
    """A user agent and what the collector makes of it."""

    ua: str
    device: str
    browser: str
    os: str | None
    bot: bool


CHROME_WINDOWS = Agent(CHROME_UA, "desktop", "Chrome", "Windows", False)
IPHONE = Agent(
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
    "mobile",
    "Mobile Safari",
    "iOS",
    False,
)
ANDROID = Agent(
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Mobile Safari/537.36",
    "mobile",
    "Chrome Mobile",
    "Android",
    False,
)
FIREFOX_LINUX = Agent(
    "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
    "desktop",
    "Firefox",
    "Linux",
    False,
)
IPAD = Agent(
    "Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4 Mobile/15E148 Safari/604.1",
    "tablet",
    "Mobile Safari",
    "iOS",
    False,
)
GOOGLEBOT = Agent(
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "bot",
    "Googlebot",
    None,
    True,
)


class Place(NamedTuple):
    """An address of MaxMind's GeoIP2-City test database and where it is (region: ISO 3166-2)."""

    ip: str
    country: str | None
    region: str | None
    city: str | None
    continent: str | None


LONDON = Place("81.2.69.160", "GB", "GB-ENG", "London", "EU")
BOXFORD = Place("2.125.160.216", "GB", "GB-ENG", "Boxford", "EU")
MILTON = Place("216.160.83.56", "US", "US-WA", "Milton", "NA")
SAN_DIEGO = Place("2001:480:10::1", "US", "US-CA", "San Diego", "NA")
LINKOPING = Place("89.160.20.112", "SE", "SE-E", "Linköping", "EU")
CHANGCHUN = Place("175.16.199.1", "CN", "CN-22", "Changchun", "AS")
BHUTAN = Place("67.43.156.1", "BT", None, None, "AS")  # a country, no subdivision or city
NOWHERE = Place("9.9.9.9", None, None, None, None)  # public, not in the test database

SHORT_DOMAIN = "go.example.com"
SHOP = "https://shop.example"
# The link attributes the API filters events by, as it names them.
LINK_PARAMS = ("domain", "key", "externalId", "tenantId", "tagId", "folderId", "groupId")
LINK_PARAMS += ("partnerId",)


@dataclass(frozen=True)
class Link:
    """A short link as seeded: its id and the attributes the API filters events by."""

    name: str
    id: str
    code: str
    domain: str  # the short domain, or the collector's own host:port
    destination: str
    attributes: dict[str, Any]  # externalId (with ext_), tenantId, tagId (a list), ...


@dataclass
class Conv:
    """A seeded lead or sale."""

    id: str
    kind: str
    click: Seen
    customer: str
    metadata: dict[str, Any]
    amount: int = 0
    sale_type: str | None = None

    def facts(self) -> dict[str, Any]:
        """Its click's facts (copied at attribution) and its own."""
        own = {"customerId": self.customer, "saleType": self.sale_type, "metadata": self.metadata}
        return {**self.click.facts(), **own, "kind": self.kind, "amount": self.amount}


@dataclass
class Seen:
    """A seeded click: a page view or a short-link redirect."""

    id: str
    trigger: str
    url: str
    agent: Agent
    place: Place
    referrer: str | None
    utm: dict[str, str]
    link: Link | None
    old: bool = False  # five hours ago (out of interval=1h)
    at: int | None = None  # the time a page view was sent with (ms)
    conversions: list[Conv] = field(default_factory=list)

    def facts(self) -> dict[str, Any]:
        """The click's facts under the API's parameter names."""
        utm = {f"utm_{name}": self.utm.get(name) for name in UTM_NAMES}
        link = self.link.attributes if self.link else dict.fromkeys((*LINK_PARAMS, "short"))
        return {
            "trigger": self.trigger,
            "url": self.url,
            "country": self.place.country,
            "city": self.place.city,
            "region": self.place.region,
            "continent": self.place.continent,
            "device": self.agent.device,
            "browser": self.agent.browser,
            "os": self.agent.os,
            "bot": self.agent.bot,
            "referer": urlsplit(self.referrer).hostname if self.referrer else None,
            "refererUrl": self.referrer,
            **utm,
            "linkId": self.link.id if self.link else None,
            "link": self.link.name if self.link else None,  # the model's own: the seed's name
            **link,
            "old": self.old,
            "at": self.at,  # page views only; redirects are at the seed's time
        }


UTM_NAMES = ("source", "medium", "campaign", "term", "content")
Facts = dict[str, Any]
Predicate = Callable[[Facts], bool]


@dataclass
class World:
    """The seeded brand: its kit, the collector's own host, links, clicks and conversions."""

    kit: Kit
    own_domain: str
    links: dict[str, Link] = field(default_factory=dict)
    clicks: dict[str, Seen] = field(default_factory=dict)
    conversions: dict[str, Conv] = field(default_factory=dict)

    # seeding ------------------------------------------------------------------------------

    def link(self, name: str, destination: str, **body: Any) -> Link:
        made = make_link(self.kit, destination, **body)
        domain = made["domain"] or self.own_domain
        attributes = {
            "domain": domain,
            "key": made["code"],
            "externalId": f"ext_{made['external_id']}" if made["external_id"] else None,
            "tenantId": made["tenant_id"],
            "tagId": made["tags"],
            "folderId": made["folder"],
            "groupId": made["group_id"],
            "partnerId": made["partner_id"],
        }
        attributes["short"] = domain == SHORT_DOMAIN  # the model's own, not a parameter
        found = Link(name, made["id"], made["code"], domain, destination, attributes)
        self.links[name] = found
        return found

    def redirect(
        self,
        name: str,
        link: str,
        agent: Agent,
        place: Place,
        utm: dict[str, str] | None = None,
        referrer: str | None = None,
        qr: bool = False,
    ) -> Seen:
        """Follow a short link (``/q/`` for a QR scan) as a browser would."""
        through = self.links[link]
        query = urlencode({f"utm_{k}": v for k, v in (utm or {}).items()})
        path = f"/{'q' if qr else 'g'}/{through.code}" + (f"?{query}" if query else "")
        headers = {"referer": referrer} if referrer else {}
        if through.domain == SHORT_DOMAIN:
            headers["host"] = SHORT_DOMAIN
        click_id = click_id_of(follow(self.kit, path, agent.ua, place.ip, **headers))
        url = through.destination + (f"?{query}" if query else "")
        trigger = "qr" if qr else "link"
        seen = Seen(click_id, trigger, url, agent, place, referrer, dict(utm or {}), through)
        self.clicks[name] = seen
        return seen

    def page_view(
        self,
        name: str,
        url: str,
        agent: Agent,
        place: Place,
        referrer: str | None = None,
        lands: str | None = None,
        old: bool = False,
    ) -> Seen:
        """A page view through /collect; ``lands``: it carries that redirect's ``ct_id``."""
        ts = now_ms() - (5 * 3_600_000 if old else 0) - len(self.clicks) * 1_013
        came = self.clicks[lands] if lands else None
        beacon = self.kit.beacon(
            u=url,
            r=referrer,
            p=new_id(ts),
            s=new_id(ts),
            v=new_id(ts - 1000),
            e=[{"t": "page_view", "ts": ts}],
            **({"c": came.id} if came else {}),
        )
        sent = self.kit.collect(beacon, **{"user-agent": agent.ua, "x-forwarded-for": place.ip})
        assert sent.status_code == 204, sent.text
        query = dict(part.split("=", 1) for part in urlsplit(url).query.split("&") if part)
        utm = {k[4:]: v for k, v in query.items() if k.startswith("utm_")}
        link = came.link if came else None
        seen = Seen(beacon["p"], "pageview", url, agent, place, referrer, utm, link, old, ts)
        self.clicks[name] = seen
        return seen

    def lead(self, click: str, customer: str, metadata: dict[str, Any]) -> Conv:
        body = {"clickId": self.clicks[click].id, "eventName": "Sign up"}
        body |= {"customerExternalId": customer, "metadata": metadata}
        answer = write(self.kit, "/track/lead", body)
        assert answer.status_code == 200 and not answer.json()["duplicate"], answer.text
        return self._converted(answer.json(), "lead", self.clicks[click], customer, metadata)

    def sale(
        self, customer: str, amount: int, metadata: dict[str, Any], click: str | None = None
    ) -> Conv:
        """A sale, attributed to the customer's lead (or to ``click`` without one)."""
        body: dict[str, Any] = {"customerExternalId": customer, "amount": amount}
        body |= {"currency": "eur", "metadata": metadata, "invoiceId": new_id()}
        if click is not None:
            body["clickId"] = self.clicks[click].id
        answer = write(self.kit, "/track/sale", body)
        assert answer.status_code == 200, answer.text
        earlier = [c for c in self.conversions.values() if c.customer == customer]
        lead = next((c for c in earlier if c.kind == "lead"), None)
        attributed = lead.click if lead else self.clicks[str(click)]
        conv = self._converted(answer.json(), "sale", attributed, customer, metadata)
        conv.amount = amount
        conv.sale_type = "recurring" if any(c.kind == "sale" for c in earlier) else "new"
        assert answer.json()["sale"]["type"] == conv.sale_type
        return conv

    def _converted(
        self, answer: dict[str, Any], kind: str, click: Seen, customer: str, meta: dict[str, Any]
    ) -> Conv:
        assert answer["click"]["id"] == click.id
        conv = Conv(answer["eventId"], kind, click, customer, meta)
        click.conversions.append(conv)
        self.conversions[conv.id] = conv
        return conv

    # the model ----------------------------------------------------------------------------

    def expected(
        self, shared: Predicate, conversion: Predicate | None = None
    ) -> dict[str, set[str]]:
        """Ids of the clicks, leads and sales a filter keeps: ``shared`` holds on the facts every
        event has, ``conversion`` on a lead's or sale's own facts (a click: on one of its
        conversions')."""
        clicks = {
            c.id
            for c in self.clicks.values()
            if shared(c.facts())
            and (conversion is None or any(conversion(v.facts()) for v in c.conversions))
        }
        kept = [
            v
            for v in self.conversions.values()
            if shared(v.facts()) and (conversion is None or conversion(v.facts()))
        ]
        return {
            "clicks": clicks,
            "leads": {v.id for v in kept if v.kind == "lead"},
            "sales": {v.id for v in kept if v.kind == "sale"},
        }

    def amount_of(self, sale_ids: set[str]) -> int:
        return sum(self.conversions[i].amount for i in sale_ids)


def seed(kit: Kit) -> World:
    """One brand's links, clicks, leads and sales (every test of the module reads them)."""
    world = World(kit, urlsplit(kit.url).netloc)
    _links(world)
    _redirects(world)
    _page_views(world)
    _conversions(world)
    return world


def _links(world: World) -> None:
    world.link(
        "spring",
        f"{SHOP}/spring",
        key="spring",
        tags=["spring", "email"],
        folder="campaigns",
        tenant_id="acme",
        group_id="grp-1",
        partner_id="partner-1",
        external_id="crm-1",
    )
    world.link(
        "autumn",
        f"{SHOP}/autumn",
        tags=["autumn"],
        folder="campaigns",
        tenant_id="acme",
        group_id="grp-2",
        external_id="crm-2",
    )
    world.link("bare", f"{SHOP}/bare")
    settings = {"settings": {"short_domain": f"https://{SHORT_DOMAIN}"}}
    patched = world.kit.http.patch(
        f"/api/brands/{world.kit.brand.id}",
        json=settings,
        headers={"EF-Access-Key": world.kit.admin_key},
    )
    assert patched.status_code == 200, patched.text
    # the same code as "spring", on the short domain
    world.link(
        "social",
        f"{SHOP}/spring",
        key="spring",
        tags=["spring"],
        folder="social",
        tenant_id="globex",
        group_id="grp-1",
        partner_id="partner-2",
        external_id="crm,3",
    )


NEWSLETTER = {"source": "newsletter", "medium": "email", "campaign": "spring"}
TWITTER = {"source": "twitter", "medium": "social", "campaign": "autumn"}
FACEBOOK = {"source": "facebook", "medium": "social", "campaign": "spring,sale"}
GOOGLE_ADS = {"source": "google", "medium": "cpc", "campaign": "brand"}
GMAIL = "https://mail.google.com/"
HN = "https://news.ycombinator.com/item?id=1"
GOOGLE = "https://www.google.com/"


def _redirects(world: World) -> None:
    world.redirect("r1", "spring", CHROME_WINDOWS, LONDON, NEWSLETTER)
    world.redirect("r2", "spring", IPHONE, BOXFORD, NEWSLETTER, referrer=GMAIL)
    world.redirect("r3", "spring", ANDROID, MILTON, qr=True)
    world.redirect("r4", "spring", IPHONE, LONDON, qr=True)
    coats = {**TWITTER, "term": "coats", "content": "banner"}
    world.redirect("r5", "autumn", FIREFOX_LINUX, LINKOPING, coats, "https://t.co/abc")
    world.redirect("r6", "autumn", CHROME_WINDOWS, SAN_DIEGO, TWITTER, "https://t.co/xyz")
    world.redirect("r7", "autumn", GOOGLEBOT, MILTON)
    world.redirect("r8", "social", ANDROID, CHANGCHUN, FACEBOOK, "https://www.facebook.com/")
    world.redirect("r9", "social", IPAD, BHUTAN, qr=True)
    world.redirect("r10", "bare", CHROME_WINDOWS, NOWHERE, referrer=HN)
    world.redirect("r11", "bare", GOOGLEBOT, LONDON)


def _page_views(world: World) -> None:
    ads = "utm_source=google&utm_medium=cpc&utm_campaign=brand&utm_term=shoes&utm_content=ad1"
    mail = "utm_source=newsletter&utm_medium=email&utm_campaign=spring"
    world.page_view("p1", f"{SHOP}/", CHROME_WINDOWS, LONDON, GOOGLE)
    world.page_view("p2", f"{SHOP}/?{ads}", IPHONE, MILTON, GOOGLE)
    world.page_view("p3", f"{SHOP}/pricing", FIREFOX_LINUX, LINKOPING, HN)
    world.page_view("p4", f"{SHOP}/pricing", ANDROID, SAN_DIEGO)
    world.page_view("p5", f"{SHOP}/", GOOGLEBOT, MILTON)
    world.page_view("p6", f"{SHOP}/blog?{mail}", CHROME_WINDOWS, BOXFORD, GMAIL)
    world.page_view("p7", f"{SHOP}/", IPAD, CHANGCHUN, old=True)
    world.page_view("p8", f"{SHOP}/pricing", CHROME_WINDOWS, LONDON, GOOGLE, old=True)
    # landings: page views carrying a redirect's ct_id (through its link, not root)
    world.page_view("l1", f"{SHOP}/spring?{mail}", CHROME_WINDOWS, LONDON, lands="r1")
    twitter = "utm_source=twitter&utm_medium=social&utm_campaign=autumn"
    world.page_view("l5", f"{SHOP}/autumn?{twitter}", FIREFOX_LINUX, LINKOPING, lands="r5")
    world.page_view("l8", f"{SHOP}/spring", ANDROID, CHANGCHUN, lands="r8")


def _conversions(world: World) -> None:
    world.lead("l1", "cus_A", {"plan": "pro", "seats": 5})
    world.lead("l5", "cus_B", {"plan": "pro plus", "seats": "5", "note": "Annual billing"})
    world.lead("p2", "cus_C", {"plan": "free", "seats": 1})
    world.lead("r3", "cus_D", {"plan": "pro", "seats": 12, "city": "Zürich"})
    world.lead("l8", "cus,E", {})
    world.lead("p5", "cus_G", {"plan": "free", "trial": True, "coupon": None})  # a bot's view
    world.sale("cus_A", 4900, {"plan": "pro", "seats": 5})
    # recurring; seats 5.0 (a float) is the number 5 to `query=seats:5`
    world.sale("cus_A", 4900, {"plan": "pro", "seats": 5.0, "cycle": "monthly"})
    world.sale("cus_B", 19900, {"plan": "pro plus"})
    world.sale("cus_D", 1500, {"plan": "pro"})
    world.sale("cus_F", 2500, {"plan": "starter"}, click="p3")  # no lead: its click


# time zones ----------------------------------------------------------------------------------

HOUR_MS = 3_600_000
SERIES_DAYS = (dt.date(2026, 3, 6), dt.date(2026, 10, 30))  # six UTC days from each
SERIES_SALE = 1000  # minor units of each sale


def utc_ms(day: dt.date, hour: int = 0, minute: int = 0) -> int:
    moment = dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=dt.UTC)
    return int(moment.timestamp()) * 1000


def series_rows(brand_id: int, link_id: str) -> tuple[list[Click], list[Conversion]]:
    """Two clicks an hour for six UTC days from each of ``SERIES_DAYS`` (over New York's 2026
    DST changes, 8 March and 1 November): at :10:00.007 UTC from the US through ``link_id``, at
    :45:00.007 a page view from DE, with a sale."""
    clicks: list[Click] = []
    sales: list[Conversion] = []
    for first in SERIES_DAYS:
        for hour in range(6 * 24):
            for minute in (10, 45):
                at = utc_ms(first) + hour * HOUR_MS + minute * 60_000 + 7
                click = Click(
                    id=new_id(at),
                    brand_id=brand_id,
                    session_id="s",
                    visitor_id="v",
                    created_at=at,
                    country="US" if minute == 10 else "DE",
                    trigger="link" if minute == 10 else "pageview",
                    link_id=link_id if minute == 10 else None,
                )
                clicks.append(click)
                if minute == 45:
                    sales.append(_series_sale(click))
    return clicks, sales


def _series_sale(click: Click) -> Conversion:
    sale_id = new_id(click.created_at)
    return Conversion(
        id=sale_id,
        brand_id=click.brand_id,
        kind="sale",
        dedupe_key=f'["sale",null,"{sale_id}"]',
        event_name="Purchase",
        click_id=click.id,
        session_id=click.session_id,
        visitor_id=click.visitor_id,
        customer_external_id=f"cus-{click.id}",
        amount=SERIES_SALE,
        currency="EUR",
        created_at=click.created_at,
        country=click.country,
    )
