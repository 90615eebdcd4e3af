"""The OpenAPI 3.1 document, generated from the route table: every schema from the msgspec types
the endpoints answer and take (``msgspec.json.schema_components``), every operation from its row.
Nothing in it is written by hand, so it cannot drift from what the handlers encode."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Annotated, Any, Union, get_args, get_origin

import msgspec

from collector.http.errors import error_body
from collector.http.routing import Auth, Endpoint, Reply
from collector.http.schema import AnyJson, Error

REF = "#/components/schemas/{name}"
ERROR_TEXT = {
    400: "Malformed: the body is not JSON, or empty",
    401: "No API key, or one that does not verify",
    403: "The key's scope is too low, or the page's domain is not allowed",
    404: "Unknown, or another brand's (never revealed)",
    409: "It clashes with what is stored (a short link's key is taken)",
    413: "The body is over the limit",
    415: "A content type the proxy does not serve",
    422: "A parameter or field of the wrong shape; `param` names it",
    429: "Over a rate limit: wait `Retry-After` seconds",
    502: "The file could not be fetched",
    503: "Busy, or not built: try again later",
}
_ERROR_EXAMPLE = {
    400: "the body is not valid JSON",
    401: "an API key is required (EF-Access-Key, X-Api-Key, X-Eflow-Api-Key or Bearer)",
    403: "this needs a key with the 'admin' scope",
    404: "not found",
    409: "the key 'spring' is taken on this short domain",
    413: "the body is larger than 65536 bytes",
    415: "the asset's content type is not proxied",
    422: "`sort` must be one of created_at, funnel_id, country, browser, os, device_type",
    429: "too many requests from this API key: wait 3 s (Retry-After) and send again",
    502: "the asset could not be fetched",
    503: "busy: try again in a moment",
}
_KEY_SCHEMES = ("EFAccessKey", "ApiKey", "EflowApiKey", "Bearer")
SECURITY_SCHEMES = {
    "EFAccessKey": {
        "type": "apiKey",
        "in": "header",
        "name": "EF-Access-Key",
        "description": "An API key, as the seed's API takes it.",
    },
    "ApiKey": {"type": "apiKey", "in": "header", "name": "X-Api-Key", "description": "An API key."},
    "EflowApiKey": {
        "type": "apiKey",
        "in": "header",
        "name": "X-Eflow-Api-Key",
        "description": "An API key, as Everflow's clients send it (the raw clicks stream's seed).",
    },
    "Bearer": {
        "type": "http",
        "scheme": "bearer",
        "description": "An API key as `Authorization: Bearer KEY`.",
    },
    "ShareLink": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "share token",
        "description": "The token of a share link (`POST replays/{id}/share`), as "
        "`Authorization: Bearer TOKEN`: reads that one session only.",
    },
}


def security(auth: Auth) -> list[dict[str, list[str]]]:
    """The operation's security requirements; an API key's scope as its role."""
    if auth == "public":
        return []
    scope: str = auth if auth in ("write", "admin") else "read"
    keys = [{scheme: [scope]} for scheme in _KEY_SCHEMES]
    return [*keys, {"ShareLink": []}] if auth == "read_or_share" else keys


def _without_none(kind: Any) -> Any:
    """``X | None`` as ``X`` (a parameter is absent, never null)."""
    if get_origin(kind) is Union or type(kind).__name__ == "UnionType":
        rest = [arg for arg in get_args(kind) if arg is not type(None)]
        return rest[0] if len(rest) == 1 else Union[tuple(rest)]  # noqa: UP007
    return kind


def _parameters(
    where: str, struct: type[msgspec.Struct] | None, examples: Mapping[str, Any]
) -> list[dict[str, Any]]:
    if struct is None:
        return []
    out = []
    for field in msgspec.structs.fields(struct):
        schema = msgspec.json.schema(_without_none(field.type))
        schema.pop("$defs", None)
        parameter: dict[str, Any] = {
            "name": field.encode_name,
            "in": where,
            "required": where == "path" or field.required,
            "description": schema.pop("description", ""),
            "schema": schema,
        }
        if field.default not in (None, msgspec.NODEFAULT, msgspec.UNSET):
            schema["default"] = field.default
        if field.encode_name in examples:
            parameter["example"] = examples[field.encode_name]
        out.append(parameter)
    return out


def _check_path(endpoint: Endpoint, parameters: list[dict[str, Any]]) -> None:
    """The path template and the path struct name the same parameters, in the same order."""
    named = re.findall(r"\{(\w+)[^}]*\}", endpoint.path)
    declared = [p["name"] for p in parameters]
    if named != declared:
        raise ValueError(f"{endpoint.method} {endpoint.path}: path parameters {declared}")


def _holds_raw(kind: Any, seen: set[Any]) -> bool:
    if kind is msgspec.Raw:
        return True
    if isinstance(kind, type) and issubclass(kind, msgspec.Struct):
        if kind in seen:
            return False
        seen.add(kind)
        return any(_holds_raw(f.type, seen) for f in msgspec.structs.fields(kind))
    return any(_holds_raw(arg, seen) for arg in get_args(kind))


def documentable(kind: Any) -> Any:
    """``kind`` with every ``msgspec.Raw`` (JSON kept as sent, which msgspec cannot describe
    as a default) as any JSON; the structs that hold one are rebuilt with the same fields."""
    if not _holds_raw(kind, set()):
        return kind
    if kind is msgspec.Raw:
        return AnyJson
    origin, args = get_origin(kind), get_args(kind)
    if origin is Annotated:
        return Annotated[(documentable(args[0]), *kind.__metadata__)]
    if origin in (list, tuple, dict):
        return origin[tuple(documentable(arg) for arg in args)]
    if args:  # a union
        return Union[tuple(documentable(arg) for arg in args)]  # noqa: UP007
    config = kind.__struct_config__
    return msgspec.defstruct(
        kind.__name__,
        [(f.name, documentable(f.type), _default(f)) for f in msgspec.structs.fields(kind)],
        kw_only=True,
        tag=config.tag,
        tag_field=config.tag_field,
        forbid_unknown_fields=config.forbid_unknown_fields,
    )


def _default(field: msgspec.structs.FieldInfo) -> Any:
    if isinstance(field.default, msgspec.Raw):
        return None
    if field.default_factory is not msgspec.NODEFAULT:
        return msgspec.field(default_factory=field.default_factory)
    return msgspec.NODEFAULT if field.required else field.default


class _Schemas:
    """Collects the types of every body, then has msgspec describe them all at once (shared
    components, one name each)."""

    def __init__(self) -> None:
        self.types: list[Any] = [Error]

    def add(self, kind: Any) -> int:
        self.types.append(documentable(kind))
        return len(self.types) - 1

    def resolve(self) -> tuple[tuple[dict[str, Any], ...], dict[str, Any]]:
        return msgspec.json.schema_components(self.types, ref_template=REF)


def _example(value: Any) -> Any:
    return msgspec.to_builtins(value)


def _reply(reply: Reply, schemas: _Schemas) -> tuple[dict[str, Any], Any]:
    """The response object, and the index of its body's schema (to fill in) or None."""
    body: dict[str, Any] = {"description": reply.description}
    if reply.status in (204, 304):
        return body, None
    media: dict[str, Any] = {"schema": {}}
    if reply.example is not None:
        media["example"] = _example(reply.example)
    body["content"] = {reply.media_type: media}
    return body, schemas.add(reply.body) if reply.body is not None else None


