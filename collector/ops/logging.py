"""The collector's log: one line per request and per background job, with its timing, as text
or JSON (``--log-format``), and the same format for every other log line of the process.

A request line holds the method, the route's template (never the raw path: it can hold ids and
query strings), the status, the time taken and the brand when it is known. No line holds a
client's IP address, whatever the brand's ``ip_mode``: the request log has no IP field at all.
"""

from __future__ import annotations

import functools
import json
import logging
import time
from typing import Any, Literal

LogFormat = Literal["text", "json"]
LOG_FORMATS: tuple[LogFormat, ...] = ("text", "json")

ACCESS = logging.getLogger("clicktrail.access")
JOBS = logging.getLogger("clicktrail.jobs")
_FIELDS = "ct_fields"  # the LogRecord attribute that carries a request's or a job's fields


def log_format(value: str) -> LogFormat:
    """The ``--log-format`` setting's cast."""
    if value not in LOG_FORMATS:
        raise ValueError("must be json or text")
    return value


def _emit(logger: logging.Logger, event: str, fields: dict[str, Any]) -> None:
    """``logger.info(event)`` with ``fields``, without ``Logger._log``'s look for the calling
    line in the stack (a third of a request line's cost; these lines have no source line)."""
    record = logging.LogRecord(logger.name, logging.INFO, "", 0, event, None, None)
    setattr(record, _FIELDS, fields)
    logger.handle(record)


def log_request(method: str, route: str, status: int, seconds: float, brand: int | None) -> None:
    """One request's line (when the access log is on)."""
    if ACCESS.isEnabledFor(logging.INFO):
        fields = {
            "method": method,
            "route": route,
            "status": status,
            "duration_ms": round(seconds * 1000, 1),
            "brand": brand,
        }
        _emit(ACCESS, "request", fields)


def log_job(job: str, seconds: float, brand: int | None = None, **details: Any) -> None:
    """One background job's line: a compaction, a webhook batch, an export."""
    if JOBS.isEnabledFor(logging.INFO):
        fields = {"job": job, "duration_ms": round(seconds * 1000, 1), "brand": brand, **details}
        _emit(JOBS, "job", fields)


@functools.lru_cache(maxsize=4)
def _second(epoch_second: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch_second))


def _timestamp(record: logging.LogRecord) -> str:
    return f"{_second(int(record.created))}.{int(record.msecs):03d}Z"


class TextFormatter(logging.Formatter):
    """``2026-05-01T10:00:00.123Z INFO request GET /collect 204 1.2ms brand=3``."""

    def format(self, record: logging.LogRecord) -> str:
        head = f"{_timestamp(record)} {record.levelname}"
        fields: dict[str, Any] | None = getattr(record, _FIELDS, None)
        if fields is None:
            line = f"{head} {record.name} {record.getMessage()}"
            return f"{line}\n{self.formatException(record.exc_info)}" if record.exc_info else line
        if record.msg == "request":
            brand = f" brand={fields['brand']}" if fields["brand"] is not None else ""
            return (
                f"{head} request {fields['method']} {fields['route']} {fields['status']} "
                f"{fields['duration_ms']}ms{brand}"
            )
        rest = " ".join(
            f"{key}={value}"
            for key, value in fields.items()
            if key not in ("job", "duration_ms") and value is not None
        )
        return f"{head} job {fields['job']} {fields['duration_ms']}ms {rest}".rstrip()


class JsonFormatter(logging.Formatter):
    """One JSON object a line: ``time``, ``level``, ``event`` (request, job or log) and its
    fields, or ``logger`` and ``message`` (and ``exception``) for any other line."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {"time": _timestamp(record), "level": record.levelname.lower()}
        fields: dict[str, Any] | None = getattr(record, _FIELDS, None)
        if fields is not None:
            line["event"] = record.msg
            line.update(fields)
        else:
            line.update(event="log", logger=record.name, message=record.getMessage())
            if record.exc_info:
                line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, separators=(",", ":"), default=str)


def logging_config(format: LogFormat) -> dict[str, Any]:
    """A ``logging.config.dictConfig`` for ``uvicorn.run(log_config=...)``: the collector's
    lines and uvicorn's own, in one format, to stderr. Uvicorn's access log stays off (the
    request lines are the collector's)."""
    formatter = JsonFormatter if format == "json" else TextFormatter
    handler = {
        "class": "logging.StreamHandler",
        "formatter": "clicktrail",
        "stream": "ext://sys.stderr",
    }
    quiet = {"handlers": ["default"], "level": "INFO", "propagate": False}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"clicktrail": {"()": formatter}},
        "handlers": {"default": handler},
        "loggers": {
            "clicktrail": quiet,
            "uvicorn": quiet,
            "uvicorn.error": {"level": "INFO"},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
        },
    }
