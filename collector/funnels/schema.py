"""The funnel's parameters and answer.

The query string takes every filter and time parameter of ``analytics`` (``Filters``), and
``step`` given 2 to 8 times, in order. ``bots`` defaults to ``exclude`` here: a funnel follows
people (``analytics`` counts every stored event by default).
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from collector.analytics.schema import Bots, Filters
from collector.query.funnel import MAX_PATTERN, MAX_STEPS, MIN_STEPS

MAX_STEP = MAX_PATTERN + len("page:")  # characters of one step

STEP_HELP = (
    f"A step of the funnel; give `step` {MIN_STEPS} to {MAX_STEPS} times, in order. "
    "`page:PATTERN`: a page view whose URL matches; `*` is any text, the rest is matched as "
    "is (case sensitive); a pattern starting with `/` (or `*`) matches the URL's path (up to "
    "`?` or `#`), one with `://` the whole URL. `event:NAME`: a custom event of that type "
    "(the tracker's `clicktrail.track('NAME')`). `lead` or `lead:NAME`, `sale` or "
    "`sale:NAME`: a conversion (of that event name). `link`: a short-link click or QR scan."
)


class FunnelQuery(Filters, kw_only=True, forbid_unknown_fields=True):
    step: Annotated[
        str,
        msgspec.Meta(
            min_length=1,
            max_length=MAX_STEP,
            description=STEP_HELP,
            examples=["page:/pricing*"],
        ),
    ]
    bots: Annotated[
        Bots,
        msgspec.Meta(
            description="Bot traffic: left out by default (`exclude`); `include` counts it "
            "too, `only` bots alone."
        ),
    ] = "exclude"


class FunnelStep(msgspec.Struct, kw_only=True):
    """One step: the visitors who reached it, as a share of step 1's (``conversionRate``) and
    the share of the previous step's visitors who did not (``dropOff``, 0 for step 1); both 0
    when the base has no visitors."""

    step: str  # as the request gave it
    visitors: int
    conversionRate: Annotated[float, msgspec.Meta(ge=0, le=1)]
    dropOff: Annotated[float, msgspec.Meta(ge=0, le=1)]


class FunnelAnswer(msgspec.Struct, kw_only=True):
    steps: list[FunnelStep]
