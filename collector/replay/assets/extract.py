"""rrweb event streams: the stylesheet and font URLs a recording uses (:func:`asset_urls`),
and the stream with them pointed at stored copies (:func:`rewrite_asset_urls`)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import msgspec

from collector.replay.assets.css import _absolute, font_urls, rewrite_css
from collector.replay.assets.store import ASSET_PREFIX

_MAYBE_ASSETS_RE = re.compile(rb"stylesheet|url\(|@import", re.IGNORECASE)


# ---------------------------------------------------------------------------------------------
# rrweb event walking: one walker for extraction and rewriting


class _Visitor:
    """Callbacks of :func:`_walk_events`; a non-``None`` answer replaces the visited value."""

    def css(self, text: str, base: str) -> str | None:
        return None

    def link(self, href: str, base: str) -> str | None:
        return None


class _DomIds:
    """Node ids the walk needs to understand later mutations (rrweb never reuses an id)."""

    def __init__(self) -> None:
        self.styles: set[int] = set()  # <style> elements
        self.style_texts: set[int] = set()  # text nodes holding CSS
        self.sheet_links: set[int] = set()  # <link rel=stylesheet> elements


def _is_stylesheet_rel(rel: Any) -> bool:
    return isinstance(rel, str) and "stylesheet" in rel.lower().split()


def _visit_css_field(holder: dict, key: str, base: str, visitor: _Visitor) -> None:
    value = holder.get(key)
    if isinstance(value, str):
        new = visitor.css(value, base)
        if new is not None:
            holder[key] = new


def _visit_element(node: dict, base: str, ids: _DomIds, visitor: _Visitor) -> str:
    tag = node.get("tagName")
    tag = tag.lower() if isinstance(tag, str) else ""
    attrs = node.get("attributes")
    node_id = node.get("id")
    if tag == "style" and isinstance(node_id, int):
        ids.styles.add(node_id)
    if not isinstance(attrs, dict):
        return tag
    href = attrs.get("href")
    own_base = (_absolute(href, base) or base) if isinstance(href, str) else base
    _visit_css_field(attrs, "_cssText", own_base, visitor)
    if tag == "link" and _is_stylesheet_rel(attrs.get("rel")):
        if isinstance(node_id, int):
            ids.sheet_links.add(node_id)
        _visit_link_href(attrs, base, visitor)
    return tag


def _visit_link_href(attrs: dict, base: str, visitor: _Visitor) -> None:
    href = attrs.get("href")
    if isinstance(href, str) and "_cssText" not in attrs:
        new = visitor.link(href, base)
        if new is not None:
            attrs["href"] = new


def _visit_text(node: dict, parent_tag: str | None, base: str, ids: _DomIds, v: _Visitor) -> None:
    if not (node.get("isStyle") or parent_tag == "style"):
        return
    node_id = node.get("id")
    if isinstance(node_id, int):
        ids.style_texts.add(node_id)
    _visit_css_field(node, "textContent", base, v)


def _walk_tree(
    root: Any, parent_tag: str | None, base: str, ids: _DomIds, visitor: _Visitor
) -> None:
    """Visit a serialized node tree depth-first in document order, without recursion."""
    stack: list[tuple[Any, str | None]] = [(root, parent_tag)]
    while stack:
        node, parent = stack.pop()
        if not isinstance(node, dict):
            continue
        kind = node.get("type")
        if kind == 3:
            _visit_text(node, parent, base, ids, visitor)
            continue
        tag = _visit_element(node, base, ids, visitor) if kind == 2 else None
        children = node.get("childNodes")
        if isinstance(children, list) and children:
            stack.extend((child, tag) for child in reversed(children))


def _dicts(value: Any) -> Iterator[dict]:
    if isinstance(value, list):
        yield from (item for item in value if isinstance(item, dict))


def _walk_mutation(data: dict, base: str, ids: _DomIds, visitor: _Visitor) -> None:
    for add in _dicts(data.get("adds")):
        parent = "style" if add.get("parentId") in ids.styles else None
        _walk_tree(add.get("node"), parent, base, ids, visitor)
    for text in _dicts(data.get("texts")):
        if text.get("id") in ids.style_texts:
            _visit_css_field(text, "value", base, visitor)
    for change in _dicts(data.get("attributes")):
        attrs = change.get("attributes")
        if not isinstance(attrs, dict):
            continue
        _visit_css_field(attrs, "_cssText", base, visitor)
        if change.get("id") in ids.sheet_links:
            _visit_link_href(attrs, base, visitor)


def _walk_incremental(data: dict, base: str, ids: _DomIds, visitor: _Visitor) -> None:
    source = data.get("source")
    if source == 0:  # Mutation
        _walk_mutation(data, base, ids, visitor)
    elif source == 8:  # StyleSheetRule (CSSOM insertRule / replace)
        for add in _dicts(data.get("adds")):
            _visit_css_field(add, "rule", base, visitor)
        _visit_css_field(data, "replace", base, visitor)
        _visit_css_field(data, "replaceSync", base, visitor)
    elif source == 15:  # AdoptedStyleSheet
        for style in _dicts(data.get("styles")):
            for rule in _dicts(style.get("rules")):
                _visit_css_field(rule, "rule", base, visitor)


def _walk_events(events: Any, page_url: str, visitor: _Visitor) -> None:
    """Visit stylesheet links and CSS text of an rrweb event array, in stream order."""
    if not isinstance(events, list):
        return
    base = page_url
    ids = _DomIds()
    for event in _dicts(events):
        data = event.get("data")
        if not isinstance(data, dict):
            continue
        kind = event.get("type")
        if kind == 4:  # Meta: the page the following snapshot belongs to
            href = data.get("href")
            base = (_absolute(href, page_url) if isinstance(href, str) else None) or page_url
        elif kind == 2:  # FullSnapshot
            ids = _DomIds()
            _walk_tree(data.get("node"), None, base, ids, visitor)
        elif kind == 3:
            _walk_incremental(data, base, ids, visitor)


class _Collect(_Visitor):
    def __init__(self) -> None:
        self.urls: dict[str, None] = {}

    def css(self, text: str, base: str) -> None:
        for url in font_urls(text, base):
            self.urls.setdefault(url)

    def link(self, href: str, base: str) -> None:
        url = _absolute(href, base)
        if url:
            self.urls.setdefault(url)


class _Rewrite(_Visitor):
    def __init__(self, mapping: dict[str, str], prefix: str) -> None:
        self.mapping = mapping
        self.prefix = prefix
        self.changed = False

    def _replacement(self, url: str) -> str | None:
        sha = self.mapping.get(url)
        if not sha:
            return None
        self.changed = True
        return self.prefix + sha

    def css(self, text: str, base: str) -> str | None:
        new = rewrite_css(text, base, self._replacement)
        return new if new != text else None

    def link(self, href: str, base: str) -> str | None:
        url = _absolute(href, base)
        return self._replacement(url) if url else None


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
    collect = _Collect()
    _walk_events(_decode(events_json), page_url, collect)
    return list(collect.urls)


def rewrite_asset_urls(
    events_json: bytes, mapping: dict[str, str], prefix: str = ASSET_PREFIX
) -> bytes:
    """``events_json`` with the URLs of ``mapping`` (url -> sha256) replaced by ``prefix`` +
    sha256 in stylesheet ``<link href>`` attributes and ``url()`` references of CSS text.

    The input itself (not a copy) when ``mapping`` is empty, when nothing was replaced, or when
    the bytes are not a JSON array.
    """
    if not mapping:
        return events_json
    events = _decode(events_json)
    if not isinstance(events, list):
        return events_json
    rewrite = _Rewrite(mapping, prefix)
    _walk_events(events, _first_meta_href(events), rewrite)
    return msgspec.json.encode(events) if rewrite.changed else events_json


def _first_meta_href(events: list) -> str:
    for event in _dicts(events):
        data = event.get("data")
        if event.get("type") == 4 and isinstance(data, dict) and isinstance(data.get("href"), str):
            return data["href"]
    return ""
