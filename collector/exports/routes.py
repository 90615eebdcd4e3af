"""Export jobs API (issue 14, seed 01): ``POST clicks/export`` queues a CSV export of clicks,
``GET exports/{id}`` follows it, ``GET exports/{id}/download`` streams the file."""

from __future__ import annotations

import gzip
import time
from collections.abc import Iterator
from pathlib import Path

import anyio
import msgspec
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from collector.errors import Busy, Conflict, NotFound
from collector.http.auth import authorize
from collector.http.body import decode_body
from collector.http.params import JSON
from collector.http.routing import Endpoint, Example, Reply, routes_of
from collector.http.schema import BrandPath
from collector.http.state import public_base, runtime
from collector.storage.base import ExportJob, Store

from . import examples, service
from .schema import ExportJson, ExportPath, ExportQueued, ExportRequest

MAX_BODY = 1_048_576  # 10,000 click codes fit
MAX_OPEN_PER_BRAND = 20  # queued or running jobs of a brand at once
CHUNK = 65_536
_decode = msgspec.json.Decoder(ExportRequest)


def _now() -> int:
    return time.time_ns() // 1_000_000


def _status_url(request: Request, brand_id: int, job_id: str) -> str:
    return f"{public_base(request)}/api/brands/{brand_id}/exports/{job_id}"


def _queue(store: Store, job: ExportJob) -> None:
    open_jobs = [j for j in store.exports_in(["queued", "running"]) if j.brand_id == job.brand_id]
    if len(open_jobs) >= MAX_OPEN_PER_BRAND:
        raise Busy(
            f"the brand has {MAX_OPEN_PER_BRAND} exports queued or running; wait for one to end",
            retry_after=30,
        )
    store.add_export(job)


async def create_export(request: Request) -> JSON:
    brand_id = authorize(request, "read")
    body: ExportRequest = await decode_body(request, _decode, "export request", MAX_BODY)
    job = service.new_job(brand_id, body, _now())
    rt = runtime(request)
    await anyio.to_thread.run_sync(_queue, rt.store, job)
    rt.exports.wakeup()
    url = _status_url(request, brand_id, job.id)
    return JSON(ExportQueued(True, service.QUEUED_MESSAGE, job.id, url), status_code=202)


async def _job(request: Request) -> tuple[int, ExportJob]:
    brand_id = authorize(request, "read")
    wanted = request.path_params["export_id"]
    job = await anyio.to_thread.run_sync(runtime(request).store.get_export, brand_id, wanted)
    if job is None:
        raise NotFound(f"no export {wanted[:64]!r} (a finished export is deleted when it expires)")
    return brand_id, job


async def get_export(request: Request) -> JSON:
    brand_id, job = await _job(request)
    return JSON(service.job_json(job, _status_url(request, brand_id, job.id)))


def _takes_gzip(request: Request) -> bool:
    """Whether the client's Accept-Encoding takes gzip (and does not refuse it with q=0)."""
    for part in request.headers.get("accept-encoding", "").lower().split(","):
        name, _, weight = part.partition(";")
        if name.strip() in ("gzip", "*"):
            return weight.replace(" ", "") not in ("q=0", "q=0.0", "q=0.00", "q=0.000")
    return False


def _chunks(path: Path, unpack: bool) -> Iterator[bytes]:
    """The file's bytes (decompressed when ``unpack``), a chunk at a time."""
    with gzip.open(path, "rb") if unpack else path.open("rb") as source:
        while chunk := source.read(CHUNK):
            yield chunk


async def download(request: Request) -> Response:
    _, job = await _job(request)
    if job.status != "done":
        raise Conflict(f"the export is {job.status}; download it once its status is done")
    path = service.file_path(runtime(request).exports.directory, job)
    if not path.exists():
        raise NotFound(f"the file of export {job.id!r} is gone (it expired)")
    packed = _takes_gzip(request)
    headers = {
        "Content-Disposition": f'attachment; filename="clicks-{job.id}.csv"',
        "Vary": "Accept-Encoding",
        "Cache-Control": "private, no-store",
    }
    if packed:
        headers["Content-Encoding"] = "gzip"
        headers["Content-Length"] = str(path.stat().st_size)
    return StreamingResponse(
        _chunks(path, unpack=not packed), media_type="text/csv; charset=utf-8", headers=headers
    )


_EXAMPLE_PATH = {"brand": examples.BRAND_ID, "export_id": examples.JOB.id}
endpoints = [
    Endpoint(
        "POST",
        "/api/brands/{brand}/clicks/export",
        create_export,
        summary="Queue a CSV export of clicks",
        area="Clicks",
        auth="read",
        description="Queues a job that writes every matching click as a CSV row (the header: "
        "the columns asked for, in order). Follow `status_url`; `download_url` appears when it "
        f"is done. At most {MAX_OPEN_PER_BRAND} jobs of a brand queued or running (else 503 "
        "with Retry-After).",
        path_params=BrandPath,
        body=ExportRequest,
        replies=(
            Reply(
                202,
                "Queued",
                ExportQueued,
                example=ExportQueued(
                    True,
                    service.QUEUED_MESSAGE,
                    examples.JOB.id,
                    examples.STATUS_URL,
                ),
            ),
        ),
        errors=(400, 401, 403, 404, 413, 422, 503),
        example=Example(path={"brand": examples.BRAND_ID}, body=examples.REQUEST),
    ),
    Endpoint(
        "GET",
        "/api/brands/{brand}/exports/{export_id}",
        get_export,
        summary="An export job's status",
        area="Clicks",
        auth="read",
        path_params=ExportPath,
        replies=(
            Reply(
                200,
                "The job",
                ExportJson,
                example=service.job_json(examples.JOB, examples.STATUS_URL),
            ),
        ),
        errors=(401, 403, 404),
        example=Example(path=_EXAMPLE_PATH),
    ),
    Endpoint(
        "GET",
        "/api/brands/{brand}/exports/{export_id}/download",
        download,
        summary="Download an export's CSV",
        area="Clicks",
        auth="read",
        description="The CSV, streamed; gzip-encoded (`Content-Encoding: gzip`) when the "
        "request's `Accept-Encoding` takes gzip. 409 until the job is done.",
        path_params=ExportPath,
        replies=(Reply(200, "The CSV file", media_type="text/csv", example=examples.CSV),),
        errors=(401, 403, 404, 409),
        example=Example(path=_EXAMPLE_PATH),
    ),
]
routes = routes_of(endpoints)
