"""The rrweb stream as the viewer plays it: nothing in it loads from anywhere but the collector.

:func:`sanitize_stream` walks a recording (full snapshots, mutations, CSS rule events, fonts:
:mod:`.walk`) and passes every reference that can load something through a
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
from typing import Any

import msgspec

from collector.replay.assets.css import Resolve, sanitize_css
from collector.replay.assets.walk import Node, StreamWalker

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


class _Sanitizer(StreamWalker):
    """One pass over a stream, changing it in place (module docstring)."""

    def __init__(self, resolve: Resolve, page_url: str) -> None:
        super().__init__(page_url)
        self.resolve = resolve

    # --- values -------------------------------------------------------------------------------

    def _css(self, text: Any, base: str | None = None) -> Any:
        if not isinstance(text, str):
            return text
        return sanitize_css(text, base or self.base, self.resolve)

    def css(self, holder: dict, key: str, base: str | None = None) -> None:
        holder[key] = self._css(holder.get(key), base)

    def script_text(self, holder: dict, key: str) -> None:
        holder[key] = ""

    def _source(self, value: str) -> str | None:
        return self.resolve(value, self.base)

    def _navigation(self, value: str) -> str:
        return value if _SAFE_NAVIGATION.match(value.strip()) else "#"

    def _style_value(self, value: Any) -> Any:
        """A style attribute: CSS text, or in a mutation rrweb's ``{property: value}`` diff."""
        if isinstance(value, dict):
            return {k: self._style_value(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self._css(v) for v in value]
        return self._css(value)

    # --- attributes ---------------------------------------------------------------------------

    def attribute(self, node: Node, name: str, value: Any, sheet_base: str) -> tuple[bool, Any]:
        """``(keep, new value)`` of one attribute of ``node``; ``sheet_base`` is what the text
        of a ``<link>``'s inlined sheet is relative to (its own ``href``)."""
        lowered = name.lower()
        if lowered.startswith("on") or lowered in _DROPPED:
            return False, None
        if not isinstance(value, str):
            return True, self._style_value(value) if lowered == "style" else value
        if lowered == "style":
            return True, self._css(value)
        if lowered == "_csstext":
            return True, self._css(value, sheet_base)
        if lowered == "rr_dataurl":
            return value.startswith("data:image/"), value
        if lowered in _SRCSETS:
            return True, sanitize_srcset(value, self.base, self.resolve)
        if lowered == "http-equiv" and node.tag == "meta":
            return False, None
        if lowered in _SOURCE_ATTRIBUTES:
            return self._source_attribute(node, lowered, value)
        if "url(" in value.lower():
            return True, self._css(value)  # SVG presentation attributes: fill, filter, mask...
        return True, value

    def _source_attribute(self, node: Node, name: str, value: str) -> tuple[bool, Any]:
        if node.tag in _EMBEDS or node.tag in ("base", "script"):
            return False, None
        if node.tag in _NAVIGATIONS and name != "src":
            return True, self._navigation(value)
        if node.tag == "link" and "stylesheet" not in node.rel.split():
            return False, None
        new = self._source(value)
        return new is not None, new

    def attributes(self, node: Node, attrs: dict) -> None:
        sheet_base = self.sheet_base(node, attrs)
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
    _Sanitizer(resolve, page_url).walk(events)
    return msgspec.json.encode(events)
