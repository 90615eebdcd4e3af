"""``GET sessions?signal=`` and each listed session's ``signals`` on both engines (issue 15):
sessions with a frustration signal (``rage_click``, ``dead_click``, ``error_click`` events of
their pages), over a brand whose sessions are written directly, so every answer is known.

- R: a rage click (and its clicks). D: a dead click. E: two error clicks.
- N: clicks, no signal. M: a rage click and an error click, and a replay.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import httpx
import pytest

from collector.enrich.frustration import SIGNALS
from collector.ids import new_id
from collector.query.sessions import SIGNAL_TYPES
from collector.storage.base import Click, Event
from tests.appkit import Kit, engine_kit, now_ms
from tests.storage_fixtures import ENGINES
from tests.test_sessions_api import _replay

SIGNALLED = {"R": ["rage_click"], "D": ["dead_click"], "E": ["error_click"] * 2, "N": []}
SIGNALLED["M"] = ["rage_click", "error_click"]


class World(NamedTuple):
    kit: Kit
    names: dict[str, str]  # session id -> R, D, E, N, M


def _events(click: Click, types: list[str]) -> list[Event]:
    """Two plain clicks, then the signals, on the page view ``click``."""
    kinds = ["click", "click", *types]
    return [
        Event(
            brand_id=click.brand_id,
            click_id=click.id,
            session_id=click.session_id,
            type=kind,
            timestamp=click.created_at + 100 * n,
            seq=n,
            data={"s": "button#buy", "x": 10, "y": 20, "src": "tracker"} if kind != "click" else {},
        )
        for n, kind in enumerate(kinds)
    ]


def seed(kit: Kit) -> World:
    start = now_ms() - 3_600_000
    names, clicks, events = {}, [], []
    for n, (name, types) in enumerate(SIGNALLED.items()):
        session = f"session-{name}-{new_id()}"
        names[session] = name
        at = start + 60_000 * n
        pages = [
            Click(
                id=new_id(at + 1000 * page),
                brand_id=kit.brand.id,
                session_id=session,
                visitor_id=f"v-{name}",
                created_at=at + 1000 * page,
                url=f"https://shop.example/{page}",
            )
            for page in range(2)
        ]
        clicks += pages
        events += _events(pages[1], types)
    replayed = next(click for click in clicks if names[click.session_id] == "M")
    kit.store.write_batch(clicks, events, [_replay(replayed)])
    return World(kit, names)


@pytest.fixture(scope="module", params=ENGINES)
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, testdata_dir: Path
) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp(f"signals-{request.param}")
    with engine_kit(request.param, tmp, testdata_dir) as kit:
        yield seed(kit)


def get(world: World, *params: tuple[str, str]) -> httpx.Response:
    headers = {"EF-Access-Key": world.kit.read_key}
    query = [("interval", "7d"), ("sortOrder", "asc"), *params]
    return world.kit.http.get(
        f"/api/brands/{world.kit.brand.id}/sessions", params=query, headers=headers
    )


def rows(world: World, *params: tuple[str, str]) -> list[dict[str, Any]]:
    answer = get(world, *params)
    assert answer.status_code == 200, answer.text
    return answer.json()


def listed(world: World, *params: tuple[str, str]) -> str:
    """The names of the sessions listed, oldest first."""
    return "".join(world.names[row["sessionId"]] for row in rows(world, *params))


def test_the_api_kinds_are_the_stored_signal_types() -> None:
    assert set(SIGNAL_TYPES.values()) == SIGNALS


def test_without_the_parameter_every_session_is_listed(world: World) -> None:
    assert listed(world) == "RDENM"
    assert listed(world, ("signal", "")) == "RDENM"  # a blank form field


@pytest.mark.parametrize(
    ("signal", "expected"),
    [("rage", "RM"), ("dead", "D"), ("error", "EM"), ("rage,dead", "RDM"), ("error,rage", "REM")],
)
def test_a_kind_lists_the_sessions_with_at_least_one_such_signal(
    world: World, signal: str, expected: str
) -> None:
    assert listed(world, ("signal", signal)) == expected


def test_the_parameter_given_twice_is_any_of_its_values(world: World) -> None:
    assert listed(world, ("signal", "dead"), ("signal", "error")) == "DEM"
    assert listed(world, ("signal", "rage,dead,error")) == "RDEM"


def test_a_minus_lists_the_sessions_with_none_of_the_kinds(world: World) -> None:
    assert listed(world, ("signal", "-rage")) == "DEN"
    assert listed(world, ("signal", "-rage,dead,error")) == "N"
    assert listed(world, ("signal", "error"), ("signal", "-rage")) == "E"


def test_signals_combine_with_replays_and_other_whole_session_filters(world: World) -> None:
    assert listed(world, ("signal", "rage"), ("hasReplay", "true")) == "M"
    assert listed(world, ("signal", "rage"), ("hasReplay", "false")) == "R"
    assert listed(world, ("signal", "dead"), ("hasReplay", "true")) == ""
    assert listed(world, ("signal", "error"), ("minClicks", "2"), ("maxClicks", "2")) == "EM"


def test_the_total_counts_the_filtered_sessions(world: World) -> None:
    answer = get(world, ("signal", "rage,error"), ("limit", "1"))
    assert answer.headers["X-Total-Count"] == "3"
    assert [world.names[row["sessionId"]] for row in answer.json()] == ["R"]


def test_each_row_counts_its_signals_by_kind(world: World) -> None:
    found = {world.names[row["sessionId"]]: row for row in rows(world)}
    assert {name: row["signals"] for name, row in found.items()} == {
        "R": {"rage": 1, "dead": 0, "error": 0},
        "D": {"rage": 0, "dead": 1, "error": 0},
        "E": {"rage": 0, "dead": 0, "error": 2},
        "N": {"rage": 0, "dead": 0, "error": 0},
        "M": {"rage": 1, "dead": 0, "error": 1},
    }
    # signals are no click interactions
    assert {row["clicks"] for row in found.values()} == {2}


@pytest.mark.parametrize(
    "values",
    [["angry"], ["rage,angry"], ["Rage"], ["rage,"], ["-"], ["rage", "x" * 100], ['"rage']],
    ids=["unknown", "one-unknown", "case", "empty-value", "dash", "long", "open-quote"],
)
def test_a_bad_signal_is_a_422_in_the_error_shape(world: World, values: list[str]) -> None:
    answer = get(world, *(("signal", value) for value in values))
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert (error["status"], error["code"], error["param"]) == (422, "invalid", "signal")
    assert "signal" in error["message"]


def test_an_unknown_kind_names_the_kinds_the_parameter_takes(world: World) -> None:
    answer = get(world, ("signal", "angry"))
    assert answer.status_code == 422
    assert "rage, dead, error" in answer.text
