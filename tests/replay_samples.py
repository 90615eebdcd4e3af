"""rrweb streams for tests: a tiny page built like rrweb records it, and the real recording."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def checkout_recording(t0: int) -> list[dict[str, Any]]:
    """Meta + FullSnapshot of a page with a button#buy-now, then the seed's three events:
    a mouse move to (100, 200) at 1500 ms, a click at (300, 400) on the button at 2300 ms and a
    page scroll to 800 at 5000 ms."""
    button = {
        "type": 2,
        "tagName": "button",
        "attributes": {"id": "buy-now", "class": "cta"},
        "childNodes": [{"type": 3, "textContent": "Buy", "id": 7}],
        "id": 6,
    }
    body = {"type": 2, "tagName": "body", "attributes": {}, "childNodes": [button], "id": 5}
    head = {"type": 2, "tagName": "head", "attributes": {}, "childNodes": [], "id": 4}
    html = {"type": 2, "tagName": "html", "attributes": {}, "childNodes": [head, body], "id": 3}
    doctype = {"type": 1, "name": "html", "publicId": "", "systemId": "", "id": 2}
    document = {"type": 0, "childNodes": [doctype, html], "id": 1}
    return [
        {
            "type": 4,
            "data": {"href": "https://shop.example/checkout", "width": 1440, "height": 900},
            "timestamp": t0,
        },
        {
            "type": 2,
            "data": {"node": document, "initialOffset": {"left": 0, "top": 0}},
            "timestamp": t0 + 1,
        },
        {
            "type": 3,
            "data": {"source": 1, "positions": [{"x": 100, "y": 200, "id": 5, "timeOffset": -500}]},
            "timestamp": t0 + 2000,
        },
        {
            "type": 3,
            "data": {"source": 2, "type": 2, "id": 6, "x": 300, "y": 400},
            "timestamp": t0 + 2300,
        },
        {"type": 3, "data": {"source": 3, "id": 1, "x": 0, "y": 800}, "timestamp": t0 + 5000},
    ]


SEED_EVENTS = [
    {"type": "mousemove", "x": 100, "y": 200, "ts": 1500},
    {"type": "click", "x": 300, "y": 400, "ts": 2300, "target": "button#buy-now"},
    {"type": "scroll", "scrollY": 800, "ts": 5000},
]


def real_recording_path(testdata_dir: Path) -> Path:
    return testdata_dir / "recordings" / "demoit-react-hooks.json"
