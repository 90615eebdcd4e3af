"""The request and job log (``--log-format text|json``): one line per request with its route
template, status, time and brand, never a visitor's IP; the job lines; and ``clicktrail serve``
writing every line of the process in the chosen format."""

from __future__ import annotations

import io
import json
import logging
import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from collector.ops.logging import ACCESS, JOBS, JsonFormatter, TextFormatter
from collector.storage.base import BrandSettings, Store
from tests.appkit import LONDON_IP, Kit, geoip_settings, make_beacon, run_kit
from tests.servers import start_collector

TIME = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"


@pytest.fixture
def lkit(store: Store, testdata_dir: Path, tmp_path: Path) -> Iterator[Kit]:
    settings = geoip_settings(
        testdata_dir,
        replay_assets_dir=str(tmp_path / "replay-assets"),
        export_dir=str(tmp_path / "exports"),
    )
    yield from run_kit(store, settings)


@pytest.fixture(params=["text", "json"])
def captured(request: pytest.FixtureRequest) -> Iterator[tuple[str, io.StringIO]]:
    """The access and job lines, formatted as ``--log-format`` would, into a buffer."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter() if request.param == "json" else TextFormatter())
    for logger in (ACCESS, JOBS):
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
    try:
        yield request.param, stream
    finally:
        for logger in (ACCESS, JOBS):
            logger.removeHandler(handler)
            logger.setLevel(logging.NOTSET)


def _lines(stream: io.StringIO) -> list[str]:
    return stream.getvalue().splitlines()


def _wait_lines(stream: io.StringIO, count: int) -> list[str]:
    """The lines once ``count`` are written (a request's line follows its answer)."""
    deadline = time.monotonic() + 5
    while len(_lines(stream)) < count and time.monotonic() < deadline:
        time.sleep(0.01)
    return _lines(stream)


@pytest.mark.parametrize("ip_mode", ["off", "truncated"])
def test_one_line_per_request_with_timing_and_brand_and_no_ip(
    lkit: Kit, captured: tuple[str, io.StringIO], ip_mode: str
) -> None:
    """A refused beacon and a read each log a line with their brand; an answered beacon is
    counted, not logged (thousands a second)."""
    form, stream = captured
    brand, key = lkit.new_brand(BrandSettings(ip_mode=ip_mode), domains=["shop.example"])  # type: ignore[arg-type]
    beacon = make_beacon(brand.site_key)
    sent = {"x-forwarded-for": LONDON_IP, "content-type": "text/plain"}
    assert lkit.http.post("/collect", json=beacon, headers=sent).status_code == 204
    elsewhere = make_beacon(brand.site_key, u="https://elsewhere.example/")
    assert lkit.http.post("/collect", json=elsewhere, headers=sent).status_code == 403
    read = lkit.http.get(f"/api/brands/{brand.id}/clicks", headers={"X-Api-Key": key})
    assert read.status_code == 200 and read.json()["total"] == 1
    lines = _wait_lines(stream, 2)
    assert len(lines) == 2, lines
    if form == "text":
        assert re.fullmatch(
            rf"{TIME} INFO request POST /collect 403 \d+\.\dms brand={brand.id}", lines[0]
        )
        assert re.fullmatch(
            rf"{TIME} INFO request GET /api/brands/{{brand}}/clicks 200 \d+\.\dms brand={brand.id}",
            lines[1],
        )
    else:
        first, second = (json.loads(line) for line in lines)
        for line in (first, second):
            assert re.fullmatch(TIME, line.pop("time"))
            assert isinstance(line.pop("duration_ms"), float)
        assert first == {
            "level": "info",
            "event": "request",
            "method": "POST",
            "route": "/collect",
            "status": 403,
            "brand": brand.id,
        }
        assert second == {
            **first,
            "method": "GET",
            "route": "/api/brands/{brand}/clicks",
            "status": 200,
        }
    everything = stream.getvalue()
    assert LONDON_IP not in everything and "81.2.69" not in everything
    assert "127.0.0.1" not in everything
    assert beacon["v"] not in everything  # nor an id from the path or the body


def test_a_refused_request_logs_its_status_without_a_brand(lkit: Kit, captured) -> None:
    form, stream = captured
    assert lkit.http.post("/collect", content=b"{nope").status_code == 400
    assert lkit.http.get("/healthz").status_code == 200
    first, second = _wait_lines(stream, 2)
    if form == "text":
        assert re.fullmatch(rf"{TIME} INFO request POST /collect 400 \d+\.\dms", first)
        assert re.fullmatch(rf"{TIME} INFO request GET /healthz 200 \d+\.\dms", second)
    else:
        assert json.loads(first)["brand"] is None
        assert json.loads(second)["route"] == "/healthz"


def test_an_export_job_writes_its_line_with_timing(lkit: Kit, captured) -> None:
    form, stream = captured
    assert lkit.http.post("/collect", json=lkit.beacon()).status_code == 204
    answer = lkit.http.post(
        f"/api/brands/{lkit.brand.id}/clicks/export",
        json={"columns": ["session_id", "url"]},
        headers={"EF-Access-Key": lkit.read_key},
    )
    job_id = answer.json()["id"] if "id" in answer.json() else answer.json()["job_id"]
    deadline = time.monotonic() + 20
    jobs: list[str] = []
    while not jobs and time.monotonic() < deadline:
        time.sleep(0.05)
        jobs = [line for line in _lines(stream) if " job " in line or '"event":"job"' in line]
    assert len(jobs) == 1, _lines(stream)
    if form == "text":
        assert re.fullmatch(
            rf"{TIME} INFO job export \d+\.\dms brand={lkit.brand.id} export={job_id} "
            r"state=done rows=1",
            jobs[0],
        )
    else:
        line = json.loads(jobs[0])
        assert line["event"] == "job" and line["job"] == "export" and line["state"] == "done"
        assert line["brand"] == lkit.brand.id and line["rows"] == 1


def test_serve_writes_every_line_as_json(tmp_path: Path) -> None:
    log_path = tmp_path / "collector.log"
    collector = start_collector(
        "serve", f"sqlite:///{tmp_path}/db.sqlite", log_path, "--log-format", "json"
    )
    try:
        assert httpx.get(f"{collector.url}/readyz").status_code == 200
    finally:
        collector.stop()
    text = log_path.read_text().splitlines()
    lines = [json.loads(line) for line in text if line.startswith("{")]
    # the rest is what the command prints for people (the database's path), not log lines
    assert not [line for line in text if re.match(rf"(INFO|WARNING|ERROR)\b|{TIME}", line)]
    assert any(line.get("logger", "").startswith("uvicorn") for line in lines)  # uvicorn's too
    ready = [line for line in lines if line.get("route") == "/readyz"]
    assert len(ready) == 1 and ready[0]["status"] == 200 and ready[0]["method"] == "GET"
    assert not any(line.get("logger") == "uvicorn.access" for line in lines)
