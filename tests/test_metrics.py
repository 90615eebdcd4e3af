"""``GET /metrics`` and ``GET /readyz`` over a real collector, on both engines: a scrape parses
with prometheus_client's own text parser, and each metric moves when its event happens."""

from __future__ import annotations

import asyncio
import gzip
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from collector.app import create_app
from collector.ids import new_id
from collector.storage.base import Store
from tests.appkit import CHROME_UA, Kit, geoip_settings, run_kit
from tests.servers import serve_in_thread
from tests.webhook_receiver import receiving

TOKEN = "scrape-" + "x" * 24
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@pytest.fixture
def mkit(store: Store, testdata_dir: Path, tmp_path: Path) -> Iterator[Kit]:
    """A collector with a metrics token, exports in ``tmp_path`` and loopback webhooks."""
    settings = geoip_settings(
        testdata_dir,
        replay_assets_dir=str(tmp_path / "replay-assets"),
        export_dir=str(tmp_path / "exports"),
        webhook_networks="127.0.0.0/8",
        metrics_token=TOKEN,
    )
    yield from run_kit(store, settings)


def scrape(kit: Kit, key: str | None = None) -> Samples:
    answer = kit.http.get("/metrics", headers={"Authorization": f"Bearer {key or kit.admin_key}"})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def moved(kit: Kit, action: Callable[[], object], name: str, **labels: str) -> float:
    """How much ``name`` moved while ``action`` ran."""
    before = value(scrape(kit), name, **labels)
    action()
    return value(scrape(kit), name, **labels) - before


def eventually(kit: Kit, check: Callable[[Samples], bool], timeout: float = 20.0) -> Samples:
    deadline = time.monotonic() + timeout
    while True:
        samples = scrape(kit)
        if check(samples) or time.monotonic() > deadline:
            return samples
        time.sleep(0.1)


def _beacon(kit: Kit) -> None:
    assert kit.collect(kit.beacon()).status_code == 204


# --- the scrape ---------------------------------------------------------------------------


def test_a_scrape_parses_and_declares_every_metric_with_its_type(mkit: Kit) -> None:
    _beacon(mkit)
    text = mkit.http.get("/metrics", headers={"X-Api-Key": mkit.admin_key}).text
    types = {family.name: family.type for family in text_string_to_metric_families(text)}
    assert types == {
        "clicktrail_beacons": "counter",
        "clicktrail_events": "counter",
        "clicktrail_beacons_rejected": "counter",
        "clicktrail_group_commit_rows": "histogram",
        "clicktrail_group_commit_seconds": "histogram",
        "clicktrail_writer_queue_depth": "gauge",
        "clicktrail_replay_bytes_in": "counter",
        "clicktrail_replay_bytes_stored": "counter",
        "clicktrail_replay_chunks": "counter",
        "clicktrail_webhook_batches": "counter",
        "clicktrail_webhook_items_delivered": "counter",
        "clicktrail_webhook_backlog": "gauge",
        "clicktrail_export_jobs_finished": "counter",
        "clicktrail_export_jobs": "gauge",
        "clicktrail_replays_compacted": "counter",
        "clicktrail_http_requests": "counter",
        "clicktrail_http_request_seconds": "histogram",
        "clicktrail_inbox_pending": "gauge",
        "clicktrail_inbox_lag_seconds": "gauge",
        "clicktrail_enrichment_background": "gauge",
    }
    samples = scrape(mkit)
    assert value(samples, "clicktrail_writer_queue_depth") == 0
    assert value(samples, "clicktrail_enrichment_background") == 0  # enriched in this process
    assert value(samples, "clicktrail_webhook_backlog") == 0


