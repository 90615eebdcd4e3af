"""Small rrweb recordings of the demo page, as the recorder would send them: a Meta and a
FullSnapshot of the page (a compact copy of ``static/demo.html``, styles inline), then mouse
moves toward each click, the clicks on their elements, and scrolls. They play in the viewer."""

from __future__ import annotations

import random
from typing import Any

from collector.demo import catalog

META, FULL_SNAPSHOT, INCREMENTAL = 4, 2, 3
MOUSE_MOVE, MOUSE_INTERACTION, SCROLL = 1, 2, 3
CLICK = 2
DOCUMENT_ID = 1

STYLE = (
    "*{box-sizing:border-box}body{margin:0;font:16px/1.5 system-ui,sans-serif;color:#1d2330;"
    "background:#faf7f2}header{display:flex;justify-content:space-between;align-items:center;"
    "padding:16px 32px;background:#2b1d14;color:#f6e7d2}header nav a{color:#f6e7d2;"
    "margin-left:20px;text-decoration:none}.hero{display:grid;grid-template-columns:1.2fr 1fr;"
    "gap:32px;padding:48px 32px;max-width:1200px;margin:0 auto}h1{font-size:44px;"
    "line-height:1.1;margin:0 0 16px}.cta{display:inline-block;padding:14px 28px;"
    "border-radius:8px;border:0;font-size:17px;margin:8px 8px 0 0}.primary{background:#c8502b;"
    "color:#fff}.secondary{background:#fff;color:#2b1d14;border:2px solid #2b1d14}"
    ".card{background:#fff;border-radius:12px;padding:24px;box-shadow:0 2px 12px rgba(0,0,0,.06)}"
    ".plans{display:grid;grid-template-columns:repeat(3,1fr);gap:16px;max-width:1200px;"
    "margin:0 auto;padding:0 32px 32px}@media (max-width:760px){.hero,.plans"
    "{grid-template-columns:1fr;padding:24px 16px}}"
)
HEADINGS = {
    catalog.HOME: "Fresh-roasted coffee, at your door every week.",
    "/demo/pricing": "Plans from €9 a week.",
    "/demo/beans": "This week's beans, roasted on Monday.",
    "/demo/about": "A small roastery in the hills.",
    "/demo/blog/brewing-guide": "Brewing guide: the perfect pour-over.",
    "/demo/checkout": "Almost there: your first bag ships Monday.",
}


class _Page:
    """A serialized DOM with rrweb node ids; ``ids`` maps a click's selector to its node."""

    def __init__(self) -> None:
        self.next_id = DOCUMENT_ID + 1
        self.ids: dict[str, int] = {}

    def _id(self) -> int:
        self.next_id += 1
        return self.next_id - 1

    def text(self, content: str, style: bool = False) -> dict[str, Any]:
        node: dict[str, Any] = {"type": 3, "textContent": content, "id": self._id()}
        if style:
            node["isStyle"] = True
        return node

    def el(self, tag: str, attrs: dict[str, str], *children: dict[str, Any] | str) -> dict:
        node_id = self._id()
        nodes = [self.text(c) if isinstance(c, str) else c for c in children]
        if "id" in attrs:
            self.ids[f"{tag}#{attrs['id']}"] = node_id
        elif "class" in attrs and "plan" in attrs["class"].split():
            self.ids.setdefault(f"button.plan:{children[0]}", node_id)
        return {"type": 2, "tagName": tag, "attributes": attrs, "childNodes": nodes, "id": node_id}


