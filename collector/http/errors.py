"""The one JSON error shape, and the handlers that turn every failure into it.

``{"error": {"status": 422, "code": "invalid", "message": "...", "param": "sort"}}``
(``param`` only when one request parameter is to blame).

Domain code raises :mod:`collector.errors`; :data:`DOMAIN_STATUS` is the one table that gives
each kind its status code. The HTTP layer (parameters, keys, route modules) raises
:class:`ApiError` with a status of its own.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import msgspec
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Send

from collector import errors

log = logging.getLogger("clicktrail")

_CODES = {
    400: "malformed",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    422: "invalid",
    429: "rate_limited",
    500: "internal_error",
    503: "unavailable",
}


class ApiError(Exception):
    """Raise anywhere in a request to answer with the error shape."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        param: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code or _CODES.get(status, "error")
        self.param = param
        self.headers = dict(headers or {})


DOMAIN_STATUS: dict[type[errors.DomainError], int] = {
    errors.Malformed: 400,
    errors.Unauthorized: 401,
    errors.Forbidden: 403,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.TooLarge: 413,
    errors.Invalid: 422,
    errors.Busy: 503,
}


def domain_status(error: errors.DomainError) -> int:
    """The status code of a domain error: its kind's, or the nearest base kind's (else 500)."""
    for kind in type(error).__mro__:
        status = DOMAIN_STATUS.get(kind)
        if status is not None:
            return status
    return 500


def _domain_headers(error: errors.DomainError) -> dict[str, str]:
    if isinstance(error, errors.Busy):  # exposed: the recorder's cross-origin fetch reads it
        return {
            "Retry-After": str(error.retry_after),
            "Access-Control-Expose-Headers": "Retry-After",
        }
    return {}


def from_domain(error: errors.DomainError) -> ApiError:
    """The HTTP answer to a domain error."""
    return ApiError(
        domain_status(error), error.message, param=error.param, headers=_domain_headers(error)
    )


def _encodable(text: str) -> str:
    """``text`` without lone surrogates, so the answer always encodes as UTF-8."""
    return text.encode("utf-8", "replace").decode("utf-8")


def error_body(
    status: int, message: str, code: str | None = None, param: str | None = None
) -> dict[str, dict[str, object]]:
    error: dict[str, object] = {
        "status": status,
        "code": code or _CODES.get(status, "error"),
        "message": _encodable(message),
    }
    if param is not None:
        error["param"] = _encodable(param)
    return {"error": error}


def error_response(error: ApiError) -> JSONResponse:
    return JSONResponse(
        error_body(error.status, error.message, error.code, error.param),
        status_code=error.status,
        headers={**error.headers, "Access-Control-Allow-Origin": "*"},
    )


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(exc)


async def _domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, errors.DomainError)
    return error_response(from_domain(exc))


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    message = exc.detail if isinstance(exc.detail, str) else "request failed"
    if exc.status_code == 404:
        message = f"no such path: {request.url.path}"
    # e.g. the ``Allow`` header of a 405
    return error_response(ApiError(exc.status_code, message, headers=exc.headers))


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return error_response(ApiError(500, "internal error; see the collector log"))


EXCEPTION_HANDLERS = {
    ApiError: _api_error,
    errors.DomainError: _domain_error,
    HTTPException: _http_error,
    Exception: _unexpected,
}


async def send_error(send: Send, error: ApiError) -> None:
    """The JSON error shape on a raw ASGI endpoint (``/collect``, ``/g/``), with the error's own
    headers (``Retry-After``) and CORS open, as beacons are sent from any page."""
    body = msgspec.json.encode(error_body(error.status, error.message, error.code, error.param))
    own = error.headers
    await send(
        {
            "type": "http.response.start",
            "status": error.status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *[(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in own.items()],
                (b"access-control-allow-origin", b"*"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
