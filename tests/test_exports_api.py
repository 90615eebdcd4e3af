"""CSV export jobs (issue 14, seed 01's ``POST clicks/export``) over a real collector, on both
storage engines: the seed's answer, the job's status, the download (plain and gzip), safe
cells, filters, refusals, jobs resumed after a restart, and expiry."""

from __future__ import annotations

import contextlib
import csv
import gzip
import io
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest

from collector.exports.csvfile import safe_text
from collector.exports.runner import ExportRunner
from collector.exports.service import file_path
from collector.http.auth import mint_api_key
from collector.ids import new_id
from collector.storage.base import ExportJob, Store
from tests.appkit import LONDON_IP, Kit, geoip_settings, now_ms, run_kit

SEED_COLUMNS = ["session_id", "ip_address", "url", "created_at"]
DAY_MS = 86_400_000
FORMULA = '=HYPERLINK("http://x")'


def _settings(testdata: Path, tmp: Path):
    return geoip_settings(
        testdata, replay_assets_dir=str(tmp / "replay-assets"), export_dir=str(tmp / "exports")
    )


@pytest.fixture
def ekit(store: Store, testdata_dir: Path, tmp_path: Path) -> Iterator[Kit]:
    """A collector whose exports go to ``tmp_path/exports``."""
    yield from run_kit(store, _settings(testdata_dir, tmp_path))


def _visit(kit: Kit, **overrides) -> dict:
    beacon = kit.beacon(**overrides)
    assert kit.collect(beacon, **{"x-forwarded-for": LONDON_IP}).status_code == 204
    return beacon


def _url(**query: str) -> str:
    return f"https://shop.example/landing?{urlencode(query)}"


def _post(kit: Kit, body: object, key: str | None = None):
    return kit.http.post(
        f"/api/brands/{kit.brand.id}/clicks/export",
        json=body,
        headers={"EF-Access-Key": key or kit.read_key},
    )


def _status(kit: Kit, job_id: str, key: str | None = None):
    return kit.http.get(
        f"/api/brands/{kit.brand.id}/exports/{job_id}",
        headers={"EF-Access-Key": key or kit.read_key},
    )


def _finished(kit: Kit, job_id: str, key: str | None = None) -> dict:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        job = _status(kit, job_id, key).json()
        if job["status"] in ("done", "failed"):
            return job
        time.sleep(0.05)
    raise AssertionError(f"export {job_id} did not finish: {job}")


