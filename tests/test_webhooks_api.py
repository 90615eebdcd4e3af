"""Clickstream webhooks API on both engines, over a real collector: destinations (the secret
shown once, the header value never), refusals, the delivery log, replays, and the items that
ingest writes to the outbox in the seed's shape."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from collector.ids import new_id
from collector.storage.base import Delivery, OutboxItem, Store
from collector.storage.model import WEBHOOK_KINDS
from collector.webhooks import service
from tests.appkit import Kit, geoip_settings, now_ms, run_kit
from tests.linkkit import click_id_of, follow, lead, make_link

PUBLIC = "https://93.184.216.34/hook"  # an address literal: no DNS needed
CLOSED = "http://127.0.0.1:9/hook"  # allowed in `hooks`; nothing listens (deliveries fail fast)


@pytest.fixture
def hooks(store: Store, testdata_dir: Path, tmp_path: Path) -> Iterator[Kit]:
    """A collector that allows destinations on loopback (``--webhook-networks``)."""
    settings = geoip_settings(
        testdata_dir,
        replay_assets_dir=str(tmp_path / "replay-assets"),
        webhook_networks="127.0.0.0/8",
    )
    yield from run_kit(store, settings)


def hook(kit: Kit, method: str, path: str = "", body: Any = None, key: str | None = None):
    headers = {"EF-Access-Key": key or kit.admin_key}
    url = f"/api/brands/{kit.brand.id}/webhooks{path}"
    if body is None:
        return kit.http.request(method, url, headers=headers)
    return kit.http.request(method, url, json=body, headers=headers)


def create(kit: Kit, **fields: Any) -> dict[str, Any]:
    answer = hook(kit, "POST", body={"url": PUBLIC, **fields})
    assert answer.status_code == 201, answer.text
    return answer.json()


def refused(answer: httpx.Response, param: str) -> str:
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["param"] == param, error
    return error["message"]


def outbox(kit: Kit, brand_id: int | None = None) -> list[OutboxItem]:
    return kit.store.outbox_items(brand_id or kit.brand.id, "", list(WEBHOOK_KINDS), 0, 1000)


# --- destinations ------------------------------------------------------------------------------


def test_a_destination_is_made_shown_changed_and_removed(kit: Kit) -> None:
    made = create(
        kit, method="PUT", header_key="X-Hook-Auth", header_value="s3cret-value", events=["click"]
    )
    assert made["secret"].startswith("whsec_") and len(made["secret"]) > 30
    assert made["url"] == PUBLIC and made["method"] == "PUT" and made["events"] == ["click"]
    assert made["header_key"] == "X-Hook-Auth" and made["has_header_value"] is True
    assert made["enabled"] is True and made["disabled_reason"] is None
    assert len(made["key"]) == 32 and made["key"] != made["secret"]
    shown = hook(kit, "GET", f"/{made['id']}")
    listed = hook(kit, "GET")
    for answer in (shown, listed):
        assert answer.status_code == 200
        assert "secret" not in answer.text and "s3cret-value" not in answer.text
    assert "s3cret-value" not in json.dumps(made)
    assert listed.json() == [shown.json()]
    assert {k: v for k, v in made.items() if k != "secret"} == shown.json()

    changed = hook(kit, "PATCH", f"/{made['id']}", {"events": ["sale", "click"], "method": "POST"})
    assert changed.status_code == 200, changed.text
    assert changed.json()["events"] == ["click", "sale"] and changed.json()["method"] == "POST"
    cleared = hook(kit, "PATCH", f"/{made['id']}", {"header_key": None})
    assert cleared.json()["header_key"] is None and cleared.json()["has_header_value"] is False

    assert hook(kit, "DELETE", f"/{made['id']}").status_code == 204
    assert hook(kit, "GET", f"/{made['id']}").status_code == 404
    assert hook(kit, "DELETE", f"/{made['id']}").status_code == 404
    assert hook(kit, "GET").json() == []


def test_defaults_take_every_kind_by_post(kit: Kit) -> None:
    made = create(kit)
    assert made["method"] == "POST" and made["events"] == ["click", "pageview", "lead", "sale"]
    assert made["header_key"] is None and made["has_header_value"] is False


def test_enabling_again_clears_why_it_was_disabled(kit: Kit) -> None:
    made = create(kit)
    stored = kit.store.get_webhook(kit.brand.id, made["id"])
    assert stored is not None
    stored.enabled, stored.disabled_reason = False, "the receiver answered 410 Gone"
    stored.disabled_at = stored.failing_since = now_ms()
    kit.store.update_webhook(stored)
    shown = hook(kit, "GET", f"/{made['id']}").json()
    assert shown["enabled"] is False and shown["disabled_reason"].endswith("410 Gone")
    assert shown["disabled_at"] and shown["failing_since"]
    enabled = hook(kit, "PATCH", f"/{made['id']}", {"enabled": True}).json()
    assert enabled["enabled"] is True
    assert enabled["disabled_reason"] is enabled["disabled_at"] is enabled["failing_since"] is None


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/x",
        "http://10.0.0.1/x",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]:8080/x",
        "http://localhost/x",
        "ftp://93.184.216.34/x",
        "not a url",
        "https://user:pw@93.184.216.34/x",
    ],
)
def test_a_destination_that_is_not_public_http_is_refused(kit: Kit, url: str) -> None:
    refused(hook(kit, "POST", body={"url": url}), "url")
    made = create(kit)
    refused(hook(kit, "PATCH", f"/{made['id']}", {"url": url}), "url")
    assert len(hook(kit, "GET").json()) == 1


def test_the_allowed_networks_let_a_private_destination_in(hooks: Kit) -> None:
    assert create(hooks, url=CLOSED)["url"] == CLOSED
    refused(hook(hooks, "POST", body={"url": "http://10.0.0.1/x"}), "url")


def test_an_https_only_brand_refuses_http(kit: Kit) -> None:
    patched = kit.http.patch(
        f"/api/brands/{kit.brand.id}",
        json={"settings": {"webhooks_https_only": True}},
        headers={"EF-Access-Key": kit.admin_key},
    )
    assert patched.json()["settings"]["webhooks_https_only"] is True
    message = refused(hook(kit, "POST", body={"url": "http://93.184.216.34/x"}), "url")
    assert "https" in message
    assert create(kit)["url"] == PUBLIC


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"method": "GET"}, "method"),
        ({"events": []}, "events"),
        ({"events": ["click", "purchase"]}, "events"),
        ({"header_key": "X-Auth"}, "header_value"),
        ({"header_value": "v"}, "header_key"),
        ({"header_key": "Bad Name", "header_value": "v"}, "header_key"),
        ({"header_key": "Content-Type", "header_value": "v"}, "header_key"),
        ({"header_key": "webhook-signature", "header_value": "v"}, "header_key"),
        ({"header_key": "X-Auth", "header_value": "a\r\nHost: evil"}, "header_value"),
        ({"header_key": "X-Auth", "header_value": "x" * 1025}, "header_value"),
        ({"enabled": "yes"}, "enabled"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_each_bad_field_is_a_422_naming_it(kit: Kit, fields: dict[str, Any], param: str) -> None:
    refused(hook(kit, "POST", body={"url": PUBLIC, **fields}), param)
    assert hook(kit, "GET").json() == []


def test_a_patch_with_a_bad_field_changes_nothing(kit: Kit) -> None:
    made = create(kit, header_key="X-Auth", header_value="v1")
    refused(hook(kit, "PATCH", f"/{made['id']}", {"header_key": "X-Other"}), "header_value")
    refused(hook(kit, "PATCH", f"/{made['id']}", {"method": "DELETE"}), "method")
    assert hook(kit, "PATCH", f"/{made['id']}", {"header_value": "v2"}).status_code == 200
    stored = kit.store.get_webhook(kit.brand.id, made["id"])
    assert stored is not None and (stored.header_key, stored.header_value) == ("X-Auth", "v2")


def test_other_brands_and_read_keys_get_nothing(kit: Kit) -> None:
    made = create(kit)
    other, other_key = kit.new_brand()
    path = f"/api/brands/{kit.brand.id}/webhooks/{made['id']}"
    assert kit.http.get(path, headers={"EF-Access-Key": other_key}).status_code == 404
    own = f"/api/brands/{other.id}/webhooks/{made['id']}"
    assert kit.http.get(own, headers={"EF-Access-Key": other_key}).status_code == 404
    for method, suffix in (("GET", ""), ("POST", ""), ("GET", f"/{made['id']}/deliveries")):
        answer = hook(kit, method, suffix, {"url": PUBLIC} if method == "POST" else None)
        assert answer.status_code in (200, 201)
        read = hook(kit, method, suffix, {"url": PUBLIC}, key=kit.read_key)
        assert read.status_code == 403, read.text
    assert hook(kit, "GET", key="wrong").status_code == 401


def test_a_brand_has_at_most_20_destinations(kit: Kit) -> None:
    for _ in range(service.MAX_DESTINATIONS):
        create(kit)
    answer = hook(kit, "POST", body={"url": PUBLIC})
    assert answer.status_code == 409 and "20" in answer.json()["error"]["message"]


# --- the delivery log --------------------------------------------------------------------------


def test_deliveries_are_listed_newest_first_in_pages(kit: Kit) -> None:
    made = create(kit)
    at = now_ms()
    kit.store.add_deliveries(
        [
            Delivery(
                id=new_id(at + n),
                brand_id=kit.brand.id,
                dest_id=made["id"],
                batch_id=f"msg_{n}",
                attempt=1,
                items=n,
                kinds=["click"],
                status=500 if n % 2 else 200,
                latency_ms=10 + n,
                response="oops" if n % 2 else "ok",
                attempted_at=at + n * 1000,
                next_attempt_at=at + 60_000 if n % 2 else None,
                outcome="retrying" if n % 2 else "delivered",
            )
            for n in range(7)
        ]
    )
    first = hook(kit, "GET", f"/{made['id']}/deliveries?per_page=3")
    assert first.status_code == 200 and first.headers["x-total-count"] == "7"
    assert [row["items"] for row in first.json()] == [6, 5, 4]
    assert 'rel="next"' in first.headers["link"] and 'rel="last"' in first.headers["link"]
    row = first.json()[1]
    assert row["status"] == 500 and row["outcome"] == "retrying" and row["next_attempt_at"]
    assert row["response"] == "oops" and row["latency_ms"] == 15 and row["batch_id"] == "msg_5"
    last = hook(kit, "GET", f"/{made['id']}/deliveries?per_page=3&page=3")
    assert [row["items"] for row in last.json()] == [0]
    refused(hook(kit, "GET", f"/{made['id']}/deliveries?per_page=0"), "per_page")
    assert hook(kit, "GET", "/nope/deliveries").status_code == 404


# --- the outbox --------------------------------------------------------------------------------


def test_ingest_writes_items_in_the_seeds_shape_once_a_destination_exists(hooks: Kit) -> None:
    kit = hooks
    assert kit.collect(kit.beacon()).status_code == 204
    assert outbox(kit) == []  # no destination yet: nothing
    create(kit, url=CLOSED)
    beacon = kit.beacon()
    assert kit.collect(beacon, **{"x-forwarded-for": "81.2.69.160"}).status_code == 204
    link = make_link(kit)
    click_id = click_id_of(follow(kit, f"/g/{link['code']}"))
    assert lead(kit, click_id).status_code in (200, 201)
    items = {item.kind: item for item in outbox(kit)}
    assert set(items) == {"pageview", "click", "lead"}
    page = json.loads(items["pageview"].body)
    assert page["type"] == "pageview" and page["session_id"] == beacon["s"]
    assert page["client"]["location"]["country"] == "gb"
    assert page["client"]["session"]["first"] is True
    assert page["client"]["agent"]["browser"]["name"] == "chrome"
    assert page["referral"]["hostname"] == "www.google.com"
    assert page["referral"]["origin"]["type"] == "search"
    clicked = json.loads(items["click"].body)
    assert clicked["id"] == clicked["click_id"] == click_id
    assert clicked["route"]["slashtag"] == link["code"] and clicked["route"]["id"] == link["id"]
    assert clicked["route"]["destination"]["raw"].startswith("https://shop.example/offer")
    led = json.loads(items["lead"].body)
    assert led["click_id"] == click_id and led["conversion"]["type"] == "lead"
    assert led["conversion"]["customer"]["external_id"] == "cus-1"
    for item in items.values():
        assert item.dest_id == "" and item.brand_id == kit.brand.id
        assert {"timestamp", "client", "referral", "route"} <= set(json.loads(item.body))


def test_only_the_kinds_taken_are_written_and_other_brands_write_none(hooks: Kit) -> None:
    kit = hooks
    create(kit, url=CLOSED, events=["click"])
    other, _ = kit.new_brand()
    assert kit.collect(kit.beacon()).status_code == 204
    assert kit.collect(make_other_beacon(other.site_key, kit)).status_code == 204
    link = make_link(kit)
    follow(kit, f"/g/{link['code']}")
    assert [item.kind for item in outbox(kit)] == ["click"]
    assert outbox(kit, other.id) == []


def make_other_beacon(site_key: str, kit: Kit) -> dict[str, Any]:
    beacon = kit.beacon()
    beacon["k"] = site_key
    return beacon


def test_a_disabled_destination_takes_nothing(hooks: Kit) -> None:
    kit = hooks
    create(kit, url=CLOSED, enabled=False)
    assert kit.collect(kit.beacon()).status_code == 204
    assert outbox(kit) == []


# --- replays -----------------------------------------------------------------------------------


def test_a_replay_queues_the_ranges_items_for_its_destination(hooks: Kit) -> None:
    kit = hooks
    start = now_ms()
    for _ in range(3):
        assert kit.collect(kit.beacon()).status_code == 204
    link = make_link(kit)
    follow(kit, f"/g/{link['code']}")
    end = now_ms() + 1
    made = create(kit, url=CLOSED, events=["pageview"])
    window = {"start": _iso(start - 1000), "end": _iso(end)}
    answer = hook(kit, "POST", f"/{made['id']}/replay", window)
    assert answer.status_code == 202, answer.text
    assert answer.json()["items"] == 3 and answer.json()["start"].endswith("Z")
    queued = kit.store.outbox_items(kit.brand.id, made["id"], [], 0, 100)
    assert len(queued) == 3 and {item.dest_id for item in queued} == {made["id"]}
    assert all(json.loads(item.body)["type"] == "pageview" for item in queued)
    empty = {"start": _iso(end + 60_000), "end": _iso(end + 120_000)}
    assert hook(kit, "POST", f"/{made['id']}/replay", empty).json()["items"] == 0


def test_replay_refusals(hooks: Kit, monkeypatch: pytest.MonkeyPatch) -> None:
    kit = hooks
    made = create(kit, url=CLOSED)
    path = f"/{made['id']}/replay"
    refused(hook(kit, "POST", path, {"start": "yesterday", "end": _iso(now_ms())}), "start")
    refused(hook(kit, "POST", path, {"start": _iso(now_ms()), "end": "2024-13-01"}), "end")
    backwards = {"start": _iso(now_ms()), "end": _iso(now_ms() - 60_000)}
    refused(hook(kit, "POST", path, backwards), "end")
    refused(hook(kit, "POST", path, {"start": _iso(now_ms())}), "end")
    assert hook(kit, "POST", "/nope/replay", backwards).status_code in (404, 422)
    for _ in range(3):
        kit.collect(kit.beacon())
    monkeypatch.setattr(service, "MAX_REPLAY_ITEMS", 2)
    window = {"start": _iso(now_ms() - 60_000), "end": _iso(now_ms() + 1000)}
    assert "narrow" in refused(hook(kit, "POST", path, window), "end")
    hook(kit, "PATCH", f"/{made['id']}", {"enabled": False})
    assert hook(kit, "POST", path, window).status_code == 409


def _iso(ms: int) -> str:
    from collector.http.params import iso

    shown = iso(ms)
    assert shown is not None
    return shown


def test_a_beacon_with_a_broken_referrer_is_stored_with_its_item(hooks: Kit) -> None:
    kit = hooks
    create(kit, url=CLOSED, events=["pageview"])
    assert kit.collect(kit.beacon(r="http://[not-ipv6/x")).status_code == 204
    (item,) = outbox(kit)
    assert json.loads(item.body)["referral"]["hostname"] is None
