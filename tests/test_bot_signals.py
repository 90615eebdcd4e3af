"""Bot reasons from what the beacon shows (navigator.webdriver, a zero-size viewport, clicks
at an inhumanly regular pace) and from the user agent, stored with each click on both engines
and shown by the clicks API beside ``is_bot``."""

from __future__ import annotations

from typing import Any

import pytest

from collector.enrich.behaviour import has_regular_clicks
from tests.appkit import Kit, now_ms


def _clicks(start: int, gaps: list[int]) -> list[dict[str, Any]]:
    times = [start]
    for gap in gaps:
        times.append(times[-1] + gap)
    return [{"t": "click", "ts": ts, "d": {"s": "a#buy", "x": 1, "y": 2}} for ts in times]


def _posted(kit: Kit, user_agent: str | None = None, **overrides: Any) -> dict[str, Any]:
    """The clicks API's row of the page view a beacon with ``overrides`` made."""
    beacon = kit.beacon(**overrides)
    headers = {"user-agent": user_agent} if user_agent else {}
    assert kit.collect(beacon, **headers).status_code == 204
    response = kit.api(f"/clicks/{beacon['p']}")
    assert response.status_code == 200, response.text
    row: dict[str, Any] = response.json()
    return row


def _page_with_clicks(gaps: list[int]) -> list[dict[str, Any]]:
    start = now_ms() - 10_000
    start -= start % 100 - 7  # never on a whole tenth of a second: a fine clock
    return [{"t": "page_view", "ts": start - 500}, *_clicks(start, gaps)]


def test_a_person_is_no_bot_and_has_no_reason(kit: Kit) -> None:
    row = _posted(kit, e=_page_with_clicks([412, 377, 530]))
    assert (row["is_bot"], row["bot_reason"]) == (False, None)


def test_navigator_webdriver_alone_does_not_make_a_bot(kit: Kit) -> None:
    row = _posted(kit, b=1)
    assert (row["is_bot"], row["bot_reason"]) == (False, None)


@pytest.mark.parametrize(("w", "h"), [(0, 900), (1440, 0), (0, 0)])
def test_a_zero_size_viewport_is_a_bot(kit: Kit, w: int, h: int) -> None:
    row = _posted(kit, w=w, h=h)
    assert (row["is_bot"], row["bot_reason"]) == (True, "zero-size viewport")


def test_four_clicks_at_a_regular_pace_are_a_bot(kit: Kit) -> None:
    row = _posted(kit, e=_page_with_clicks([250, 251, 249]))
    assert (row["is_bot"], row["bot_reason"]) == (True, "regular timing")


def test_the_user_agent_reason_comes_first(kit: Kit) -> None:
    row = _posted(kit, "curl/8.5.0", b=1, w=0)
    assert (row["is_bot"], row["bot_reason"]) == (True, "http library: curl")


def test_a_crawler_is_named_in_the_list_of_clicks(kit: Kit) -> None:
    beacon = kit.beacon()
    kit.collect(beacon, **{"user-agent": "Miniflux/2.0.50 (https://miniflux.app)"})
    rows = kit.api("/clicks", click_id=beacon["p"]).json()["data"]
    assert [(r["is_bot"], r["bot_reason"]) for r in rows] == [(True, "known crawler: Miniflux")]


def test_a_webdriver_flag_out_of_bounds_is_refused(kit: Kit) -> None:
    response = kit.collect(kit.beacon(b=2))
    assert response.status_code == 422
    assert "$.b" in response.text, response.text


# Regular timing: exact thresholds, no server needed -------------------------------------------


@pytest.mark.parametrize(
    ("gaps", "regular"),
    [
        ([250, 250, 250], True),  # a script's fixed delay
        ([250, 253, 250], True),  # within 3 ms
        ([0, 0, 0], True),  # four clicks in one millisecond
        ([900, 250, 252, 251], True),  # a regular run after a pause
        ([250, 254, 250], False),  # 4 ms apart: a person can be this steady by chance
        ([250, 250], False),  # three clicks are not enough
        ([250, 250, 400, 250, 250], False),  # no three regular intervals in a row
        ([412, 377, 530], False),  # a person
    ],
)
def test_regular_timing_thresholds(gaps: list[int], regular: bool) -> None:
    times = [1_700_000_000_007]
    for gap in gaps:
        times.append(times[-1] + gap)
    assert has_regular_clicks(times) is regular


def test_a_clock_coarsened_to_100_ms_is_not_regular_timing() -> None:
    """Tor Browser and resistFingerprinting round times to 100 ms: people look regular."""
    assert has_regular_clicks([1_700_000_000_000 + 200 * i for i in range(4)]) is False
    assert has_regular_clicks([1_700_000_000_001 + 200 * i for i in range(4)]) is True
