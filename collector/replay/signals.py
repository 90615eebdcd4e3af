"""Frustration signals found in a replay's whole rrweb stream (issue 15), stored as events of the
replay's page view click with ``src: "replay"``, beside the tracker's (``enrich/frustration.py``).

Found once the whole stream is known, when a replay is compacted (``compaction.py``):

- **rage click**: at least 3 clicks within 1 s and 30 px of the burst's first click (the
  constants of ``enrich/frustration.py``), one ``rage_click`` per burst with ``n``;
- **dead click**: a click on something clickable (:data:`CLICKABLE`, ``[role=button]``,
  ``[onclick]``, ``input[type=submit|button]``, or inside one), after which for 1 s the stream
  shows no DOM mutation, no form input, no Meta (navigation) event and no full snapshot (and no
  page scroll, for a link), while the stream goes on past that second: a click after which the
  page was left, or the recording stopped, is not judged. Only a burst's first click can be dead;
- **error click**: a click followed within 1 s by the recorder's custom event ``ct-error`` (an
  uncaught error or unhandled rejection), one per click, with ``m`` (its message).

rrweb numbers (rrweb's ``EventType``, ``IncrementalSource``, ``MouseInteractions``): FullSnapshot 2,
IncrementalSnapshot 3, Meta 4, Custom 5; sources Mutation 0, MouseInteraction 2, Scroll 3,
Input 5; interaction Click 2. A click's x/y are viewport coordinates: the page's scroll is added,
so signals carry page coordinates like the tracker's. Times are the stream's (epoch ms).

Idempotent: an event's ``seq`` is the position of its click in the stream, so a signal found
again (compaction running twice, after a crash, or once more when late chunks arrive) has the
same (type, timestamp, seq) and is not stored twice (:func:`store_signals`). Bounded: the first
:data:`MAX_SCANNED_EVENTS` events of a stream are looked at, at most :data:`MAX_PER_KIND`
signals of each kind are kept.
"""

from __future__ import annotations

import logging
import math
from typing import Any, NamedTuple

import msgspec

from collector.enrich.frustration import RAGE_MIN_CLICKS, RAGE_RADIUS_PX, RAGE_WINDOW_MS, SIGNALS
from collector.ingest.wire import MAX_ERROR_MESSAGE
from collector.ingest.wire import MAX_EVENTS as MAX_BURST
from collector.replay.events import NodeIndex
from collector.storage.base import ClickStore, Event, Replay

log = logging.getLogger(__name__)

FULL_SNAPSHOT, INCREMENTAL, META, CUSTOM = 2, 3, 4, 5
MUTATION, MOUSE_INTERACTION, SCROLL, INPUT = 0, 2, 3, 5
CLICK = 2
ERROR_TAG = "ct-error"  # the recorder's custom event (tracker-js/src/replay/index.js)
RESPONSE_MS = 1000  # a click's page has this long to answer (tracker-js/src/insights)
REPLAY = "replay"

MAX_SCANNED_EVENTS = 200_000  # about 30 minutes of a busy page
MAX_PER_KIND = 100
MAX_SELECTOR = 500  # as the beacon's signal data (ingest/wire.py)
MAX_URL = 2000
_MAX_ANCESTORS = 32  # how far up a clicked node's clickable ancestor is looked for
_MAX_TIME = 4_102_444_800_000  # 2100-01-01: a stream's time beyond is no time
_COORDINATE = 2**31

CLICKABLE = frozenset({"a", "button", "label", "summary"})
_CLICKABLE_INPUTS = frozenset({"submit", "button"})


class Signal(NamedTuple):
    """One signal: ``position`` is its click's position in the stream, ``at`` its time."""

    kind: str
    position: int
    at: int
    x: int
    y: int
    selector: str | None
    url: str | None
    extra: dict[str, Any]


class _Click(NamedTuple):
    position: int
    at: int
    x: int
    y: int
    selector: str | None
    url: str | None
    clickable: bool
    link: bool


def _is_clickable(node: dict[str, Any]) -> bool:
    """As ``TARGET`` of ``tracker-js/src/target.js``, plus ``[onclick]``."""
    tag = str(node.get("tagName") or "").lower()
    attributes = node.get("attributes")
    attributes = attributes if isinstance(attributes, dict) else {}
    if tag in CLICKABLE or attributes.get("role") == "button" or "onclick" in attributes:
        return True
    kind = attributes.get("type")
    return tag == "input" and isinstance(kind, str) and kind.lower() in _CLICKABLE_INPUTS


