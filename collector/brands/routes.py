"""Brand settings API: ``GET /api/brands/{brand}`` (read) and ``PATCH`` (admin)."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Annotated, Any

import anyio
import msgspec
import soupsieve
from soupsieve.css_types import Selector, SelectorAttribute, SelectorTag
from starlette.requests import Request
from starlette.routing import Route

from collector.clicks.routes import authorize
from collector.http.errors import ApiError
from collector.http.params import JSON
from collector.ingest.collect import read_body
from collector.storage.base import Brand, ExternalAssets, IpMode

MAX_SELECTOR_LENGTH = 500
SELECTOR_FIELDS = ("block_selector", "mask_text_selector")


class SettingsPatch(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    replay_sample_rate: Annotated[float, msgspec.Meta(ge=0.0, le=1.0)] | None = None
    ip_mode: IpMode | None = None
    cookieless: bool | None = None
    respect_dnt: bool | None = None
    retention_days: Annotated[int, msgspec.Meta(ge=1, le=3650)] | None = None
    # null clears it (UNSET: not in the patch); for the other fields null changes nothing
    short_domain: Annotated[str, msgspec.Meta(max_length=253)] | msgspec.UnsetType | None = (
        msgspec.UNSET
    )
    mask_all_inputs: bool | None = None
    block_selector: Annotated[str, msgspec.Meta(max_length=MAX_SELECTOR_LENGTH)] | None = None
    mask_text_selector: Annotated[str, msgspec.Meta(max_length=MAX_SELECTOR_LENGTH)] | None = None
    replay_external_assets: ExternalAssets | None = None


class BrandPatch(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)] | None = None
    domains: list[Annotated[str, msgspec.Meta(min_length=1, max_length=253)]] | None = None
    settings: SettingsPatch | None = None


_patch_decoder = msgspec.json.Decoder(BrandPatch)


def brand_json(brand: Brand) -> dict[str, Any]:
    return {
        "id": brand.id,
        "name": brand.name,
        "site_key": brand.site_key,
        "domains": brand.domains,
        "settings": msgspec.to_builtins(brand.settings),
    }


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


def check_patch(patch: BrandPatch) -> None:
    if patch.settings is None:
        return
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
    brand = request.app.state.store.get_brand(brand_id)
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
        request.app.state.store.update_brand(updated)
        request.app.state.brands.forget()
        return updated

    return JSON(brand_json(await anyio.to_thread.run_sync(update)))


async def brand(request: Request) -> JSON:
    """One route for both methods, so that a 405 lists them both in ``Allow``."""
    return await (patch_brand(request) if request.method == "PATCH" else get_brand(request))


routes = [Route("/api/brands/{brand}", brand, methods=["GET", "PATCH"])]
