"""A finished CSV export announced to the brand's webhooks (the ``export`` kind), on both engines,
over a real collector and a real receiver on loopback: only to destinations that ask for it, in
the export API's own shape, with a download link that works."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from collector.storage.base import Store
from tests.appkit import Kit, geoip_settings, run_kit
from tests.webhook_receiver import Receiver, receiving

LONDON_IP = "81.2.69.142"


@pytest.fixture
def kit(store: Store, testdata_dir: Path, tmp_path: Path) -> Iterator[Kit]:
    """A collector with exports under ``tmp_path`` that delivers to loopback, whose links are
    absolute (``--public-url``)."""
    settings = geoip_settings(
        testdata_dir,
        replay_assets_dir=str(tmp_path / "replay-assets"),
        export_dir=str(tmp_path / "exports"),
        webhook_networks="127.0.0.0/8",
        public_url="https://clicktrail.example/",
    )
    yield from run_kit(store, settings)


def _destination(kit: Kit, url: str, events: list[str]) -> dict:
    answer = kit.http.post(
        f"/api/brands/{kit.brand.id}/webhooks",
        json={"url": url, "events": events},
        headers={"EF-Access-Key": kit.admin_key},
    )
    assert answer.status_code == 201, answer.text
    return answer.json()


def _export(kit: Kit, body: dict) -> str:
    answer = kit.http.post(
        f"/api/brands/{kit.brand.id}/clicks/export",
        json=body,
        headers={"EF-Access-Key": kit.read_key},
    )
    assert answer.status_code == 202, answer.text
    return answer.json()["id"]


def _exports_announced(receiver: Receiver) -> list[dict]:
    return [item for item in receiver.delivered_items() if item.get("type") == "export"]


def test_a_finished_export_is_announced_to_destinations_that_take_exports(kit: Kit) -> None:
    beacon = kit.beacon()
    assert kit.collect(beacon, **{"x-forwarded-for": LONDON_IP}).status_code == 204
    with receiving() as wants, receiving() as clickstream_only:
        _destination(kit, wants.url + "/hook", ["export"])
        _destination(kit, clickstream_only.url + "/hook", ["click", "pageview", "lead", "sale"])
        job_id = _export(kit, {"columns": ["id", "url"]})
        assert wants.wait_for(lambda: _exports_announced(wants), timeout=30)
        [item] = _exports_announced(wants)
        request = wants.delivered()[-1]
        assert request.headers["webhook-event-types"] == "export"
        assert request.headers["webhook-signature"].startswith("v1,")
    assert item["id"] == job_id
    assert item["timestamp"].endswith("Z")
    export = item["export"]
    assert export["status"] == "done"
    assert export["rows"] == 1
    assert export["columns"] == ["id", "url"]
    base = f"https://clicktrail.example/api/brands/{kit.brand.id}/exports/{job_id}"
    assert export["download_url"] == base + "/download"
    assert not _exports_announced(clickstream_only)


def test_the_announced_download_link_fetches_the_file(kit: Kit) -> None:
    assert kit.collect(kit.beacon(), **{"x-forwarded-for": LONDON_IP}).status_code == 204
    with receiving() as receiver:
        _destination(kit, receiver.url + "/hook", ["export"])
        _export(kit, {"columns": ["id"]})
        assert receiver.wait_for(lambda: _exports_announced(receiver), timeout=30)
    [item] = _exports_announced(receiver)
    path = item["export"]["download_url"].removeprefix("https://clicktrail.example")
    answer = kit.http.get(path, headers={"EF-Access-Key": kit.read_key})
    assert answer.status_code == 200
    assert answer.text.splitlines()[0] == "id"


def test_a_failed_export_is_announced_with_its_error(kit: Kit, tmp_path: Path) -> None:
    export_dir = tmp_path / "exports"  # a file where the runner writes: the job fails
    if export_dir.is_dir():
        export_dir.rmdir()
    export_dir.write_text("not a directory")
    with receiving() as receiver:
        _destination(kit, receiver.url + "/hook", ["export"])
        job_id = _export(kit, {"columns": ["id"]})
        assert receiver.wait_for(lambda: _exports_announced(receiver), timeout=30)
    [item] = _exports_announced(receiver)
    assert item["id"] == job_id
    assert item["export"]["status"] == "failed"
    assert item["export"]["error"]
    assert item["export"]["download_url"] is None
