"""Export jobs: checking a request, the query a job runs, and a job as the API shows it."""

from __future__ import annotations

from pathlib import Path

import msgspec
from starlette.datastructures import QueryParams

from collector.clicks.routes import IDENTIFIED_LIMIT, click_query_of
from collector.clicks.schema import ClickListQuery
from collector.errors import Invalid
from collector.http.errors import ApiError
from collector.http.params import iso
from collector.ids import new_id
from collector.ingest.identity import identify_data
from collector.storage.base import ClickQuery, ExportJob, Store
from collector.storage.rows import json_text

from .csvfile import EXPORT_COLUMNS
from .schema import ExportJson, ExportRequest, FilterValue

FILTER_NAMES: tuple[str, ...] = ClickListQuery.__struct_fields__
QUEUED_MESSAGE = "Export started. Follow status_url; download_url is set when it is ready."
_EXPORTABLE = frozenset(EXPORT_COLUMNS)


def _filter_text(value: FilterValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _checked_filters(raw: dict[str, FilterValue]) -> dict[str, str]:
    """The filters as the list's query parameters (text); each one parsed as the list parses
    it, so a bad value is refused now rather than when the job runs."""
    for name in raw:
        if name not in FILTER_NAMES:
            raise Invalid(
                f"unknown filter `{name[:64]}`: filters are the clicks list's parameters "
                f"({', '.join(FILTER_NAMES)})",
                param=f"filters.{name[:64]}",
            )
    filters = {name: _filter_text(value) for name, value in raw.items() if value is not None}
    if filters.get("sort", "created_at") != "created_at":
        raise Invalid(
            "an export is ordered by `created_at` (`direction` chooses which way)",
            param="filters.sort",
        )
    try:
        click_query_of(QueryParams(filters))
    except ApiError as error:
        raise Invalid(error.message, param=f"filters.{error.param}") from None
    return filters


def _checked_columns(columns: list[str] | None) -> list[str]:
    if columns is None:
        return list(EXPORT_COLUMNS)
    for name in columns:
        if name not in _EXPORTABLE:
            raise Invalid(
                f"unknown column `{name}`: columns are a click's fields "
                f"({', '.join(EXPORT_COLUMNS)})",
                param="columns",
            )
    if len(set(columns)) != len(columns):
        raise Invalid("a column is named twice", param="columns")
    return columns


def new_job(brand_id: int, request: ExportRequest, now: int) -> ExportJob:
    """A queued job for the request; Invalid naming the column or filter it cannot take."""
    return ExportJob(
        id=new_id(now),
        brand_id=brand_id,
        columns=_checked_columns(request.columns),
        filters=_checked_filters(request.filters),
        click_codes=None
        if request.click_codes is None
        else list(dict.fromkeys(request.click_codes)),
        created_at=now,
    )


def _only(ids: set[str] | None, more: list[str]) -> set[str]:
    return set(more) if ids is None else ids & set(more)


def job_query(store: Store, job: ExportJob) -> ClickQuery:
    """The clicks query the job writes: the list's filters, with ``click_codes``, an
    ``external_id`` and a ``click_id`` (that click and its session's clicks, each a row) turned
    into the ids it may write."""
    query, _ = click_query_of(QueryParams(job.filters))
    ids: set[str] | None = None if job.click_codes is None else set(job.click_codes)
    external_id = job.filters.get("external_id")
    if external_id:
        text = json_text(identify_data(external_id))
        ids = _only(ids, store.identified_clicks(job.brand_id, text, IDENTIFIED_LIMIT))
    if query.click_or_session is not None:
        value = query.click_or_session
        found = [c.id for c in store.session_clicks(job.brand_id, value)]
        click = store.get_click(job.brand_id, value)
        ids = _only(ids, found + ([click.id] if click else []))
    return msgspec.structs.replace(
        query,
        click_or_session=None,
        click_ids=None if ids is None else tuple(sorted(ids)),
        sort="created_at",
    )


def file_path(directory: Path, job: ExportJob) -> Path:
    """Where the job's gzip-compressed CSV is kept (one directory for every brand)."""
    return directory / f"{job.brand_id}-{job.id}.csv.gz"


def job_json(job: ExportJob, status_url: str) -> ExportJson:
    """The job as the API shows it; ``status_url`` is its own address."""
    return ExportJson(
        id=job.id,
        status=job.status,
        rows=job.rows,
        columns=job.columns,
        filters=job.filters,
        click_codes=job.click_codes,
        created_at=iso(job.created_at),
        started_at=None if job.started_at is None else iso(job.started_at),
        finished_at=None if job.finished_at is None else iso(job.finished_at),
        expires_at=None if job.expires_at is None else iso(job.expires_at),
        error=job.error,
        download_url=f"{status_url}/download" if job.status == "done" else None,
    )
