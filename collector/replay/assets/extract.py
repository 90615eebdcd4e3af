"""rrweb event streams: the stylesheet and font URLs a recording uses (:func:`asset_urls`)."""

from __future__ import annotations

import re
from typing import Any

import msgspec

from collector.replay.assets.css import _absolute, font_urls
from collector.replay.assets.walk import Node, StreamWalker

_MAYBE_ASSETS_RE = re.compile(rb"stylesheet|url\(|@import", re.IGNORECASE)


class _Collect(StreamWalker):
    """The URLs of stylesheet links the recorder could not inline, and of the fonts of
    ``@font-face`` rules in CSS text, in order of appearance."""

    def __init__(self, page_url: str) -> None:
        super().__init__(page_url)
        self.urls: dict[str, None] = {}

    def css(self, holder: dict, key: str, base: str | None = None) -> None:
        text = holder.get(key)
        if isinstance(text, str):
            for url in font_urls(text, base or self.base):
                self.urls.setdefault(url)

    def attributes(self, node: Node, attrs: dict) -> None:
        self.css(attrs, "_cssText", self.sheet_base(node, attrs))
        href = attrs.get("href")
        if node.is_stylesheet_link() and isinstance(href, str) and "_cssText" not in attrs:
            url = _absolute(href, self.base)
            if url:
                self.urls.setdefault(url)


def _decode(events_json: bytes) -> Any:
    """The decoded JSON, or ``None`` when malformed or nested deeper than the interpreter's
    recursion limit allows msgspec (about 480 DOM levels: each is an object and a list)."""
    try:
        return msgspec.json.decode(events_json)
    except (msgspec.DecodeError, RecursionError):
        return None


def asset_urls(events_json: bytes, page_url: str) -> list[str]:
    """Absolute http(s) URLs of the stylesheets the recorder could not inline and of the fonts
    in ``@font-face`` rules of inlined CSS, in order of appearance, without duplicates.

    Relative references resolve against the Meta event's ``href`` (``page_url`` before the first
    Meta event), CSS text of a ``<link>`` against the sheet's own ``href`` when it kept one.
    Malformed JSON gives ``[]``. A chunk without ``stylesheet``, ``url(`` or ``@import`` in its
    bytes is answered without decoding.
    """
    if not _MAYBE_ASSETS_RE.search(events_json):
        return []
    events = _decode(events_json)
    if not isinstance(events, list):
        return []
    collect = _Collect(page_url)
    collect.walk(events)
    return list(collect.urls)