class _Index(NodeIndex):
    """The nodes' selectors, and which nodes are clickable."""

    def __init__(self) -> None:
        super().__init__()
        self.clickable: set[int] = set()

    def add_tree(self, root: dict[str, Any], parent: int | None) -> None:
        super().add_tree(root, parent)
        stack = [root]
        while stack:
            node = stack.pop()
            node_id = node.get("id")
            if not isinstance(node_id, int):
                continue
            if _is_clickable(node):
                self.clickable.add(node_id)
            else:
                self.clickable.discard(node_id)
            children = node.get("childNodes")
            if isinstance(children, list):
                stack.extend(c for c in children if isinstance(c, dict))

    def target(self, node_id: int) -> tuple[int, bool]:
        """The clicked node's clickable ancestor (or itself), else the node; and whether found."""
        current: int | None = node_id
        for _ in range(_MAX_ANCESTORS):
            if current is None:
                break
            if current in self.clickable:
                return current, True
            node = self.nodes.get(current)
            current = node.parent if node is not None else None
        return node_id, False

    def short_selector(self, node_id: int) -> str | None:
        """The selector ``tracker-js/src/target.js`` builds: up to 3 levels, stopping at the
        first element with an id or a class (so the tracker's and the stream's agree)."""
        node = self.nodes.get(node_id)
        if node is not None and node.tag is None and node.parent is not None:
            node = self.nodes.get(node.parent)  # a text node: its element
        parts: list[str] = []
        while node is not None and node.tag is not None and node.tag not in ("html", "body"):
            part = node.tag
            if node.css_id:
                part += "#" + node.css_id
            elif node.classes:
                part += "".join("." + c for c in node.classes)
            parts.append(part)
            if part != node.tag or len(parts) == 3 or node.parent is None:
                break
            node = self.nodes.get(node.parent)
        if parts:
            return " > ".join(reversed(parts))[:MAX_SELECTOR]
        return node.tag if node is not None else None


def _int(value: Any, bound: int) -> int | None:
    """A finite number rounded, if within +-bound."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    number = round(value)
    return number if -bound <= number <= bound else None


class _Scan:
    """One pass over a stream's events, in stream order (:meth:`step`)."""

    def __init__(self) -> None:
        self.index = _Index()
        self.scroll = (0, 0)  # the page's
        self.url: str | None = None
        self.clicks: list[_Click] = []
        self.pending: list[_Click] = []  # clickable clicks the page has not answered yet
        self.dead: list[_Click] = []
        self.errors: list[Signal] = []
        self.last: _Click | None = None  # the last click, until it has its error click

    def step(self, position: int, event: dict[str, Any]) -> None:
        at = _int(event.get("timestamp"), _MAX_TIME)
        if at is None or at < 0:
            return
        self._judge(at)
        kind, data = event.get("type"), event.get("data")
        data = data if isinstance(data, dict) else {}
        if kind == FULL_SNAPSHOT:
            if isinstance(data.get("node"), dict):
                self.index.add_tree(data["node"], None)
            self.pending.clear()
        elif kind == META:
            href = data.get("href")
            self.url = href[:MAX_URL] if isinstance(href, str) else self.url
            self.pending.clear()
        elif kind == INCREMENTAL:
            self._incremental(position, at, data)
        elif kind == CUSTOM and data.get("tag") == ERROR_TAG:
            self._error(at, data.get("payload"))

    def _judge(self, now: int) -> None:
        """Clicks whose second has passed unanswered are dead."""
        while self.pending and self.pending[0].at + RESPONSE_MS < now:
            self.dead.append(self.pending.pop(0))

    def _incremental(self, position: int, at: int, data: dict[str, Any]) -> None:
        source = data.get("source")
        if source == MUTATION:
            for add in data.get("adds") or ():
                if isinstance(add, dict) and isinstance(add.get("node"), dict):
                    parent = add.get("parentId")
                    self.index.add_tree(add["node"], parent if isinstance(parent, int) else None)
            self.pending.clear()
        elif source == INPUT:
            self.pending.clear()
        elif source == SCROLL and self._is_page(data.get("id")):
            x, y = _int(data.get("x"), _COORDINATE), _int(data.get("y"), _COORDINATE)
            self.scroll = (x or 0, y or 0)
            self.pending = [c for c in self.pending if not c.link]
        elif source == MOUSE_INTERACTION and data.get("type") == CLICK:
            self._click(position, at, data)

    def _is_page(self, node_id: Any) -> bool:
        if not isinstance(node_id, int):
            return False
        node = self.index.nodes.get(node_id)
        return node_id in self.index.documents or (
            node is not None and node.tag in ("html", "body")
        )

    def _click(self, position: int, at: int, data: dict[str, Any]) -> None:
        node_id = data.get("id")
        x, y = _int(data.get("x"), _COORDINATE), _int(data.get("y"), _COORDINATE)
        if not isinstance(node_id, int) or x is None or y is None:
            return
        target, clickable = self.index.target(node_id)
        node = self.index.nodes.get(target)
        page_x = max(-_COORDINATE, min(_COORDINATE, x + self.scroll[0]))
        page_y = max(-_COORDINATE, min(_COORDINATE, y + self.scroll[1]))
        click = _Click(
            position,
            at,
            page_x,
            page_y,
            self.index.short_selector(target),
            self.url,
            clickable,
            node is not None and node.tag == "a",
        )
        self.clicks.append(click)
        self.last = click
        if clickable:
            self.pending.append(click)

    def _error(self, at: int, payload: Any) -> None:
        click = self.last
        if click is None or at - click.at > RESPONSE_MS:
            return
        message = payload.get("m") if isinstance(payload, dict) else None
        text = message[:MAX_ERROR_MESSAGE] if isinstance(message, str) else ""
        self.errors.append(_signal("error_click", click, {"m": text}))
        self.last = None  # one error click per click
        # The error was the page's answer: an error click is not also a dead click.
        self.pending = [c for c in self.pending if c is not click]

    def signals(self) -> list[Signal]:
        rages, followers = _rage_bursts(self.clicks)
        dead = [_signal("dead_click", c, {}) for c in self.dead if c.position not in followers]
        found = rages[:MAX_PER_KIND] + dead[:MAX_PER_KIND] + self.errors[:MAX_PER_KIND]
        return sorted(found, key=lambda s: (s.at, s.position, s.kind))


