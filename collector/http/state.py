"""Typed access to the app's services from a request."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from starlette.requests import Request

if TYPE_CHECKING:
    from collector.runtime import Runtime


def runtime(request: Request) -> Runtime:
    """The running app's :class:`~collector.runtime.Runtime` (set by its lifespan)."""
    return cast("Runtime", request.app.state.runtime)


def public_base(request: Request) -> str:
    """The collector's URL as users reach it: ``--public-url``, else the request's own."""
    return runtime(request).settings.public_url.rstrip("/") or str(request.base_url).rstrip("/")
