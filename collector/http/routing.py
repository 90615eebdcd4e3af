"""A row of the route table: one endpoint, with everything its route and its documentation need.

Each capability's ``routes.py`` lists its endpoints beside its handlers and makes its Starlette
routes from them with :func:`routes_of`; ``collector/http/endpoints.py`` gathers the lists into
the one table that ``/openapi.json`` (``spec.py``) and ``/docs`` (``docs_page.py``) are
generated from. Bodies are types msgspec describes (Structs, lists of them), so a response
declared here is the response the handler encodes.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp

# public: no key; read / write / admin: an API key with at least that scope; read_or_share: a
# read key, or a share link's token as ``Authorization: Bearer`` (then only its own session).
Auth = Literal["public", "read", "read_or_share", "write", "admin"]
# a request handler, or an ASGI app (``POST /collect``'s endpoint)
Handler = Callable[[Request], Awaitable[Response]] | ASGIApp

_CONVERTER = re.compile(r"\{(\w+):\w+\}")


def spec_path(route_path: str) -> str:
    """A Starlette path as OpenAPI writes it: ``/p/{brand:int}`` becomes ``/p/{brand}``."""
    return _CONVERTER.sub(r"{\1}", route_path)


@dataclass(frozen=True)
class Reply:
    """One answer an endpoint gives: its status, what it means, and its body's type (a Struct,
    ``list[Struct]``, ...; None for no body). ``example`` is an instance of that type, or the
    text of a body that is not JSON."""

    status: int
    description: str
    body: Any = None
    media_type: str = "application/json"
    example: Any = None


@dataclass(frozen=True)
class Example:
    """An example request: path and query parameter values and a body (an instance of the
    endpoint's request type)."""

    path: Mapping[str, Any] = field(default_factory=dict)
    query: Mapping[str, Any] = field(default_factory=dict)
    body: Any = None


@dataclass(frozen=True)
class Endpoint:
    """One method on one path and the handler that serves it. ``path_params`` and ``query`` are
    Structs whose fields are the parameters (types with their bounds and enums,
    ``Meta(description=...)``, defaults); ``body`` is the request body's type; ``errors`` lists
    the statuses it answers in the JSON error shape."""

    method: str
    path: str
    handler: Handler
    summary: str
    area: str
    auth: Auth
    replies: tuple[Reply, ...]
    errors: tuple[int, ...] = ()
    description: str = ""
    path_params: type[msgspec.Struct] | None = None
    query: type[msgspec.Struct] | None = None
    body: Any = None
    body_media_type: str = "application/json"
    body_required: bool = True
    example: Example = field(default_factory=Example)

    @property
    def spec_path(self) -> str:
        return spec_path(self.path)


def routes_of(endpoints: Iterable[Endpoint]) -> list[Route]:
    """One Starlette route per path and handler (a handler that takes several methods answers a
    405 with all of them in ``Allow``), in table order."""
    methods: dict[tuple[str, Handler], list[str]] = {}
    for endpoint in endpoints:
        methods.setdefault((endpoint.path, endpoint.handler), []).append(endpoint.method)
    return [Route(path, handler, methods=names) for (path, handler), names in methods.items()]
