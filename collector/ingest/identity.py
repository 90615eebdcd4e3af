"""Late ``identify()``: an external id that arrives after a page's first beacon.

The first beacon of a page session carries ``i`` into the click's ``external_id``. An id given
later rides on a later beacon; the collector then stores an ``identify`` event on the click, with
``{"external_id": ...}`` as its data (the tracker sends such an event when the id changes, and its
data is always the collector's, never the page's). Reads show the newest one as the click's
``external_id`` (``clicks/routes.py``), and the clicks list filters by either.
"""

from __future__ import annotations

from collections import OrderedDict

from collector.ingest.wire import Beacon
from collector.storage.base import Event

IDENTIFY = "identify"
REMEMBERED = 100_000


def identify_data(external_id: str) -> dict[str, str]:
    return {"external_id": external_id}


class LateIdentities:
    """The external id each recent page session (click) was last stored with, so a beacon that
    repeats it adds nothing."""

    def __init__(self, size: int = REMEMBERED) -> None:
        self._size = size
        self._known: OrderedDict[tuple[int, str], str] = OrderedDict()

    def _remember(self, key: tuple[int, str], external_id: str) -> None:
        self._known[key] = external_id
        self._known.move_to_end(key)
        if len(self._known) > self._size:
            self._known.popitem(last=False)

    def apply(self, brand_id: int, beacon: Beacon, events: list[Event], now_ms: int) -> None:
        """Fill the beacon's ``identify`` events with its ``i``, and add one when a later
        beacon brings an id this page session was not stored with (``events`` is changed in
        place)."""
        external_id = beacon.i
        key = (brand_id, beacon.p)
        if external_id is None:
            for event in events:
                if event.type == IDENTIFY:
                    event.data = {}
            return
        marked = False
        for event in events:
            if event.type == IDENTIFY:
                event.data = identify_data(external_id)
                marked = True
        if beacon.n:
            self._remember(key, external_id)  # the click itself carries it
            return
        if not marked and self._known.get(key) != external_id and events:
            first = events[0]
            events.append(
                Event(
                    brand_id=brand_id,
                    click_id=first.click_id,
                    session_id=first.session_id,
                    type=IDENTIFY,
                    url=first.url,
                    timestamp=max(e.timestamp for e in events),
                    seq=len(events),
                    data=identify_data(external_id),
                )
            )
        self._remember(key, external_id)
