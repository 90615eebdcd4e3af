"""A hostile rrweb recording: every way a rebuilt page can load a URL or run a script, each
pointing at ``attacker`` (an origin standing in for a third party) under its own path, so a
request that gets through says which reference leaked. Used by tests/test_replay_proxy.py and
e2e/test_viewer_hostile.py."""

from __future__ import annotations

import itertools
from typing import Any


class _Ids:
    def __init__(self) -> None:
        self._next = itertools.count(1)

    def __call__(self) -> int:
        return next(self._next)


def _el(ids: _Ids, tag: str, attrs: dict[str, Any] | None = None, *children: dict, **extra: Any):
    return {
        "type": 2,
        "tagName": tag,
        "attributes": attrs or {},
        "childNodes": list(children),
        "id": ids(),
        **extra,
    }


def _text(ids: _Ids, text: str, **extra: Any) -> dict:
    return {"type": 3, "textContent": text, "id": ids(), **extra}


def hostile_css(a: str) -> str:
    return (
        f'@import "{a}/import.css"; @import url({a}/import-url.css) screen;'
        f" .bg {{ background: url({a}/style-bg.png) red; }}"
        f' .set {{ background-image: image-set("{a}/set-1x.png" 1x, url({a}/set-2x.png) 2x); }}'
        f" @font-face {{ font-family: Evil; src: url({a}/font.woff2) format('woff2'); }}"
        f" .esc {{ background: \\75 rl({a}/escaped.png); }}"
        f" .cursor {{ cursor: url({a}/cursor.png), auto; }}"
    )


def _head(ids: _Ids, a: str) -> dict:
    links = [
        {"rel": "stylesheet", "href": f"{a}/sheet.css"},
        {"rel": "icon", "href": f"{a}/favicon.ico"},
        {"rel": "preload", "as": "image", "href": f"{a}/preload.png"},
        {"rel": "prefetch", "href": f"{a}/prefetch.html"},
        {"rel": "dns-prefetch", "href": a},
        {"rel": "preconnect", "href": a},
        {"rel": "modulepreload", "href": f"{a}/module.js"},
    ]
    inlined = {
        "rel": "stylesheet",
        "href": f"{a}/inlined.css",
        "_cssText": "body { background-image: url(inlined-bg.png); }",  # relative to the sheet
    }
    return _el(
        ids,
        "head",
        {},
        _el(ids, "meta", {"http-equiv": "refresh", "content": f"0;url={a}/refresh.html"}),
        _el(ids, "base", {"href": f"{a}/base/"}),
        *(_el(ids, "link", attrs) for attrs in [*links, inlined]),
        _el(ids, "style", {}, _text(ids, hostile_css(a), isStyle=True)),
        _el(ids, "script", {"src": f"{a}/script.js"}),
        _el(ids, "script", {}, _text(ids, "window.parent.pwned = 1; alert('script');")),
    )


def _media(ids: _Ids, a: str) -> list[dict]:
    return [
        _el(
            ids,
            "img",
            {
                "src": f"{a}/img.png",
                "srcset": f"{a}/img-1x.png 1x, {a}/img-2x.png 2x",
                "onerror": "alert('onerror')",
                "alt": "img",
            },
        ),
        _el(
            ids,
            "picture",
            {},
            _el(ids, "source", {"srcset": f"{a}/picture.webp", "type": "image/webp"}),
            _el(ids, "img", {"src": f"{a}/picture.png"}),
        ),
        _el(
            ids,
            "video",
            {"src": f"{a}/video.mp4", "poster": f"{a}/poster.png"},
            _el(ids, "source", {"src": f"{a}/source.webm", "type": "video/webm"}),
            _el(ids, "track", {"src": f"{a}/track.vtt", "kind": "captions"}),
        ),
        _el(ids, "audio", {"src": f"{a}/audio.mp3", "controls": ""}),
        _el(ids, "input", {"type": "image", "src": f"{a}/input.png"}),
        _el(ids, "img", {"src": "relative.png", "onload": "alert('onload')"}),
        _el(ids, "canvas", {"rr_dataURL": f"{a}/canvas.png", "width": "10", "height": "10"}),
    ]


