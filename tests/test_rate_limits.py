"""Rate limits over a real socket, on both engines: a brand's budgets per client address and per
site key on ``/collect``, ``/collect/replay`` and ``/g/``, and ``--api-rate-limit`` per API key.
A request past its budget gets 429 with ``Retry-After`` in the one error shape, and nothing of
it is stored; other addresses and other keys are unaffected."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from collector.http.auth import mint_api_key
from collector.ids import new_id
from collector.storage.base import BrandSettings
from tests.appkit import Kit, geoip_settings, now_ms, run_kit
from tests.linkkit import follow, make_link
from tests.replay_samples import checkout_recording

BUDGET = 6  # a minute: a burst of 10, then one each 10 s, so a slow machine cannot refill it
BURST = 10
NOISY, OTHER = "81.2.69.160", "81.2.69.161"


def _brand(kit: Kit, **settings: Any) -> Kit:
    brand, key = kit.new_brand(BrandSettings(**settings), domains=["shop.example"])
    return Kit(kit.url, kit.store, brand, key, key, kit.http)


def _beacon(kit: Kit, ip: str) -> tuple[httpx.Response, str]:
    beacon = kit.beacon(p=new_id(now_ms()))
    return kit.collect(beacon, **{"x-forwarded-for": ip}), beacon["p"]


def _stored(kit: Kit, page_ids: list[str]) -> set[str]:
    found = kit.store.clicks_by_id(kit.brand.id, page_ids)
    return set(found)


def _assert_refused(answer: httpx.Response, whose: str) -> None:
    assert answer.status_code == 429, answer.text
    assert int(answer.headers["retry-after"]) >= 1
    body = answer.json()
    assert body["error"]["code"] == "rate_limited"
    assert whose in body["error"]["message"] and "Retry-After" in body["error"]["message"]


def test_an_address_past_its_budget_gets_429_and_nothing_of_it_is_stored(kit):
    shop = _brand(kit, rate_limit_per_ip=BUDGET)
    sent = [_beacon(shop, NOISY) for _ in range(BURST + 5)]
    answers = [a.status_code for a, _ in sent]
    assert answers == [204] * BURST + [429] * 5
    _assert_refused(sent[-1][0], "this address")
    accepted = [p for a, p in sent if a.status_code == 204]
    refused = [p for a, p in sent if a.status_code == 429]
    assert _stored(shop, accepted + refused) == set(accepted)

    others = [_beacon(shop, OTHER) for _ in range(BURST)]
    assert [a.status_code for a, _ in others] == [204] * BURST  # another visitor is unaffected


def test_the_site_key_budget_is_shared_by_every_address(kit):
    shop = _brand(kit, rate_limit_per_site_key=BUDGET)
    answers = [_beacon(shop, f"81.2.69.{i}")[0] for i in range(BURST + 2)]
    assert [a.status_code for a in answers] == [204] * BURST + [429] * 2
    _assert_refused(answers[-1], "this site key")
    other_brand = _brand(kit)
    assert _beacon(other_brand, NOISY)[0].status_code == 204  # a budget is the brand's own


def test_no_budget_is_set_by_default(kit):
    shop = _brand(kit)
    assert all(_beacon(shop, NOISY)[0].status_code == 204 for _ in range(3 * BURST))


def _chunk(kit: Kit, ip: str) -> httpx.Response:
    at = now_ms()
    envelope = {
        "k": kit.brand.site_key,
        "r": new_id(at),
        "p": new_id(at),
        "q": 0,
        "u": "https://shop.example/p",
        "e": checkout_recording(at),
    }
    headers = {"x-forwarded-for": ip, "content-type": "text/plain"}
    return kit.http.post("/collect/replay", content=json.dumps(envelope), headers=headers)


def test_replay_chunks_past_the_address_budget_get_429_and_are_not_stored(kit):
    shop = _brand(kit, rate_limit_per_ip=BUDGET)
    answers = [_chunk(shop, NOISY).status_code for _ in range(BURST + 3)]
    assert answers == [204] * BURST + [429] * 3
    assert shop.store.count_replays(shop.brand.id) == BURST
    assert _chunk(shop, OTHER).status_code == 204


def test_short_link_redirects_past_the_address_budget_get_429_and_no_click(kit):
    shop = _brand(kit, rate_limit_per_ip=BUDGET)
    link = make_link(shop, "https://shop.example/offer")
    answers = [follow(shop, f"/g/{link['code']}", ip=NOISY) for _ in range(BURST + 2)]
    assert [a.status_code for a in answers] == [302] * BURST + [429] * 2
    _assert_refused(answers[-1], "this address")
    assert shop.store.link_clicks(shop.brand.id, [link["id"]])[link["id"]][0] == BURST
    assert follow(shop, f"/g/{link['code']}", ip=OTHER).status_code == 302


@contextlib.contextmanager
def _api_limited_kit(store, testdata_dir, per_minute: int) -> Iterator[Kit]:
    settings = geoip_settings(testdata_dir, api_rate_limit=per_minute)
    yield from run_kit(store, settings)


def test_an_api_key_past_its_budget_gets_429_and_other_keys_do_not(store, testdata_dir):
    with _api_limited_kit(store, testdata_dir, BUDGET) as kit:
        answers = [kit.api("/clicks").status_code for _ in range(BURST + 2)]
        assert answers == [200] * BURST + [429] * 2
        _assert_refused(kit.api("/clicks"), "this API key")
        assert kit.api("/clicks", key=kit.admin_key).status_code == 200


@pytest.mark.parametrize("field", ["rate_limit_per_ip", "rate_limit_per_site_key"])
def test_budgets_are_brand_settings_with_bounds(kit, field):
    url = f"/api/brands/{kit.brand.id}"
    headers = {"EF-Access-Key": kit.admin_key}
    answer = kit.http.patch(url, json={"settings": {field: 600}}, headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.json()["settings"][field] == 600
    refused = kit.http.patch(url, json={"settings": {field: -1}}, headers=headers)
    assert refused.status_code == 422 and field in refused.text


def test_an_unknown_key_is_refused_before_it_spends_a_budget(store, testdata_dir):
    with _api_limited_kit(store, testdata_dir, BUDGET) as kit:
        bogus, _ = mint_api_key(kit.brand.id, "read", now_ms())  # never stored
        for _ in range(BURST + 2):
            assert kit.api("/clicks", key=bogus).status_code == 401
        assert kit.api("/clicks").status_code == 200