def test_a_scrape_needs_an_admin_key_or_the_token(mkit: Kit) -> None:
    assert mkit.http.get("/metrics").status_code == 401
    wrong = mkit.http.get("/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    assert wrong.json()["error"]["message"] == "the API key is not valid"
    read = mkit.http.get("/metrics", headers={"EF-Access-Key": mkit.read_key})
    assert read.status_code == 403
    assert "--metrics-token" in read.json()["error"]["message"]
    assert scrape(mkit, key=TOKEN)  # a scraper's token
    _, other_admin = mkit.new_brand()
    assert scrape(mkit, key=other_admin)  # any brand's admin key: totals, no brand labels


# --- each metric moves when its event happens -------------------------------------------------


def test_a_stored_beacon_counts_once_with_its_events_and_its_commit(mkit: Kit) -> None:
    before = scrape(mkit)
    beacon = mkit.beacon()
    beacon["e"].append({"t": "add_to_cart", "ts": beacon["e"][0]["ts"] + 5})
    assert mkit.collect(beacon).status_code == 204
    after = scrape(mkit)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("clicktrail_beacons_total") == 1
    assert delta("clicktrail_events_total") == 2
    assert delta("clicktrail_group_commit_rows_count") >= 1
    assert delta("clicktrail_group_commit_rows_sum") >= 3  # the click and its two events
    assert delta("clicktrail_group_commit_seconds_count") >= 1
    request = {"route": "/collect", "method": "POST", "status": "204"}
    assert delta("clicktrail_http_requests_total", **request) == 1


@pytest.mark.parametrize(
    ("body", "status", "reason"),
    [
        (b"{not json", "400", "malformed"),
        (json.dumps({"k": "no-such-site"}).encode(), "422", "invalid"),
    ],
)
def test_a_refused_beacon_counts_its_reason(mkit: Kit, body: bytes, status: str, reason: str):
    def send() -> None:
        answer = mkit.http.post("/collect", content=body, headers={"user-agent": CHROME_UA})
        assert answer.status_code == int(status)

    name = "clicktrail_beacons_rejected_total"
    assert moved(mkit, send, name, status=status, reason=reason) == 1


def test_an_unknown_site_key_and_a_foreign_page_count_apart(mkit: Kit) -> None:
    def unknown() -> None:
        assert mkit.collect(mkit.beacon(k="unknown-site-key")).status_code == 404

    def foreign() -> None:
        assert mkit.collect(mkit.beacon(u="https://elsewhere.example/")).status_code == 403

    name = "clicktrail_beacons_rejected_total"
    assert moved(mkit, unknown, name, status="404", reason="unknown_site") == 1
    assert moved(mkit, foreign, name, status="403", reason="domain_not_allowed") == 1
    assert moved(mkit, lambda: _beacon(mkit), "clicktrail_beacons_total") == 1


def test_a_replay_chunk_counts_its_bytes_in_and_stored(mkit: Kit) -> None:
    ts = int(time.time() * 1000)
    events = [
        {
            "type": 4,
            "timestamp": ts,
            "data": {"href": "https://shop.example/", "width": 1, "height": 1},
        }
    ]
    envelope = {
        "k": mkit.brand.site_key,
        "r": new_id(),
        "p": new_id(),
        "v": new_id(),
        "s": new_id(),
        "q": 0,
        "u": "https://shop.example/checkout",
        "e": events * 20,
    }
    body = gzip.compress(json.dumps(envelope).encode())
    before = scrape(mkit)
    answer = mkit.http.post(
        "/collect/replay",
        content=body,
        headers={"user-agent": CHROME_UA, "content-type": "text/plain"},
    )
    assert answer.status_code == 204, answer.text
    after = scrape(mkit)
    assert (
        value(after, "clicktrail_replay_chunks_total")
        - value(before, "clicktrail_replay_chunks_total")
        == 1
    )
    bytes_in = value(after, "clicktrail_replay_bytes_in_total") - value(
        before, "clicktrail_replay_bytes_in_total"
    )
    assert bytes_in == len(body)
    stored = value(after, "clicktrail_replay_bytes_stored_total") - value(
        before, "clicktrail_replay_bytes_stored_total"
    )
    assert 0 < stored < len(json.dumps(events * 20))


def test_a_webhook_delivery_counts_its_batch_and_items(mkit: Kit) -> None:
    before = scrape(mkit)
    with receiving() as receiver:
        made = mkit.http.post(
            f"/api/brands/{mkit.brand.id}/webhooks",
            json={"url": f"{receiver.url}/hook", "events": ["pageview"]},
            headers={"EF-Access-Key": mkit.admin_key},
        )
        assert made.status_code == 201, made.text
        _beacon(mkit)
        assert receiver.wait_for(lambda: len(receiver.delivered()) == 1, timeout=20)
        name = "clicktrail_webhook_batches_total"
        target = value(before, name, verdict="delivered") + 1
        after = eventually(mkit, lambda s: value(s, name, verdict="delivered") >= target)
    assert value(after, name, verdict="delivered") == target
    items = "clicktrail_webhook_items_delivered_total"
    assert value(after, items) - value(before, items) == 1


def test_an_export_job_counts_when_it_finishes(mkit: Kit) -> None:
    _beacon(mkit)
    name = "clicktrail_export_jobs_finished_total"
    before = value(scrape(mkit), name, state="done")
    answer = mkit.http.post(
        f"/api/brands/{mkit.brand.id}/clicks/export",
        json={"columns": ["session_id", "url"]},
        headers={"EF-Access-Key": mkit.read_key},
    )
    assert answer.status_code in (200, 201, 202), answer.text
    after = eventually(mkit, lambda s: value(s, name, state="done") > before)
    assert value(after, name, state="done") == before + 1
    assert ("clicktrail_export_jobs", frozenset({("state", "queued")})) in after


def test_an_api_read_moves_its_routes_latency_histogram(mkit: Kit) -> None:
    route = "/api/brands/{brand}/clicks"
    name = "clicktrail_http_request_seconds_count"
    read = lambda: mkit.api("/clicks")  # noqa: E731
    assert moved(mkit, read, name, route=route, method="GET") == 1
    samples = scrape(mkit)
    routes = {dict(labels).get("route") for (_, labels) in samples}
    assert f"/api/brands/{mkit.brand.id}/clicks" not in routes  # templates, never raw paths
    missing = lambda: mkit.http.get(f"/nothing-{new_id()}")  # noqa: E731
    assert (
        moved(
            mkit,
            missing,
            "clicktrail_http_requests_total",
            route="unmatched",
            method="GET",
            status="404",
        )
        == 1
    )


# --- readiness ----------------------------------------------------------------------------


def test_readyz_is_200_when_ready_and_503_naming_the_writer_once_it_stops(
    store: Store, testdata_dir: Path, tmp_path: Path
) -> None:
    app = create_app(geoip_settings(testdata_dir, replay_assets_dir=str(tmp_path)), store=store)
    with serve_in_thread(app) as url:
        ready = httpx.get(f"{url}/readyz")
        assert ready.status_code == 200
        assert ready.json() == {
            "status": "ready",
            "store": "ok",
            "migrations": "ok",
            "writer": "ok",
        }
        assert httpx.get(f"{url}/healthz").status_code == 200

        writer = app.state.runtime.writer
        loop = writer._task.get_loop()
        asyncio.run_coroutine_threadsafe(writer.stop(), loop).result(timeout=10)
        stopped = httpx.get(f"{url}/readyz")
        assert stopped.status_code == 503
        assert stopped.json() == {
            "status": "not ready",
            "store": "ok",
            "migrations": "ok",
            "writer": "stopped",
        }
        assert httpx.get(f"{url}/healthz").status_code == 200  # alive, not ready