def _svg(ids: _Ids, a: str) -> dict:
    def svg(tag: str, attrs: dict[str, Any], *children: dict) -> dict:
        return _el(ids, tag, attrs, *children, isSVG=True)

    return svg(
        "svg",
        {"width": "100", "height": "100", "onload": "alert('svg')"},
        svg("image", {"href": f"{a}/svg-image.png", "width": "10", "height": "10"}),
        svg("image", {"xlink:href": f"{a}/svg-xlink.png", "width": "10", "height": "10"}),
        svg("use", {"href": f"{a}/sprite.svg#icon"}),
        svg("filter", {"id": "f"}, svg("feimage", {"href": f"{a}/feimage.png"})),
        svg("rect", {"width": "5", "height": "5", "fill": f"url({a}/fill.svg#g)"}),
        svg("a", {"href": "javascript:alert('svg-a')"}, svg("text", {}, _text(ids, "x"))),
    )


def _active(ids: _Ids, a: str) -> list[dict]:
    return [
        _el(ids, "div", {"style": f"background-image: url({a}/style-attr.png)", "onclick": "x()"}),
        _el(ids, "table", {"background": f"{a}/table-bg.png"}),
        _el(ids, "object", {"data": f"{a}/object.svg", "type": "image/svg+xml"}),
        _el(ids, "embed", {"src": f"{a}/embed.svg"}),
        _el(ids, "iframe", {"src": f"{a}/frame.html"}),
        _el(ids, "iframe", {"srcdoc": f"<img src='{a}/srcdoc.png'>"}),
        _el(
            ids,
            "form",
            {"action": f"{a}/form"},
            _el(ids, "button", {"formaction": f"{a}/formaction"}, _text(ids, "Go")),
        ),
        _el(ids, "a", {"href": "javascript:alert('link')"}, _text(ids, "js link")),
        _el(ids, "a", {"href": f"{a}/page", "ping": f"{a}/ping"}, _text(ids, "link")),
        _el(ids, "map", {}, _el(ids, "area", {"href": "JaVaScRiPt:alert('area')"})),
        _el(ids, "p", {}, _text(ids, "Hostile recording")),
    ]


class HostileRecording:
    """The events, and the node ids later events change."""

    def __init__(self, attacker: str, t0: int) -> None:
        ids = _Ids()
        a = attacker.rstrip("/")
        document = {"type": 0, "childNodes": [], "id": ids()}
        head = _head(ids, a)
        media = _media(ids, a)
        body = _el(ids, "body", {}, *media, _svg(ids, a), *_active(ids, a))
        html = _el(ids, "html", {}, head, body)
        document["childNodes"] = [{"type": 1, "name": "html", "id": ids()}, html]
        style = head["childNodes"][-3]
        self.style_id = style["id"]
        self.style_text_id = style["childNodes"][0]["id"]
        self.img_id = media[0]["id"]
        self.body_id = body["id"]
        self.next_id = ids()
        self.events = [
            {"type": 4, "data": {"href": f"{a}/page.html", "width": 1000, "height": 700}},
            {"type": 2, "data": {"node": document, "initialOffset": {"left": 0, "top": 0}}},
            *self._incremental(a),
        ]
        for n, event in enumerate(self.events):
            event["timestamp"] = t0 + n * 100

    def _incremental(self, a: str) -> list[dict]:
        added = {
            "type": 2,
            "tagName": "img",
            "attributes": {"src": f"{a}/mutation-img.png", "onerror": "alert('added')"},
            "childNodes": [],
            "id": self.next_id,
        }
        mutation = {
            "source": 0,
            "adds": [{"parentId": self.body_id, "nextId": None, "node": added}],
            "removes": [],
            "texts": [
                {"id": self.style_text_id, "value": f".t {{ background: url({a}/text.png) }}"}
            ],
            "attributes": [
                {
                    "id": self.img_id,
                    "attributes": {
                        "src": f"{a}/attribute.png",
                        "style": {"background": f"url({a}/style-diff.png)"},
                        "onmouseover": "alert('attribute')",
                    },
                }
            ],
        }
        rule = {
            "source": 8,
            "id": self.style_id,
            "adds": [{"rule": f".r {{ background: url({a}/rule.png) }}"}],
        }
        declaration = {
            "source": 13,
            "id": self.style_id,
            "index": [0],
            "set": {"property": "background", "value": f"url({a}/declaration.png)"},
        }
        adopted = {
            "source": 15,
            "id": 1,
            "styleIds": [1],
            "styles": [
                {"styleId": 1, "rules": [{"rule": f".ad {{ background: url({a}/adopted.png) }}"}]}
            ],
        }
        font = {
            "source": 10,
            "family": "EvilFont",
            "fontSource": f'url("{a}/font-event.woff2")',
            "buffer": False,
            "descriptors": {},
        }
        return [{"type": 3, "data": data} for data in (mutation, rule, declaration, adopted, font)]