def _download(kit: Kit, job_id: str, key: str | None = None) -> list[list[str]]:
    answer = kit.http.get(
        f"/api/brands/{kit.brand.id}/exports/{job_id}/download",
        headers={"EF-Access-Key": key or kit.read_key, "Accept-Encoding": "identity"},
    )
    assert answer.status_code == 200, answer.text
    assert "content-encoding" not in answer.headers
    assert answer.headers["content-type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(answer.content.decode("utf-8"))))


def _export(kit: Kit, body: dict) -> tuple[dict, list[list[str]]]:
    answer = _post(kit, body)
    assert answer.status_code == 202, answer.text
    job = _finished(kit, answer.json()["id"])
    assert job["status"] == "done", job
    return job, _download(kit, job["id"])


def _list_ids(kit: Kit, **query) -> list[str]:
    return [row["id"] for row in kit.api("/clicks", **query).json()["data"]]


def test_export_answers_the_seed_keys_and_runs_to_done(ekit):
    for _ in range(3):
        _visit(ekit)
    answer = _post(ekit, {"columns": SEED_COLUMNS})
    assert answer.status_code == 202
    queued = answer.json()
    assert list(queued) == ["success", "message", "id", "status_url"]
    assert queued["success"] is True and queued["message"].startswith("Export started.")
    assert queued["status_url"] == f"{ekit.url}/api/brands/{ekit.brand.id}/exports/{queued['id']}"
    job = _finished(ekit, queued["id"])
    assert job["status"] == "done" and job["rows"] == 3 and job["error"] is None
    assert job["columns"] == SEED_COLUMNS and job["filters"] == {}
    assert job["download_url"] == queued["status_url"] + "/download"
    assert job["created_at"] <= job["started_at"] <= job["finished_at"] < job["expires_at"]
    table = _download(ekit, job["id"])
    assert table[0] == SEED_COLUMNS and len(table) == 4
    clicks = ekit.api("/clicks").json()["data"]  # newest first, as the export by default
    assert [row[0] for row in table[1:]] == [c["session_id"] for c in clicks]
    assert [row[3] for row in table[1:]] == [c["created_at"] for c in clicks]
    assert {row[1] for row in table[1:]} == {LONDON_IP}


def test_the_expiry_is_the_ttl_after_the_end(ekit):
    _visit(ekit)
    job, _ = _export(ekit, {"columns": ["id"]})
    stored = ekit.store.get_export(ekit.brand.id, job["id"])
    assert stored is not None and stored.finished_at is not None
    assert stored.expires_at == stored.finished_at + 7 * DAY_MS


def test_download_is_gzip_for_clients_that_take_it(ekit):
    beacons = [_visit(ekit) for _ in range(2)]
    job, plain = _export(ekit, {"columns": ["id", "sub1"]})
    path = f"/api/brands/{ekit.brand.id}/exports/{job['id']}/download"
    headers = {"EF-Access-Key": ekit.read_key, "Accept-Encoding": "gzip"}
    with ekit.http.stream("GET", path, headers=headers) as answer:
        assert answer.status_code == 200
        assert answer.headers["content-encoding"] == "gzip"
        assert answer.headers["vary"] == "Accept-Encoding"
        raw = b"".join(answer.iter_raw())
    assert raw[:2] == b"\x1f\x8b"
    table = list(csv.reader(io.StringIO(gzip.decompress(raw).decode("utf-8"))))
    assert table == plain
    assert sorted(row[0] for row in table[1:]) == sorted(b["p"] for b in beacons)
    refused = {"EF-Access-Key": ekit.read_key, "Accept-Encoding": "gzip;q=0"}
    assert "content-encoding" not in ekit.http.get(path, headers=refused).headers


def test_formula_cells_are_neutralised(ekit):
    url = _url(sub1=FORMULA, utm_source="+1", utm_medium="-2", utm_campaign="@x", sub2="ok")
    _visit(ekit, u=url)
    columns = ["sub1", "utm_source", "utm_medium", "utm_campaign", "sub2", "lat", "is_bot"]
    _, table = _export(ekit, {"columns": columns})
    assert table[1][:5] == ["'" + FORMULA, "'+1", "'-2", "'@x", "ok"]
    assert float(table[1][5]) == pytest.approx(51.5142)  # numbers stay numbers
    assert table[1][6] == "false"
    query_cell = _export(ekit, {"columns": ["query"]})[1][1][0]
    assert query_cell.startswith("{") and "HYPERLINK" in query_cell


def test_tab_and_carriage_return_are_neutralised_too():
    assert [safe_text(v) for v in ("\tx", "\rx", "a=b", "")] == ["'\tx", "'\rx", "a=b", ""]


def test_filters_click_codes_and_direction(ekit):
    a = _visit(ekit, f=1, u=_url(sub1="alpha"))
    b = _visit(ekit, f=2, u=_url(sub1="beta"))
    c = _visit(ekit, v=a["v"], s=a["s"], u=_url(sub1="gamma"))  # a's session, second page
    ids = lambda body: [r[0] for r in _export(ekit, {"columns": ["id"], **body})[1][1:]]  # noqa: E731
    assert ids({"filters": {"sub1": "beta"}}) == [b["p"]]
    assert ids({"filters": {"funnel_id": 1}}) == [a["p"]]
    assert sorted(ids({"click_codes": [a["p"], c["p"], "unknown"]})) == sorted([a["p"], c["p"]])
    session = ekit.api(f"/clicks/{a['p']}").json()["session_id"]
    assert sorted(ids({"filters": {"click_id": session}})) == sorted([a["p"], c["p"]])
    newest_first = ids({})
    assert newest_first == _list_ids(ekit)
    assert ids({"filters": {"direction": "asc"}}) == newest_first[::-1]
    assert ids({"filters": {"sub1": "beta"}, "click_codes": [a["p"]]}) == []


def test_refusals_name_what_is_wrong(ekit):
    cases = [
        ({"columns": ["session_id", "no_such_column"]}, "columns", "no_such_column"),
        ({"columns": ["id", "id"]}, "columns", "twice"),
        ({"filters": {"nope": 1}}, "filters.nope", "unknown filter `nope`"),
        ({"filters": {"funnel_id": "x"}}, "filters.funnel_id", "`funnel_id` must be an integer"),
        ({"filters": {"start": "yesterday"}}, "filters.start", "ISO 8601"),
        ({"filters": {"sort": "url"}}, "filters.sort", "ordered by `created_at`"),
        ({"columns": []}, "columns", ""),
        ({"colums": ["id"]}, "colums", ""),
    ]
    for body, param, words in cases:
        answer = _post(ekit, body)
        assert answer.status_code == 422, (body, answer.text)
        error = answer.json()["error"]
        assert error["param"] == param and words in error["message"], (body, error)
    not_json = ekit.http.post(
        f"/api/brands/{ekit.brand.id}/clicks/export",
        content=b"{",
        headers={"EF-Access-Key": ekit.read_key},
    )
    assert not_json.status_code == 400
    assert _post(ekit, {}, key="nope").status_code == 401
    assert _status(ekit, "01jeyh2a00q8m3v7c2xw4d9fbk").status_code == 404
    other, other_key = ekit.new_brand()
    job_id = _post(ekit, {"columns": ["id"]}).json()["id"]
    elsewhere = ekit.http.get(
        f"/api/brands/{other.id}/exports/{job_id}", headers={"EF-Access-Key": other_key}
    )
    assert elsewhere.status_code == 404


def _job(brand_id: int, status: str, columns: list[str], rows: int = 0) -> ExportJob:
    return ExportJob(
        id=new_id(),
        brand_id=brand_id,
        status=status,  # type: ignore[arg-type]
        columns=columns,
        rows=rows,
        created_at=now_ms(),
        started_at=now_ms() if status == "running" else None,
    )


def test_queued_and_interrupted_jobs_run_after_a_restart(store, testdata_dir, tmp_path):
    settings = _settings(testdata_dir, tmp_path)
    with contextlib.contextmanager(run_kit)(store, settings) as first:
        for _ in range(3):
            _visit(first)
        brand = first.brand
    # written by a collector that stopped (or died) before running them
    queued = _job(brand.id, "queued", ["id", "sub1"])
    interrupted = _job(brand.id, "running", ["id"], rows=2)
    broken = _job(brand.id, "queued", ["no_such_column"])
    for job in (queued, interrupted, broken):
        store.add_export(job)
    with contextlib.contextmanager(run_kit)(store, settings) as second:
        key, record = mint_api_key(brand.id, "read", now_ms())
        store.add_api_key(record)
        second.brand = brand
        for job in (queued, interrupted):
            status = _finished(second, job.id, key)
            assert status["status"] == "done" and status["rows"] == 3
            assert len(_download(second, job.id, key)) == 4
        failed = _finished(second, broken.id, key)
        assert failed["status"] == "failed" and failed["download_url"] is None
        assert "failed" in failed["error"]
        refused = second.http.get(
            f"/api/brands/{brand.id}/exports/{broken.id}/download",
            headers={"EF-Access-Key": key},
        )
        assert refused.status_code == 409 and "failed" in refused.json()["error"]["message"]


def test_expired_exports_are_deleted_with_their_files(ekit, tmp_path):
    _visit(ekit)
    job, _ = _export(ekit, {"columns": ["id"]})
    stored = ekit.store.get_export(ekit.brand.id, job["id"])
    assert stored is not None and stored.expires_at is not None
    directory = tmp_path / "exports"
    assert file_path(directory, stored).exists()
    ttl = 7 * DAY_MS
    early = ExportRunner(ekit.store, directory, ttl, clock=lambda: stored.expires_at - 1)
    assert early.sweep() == 0 and file_path(directory, stored).exists()
    late = ExportRunner(ekit.store, directory, ttl, clock=lambda: stored.expires_at)
    assert late.sweep() == 1
    assert not file_path(directory, stored).exists()
    assert _status(ekit, job["id"]).status_code == 404
