"""A funnel: ordered steps a visitor takes, counted per step; the dialect-neutral part.

A :class:`Funnel` names its steps (:class:`Step`), the filters every step's rows must pass (on
clicks, on conversions, and on the clicks that custom events happened in) and a time range. The
dialect modules (:mod:`collector.query.funnel_sqlite`, :mod:`collector.query.funnel_clickhouse`,
one function :func:`funnel` each) compile it to one statement that answers the visitors reaching
each step, in order.

Semantics, the same on both engines: a visitor (``visitor_id``) reaches step 1 at the time of
their first row matching it in the range; they reach step *k* at the time of their first row
matching step *k* at or after the time they reached step *k - 1*. One row may match two
consecutive steps (``page:/*`` then ``page:/pricing``: the same page view is both). The rows:

- ``page``: a page view (a click whose ``trigger`` is ``pageview``) whose URL matches the
  pattern. ``*`` stands for any text (none too); every other character is itself, case
  sensitive. A pattern with ``://`` is matched against the whole URL, query string included; any
  other pattern (it starts with ``/`` or ``*``) against the URL's path: from the first ``/``
  after the host to the ``?`` or ``#`` (empty in a URL without one: a browser always shows a
  ``/``).
- ``link``: a short-link click (``trigger`` ``link`` or ``qr``).
- ``event``: a custom event of that type (the tracker's ``t``, not one of
  :data:`TRACKER_EVENTS`) in the ``events`` table, whose visitor is the one of its click (joined
  by ``click_id``); the click's facts are its filters.
- ``lead`` / ``sale``: a conversion of that kind, of that event name when the step has one;
  conversions carry their visitor and their attributed click's facts.
"""

from __future__ import annotations

from typing import Literal

import msgspec

from .model import Filter, QueryError, TimeRange

StepKind = Literal["page", "event", "lead", "sale", "link"]
STEP_KINDS: tuple[str, ...] = StepKind.__args__  # type: ignore[attr-defined]
MIN_STEPS = 2
MAX_STEPS = 8
MAX_PATTERN = 512  # characters of a page pattern
MAX_WILDCARDS = 8  # '*' in one pattern (each one can make matching backtrack)
MAX_NAME = 255  # characters of an event or conversion name (a conversion's eventName bound)
# Where each kind of step finds its rows.
SOURCE: dict[str, str] = {
    "page": "clicks",
    "link": "clicks",
    "event": "events",
    "lead": "conversions",
    "sale": "conversions",
}
LINK_TRIGGERS = ("link", "qr")
# Event types the tracker records itself: not custom events (page views are ``page`` steps).
TRACKER_EVENTS = ("page_view", "click", "identify")


class Step(msgspec.Struct, frozen=True):
    """One step: its kind and its pattern (``page``) or name (``event``, optional for ``lead``
    and ``sale``)."""

    kind: StepKind
    value: str | None = None

    @property
    def whole_url(self) -> bool:
        """A page pattern matched against the whole URL rather than its path."""
        return self.kind == "page" and "://" in (self.value or "")


class Funnel(msgspec.Struct, frozen=True, kw_only=True):
    """The steps, in order; the filters of clicks (``CLICK_EVENTS`` fields: page and link
    steps, and the click of a custom event) and of conversions (``CONVERSION_EVENTS``); the time
    range every step's rows are in."""

    steps: tuple[Step, ...]
    click_filters: tuple[Filter, ...] = ()
    conversion_filters: tuple[Filter, ...] = ()
    time_range: TimeRange = TimeRange()

    def sources(self) -> set[str]:
        return {SOURCE[step.kind] for step in self.steps}


def check(funnel: Funnel) -> None:
    """Raise :class:`QueryError` (``param`` ``step``) unless every step is valid."""
    if not MIN_STEPS <= len(funnel.steps) <= MAX_STEPS:
        raise QueryError(f"a funnel has {MIN_STEPS} to {MAX_STEPS} steps", param="step")
    for step in funnel.steps:
        _check_step(step)


def _check_step(step: Step) -> None:
    if step.kind not in STEP_KINDS:
        raise QueryError(f"a step is one of {', '.join(STEP_KINDS)}", param="step")
    value = step.value
    if step.kind == "link":
        if value is not None:
            raise QueryError("`link` takes no value", param="step")
    elif step.kind == "page":
        _check_pattern(value)
    elif (step.kind == "event" or value is not None) and (
        not isinstance(value, str) or not 0 < len(value) <= MAX_NAME
    ):
        raise QueryError(f"`{step.kind}:NAME`: a name of 1 to {MAX_NAME} characters", param="step")
    elif step.kind == "event" and value in TRACKER_EVENTS:
        raise QueryError(
            f"`event:{value}` is recorded by the tracker, not a custom event: use page:PATTERN "
            "for page views",
            param="step",
        )


def _check_pattern(pattern: str | None) -> None:
    if not isinstance(pattern, str) or not 0 < len(pattern) <= MAX_PATTERN:
        raise QueryError(f"`page:PATTERN`: 1 to {MAX_PATTERN} characters", param="step")
    if pattern.count("*") > MAX_WILDCARDS:
        raise QueryError(f"`page:PATTERN`: at most {MAX_WILDCARDS} `*`", param="step")
    if "://" not in pattern and not pattern.startswith(("/", "*")):
        raise QueryError(
            "`page:PATTERN`: a path starts with / (like /pricing*), a whole URL with its scheme "
            "(like https://shop.example/pricing*)",
            param="step",
        )


def pieces(pattern: str) -> list[str]:
    """The literal text between a pattern's ``*`` wildcards (empty pieces included)."""
    return pattern.split("*")
