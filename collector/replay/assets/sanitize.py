"""The rrweb stream as the viewer plays it: nothing in it loads from anywhere but the collector.

:func:`sanitize_stream` walks a recording (full snapshots, mutations, CSS rule events, fonts) and
passes every reference that can load something through a
:data:`~collector.replay.assets.css.Resolve` (in the app,
:class:`~collector.replay.assets.proxy.ViewerLinks`): image, media and stylesheet sources,
``srcset``, ``url()`` / ``@import`` / ``image-set()`` in style attributes, ``<style>`` text and
CSS rule events, SVG ``href`` / ``xlink:href``. What it refuses is removed. Beyond loading:
frames, objects and embeds lose their sources, ``<base>`` its ``href``, forms their actions,
``<meta>`` its ``http-equiv`` (no refresh), ``<link>`` every ``href`` but a stylesheet's (no
preload, prefetch, preconnect or DNS prefetch), links a ``javascript:`` target, elements their
``on*`` handlers and scripts their text. The viewer's CSP still refuses anything missed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import msgspec

from collector.replay.assets.css import Resolve, _absolute, sanitize_css

_EMBEDS = frozenset({"iframe", "frame", "object", "embed", "applet", "portal", "fencedframe"})
_NAVIGATIONS = frozenset({"a", "area"})
_SOURCE_ATTRIBUTES = frozenset({"src", "href", "xlink:href", "poster", "background"})
_SRCSETS = frozenset({"srcset", "imagesrcset"})
_DROPPED = frozenset(
    {
        "action",
        "archive",
        "attributionsrc",
        "classid",
        "code",
        "codebase",
        "data",
        "dynsrc",
        "formaction",
        "longdesc",
        "lowsrc",
        "manifest",
        "ping",
        "profile",
        "srcdoc",
    }
)
_SAFE_NAVIGATION = re.compile(r"^(?:https?:|mailto:|tel:|#|/|\?|[^:]*$)", re.IGNORECASE)
_SPACE = " \t\n\r\f"


def _dicts(value: Any) -> Iterator[dict]:
    if isinstance(value, list):
        yield from (item for item in value if isinstance(item, dict))


def sanitize_srcset(value: str, base: str, resolve: Resolve) -> str:
    """A ``srcset`` with each candidate's URL resolved; refused candidates are left out."""
    kept, pos = [], 0
    while pos < len(value):
        while pos < len(value) and value[pos] in _SPACE + ",":
            pos += 1
        start = pos
        while pos < len(value) and value[pos] not in _SPACE:
            pos += 1
        url, descriptor = value[start:pos], ""
        if url.endswith(","):
            url = url.rstrip(",")
        else:
            start, depth = pos, 0
            while pos < len(value) and (value[pos] != "," or depth):
                depth += (value[pos] == "(") - (value[pos] == ")")
                pos += 1
            descriptor = value[start:pos].strip()
        new = resolve(url, base) if url else None
        if new is not None:
            kept.append(f"{new} {descriptor}".strip())
    return ", ".join(kept)


class _Node:
    __slots__ = ("rel", "tag")

    def __init__(self, tag: str, rel: str) -> None:
        self.tag = tag
        self.rel = rel


_UNKNOWN = _Node("", "")


