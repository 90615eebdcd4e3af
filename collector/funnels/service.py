"""A funnel request as a compiler :class:`~collector.query.funnel.Funnel`, run on the store.

Steps are read from the repeated ``step`` parameter (``page:PATTERN``, ``event:NAME``,
``lead[:NAME]``, ``sale[:NAME]``, ``link``); the filters land on clicks (page and link steps,
and the click a custom event happened in) and on conversions as ``analytics`` puts them
(:class:`~collector.analytics.filters.Selection`). Runs in a worker thread; errors are domain
errors naming ``step`` or the filter at fault.
"""

from __future__ import annotations

from collector.analytics.filters import Selection
from collector.analytics.timerange import Window
from collector.errors import Invalid
from collector.query.funnel import MAX_STEPS, MIN_STEPS, Funnel, Step, check
from collector.query.model import QueryError, TimeRange
from collector.storage.base import Store

from .schema import MAX_STEP, FunnelAnswer, FunnelStep

_NAMED = ("page", "event", "lead", "sale")  # kinds written KIND:VALUE
_BARE = ("lead", "sale", "link")  # kinds written alone
USAGE = "use page:PATTERN, event:NAME, lead, lead:NAME, sale, sale:NAME or link"


def parse_steps(raw: list[str]) -> tuple[Step, ...]:
    """The steps of the repeated ``step`` parameter, or :class:`Invalid` saying what to fix."""
    if not MIN_STEPS <= len(raw) <= MAX_STEPS:
        raise Invalid(
            f"give `step` {MIN_STEPS} to {MAX_STEPS} times, in order (got {len(raw)})",
            param="step",
        )
    steps = tuple(parse_step(text, n) for n, text in enumerate(raw, 1))
    try:
        check(Funnel(steps=steps))
    except QueryError as error:
        raise Invalid(str(error.args[0]), param="step") from None
    return steps


def parse_step(text: str, n: int) -> Step:
    """One step; ``n`` (from 1) names it in errors."""
    if len(text) > MAX_STEP:
        raise Invalid(f"`step` {n} is longer than {MAX_STEP} characters", param="step")
    if text in _BARE:
        return Step(text)  # type: ignore[arg-type]
    kind, colon, value = text.partition(":")
    if not colon or kind not in _NAMED:
        raise Invalid(f"`step` {n} {text[:40]!r} is not a step: {USAGE}", param="step")
    if not value:
        raise Invalid(f"`step` {n} {text[:40]!r} needs a value after the colon", param="step")
    return Step(kind, value)  # type: ignore[arg-type]


def funnel(
    store: Store, brand_id: int, raw: list[str], selection: Selection, window: Window
) -> FunnelAnswer:
    """The visitors of each step, with conversion from step 1 and drop-off from the previous."""
    steps = parse_steps(raw)
    query = Funnel(
        steps=steps,
        click_filters=selection.for_clicks(),
        conversion_filters=selection.for_conversions(),
        time_range=TimeRange(window.start, window.end),
    )
    counts = store.funnel(brand_id, query)
    return FunnelAnswer(steps=rows(raw, counts))


def rows(raw: list[str], counts: list[int]) -> list[FunnelStep]:
    """Each step's visitors and rates (0 where the base has no visitors)."""
    found = []
    for n, (text, visitors) in enumerate(zip(raw, counts, strict=True)):
        previous = counts[n - 1] if n else visitors
        found.append(
            FunnelStep(
                step=text,
                visitors=visitors,
                conversionRate=visitors / counts[0] if counts[0] else 0.0,
                dropOff=(previous - visitors) / previous if previous else 0.0,
            )
        )
    return found