def _error(status: int) -> dict[str, Any]:
    example = error_body(status, _ERROR_EXAMPLE.get(status, "error"))
    schema = {"$ref": REF.format(name="Error")}
    return {
        "description": ERROR_TEXT[status],
        "content": {"application/json": {"schema": schema, "example": example}},
    }


def _operation(endpoint: Endpoint, schemas: _Schemas) -> tuple[dict[str, Any], list[Any]]:
    """The operation, and (object, key, schema index) places to fill in once schemas resolve."""
    path = _parameters("path", endpoint.path_params, endpoint.example.path)
    _check_path(endpoint, path)
    operation: dict[str, Any] = {
        "operationId": _operation_id(endpoint),
        "summary": endpoint.summary,
        "tags": [endpoint.area],
        "security": security(endpoint.auth),
        "x-auth": endpoint.auth,
    }
    if endpoint.description:
        operation["description"] = endpoint.description
    parameters = path + _parameters("query", endpoint.query, endpoint.example.query)
    if parameters:
        operation["parameters"] = parameters
    places: list[Any] = []
    if endpoint.body is not None:
        media: dict[str, Any] = {"schema": {}}
        if endpoint.example.body is not None:
            media["example"] = _example(endpoint.example.body)
        operation["requestBody"] = {
            "required": endpoint.body_required,
            "content": {endpoint.body_media_type: media},
        }
        places.append((media, "schema", schemas.add(endpoint.body)))
    responses: dict[str, Any] = {}
    for reply in endpoint.replies:
        response, index = _reply(reply, schemas)
        earlier = responses.get(str(reply.status))
        if earlier is not None and "content" in earlier and "content" in response:
            # another media type of the same answer (an image as SVG or PNG)
            earlier["content"].update(response["content"])
            response = earlier
        responses[str(reply.status)] = response
        if index is not None:
            places.append((response["content"][reply.media_type], "schema", index))
    for status in _statuses(endpoint):
        responses[str(status)] = _error(status)
    operation["responses"] = responses
    return operation, places


