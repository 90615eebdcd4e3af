"""A ``click`` event's stored data: the beacon's ``d`` under the API's names (``selector``,
``text``, ``x``, ``y``). A struct, not a dict: the enricher builds one for nearly every event,
and msgspec encodes it as the same JSON object, in this field order, in half the time."""

from __future__ import annotations

import msgspec

from collector.ingest.wire import decode_click_data

MAX_CLICK_TEXT = 100


class StoredClick(msgspec.Struct, gc=False):
    selector: str | None
    text: str | None
    x: int | float | None
    y: int | float | None


def stored_click(raw: msgspec.Raw) -> StoredClick:
    """The stored data of a click's ``d`` (checked at the door): coordinates that are whole
    numbers as ints, the text cut to :data:`MAX_CLICK_TEXT` characters."""
    click = decode_click_data(raw)
    x, y, text = click.x, click.y, click.tx
    return StoredClick(
        click.s,
        text[:MAX_CLICK_TEXT] if text else None,
        int(x) if x is not None and x.is_integer() else x,
        int(y) if y is not None and y.is_integer() else y,
    )
