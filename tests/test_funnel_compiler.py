"""The funnel compiler (``collector/query/funnel*.py``) on both engines against a model in
Python: random clicks, custom events and conversions of a few visitors (URLs with queries,
fragments, no path, odd characters, ties in time), random funnels of 2 to 4 steps under random
filters and time ranges. Both engines must give the model's numbers, so they agree with each
other too.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from typing import Any

import pytest

from collector.cli import create_brand
from collector.query.funnel import TRACKER_EVENTS, Funnel, Step
from collector.query.model import AnyOf, Filter, NoneOf, TimeRange
from collector.storage.base import BrandSettings, Click, Conversion, Event, Store
from collector.storage.model import CLICK_FACTS

BASE = 1_780_000_000_000
URLS = [
    "https://shop.example/",
    "https://shop.example",
    "https://shop.example/pricing",
    "https://shop.example/pricing?x=/a#b",
    "https://shop.example/pricing#top?x",
    "https://shop.example/Pricing",
    "https://shop.example/a/b?c=1",
    "https://shop.example?x=/pricing",
    "http://other.example/pricing/",
    "https://shop.example/blog/pricing",
    "https://shop.example/p[1]?q",
    "https://shop.example/100%_off",
    "https://shop.example/über/pricing",
    "no-scheme/pricing",
]
PATTERNS = [
    "/",
    "/pricing*",
    "/pricing",
    "*pricing*",
    "*",
    "/p[1]",
    "/100%_off",
    "/über/*",
    "/*/*",
    "*/",
    "https://shop.example/pricing*",
    "*://other.example/*",
    "https://shop.example",
]
OTHER_STEPS = ["event:signup", "event:add_to_cart", "lead", "lead:Sign up", "sale", "link"]
EVENT_TYPES = ["signup", "add_to_cart", "page_view", "click"]
Row = tuple[str, int, Callable[[Step], bool]]


def random_rows(
    rng: random.Random, brand_id: int
) -> tuple[list[Click], list[Event], list[Conversion]]:
    clicks, events, conversions = [], [], []
    for n in range(300):
        visitor = f"v{rng.randrange(40)}"
        clicks.append(
            Click(
                id=f"c{n}",
                brand_id=brand_id,
                session_id=f"s{visitor}",
                visitor_id=visitor,
                created_at=BASE + rng.randrange(60) * 1000,  # ties on purpose
                trigger=rng.choice(["pageview"] * 6 + ["link", "qr"]),
                url=rng.choice(URLS),
                country=rng.choice(["GB", "US", None]),
                is_bot=rng.random() < 0.15,
            )
        )
    for n, click in enumerate(rng.sample(clicks, 120)):
        events.append(
            Event(
                brand_id=brand_id,
                click_id=click.id,
                session_id=click.session_id,
                type=rng.choice(EVENT_TYPES),
                timestamp=click.created_at + rng.randrange(0, 5) * 1000,
                seq=n,
            )
        )
    for n, click in enumerate(rng.sample(clicks, 60)):
        kind = rng.choice(["lead", "sale"])
        facts = {name: getattr(click, name) for name in CLICK_FACTS}
        conversions.append(
            Conversion(
                id=f"x{n}",
                brand_id=brand_id,
                kind=kind,
                dedupe_key=f"k{n}",
                event_name=rng.choice(["Sign up", "Demo"]) if kind == "lead" else "Purchase",
                click_id=click.id,
                session_id=click.session_id,
                visitor_id=click.visitor_id,
                customer_external_id=f"cus{n}",
                created_at=click.created_at + rng.randrange(0, 8) * 1000,
                **facts,
            )
        )
    return clicks, events, conversions


def parse(text: str) -> Step:
    kind, _, value = text.partition(":")
    return Step(kind, value or None)  # type: ignore[arg-type]


def path_of(url: str) -> str:
    """The path as the compiler cuts it out of a URL."""
    at = url.find("://")
    rest = url[at + 3 :] if at >= 0 else url[2:]  # SQL's instr gives 0: substr from 3
    rest = rest.split("#", 1)[0].split("?", 1)[0]
    slash = rest.find("/")
    return rest[slash:] if slash >= 0 else ""


def matches(pattern: str, text: str) -> bool:
    regex = ".*".join(re.escape(piece) for piece in pattern.split("*"))
    return re.fullmatch(regex, text, re.DOTALL) is not None


def click_step(click: Click) -> Callable[[Step], bool]:
    def check(step: Step) -> bool:
        if step.kind == "link":
            return click.trigger in ("link", "qr")
        if step.kind != "page" or click.trigger != "pageview":
            return False
        assert step.value is not None
        return matches(step.value, click.url if step.whole_url else path_of(click.url))

    return check


def event_step(event: Event) -> Callable[[Step], bool]:
    return lambda step: step.kind == "event" and step.value == event.type


def conversion_step(conversion: Conversion) -> Callable[[Step], bool]:
    def check(step: Step) -> bool:
        named = step.value is None or step.value == conversion.event_name
        return step.kind == conversion.kind and named

    return check


def model(
    rows: tuple[list[Click], list[Event], list[Conversion]],
    steps: tuple[Step, ...],
    keep: Callable[[Any], bool],
    window: TimeRange,
) -> list[int]:
    clicks, events, conversions = rows
    by_id = {click.id: click for click in clicks}
    start, end = window.start or 0, window.end or 2**62
    found: list[Row] = []
    for click in clicks:
        if keep(click) and start <= click.created_at <= end:
            found.append((click.visitor_id, click.created_at, click_step(click)))
    for event in events:
        click = by_id[event.click_id]
        custom = event.type not in TRACKER_EVENTS
        if custom and keep(click) and start <= event.timestamp <= end:
            found.append((click.visitor_id, event.timestamp, event_step(event)))
    for conversion in conversions:
        if keep(conversion) and start <= conversion.created_at <= end:
            found.append(
                (conversion.visitor_id, conversion.created_at, conversion_step(conversion))
            )
    return reached(found, steps)


def reached(found: list[Row], steps: tuple[Step, ...]) -> list[int]:
    counts = [0] * len(steps)
    for visitor in {row[0] for row in found}:
        mine = [row for row in found if row[0] == visitor]
        at = -1
        for n, step in enumerate(steps):
            times = [t for _, t, check in mine if t >= at and check(step)]
            if not times:
                break
            at = min(times)
            counts[n] += 1
    return counts


FILTERS: list[tuple[tuple[Filter, ...], Callable[[Any], bool]]] = [
    ((), lambda row: True),
    ((AnyOf("bot", (False,)),), lambda row: not row.is_bot),
    ((AnyOf("country", ("GB",)),), lambda row: row.country == "GB"),
    ((NoneOf("country", ("US",)),), lambda row: row.country != "US"),
]


def test_both_engines_count_as_the_model(store: Store) -> None:
    brand = create_brand(store, "funnels", [], BrandSettings())
    rng = random.Random(12)
    rows = random_rows(rng, brand.id)
    store.write_batch(rows[0], rows[1], conversions=rows[2])
    pool = [*(f"page:{p}" for p in PATTERNS), *OTHER_STEPS]
    checked = 0
    for _ in range(150):
        steps = tuple(parse(text) for text in rng.sample(pool, rng.randint(2, 4)))
        filters, keep = rng.choice(FILTERS)
        window = rng.choice(
            [TimeRange(), TimeRange(BASE + 10_000, BASE + 40_000), TimeRange(BASE + 30_000)]
        )
        funnel = Funnel(
            steps=steps, click_filters=filters, conversion_filters=filters, time_range=window
        )
        expected = model(rows, steps, keep, window)
        assert store.funnel(brand.id, funnel) == expected, (steps, filters, window)
        checked += expected[-1] > 0
    assert checked > 10  # enough funnels went all the way


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("https://shop.example/a?b#c", "/a"),
        ("https://shop.example/a#c?b", "/a"),
        ("https://shop.example", ""),
        ("https://shop.example?x=/y", ""),
        ("https://user@shop.example:8443/a/b/", "/a/b/"),
    ],
)
def test_the_model_cuts_paths_as_documented(url: str, path: str) -> None:
    assert path_of(url) == path
