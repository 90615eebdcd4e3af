"""The brand's API keys and dashboard users, for its admins (an admin key, or an admin
signed in to the dashboard): ``GET``/``POST /api/brands/{brand}/keys``,
``DELETE /api/brands/{brand}/keys/{key_id}`` and ``GET /api/brands/{brand}/users``.

Revoking deletes the key and drops it from this process's key cache: the next request with it
gets 401, here and in every collector on the same SQLite file (``collector/http/auth.py``).
"""

from __future__ import annotations

import anyio
import msgspec
from starlette.requests import Request
from starlette.responses import Response

from collector.http.auth import authorize, key_prefix, mint_api_key
from collector.http.body import read_body
from collector.http.errors import ApiError
from collector.http.params import JSON, iso
from collector.http.routing import Endpoint, Example, Reply, routes_of
from collector.http.schema import BrandPath
from collector.http.state import runtime
from collector.storage.base import KeyInfo
from collector.users.schema import KeyCreate, KeyJson, KeyPath, NewKeyJson, UserJson
from collector.users.sessions import now_ms

_create_decoder = msgspec.json.Decoder(KeyCreate)


def key_json(key: KeyInfo) -> KeyJson:
    last = iso(key.last_used_at) if key.last_used_at is not None else None
    return KeyJson(key.id, key_prefix(key.id), key.scope, iso(key.created_at), last, key.label)


async def list_keys(request: Request) -> Response:
    brand = authorize(request, "admin")
    keys = await anyio.to_thread.run_sync(runtime(request).store.api_keys_of_brand, brand)
    return JSON([key_json(k) for k in keys])


async def create_key(request: Request) -> Response:
    brand = authorize(request, "admin")
    body = await read_body(request, 1024)
    try:
        wanted = _create_decoder.decode(body)
    except msgspec.ValidationError as exc:
        raise ApiError(422, f"invalid key: {exc}", param="scope") from None
    except msgspec.DecodeError as exc:
        raise ApiError(400, f"the body is not valid JSON: {exc}") from None
    key, record = mint_api_key(brand, wanted.scope, now_ms(), label=wanted.label)
    await anyio.to_thread.run_sync(runtime(request).store.add_api_key, record)
    made = NewKeyJson(record.id, key, record.scope, iso(record.created_at))
    return JSON(made, status_code=201)


async def keys(request: Request) -> Response:
    """One route for both methods, so that a 405 lists them both in ``Allow``."""
    return await (create_key(request) if request.method == "POST" else list_keys(request))


async def revoke_key(request: Request) -> Response:
    brand = authorize(request, "admin")
    key_id = request.path_params["key_id"]
    store = runtime(request).store
    revoked = await anyio.to_thread.run_sync(store.revoke_api_key, brand, key_id[:64])
    runtime(request).keys.forget(key_id)
    if not revoked:
        raise ApiError(404, f"no API key {key_id[:64]!r} on brand {brand}")
    return Response(status_code=204)


async def list_users(request: Request) -> Response:
    brand = authorize(request, "admin")
    users = await anyio.to_thread.run_sync(runtime(request).store.list_users)
    return JSON([UserJson(u.email, u.role) for u in users if brand in u.brands])


_KEYS = "/api/brands/{brand}/keys"
_BRAND = {"brand": 1}
_KEY_EXAMPLE = KeyJson("4f2a9c01b7de", "ct_4f2a9c01b7de_", "read", "2026-11-02T09:00:00.000Z", None)
_NEW_KEY_EXAMPLE = NewKeyJson(
    "4f2a9c01b7de",
    "ct_4f2a9c01b7de_Jx3v0Qm8bT1kPzR6yWcL2sNd5hGfA7uE",
    "read",
    "2026-11-02T09:00:00.000Z",
)
_ERRORS = (401, 403, 404)

endpoints = [
    Endpoint(
        "GET",
        _KEYS,
        keys,
        summary="The brand's API keys (never their secrets)",
        area="Brand",
        auth="admin",
        description="Revoked keys are deleted, so they are not listed.",
        path_params=BrandPath,
        replies=(Reply(200, "The keys, oldest first", list[KeyJson], example=[_KEY_EXAMPLE]),),
        errors=_ERRORS,
        example=Example(path=_BRAND),
    ),
    Endpoint(
        "POST",
        _KEYS,
        keys,
        summary="Make an API key (shown once)",
        area="Brand",
        auth="admin",
        path_params=BrandPath,
        body=KeyCreate,
        replies=(Reply(201, "The new key", NewKeyJson, example=_NEW_KEY_EXAMPLE),),
        errors=(400, 401, 403, 404, 413, 422),
        example=Example(path=_BRAND, body={"scope": "read"}),
    ),
    Endpoint(
        "DELETE",
        _KEYS + "/{key_id}",
        revoke_key,
        summary="Revoke an API key (it fails at once)",
        description="The next request with the key gets 401, on every collector of a SQLite "
        "file; on ClickHouse, on other collectors within 1 s. An unknown key is a 404.",
        area="Brand",
        auth="admin",
        path_params=KeyPath,
        replies=(Reply(204, "Revoked"),),
        errors=_ERRORS,
        example=Example(path={"brand": 1, "key_id": "4f2a9c01b7de"}),
    ),
    Endpoint(
        "GET",
        "/api/brands/{brand}/users",
        list_users,
        summary="The dashboard users who see the brand",
        area="Brand",
        auth="admin",
        description="Users are made with `clicktrail users create`.",
        path_params=BrandPath,
        replies=(
            Reply(
                200,
                "The users, by id",
                list[UserJson],
                example=[UserJson("ana@example.com", "admin")],
            ),
        ),
        errors=_ERRORS,
        example=Example(path=_BRAND),
    ),
]
routes = routes_of(endpoints)
