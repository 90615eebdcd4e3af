"""One walk over an rrweb event stream, shared by what reads it (:mod:`.extract`: the assets to
fetch) and what rewrites it (:mod:`.sanitize`: the stream the viewer plays).

rrweb records a page as a full snapshot (a tree of serialized nodes) followed by incremental
events that refer to those nodes by id: mutations add nodes under a parent and change a text
node's value or an element's attributes; CSSOM events add rules, set a declaration or adopt
sheets; a font event loads a font from a CSS ``src`` value. :class:`StreamWalker` visits, in
stream order, every element's attributes and every piece of CSS or script text, and remembers
what it needs to judge later events: the page of the last Meta event (the base of relative
URLs), the tag and ``rel`` of each element id, and which text node ids hold CSS or script. A
full snapshot starts that memory afresh. Trees are walked without recursion, so any depth the
decoder accepts is walked.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from collector.replay.assets.css import _absolute


class Node:
    """What a walk remembers of an element: its tag and ``rel``, lower-cased."""

    __slots__ = ("rel", "tag")

    def __init__(self, tag: str, rel: str) -> None:
        self.tag = tag
        self.rel = rel

    def is_stylesheet_link(self) -> bool:
        return self.tag == "link" and "stylesheet" in self.rel.split()


UNKNOWN = Node("", "")


def dicts(value: Any) -> Iterator[dict]:
    """The objects of a JSON list (nothing when ``value`` is not a list)."""
    if isinstance(value, list):
        yield from (item for item in value if isinstance(item, dict))


def _node_id(value: Any) -> int | None:
    """A node id as the player reads it: a number with no fraction (JSON ``5.0`` is node 5, as
    in JavaScript); anything else refers to no node."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value if isinstance(value, int) else None


class StreamWalker:
    """Walks one stream (:meth:`walk`); subclasses act in the three hooks, which may change
    what they are given in place."""

    def __init__(self, page_url: str) -> None:
        self.page_url = page_url
        self.base = page_url  # the page the events being walked belong to
        self.nodes: dict[int, Node] = {}
        self.style_texts: set[int] = set()
        self.script_texts: set[int] = set()

    # --- hooks --------------------------------------------------------------------------------

    def attributes(self, node: Node, attrs: dict) -> None:
        """An element's attributes: in a snapshot or an added subtree, or an attribute change
        of a mutation (there a ``None`` value removes the attribute, and ``node`` has the
        ``rel`` the change sets)."""

    def css(self, holder: dict, key: str, base: str | None = None) -> None:
        """CSS text at ``holder[key]`` (which may be absent, or not a string); its relative
        URLs resolve against ``base``, by default the page's."""

    def script_text(self, holder: dict, key: str) -> None:
        """The text of a ``<script>`` at ``holder[key]``."""

    def sheet_base(self, node: Node, attrs: dict) -> str:
        """What the inlined sheet of a ``<link>`` (``_cssText``) is relative to: its own
        ``href``; the page for anything else."""
        href = attrs.get("href")
        if node.tag == "link" and isinstance(href, str):
            return _absolute(href, self.base) or self.base
        return self.base

    # --- trees --------------------------------------------------------------------------------

    def element(self, node: dict) -> Node:
        tag = node.get("tagName")
        attrs = node.get("attributes")
        attrs = attrs if isinstance(attrs, dict) else {}
        rel = attrs.get("rel")
        known = Node(
            tag.lower() if isinstance(tag, str) else "", rel.lower() if isinstance(rel, str) else ""
        )
        node_id = _node_id(node.get("id"))
        if node_id is not None:
            self.nodes[node_id] = known
        self.attributes(known, attrs)
        return known

    def text(self, node: dict, parent: Node) -> None:
        node_id = _node_id(node.get("id"))
        if parent.tag == "script":
            self.script_text(node, "textContent")
            if node_id is not None:
                self.script_texts.add(node_id)
        elif node.get("isStyle") or parent.tag == "style":
            self.css(node, "textContent")
            if node_id is not None:
                self.style_texts.add(node_id)

    def tree(self, root: Any, parent: Node) -> None:
        """A serialized node tree, depth-first in document order."""
        stack: list[tuple[Any, Node]] = [(root, parent)]
        while stack:
            node, above = stack.pop()
            if not isinstance(node, dict):
                continue
            kind = node.get("type")
            if kind == 3:
                self.text(node, above)
                continue
            own = self.element(node) if kind == 2 else UNKNOWN
            children = node.get("childNodes")
            if isinstance(children, list):
                stack.extend((child, own) for child in reversed(children))

    def _known(self, value: Any) -> Node:
        node_id = _node_id(value)
        return UNKNOWN if node_id is None else self.nodes.get(node_id, UNKNOWN)

    # --- events -------------------------------------------------------------------------------

    def mutation(self, data: dict) -> None:
        for add in dicts(data.get("adds")):
            self.tree(add.get("node"), self._known(add.get("parentId")))
        for text in dicts(data.get("texts")):
            text_id = _node_id(text.get("id"))
            if text_id in self.script_texts:
                self.script_text(text, "value")
            elif text_id in self.style_texts:
                self.css(text, "value")
        for change in dicts(data.get("attributes")):
            attrs = change.get("attributes")
            if isinstance(attrs, dict):
                node = self._known(change.get("id"))
                if isinstance(attrs.get("rel"), str):
                    node = Node(node.tag, attrs["rel"].lower())
                self.attributes(node, attrs)

    def incremental(self, data: dict) -> None:
        source = data.get("source")
        if source == 0:  # Mutation
            self.mutation(data)
        elif source == 8:  # StyleSheetRule (CSSOM insertRule, replace, replaceSync)
            for add in dicts(data.get("adds")):
                self.css(add, "rule")
            for key in ("replace", "replaceSync"):
                if key in data:
                    self.css(data, key)
        elif source == 13 and isinstance(data.get("set"), dict):  # StyleDeclaration
            self.css(data["set"], "value")
        elif source == 15:  # AdoptedStyleSheet
            for style in dicts(data.get("styles")):
                for rule in dicts(style.get("rules")):
                    self.css(rule, "rule")
        elif source == 10 and not data.get("buffer"):  # Font, loaded from a CSS src value
            self.css(data, "fontSource")

    def walk(self, events: list) -> None:
        """Every event of ``events``, in order."""
        for event in dicts(events):
            data = event.get("data")
            if not isinstance(data, dict):
                continue
            kind = event.get("type")
            if kind == 4:  # Meta: the page the following snapshot belongs to
                href = data.get("href")
                page = _absolute(href, self.page_url) if isinstance(href, str) else None
                self.base = page or self.page_url
            elif kind == 2:  # FullSnapshot: node ids start again
                self.nodes, self.style_texts, self.script_texts = {}, set(), set()
                self.tree(data.get("node"), UNKNOWN)
            elif kind == 3:
                self.incremental(data)
