"""The seed's replay events (``mousemove``, ``click``, ``scroll``) derived from an rrweb stream.

rrweb numbers (from rrweb's ``EventType`` / ``IncrementalSource`` / ``MouseInteractions``):
FullSnapshot 2, IncrementalSnapshot 3; sources Mutation 0, MouseMove 1, MouseInteraction 2,
Scroll 3, TouchMove 6; interaction Click 2. Times become ms from the stream's first event.
A click's ``target`` is a short CSS selector of the clicked element, rebuilt from the snapshot
and the mutations before it (``button#buy-now``, ``div.hero > a.cta``).
"""

from __future__ import annotations

import math
import re
from typing import Any

import msgspec

FULL_SNAPSHOT, INCREMENTAL = 2, 3
MUTATION, MOUSE_MOVE, MOUSE_INTERACTION, SCROLL, TOUCH_MOVE = 0, 1, 2, 3, 6
CLICK = 2
DOCUMENT, ELEMENT = 0, 2
_MAX_DEPTH = 3
_IDENT = re.compile(r"^-?[_a-zA-Z][_a-zA-Z0-9-]*$")


class _Node(msgspec.Struct):
    parent: int | None
    tag: str | None = None  # None for a non-element
    css_id: str | None = None
    classes: tuple[str, ...] = ()


class NodeIndex:
    """What a selector needs to know about every node seen so far: tag, id, classes, parent."""

    def __init__(self) -> None:
        self.nodes: dict[int, _Node] = {}
        self.documents: set[int] = set()

    def add_tree(self, root: dict[str, Any], parent: int | None) -> None:
        stack = [(root, parent)]
        while stack:
            node, parent_id = stack.pop()
            node_id = node.get("id")
            if not isinstance(node_id, int):
                continue
            self.nodes[node_id] = _describe(node, parent_id)
            if node.get("type") == DOCUMENT:
                self.documents.add(node_id)
            for child in _dicts(node.get("childNodes")):
                stack.append((child, node_id))

    def selector(self, node_id: int) -> str | None:
        node = self.nodes.get(node_id)
        if node is not None and node.tag is None and node.parent is not None:
            node_id, node = node.parent, self.nodes.get(node.parent)  # a text node: its element
        parts: list[str] = []
        while node is not None and node.tag is not None and len(parts) < _MAX_DEPTH:
            parts.append(_part(node.tag, node.css_id, node.classes))
            if node.css_id or node.tag in ("html", "body") or node.parent is None:
                break
            node = self.nodes.get(node.parent)
        return " > ".join(reversed(parts)) or None


def _describe(node: dict[str, Any], parent: int | None) -> _Node:
    if node.get("type") != ELEMENT:
        return _Node(parent)
    attributes = _dict(node.get("attributes"))
    css_id = attributes.get("id")
    classes = attributes.get("class")
    return _Node(
        parent,
        str(node.get("tagName") or "").lower() or "*",
        css_id if isinstance(css_id, str) and _IDENT.match(css_id) else None,
        tuple(c for c in classes.split() if _IDENT.match(c))[:2]
        if isinstance(classes, str)
        else (),
    )


def _part(tag: str, css_id: str | None, classes: tuple[str, ...]) -> str:
    if css_id:
        return f"{tag}#{css_id}"
    return tag + "".join("." + c for c in classes)


# Seed times and coordinates are shown as JavaScript-safe integers; anything else becomes 0.
_SAFE_INT = 2**53 - 1


def _number(value: Any) -> int:
    """A finite number as an int within +-2**53, else 0 (a stored stream may hold anything)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0
    if isinstance(value, float) and not math.isfinite(value):
        return 0
    return max(-_SAFE_INT, min(_SAFE_INT, round(value)))


def _timestamp(event: dict[str, Any]) -> int | None:
    """The event's timestamp; None when it is missing or not a finite number."""
    value = event.get("timestamp")
    if isinstance(value, float) and math.isfinite(value):
        return _number(value)
    return _number(value) if isinstance(value, int) and not isinstance(value, bool) else None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _decode_events(events_json: bytes) -> list[dict[str, Any]]:
    """The stream's events that are objects; none when it does not decode at all."""
    try:
        events = msgspec.json.decode(events_json)
    except (msgspec.DecodeError, RecursionError):
        return []
    return _dicts(events)


def seed_events(events_json: bytes) -> list[dict[str, Any]]:
    """mousemove / click / scroll events in the seed's shape, in stream order. Whatever the
    stream holds, the output is well-formed: events, fields and numbers of the wrong kind are
    skipped or read as 0."""
    events = _decode_events(events_json)
    if not events:
        return []
    times = [_timestamp(e) for e in events]
    start = min((t for t in times if t is not None), default=0)
    index = NodeIndex()
    out: list[dict[str, Any]] = []
    for event, at in zip(events, times, strict=True):
        kind, data = event.get("type"), _dict(event.get("data"))
        ts = start if at is None else at - start
        if kind == FULL_SNAPSHOT and isinstance(data.get("node"), dict):
            index.add_tree(data["node"], None)
        elif kind == INCREMENTAL:
            _incremental(data, ts, index, out)
    return out


def _incremental(
    data: dict[str, Any], ts: int, index: NodeIndex, out: list[dict[str, Any]]
) -> None:
    """One incremental event: added nodes go into ``index``; moves, clicks and page scrolls
    at ``ts`` into ``out``."""
    source = data.get("source")
    if source == MUTATION:
        for add in _dicts(data.get("adds")):
            if isinstance(add.get("node"), dict):
                parent = add.get("parentId")
                index.add_tree(add["node"], parent if isinstance(parent, int) else None)
    elif source in (MOUSE_MOVE, TOUCH_MOVE):
        for p in _dicts(data.get("positions")):
            at = max(0, ts + _number(p.get("timeOffset", 0)))
            out.append(
                {"type": "mousemove", "x": _number(p.get("x")), "y": _number(p.get("y")), "ts": at}
            )
    elif source == MOUSE_INTERACTION and data.get("type") == CLICK:
        node_id = data.get("id")
        out.append(
            {
                "type": "click",
                "x": _number(data.get("x")),
                "y": _number(data.get("y")),
                "ts": ts,
                "target": index.selector(node_id) if isinstance(node_id, int) else None,
            }
        )
    elif source == SCROLL and _is_page_scroll(index, data.get("id")):
        out.append({"type": "scroll", "scrollY": _number(data.get("y")), "ts": ts})


def _is_page_scroll(index: NodeIndex, node_id: Any) -> bool:
    if not isinstance(node_id, int):
        return False
    if node_id in index.documents:
        return True
    node = index.nodes.get(node_id)
    return node is not None and node.tag in ("html", "body")
