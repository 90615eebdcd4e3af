"""Brand settings API: ``GET /api/brands/{brand}`` (read) and ``PATCH`` (admin)."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import anyio
import msgspec
import soupsieve
from soupsieve.css_types import Selector, SelectorAttribute, SelectorTag
from starlette.requests import Request

from collector.brands import examples
from collector.brands.schema import SELECTOR_FIELDS, BrandJson, BrandPatch
from collector.http.auth import authorize
from collector.http.body import read_body
from collector.http.errors import ApiError
from collector.http.params import JSON
from collector.http.routing import Endpoint, Example, Reply, routes_of
from collector.http.schema import BrandPath
from collector.http.state import runtime
from collector.storage.base import Brand

_patch_decoder = msgspec.json.Decoder(BrandPatch)


def brand_json(brand: Brand) -> BrandJson:
    return BrandJson(brand.id, brand.name, brand.site_key, brand.domains, brand.settings)


def _parts(value: Any) -> Iterator[Any]:
    """Every object inside a compiled soupsieve selector."""
    stack = [value]
    while stack:
        item = stack.pop()
        yield item
        if isinstance(item, tuple):
            stack.extend(item)
        elif hasattr(item, "__slots__"):
            stack.extend(getattr(item, name, None) for name in item.__slots__)


def _browser_incompatible(compiled: Any) -> str | None:
    """What soupsieve accepts but element.matches() in a browser throws on, if anything."""
    for part in _parts(compiled.selectors):
        if isinstance(part, SelectorTag | SelectorAttribute) and part.prefix not in (None, "", "*"):
            return f"namespace prefix {part.prefix!r}"
        if isinstance(part, Selector) and part.contains:
            return "soupsieve's :-soup-contains()"
    return None


def check_selector(field: str, selector: str) -> None:
    """A 422 naming the field unless ``selector`` is a CSS selector list the recorder's
    element.matches() accepts (an invalid one would stop recording for the whole brand)."""
    try:
        with warnings.catch_warnings():  # soupsieve warns about its deprecated :contains()
            warnings.simplefilter("ignore")
            problem = _browser_incompatible(soupsieve.compile(selector))
    except (soupsieve.SelectorSyntaxError, NotImplementedError, ValueError, RecursionError) as exc:
        problem = str(exc).splitlines()[0]
    if problem is not None:
        message = f"`settings.{field}` is not a valid CSS selector: {problem}"
        raise ApiError(422, message, param=f"settings.{field}")


def check_short_domain(value: str) -> str:
    """The short-link base as stored (``https://go.example.com``, no trailing slash), or a 422
    naming the field unless it is an http(s) origin (a scheme and a host, nothing after) or a
    bare host name (then https)."""
    base = value.strip()
    if "://" not in base:
        base = f"https://{base}"
    base = base.rstrip("/")
    try:
        parts = urlsplit(base)
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        parts, port_ok = urlsplit(""), False
    if parts.scheme not in ("http", "https") or not parts.hostname or not port_ok:
        problem = "must be an http(s) origin such as https://go.mybrand.com"
    elif parts.path or parts.query or parts.fragment or parts.username or parts.password:
        problem = "must be an origin only (scheme and host), with no path, query or user"
    else:
        return f"{parts.scheme}://{parts.netloc.lower()}"
    raise ApiError(422, f"`settings.short_domain` {problem}", param="settings.short_domain")


def check_patch(patch: BrandPatch) -> None:
    if patch.settings is None:
        return
    if isinstance(patch.settings.short_domain, str):
        patch.settings.short_domain = check_short_domain(patch.settings.short_domain)
    for field in SELECTOR_FIELDS:
        selector = getattr(patch.settings, field)
        if selector is not None:
            check_selector(field, selector)


def apply_patch(brand: Brand, patch: BrandPatch) -> Brand:
    settings = brand.settings
    if patch.settings is not None:
        changes = {
            k: v
            for k, v in msgspec.structs.asdict(patch.settings).items()
            if v is not None and v is not msgspec.UNSET
        }
        if patch.settings.short_domain is None:
            changes["short_domain"] = None
        settings = msgspec.structs.replace(settings, **changes)
    return msgspec.structs.replace(
        brand,
        name=patch.name if patch.name is not None else brand.name,
        domains=[d.lower() for d in patch.domains] if patch.domains is not None else brand.domains,
        settings=settings,
    )


def _load(request: Request, brand_id: int) -> Brand:
    brand = runtime(request).store.get_brand(brand_id)
    if brand is None:
        raise ApiError(404, f"no brand {brand_id}")
    return brand


async def get_brand(request: Request) -> JSON:
    brand_id = authorize(request, "read")
    brand = await anyio.to_thread.run_sync(_load, request, brand_id)
    return JSON(brand_json(brand))


async def patch_brand(request: Request) -> JSON:
    brand_id = authorize(request, "admin")
    body = await read_body(request, 16_384)
    try:
        patch = _patch_decoder.decode(body)
    except msgspec.ValidationError as exc:
        raise ApiError(422, f"invalid brand update: {exc}") from None
    except msgspec.DecodeError as exc:
        raise ApiError(400, f"the body is not valid JSON: {exc}") from None
    await anyio.to_thread.run_sync(check_patch, patch)  # a long selector takes ~0.1 s

    def update() -> Brand:
        updated = apply_patch(_load(request, brand_id), patch)
        runtime(request).store.update_brand(updated)
        runtime(request).brands.forget()
        return updated

    return JSON(brand_json(await anyio.to_thread.run_sync(update)))


async def brand(request: Request) -> JSON:
    """One route for both methods, so that a 405 lists them both in ``Allow``."""
    return await (patch_brand(request) if request.method == "PATCH" else get_brand(request))


_BRAND = "/api/brands/{brand}"
_EXAMPLE_PATH = {"brand": examples.BRAND.id}

endpoints = [
    Endpoint(
        "GET",
        _BRAND,
        brand,
        summary="The brand: name, site key, allowed domains, settings",
        area="Brand",
        auth="read",
        path_params=BrandPath,
        replies=(Reply(200, "The brand", BrandJson, example=brand_json(examples.BRAND)),),
        errors=(401, 403, 404),
        example=Example(path=_EXAMPLE_PATH),
    ),
    Endpoint(
        "PATCH",
        _BRAND,
        brand,
        summary="Change the name, the domains or settings",
        area="Brand",
        auth="admin",
        description="Ingest follows the change at once. `null` for a setting leaves it as it "
        "is, except `short_domain`, which it clears.",
        path_params=BrandPath,
        body=BrandPatch,
        replies=(
            Reply(
                200,
                "The brand as changed",
                BrandJson,
                example=brand_json(apply_patch(examples.BRAND, examples.PATCH)),
            ),
        ),
        errors=(400, 401, 403, 404, 413, 422),
        example=Example(path=_EXAMPLE_PATH, body=examples.PATCH_BODY),
    ),
]
routes = routes_of(endpoints)