def _signal(kind: str, click: _Click, extra: dict[str, Any]) -> Signal:
    return Signal(
        kind, click.position, click.at, click.x, click.y, click.selector, click.url, extra
    )


def _burst_length(clicks: list[_Click], start: int) -> int:
    """As ``enrich/frustration.py``: clicks from ``start`` on within the window and radius of
    the first."""
    first = clicks[start]
    end = start + 1
    while end < len(clicks):
        click = clicks[end]
        far = (click.x - first.x) ** 2 + (click.y - first.y) ** 2 > RAGE_RADIUS_PX**2
        if click.at - first.at > RAGE_WINDOW_MS or far:
            break
        end += 1
    return end - start


def _rage_bursts(clicks: list[_Click]) -> tuple[list[Signal], set[int]]:
    """A ``rage_click`` per burst, and the stream positions of the bursts' later clicks."""
    found: list[Signal] = []
    followers: set[int] = set()
    start = 0
    while start <= len(clicks) - RAGE_MIN_CLICKS:
        length = _burst_length(clicks, start)
        if length < RAGE_MIN_CLICKS:
            start += 1
            continue
        found.append(_signal("rage_click", clicks[start], {"n": min(length, MAX_BURST)}))
        followers.update(c.position for c in clicks[start + 1 : start + length])
        start += length
    return found, followers


def find_signals(events: list[Any]) -> list[Signal]:
    """Rage, dead and error clicks of a stream (its events, decoded), in time order. Events of
    the wrong shape are skipped; only the first :data:`MAX_SCANNED_EVENTS` are looked at."""
    scan = _Scan()
    for position, event in enumerate(events[:MAX_SCANNED_EVENTS]):
        if isinstance(event, dict):
            scan.step(position, event)
    return scan.signals()


def signal_events(replay: Replay, signals: list[Signal]) -> list[Event]:
    """The signals as events of the replay's page view click (``src: "replay"``)."""
    return [
        Event(
            brand_id=replay.brand_id,
            click_id=replay.page_session_id,
            session_id=replay.session_id,
            type=s.kind,
            url=s.url or replay.url,
            timestamp=s.at,
            seq=s.position,
            data={"s": s.selector, "x": s.x, "y": s.y, **s.extra, "src": REPLAY},
        )
        for s in signals
    ]


def _decode(events_json: bytes) -> list[Any]:
    try:
        events = msgspec.json.decode(events_json)
    except (msgspec.DecodeError, RecursionError):
        return []
    return events if isinstance(events, list) else []


def _key(event: Event) -> tuple[str, int, int]:
    return event.type, event.timestamp, event.seq


def store_signals(store: ClickStore, replay: Replay, events_json: bytes) -> int:
    """Find the signals of the replay's whole stream (its events' JSON array) and store those
    not stored yet (by type, time and seq among the click's ``src: "replay"`` signals);
    returns how many were stored. A stream that cannot be read, or a failure of the detection,
    stores none (logged); a failure of the store raises."""
    try:
        found = signal_events(replay, find_signals(_decode(events_json)))
    except Exception:
        log.exception("signals of replay %s of brand %s", replay.id, replay.brand_id)
        return 0
    if not found:
        return 0
    stored = {  # the session's events: the key of both engines' events tables
        _key(e)
        for e in store.session_events(replay.brand_id, replay.session_id)
        if e.click_id == replay.page_session_id
        and e.type in SIGNALS
        and isinstance(e.data, dict)
        and e.data.get("src") == REPLAY
    }
    fresh = [e for e in found if _key(e) not in stored]
    if fresh:
        store.write_batch([], fresh)
    return len(fresh)