def _body(page: _Page, path: str) -> dict[str, Any]:
    el = page.el
    header = el(
        "header",
        {},
        el("strong", {}, "☕ Trailhead Coffee"),
        el(
            "nav",
            {},
            el("a", {"href": "#beans", "id": "nav-beans"}, "Beans"),
            el("a", {"href": "/demo/pricing", "id": "nav-pricing"}, "Pricing"),
            el("a", {"href": "/demo"}, "Home"),
        ),
    )
    hero = el(
        "section",
        {"class": "hero"},
        el(
            "div",
            {},
            el("h1", {"id": "title"}, HEADINGS.get(path, HEADINGS[catalog.HOME])),
            el("p", {}, "Every page view, click and custom event here is beaconed to Clicktrail."),
            el("button", {"class": "cta primary", "id": "buy-now"}, "Start my subscription"),
            el("button", {"class": "cta secondary", "id": "add-to-cart"}, "Add sampler to cart"),
            el(
                "p",
                {},
                el("input", {"type": "email", "id": "email", "value": "*****"}),
                el("button", {"class": "cta secondary", "id": "signup"}, "Get 20% off"),
            ),
        ),
        el("div", {"class": "card", "id": "beans"}, el("h3", {}, "This week's beans")),
    )
    plans = el(
        "section",
        {"class": "plans"},
        *(
            el(
                "div",
                {"class": "card"},
                el("h3", {}, name.title()),
                el("button", {"class": "cta primary plan"}, f"Choose {name}"),
            )
            for name in catalog.PLANS
        ),
    )
    return el("body", {}, header, hero, plans, el("div", {"style": "height:900px"}))


def _snapshot(path: str) -> tuple[dict[str, Any], dict[str, int]]:
    page = _Page()
    head = page.el(
        "head",
        {},
        page.el("meta", {"charset": "utf-8"}),
        page.el("title", {}, "Trailhead Coffee — Clicktrail demo"),
        page.el("style", {}, page.text(STYLE, style=True)),
    )
    html = page.el("html", {"lang": "en"}, head, _body(page, path))
    doctype = {"type": 1, "name": "html", "publicId": "", "systemId": "", "id": page._id()}
    document = {"type": 0, "childNodes": [doctype, html], "id": DOCUMENT_ID}
    return document, page.ids


def _target_id(ids: dict[str, int], data: dict[str, Any]) -> int:
    selector, text = data["s"], data.get("tx") or ""
    return ids.get(f"{selector}:{text}") or ids.get(selector) or DOCUMENT_ID


def recording(
    rng: random.Random, url: str, viewport: tuple[int, int], page_events: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The rrweb events of one page load at ``url`` whose tracker events are ``page_events``
    (the first is its page view): the mouse travels to each click, the page scrolls."""
    start = page_events[0]["ts"]
    width, height = viewport
    path = url.split("://", 1)[-1].split("/", 1)[-1].split("?", 1)[0]
    document, ids = _snapshot("/" + path)
    events: list[dict[str, Any]] = [
        {"type": META, "data": {"href": url, "width": width, "height": height}, "timestamp": start},
        {
            "type": FULL_SNAPSHOT,
            "data": {"node": document, "initialOffset": {"left": 0, "top": 0}},
            "timestamp": start + 8,
        },
    ]
    x, y = width // 2, height // 3
    for event in page_events[1:]:
        if event["t"] != "click":
            continue
        tx, ty = min(event["d"]["x"], width - 10), min(event["d"]["y"], height - 10)
        moves = [
            {
                "x": x + (tx - x) * step // 4,
                "y": y + (ty - y) * step // 4,
                "id": DOCUMENT_ID,
                "timeOffset": (step - 4) * 120,
            }
            for step in range(1, 5)
        ]
        events.append(_incremental(event["ts"] - 50, MOUSE_MOVE, positions=moves))
        target = _target_id(ids, event["d"])
        click = {"type": CLICK, "id": target, "x": tx, "y": ty}
        events.append(_incremental(event["ts"], MOUSE_INTERACTION, **click))
        x, y = tx, ty
    last = max(e["ts"] for e in page_events)
    for offset, scroll in ((1_200, 240), (2_600, 520), (4_000, 180)):
        jitter = rng.randrange(0, 400)
        events.append(_incremental(last + offset + jitter, SCROLL, id=DOCUMENT_ID, x=0, y=scroll))
    return sorted(events, key=lambda e: e["timestamp"])


def _incremental(ts: int, source: int, **data: Any) -> dict[str, Any]:
    return {"type": INCREMENTAL, "data": {"source": source, **data}, "timestamp": ts}
