"""A short-link landing's replay joins the link click's session even when its first chunk is
stored before the page view's beacon (the recorder's chunk and the beacon travel separately;
on a loaded machine the chunk can win). Both engines, over a real socket."""

from __future__ import annotations

import json
from typing import Any

from collector.ids import new_id
from tests.appkit import CHROME_UA, Kit, now_ms
from tests.linkkit import click_id_of, follow, make_link
from tests.replay_samples import checkout_recording

IP = "81.2.69.160"


def _chunk(kit: Kit, page: dict[str, Any], at: int, **fields: Any) -> str:
    replay_id = new_id(at)
    envelope = {
        "k": kit.brand.site_key,
        "r": replay_id,
        "p": page["p"],
        "v": page["v"],
        "s": page["s"],
        "q": 0,
        "u": page["u"],
        "e": checkout_recording(at),
        **fields,
    }
    answer = kit.http.post(
        "/collect/replay",
        content=json.dumps(envelope).encode(),
        headers={"user-agent": CHROME_UA, "x-forwarded-for": IP, "content-type": "text/plain"},
    )
    assert answer.status_code == 204, answer.text
    return replay_id


def _landing(kit: Kit, ct_id: str | None) -> tuple[dict[str, Any], str]:
    """A landing page's first beacon (not sent yet) and the id of its replay, sent first."""
    at = now_ms()
    page = kit.beacon(v=new_id(at), s=new_id(at), p=new_id(at), c=ct_id)
    page["e"] = [{"t": "page_view", "ts": at}]
    replay_id = _chunk(kit, page, at, c=ct_id)
    answer = kit.collect(page, **{"user-agent": CHROME_UA, "x-forwarded-for": IP})
    assert answer.status_code == 204, answer.text
    return page, replay_id


def _sessions(kit: Kit, page_id: str, replay_id: str) -> tuple[str, str]:
    click = kit.api(f"/clicks/{page_id}").json()
    replay = kit.api(f"/replays/{replay_id}").json()
    return click["session_id"], replay["session_id"]


def test_a_replay_chunk_ahead_of_the_landing_beacon_joins_the_link_clicks_session(kit):
    link = make_link(kit, "https://shop.example/offer")
    ct_id = click_id_of(follow(kit, f"/g/{link['code']}", ip=IP))
    link_session = kit.api(f"/clicks/{ct_id}").json()["session_id"]

    page, replay_id = _landing(kit, ct_id)

    page_session, replay_session = _sessions(kit, page["p"], replay_id)
    assert page_session == link_session
    assert replay_session == link_session


def test_a_replay_chunk_without_a_link_click_keeps_the_pages_own_session(kit):
    page, replay_id = _landing(kit, None)

    page_session, replay_session = _sessions(kit, page["p"], replay_id)
    assert replay_session == page_session == page["s"]


def test_a_replay_chunk_naming_an_unknown_link_click_is_stored_in_the_pages_session(kit):
    page, replay_id = _landing(kit, new_id(now_ms()))

    page_session, replay_session = _sessions(kit, page["p"], replay_id)
    assert replay_session == page_session == page["s"]