_RATE_LIMITED_PATHS = ("/collect", "/collect/replay", "/g/{code}", "/q/{code}")


def _statuses(endpoint: Endpoint) -> tuple[int, ...]:
    """The endpoint's errors, and 429 where a budget can refuse it: a route that takes an API
    key (``--api-rate-limit``) and the ingest paths (a brand's rate limits)."""
    limited = 401 in endpoint.errors or endpoint.spec_path in _RATE_LIMITED_PATHS
    return (*endpoint.errors, 429) if limited and 429 not in endpoint.errors else endpoint.errors


def _operation_id(endpoint: Endpoint) -> str:
    words = re.findall(r"[a-z0-9]+", endpoint.spec_path.lower())
    return "_".join([endpoint.method.lower(), *words]) or endpoint.method.lower()


def build_spec(
    endpoints: Iterable[Endpoint], areas: Mapping[str, str], info: Mapping[str, Any]
) -> dict[str, Any]:
    """The OpenAPI 3.1 document of ``endpoints``; ``areas`` (tag -> description) orders the
    groups."""
    schemas = _Schemas()
    paths: dict[str, dict[str, Any]] = {}
    places: list[Any] = []
    used: set[str] = set()
    for endpoint in endpoints:
        operation, filled = _operation(endpoint, schemas)
        method = endpoint.method.lower()
        if method in paths.setdefault(endpoint.spec_path, {}):
            raise ValueError(f"{endpoint.method} {endpoint.spec_path} is in the table twice")
        paths[endpoint.spec_path][method] = operation
        places.extend(filled)
        used.add(endpoint.area)
    resolved, components = schemas.resolve()
    for target, key, index in places:
        target[key] = resolved[index]
    if unknown := used - set(areas):
        raise ValueError(f"areas without a description: {sorted(unknown)}")
    return {
        "openapi": "3.1.0",
        "info": dict(info),
        "tags": [{"name": n, "description": text} for n, text in areas.items() if n in used],
        "paths": paths,
        "components": {"schemas": components, "securitySchemes": SECURITY_SCHEMES},
    }
