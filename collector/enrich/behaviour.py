"""What a beacon's own content says about automation, beside the user agent (issue 17):
a zero-size viewport, inhumanly regular clicks.

The tracker's ``navigator.webdriver`` flag (``b``) is accepted and bounded but does not make a
hit a bot on its own: browser-automation tools drive real Chromium for monitoring and for tests
that play people (the project's own contract checks among them), and a crawler that runs a
headless browser is named by its user agent ("headless browser: ...") anyway.

A person's clicks jitter by tens of milliseconds; a script's repeat an interval to the
millisecond. A run of :data:`REGULAR_MIN_CLICKS` consecutive clicks whose intervals all lie
within :data:`REGULAR_TOLERANCE_MS` of each other is "regular timing". Clocks coarsened to
100 ms (Tor Browser, Firefox's resistFingerprinting) make people's intervals repeat too, so a
run whose times all fall on whole tenths of a second does not count.
"""

from __future__ import annotations

import itertools

from collector.ingest.wire import Beacon

REGULAR_MIN_CLICKS = 4
REGULAR_TOLERANCE_MS = 3
COARSE_CLOCK_MS = 100


def behaviour_reason(beacon: Beacon) -> str | None:
    """Why this page view's beacon looks automated, or None."""
    if beacon.w == 0 or beacon.h == 0:
        return "zero-size viewport"
    if has_regular_clicks([event.ts for event in beacon.e if event.t == "click"]):
        return "regular timing"
    return None


def has_regular_clicks(times: list[int]) -> bool:
    """Whether :data:`REGULAR_MIN_CLICKS` consecutive click times (ms) are evenly spaced to
    within :data:`REGULAR_TOLERANCE_MS`, on a clock finer than :data:`COARSE_CLOCK_MS`."""
    times = sorted(times)
    need = REGULAR_MIN_CLICKS - 1  # intervals in a run
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    for start in range(len(gaps) - need + 1):
        run = gaps[start : start + need]
        if max(run) - min(run) > REGULAR_TOLERANCE_MS:
            continue
        clicks = times[start : start + need + 1]
        if any(time % COARSE_CLOCK_MS for time in clicks):
            return True
    return False