class _Sanitizer:
    """One pass over a stream; remembers node ids to judge later mutations."""

    def __init__(self, resolve: Resolve, base: str) -> None:
        self.resolve = resolve
        self.base = base
        self.nodes: dict[int, _Node] = {}
        self.style_texts: set[int] = set()
        self.script_texts: set[int] = set()

    # --- values -------------------------------------------------------------------------------

    def css(self, text: Any, base: str | None = None) -> Any:
        if not isinstance(text, str):
            return text
        return sanitize_css(text, base or self.base, self.resolve)

    def _source(self, value: str) -> str | None:
        return self.resolve(value, self.base)

    def _navigation(self, value: str) -> str:
        return value if _SAFE_NAVIGATION.match(value.strip()) else "#"

    def _style_value(self, value: Any) -> Any:
        """A style attribute: CSS text, or in a mutation rrweb's ``{property: value}`` diff."""
        if isinstance(value, dict):
            return {k: self._style_value(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.css(v) for v in value]
        return self.css(value)

    # --- attributes ---------------------------------------------------------------------------

    def attribute(self, node: _Node, name: str, value: Any, sheet_base: str) -> tuple[bool, Any]:
        """``(keep, new value)`` of one attribute of ``node``; ``sheet_base`` is what the text
        of a ``<link>``'s inlined sheet is relative to (its own ``href``)."""
        lowered = name.lower()
        if lowered.startswith("on") or lowered in _DROPPED:
            return False, None
        if not isinstance(value, str):
            return True, self._style_value(value) if lowered == "style" else value
        if lowered == "style":
            return True, self.css(value)
        if lowered == "_csstext":
            return True, self.css(value, sheet_base)
        if lowered == "rr_dataurl":
            return value.startswith("data:image/"), value
        if lowered in _SRCSETS:
            return True, sanitize_srcset(value, self.base, self.resolve)
        if lowered == "http-equiv" and node.tag == "meta":
            return False, None
        if lowered in _SOURCE_ATTRIBUTES:
            return self._source_attribute(node, lowered, value)
        if "url(" in value.lower():
            return True, self.css(value)  # SVG presentation attributes: fill, filter, mask...
        return True, value

    def _source_attribute(self, node: _Node, name: str, value: str) -> tuple[bool, Any]:
        if node.tag in _EMBEDS or node.tag in ("base", "script"):
            return False, None
        if node.tag in _NAVIGATIONS and name != "src":
            return True, self._navigation(value)
        if node.tag == "link" and "stylesheet" not in node.rel.split():
            return False, None
        new = self._source(value)
        return new is not None, new

    def attributes(self, node: _Node, attrs: dict) -> None:
        href = attrs.get("href")
        sheet_base = self.base
        if node.tag == "link" and isinstance(href, str):
            sheet_base = _absolute(href, self.base) or self.base
        if node.tag == "meta" and "http-equiv" in attrs:
            attrs.pop("content", None)  # a refresh's target, a policy: nothing a replay needs
        for name in list(attrs):
            if attrs[name] is None:
                continue  # a mutation removing the attribute
            keep, new = self.attribute(node, name, attrs[name], sheet_base)
            if keep:
                attrs[name] = new
            else:
                del attrs[name]

    # --- trees --------------------------------------------------------------------------------

    def element(self, node: dict) -> _Node:
        tag = node.get("tagName")
        attrs = node.get("attributes")
        attrs = attrs if isinstance(attrs, dict) else {}
        rel = attrs.get("rel")
        known = _Node(
            tag.lower() if isinstance(tag, str) else "", rel.lower() if isinstance(rel, str) else ""
        )
        if isinstance(node.get("id"), int):
            self.nodes[node["id"]] = known
        self.attributes(known, attrs)
        return known

    def text(self, node: dict, parent: _Node) -> None:
        node_id = node.get("id")
        if parent.tag == "script":
            node["textContent"] = ""
            if isinstance(node_id, int):
                self.script_texts.add(node_id)
        elif node.get("isStyle") or parent.tag == "style":
            node["textContent"] = self.css(node.get("textContent"))
            if isinstance(node_id, int):
                self.style_texts.add(node_id)

    def tree(self, root: Any, parent: _Node) -> None:
        """A serialized node tree, depth-first, without recursion."""
        stack: list[tuple[Any, _Node]] = [(root, parent)]
        while stack:
            node, above = stack.pop()
            if not isinstance(node, dict):
                continue
            kind = node.get("type")
            if kind == 3:
                self.text(node, above)
                continue
            own = self.element(node) if kind == 2 else _UNKNOWN
            children = node.get("childNodes")
            if isinstance(children, list):
                stack.extend((child, own) for child in reversed(children))

    # --- events -------------------------------------------------------------------------------

    def mutation(self, data: dict) -> None:
        for add in _dicts(data.get("adds")):
            parent = self.nodes.get(add.get("parentId"), _UNKNOWN)  # type: ignore[arg-type]
            self.tree(add.get("node"), parent)
        for text in _dicts(data.get("texts")):
            if text.get("id") in self.script_texts:
                text["value"] = ""
            elif text.get("id") in self.style_texts:
                text["value"] = self.css(text.get("value"))
        for change in _dicts(data.get("attributes")):
            attrs = change.get("attributes")
            if isinstance(attrs, dict):
                node = self.nodes.get(change.get("id"), _UNKNOWN)  # type: ignore[arg-type]
                if isinstance(attrs.get("rel"), str):
                    node = _Node(node.tag, attrs["rel"].lower())
                self.attributes(node, attrs)

    def incremental(self, data: dict) -> None:
        source = data.get("source")
        if source == 0:  # Mutation
            self.mutation(data)
        elif source == 8:  # StyleSheetRule
            for add in _dicts(data.get("adds")):
                add["rule"] = self.css(add.get("rule"))
            for key in ("replace", "replaceSync"):
                if key in data:
                    data[key] = self.css(data[key])
        elif source == 13 and isinstance(data.get("set"), dict):  # StyleDeclaration
            data["set"]["value"] = self.css(data["set"].get("value"))
        elif source == 15:  # AdoptedStyleSheet
            for style in _dicts(data.get("styles")):
                for rule in _dicts(style.get("rules")):
                    rule["rule"] = self.css(rule.get("rule"))
        elif source == 10 and not data.get("buffer"):  # Font, loaded from a CSS src value
            data["fontSource"] = self.css(data.get("fontSource"))

    def events(self, events: list, page_url: str) -> None:
        for event in _dicts(events):
            data = event.get("data")
            if not isinstance(data, dict):
                continue
            kind = event.get("type")
            if kind == 4:  # Meta: the page the following snapshot belongs to
                href = data.get("href")
                page = _absolute(href, page_url) if isinstance(href, str) else None
                self.base = page or page_url
            elif kind == 2:  # FullSnapshot: node ids start again
                self.nodes, self.style_texts, self.script_texts = {}, set(), set()
                self.tree(data.get("node"), _UNKNOWN)
            elif kind == 3:
                self.incremental(data)


def sanitize_stream(events_json: bytes, resolve: Resolve, page_url: str = "") -> bytes:
    """``events_json`` (an rrweb event array) as the viewer may play it (module docstring).
    Bytes that are not a JSON array, or nest deeper than the decoder allows, give ``[]``: a
    stream that cannot be checked is not played."""
    try:
        events = msgspec.json.decode(events_json)
    except (msgspec.DecodeError, RecursionError):
        return b"[]"
    if not isinstance(events, list):
        return b"[]"
    _Sanitizer(resolve, page_url).events(events, page_url)
    return msgspec.json.encode(events)
