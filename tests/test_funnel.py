"""The funnel API (issue 12) on both engines, over traffic sent through the real paths once per
engine: page views as the tracker beacons them (chosen visitors, chosen times, custom events),
a short-link redirect and its landing, leads and sales through ``track/lead`` and
``track/sale``. Expected numbers come from what was sent.

The visitors, minutes after ``T`` (three hours ago):

- A (London): ``/`` at 0, ``/pricing?plan=pro`` at 1 with a ``signup`` event 5 s later, then a
  lead and a sale;
- B (London): ``/pricing`` at 0, then ``/`` at 1 (the wrong order);
- C (Milton, US, iPhone): ``/`` at 0, ``/pricing/enterprise`` at 2 with a ``signup`` event;
- D (Milton): ``/`` at 0, ``/Pricing`` at 1 (another path: case counts);
- E (Googlebot, Milton): ``/`` at 0, ``/pricing`` at 1;
- G (London): a short link to ``/spring``, its landing (the same visitor), a lead there;
- H (London): ``/spring`` at 0, without a link.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from collector.http.params import iso
from collector.ids import new_id
from tests.analyticskit import CHROME_WINDOWS as CHROME
from tests.analyticskit import GOOGLEBOT, IPHONE, LONDON, MILTON, Agent, Place
from tests.appkit import Kit, engine_kit, now_ms
from tests.linkkit import click_id_of, follow, lead, make_link, sale
from tests.storage_fixtures import ENGINES

SHOP = "https://shop.example"
MINUTE = 60_000


@dataclass
class Seeded:
    kit: Kit
    t: int  # the first page views' time (ms)

    def funnel(self, *steps: str, **params: str) -> httpx.Response:
        query: list[tuple[str, str]] = [("step", step) for step in steps]
        query += list(params.items())
        return self.kit.http.get(
            f"/api/brands/{self.kit.brand.id}/funnel",
            params=query,
            headers={"EF-Access-Key": self.kit.read_key},
        )

    def visitors(self, *steps: str, **params: str) -> list[int]:
        answer = self.funnel(*steps, **params)
        assert answer.status_code == 200, answer.text
        rows = answer.json()["steps"]
        assert [row["step"] for row in rows] == list(steps)
        return [row["visitors"] for row in rows]


def page_view(
    kit: Kit,
    visitor: str,
    url: str,
    at: int,
    agent: Agent = CHROME,
    place: Place = LONDON,
    events: tuple[tuple[str, int], ...] = (),
    link_click: str | None = None,
) -> str:
    """A page load beaconed as the tracker does (a page view at ``at``, then ``events`` as
    (type, ms after)); returns its click id."""
    click_id = new_id(at)
    beacon = kit.beacon(
        u=url,
        v=visitor,
        s=new_id(at),
        p=click_id,
        e=[{"t": "page_view", "ts": at}, *({"t": t, "ts": at + d} for t, d in events)],
        **({"c": link_click} if link_click else {}),
    )
    sent = kit.collect(beacon, **{"user-agent": agent.ua, "x-forwarded-for": place.ip})
    assert sent.status_code == 204, sent.text
    return click_id


def seed(kit: Kit) -> Seeded:
    t = now_ms() - 3 * 3_600_000
    a, b, c, d, e, h = (new_id(t - 10 * MINUTE) for _ in range(6))
    page_view(kit, a, f"{SHOP}/", t)
    a_pricing = page_view(
        kit, a, f"{SHOP}/pricing?plan=pro", t + MINUTE, events=(("signup", 5000),)
    )
    page_view(kit, b, f"{SHOP}/pricing", t, place=LONDON)
    page_view(kit, b, f"{SHOP}/", t + MINUTE, place=LONDON)
    page_view(kit, c, f"{SHOP}/", t, IPHONE, MILTON)
    page_view(
        kit, c, f"{SHOP}/pricing/enterprise", t + 2 * MINUTE, IPHONE, MILTON, (("signup", 1),)
    )
    page_view(kit, d, f"{SHOP}/", t, IPHONE, MILTON)
    page_view(kit, d, f"{SHOP}/Pricing", t + MINUTE, IPHONE, MILTON)
    page_view(kit, e, f"{SHOP}/", t, GOOGLEBOT, MILTON)
    page_view(kit, e, f"{SHOP}/pricing", t + MINUTE, GOOGLEBOT, MILTON)
    page_view(kit, h, f"{SHOP}/spring", t, place=LONDON)
    assert lead(kit, a_pricing, "cus-a").status_code == 200
    assert sale(kit, "cus-a").status_code == 200
    spring = make_link(kit, f"{SHOP}/spring")
    redirect = click_id_of(follow(kit, f"/g/{spring['code']}", CHROME.ua, LONDON.ip))
    landing = page_view(kit, new_id(), f"{SHOP}/spring", now_ms(), link_click=redirect)
    assert lead(kit, landing, "cus-g").status_code == 200
    return Seeded(kit, t)


@pytest.fixture(scope="module", params=ENGINES)
def seeded(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, testdata_dir: Path
) -> Iterator[Seeded]:
    """One collector per engine over a store seeded once for the whole module."""
    tmp = tmp_path_factory.mktemp(f"funnel-{request.param}")
    with engine_kit(request.param, tmp, testdata_dir) as kit:
        yield seed(kit)


def test_ordered_steps_by_path_with_rates(seeded: Seeded) -> None:
    answer = seeded.funnel("page:/", "page:/pricing*")
    assert answer.status_code == 200, answer.text
    # A, B, C, D reach "/"; A and C reach /pricing* after it (B before, D's path differs)
    assert answer.json() == {
        "steps": [
            {"step": "page:/", "visitors": 4, "conversionRate": 1.0, "dropOff": 0.0},
            {"step": "page:/pricing*", "visitors": 2, "conversionRate": 0.5, "dropOff": 0.5},
        ]
    }


def test_exact_path_ignores_the_query_string(seeded: Seeded) -> None:
    assert seeded.visitors("page:/", "page:/pricing") == [4, 1]  # A's /pricing?plan=pro
    assert seeded.visitors("page:/", "page:/Pricing") == [4, 1]  # D, case sensitive
    assert seeded.visitors("page:/", "page:*/enterprise") == [4, 1]  # C
    assert seeded.visitors("page:*", "page:/pricing*") == [6, 3]  # B's /pricing counts now


def test_whole_url_patterns(seeded: Seeded) -> None:
    assert seeded.visitors("page:/", f"page:{SHOP}/pricing?plan=*") == [4, 1]
    assert seeded.visitors("page:/", "page:https://elsewhere.example/*") == [4, 0]


def test_custom_events_leads_and_sales(seeded: Seeded) -> None:
    steps = ("page:/", "event:signup", "lead", "sale")
    assert seeded.visitors(*steps) == [4, 2, 1, 1]  # C signed up, without a lead
    assert seeded.visitors("page:/", "lead:Sign up") == [4, 1]
    assert seeded.visitors("page:/", "lead:Demo request") == [4, 0]
    assert seeded.visitors("event:signup", "page:/") == [2, 0]  # nobody came back to /


def test_short_link_steps(seeded: Seeded) -> None:
    # G followed the link, landed on /spring and signed up; H came to /spring without one
    assert seeded.visitors("link", "page:/spring", "lead") == [1, 1, 1]
    assert seeded.visitors("page:/spring", "lead") == [2, 1]


def test_filters_narrow_every_step(seeded: Seeded) -> None:
    # GB: A and B (and G, H elsewhere); US: C, D (E is a bot)
    assert seeded.visitors("page:/", "page:/pricing*", "event:signup", country="GB") == [2, 1, 1]
    assert seeded.visitors("page:/", "event:signup", "lead", "sale", country="US") == [2, 1, 0, 0]
    assert seeded.visitors("page:/", "page:/pricing*", device="mobile") == [2, 1]


def test_bots_are_left_out_unless_asked(seeded: Seeded) -> None:
    assert seeded.visitors("page:/", "page:/pricing*", bots="include") == [5, 3]
    assert seeded.visitors("page:/", "page:/pricing*", bots="only") == [1, 1]


def test_the_time_window_bounds_every_step(seeded: Seeded) -> None:
    t = seeded.t
    # from T + 30 s: only B's "/" (at 1 min) is in, and B's /pricing was before it
    answer = seeded.funnel("page:/", "page:/pricing*", start=iso(t + 30_000))
    assert answer.status_code == 200, answer.text
    rows = answer.json()["steps"]
    assert [(r["visitors"], r["conversionRate"], r["dropOff"]) for r in rows] == [
        (1, 1.0, 0.0),
        (0, 0.0, 1.0),
    ]
    # up to T + 90 s: C's /pricing/enterprise (2 min) is out
    ended = seeded.visitors("page:/", "page:/pricing*", start=iso(t - 1000), end=iso(t + 90_000))
    assert ended == [4, 1]
    assert seeded.visitors("page:/", "page:/pricing*", interval="1h") == [0, 0]


def test_no_visitors_means_zero_rates(seeded: Seeded) -> None:
    answer = seeded.funnel("page:/nowhere", "lead")
    assert answer.status_code == 200, answer.text
    assert [r["conversionRate"] for r in answer.json()["steps"]] == [0.0, 0.0]
    assert [r["dropOff"] for r in answer.json()["steps"]] == [0.0, 0.0]


@pytest.mark.parametrize(
    ("steps", "says"),
    [
        ((), "`step`"),
        (("page:/",), "2 to 8 times"),
        (tuple(f"page:/{n}" for n in range(9)), "2 to 8 times"),
        (("page:/", "click:button"), "is not a step"),
        (("page:/", "event:"), "needs a value"),
        (("page:/", "page:pricing"), "starts with /"),
        (("page:/" + "x" * 600, "page:/"), "longer than"),  # the last one is checked first
        (("page:/", "page:/" + "*" * 9), "at most 8"),
        (("page:/", "event:page_view"), "not a custom event"),
        (("page:/", "link:abc"), "is not a step"),
        (("page:/", "lead:" + "x" * 256), "1 to 255"),
    ],
)
def test_bad_steps_are_a_422_naming_step(seeded: Seeded, steps: tuple[str, ...], says: str) -> None:
    answer = seeded.funnel(*steps)
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["param"] == "step"
    assert says in error["message"]


def test_filters_are_checked_as_analytics_checks_them(seeded: Seeded) -> None:
    answer = seeded.funnel("page:/", "lead", country="Britain")
    assert answer.status_code == 422
    assert answer.json()["error"]["param"] == "country"


def test_funnel_needs_a_key(seeded: Seeded) -> None:
    answer = seeded.kit.http.get(
        f"/api/brands/{seeded.kit.brand.id}/funnel", params=[("step", "lead"), ("step", "sale")]
    )
    assert answer.status_code == 401
