"""Brand settings API: ``GET /api/brands/{brand}`` (read) and ``PATCH`` (admin)."""

from __future__ import annotations

from typing import Annotated, Any

import anyio
import msgspec
from starlette.requests import Request
from starlette.routing import Route

from collector.api_clicks import authorize
from collector.errors import ApiError
from collector.ingest import read_body
from collector.params import JSON
from collector.storage.base import Brand, ExternalAssets, IpMode


class SettingsPatch(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    replay_sample_rate: Annotated[float, msgspec.Meta(ge=0.0, le=1.0)] | None = None
    ip_mode: IpMode | None = None
    cookieless: bool | None = None
    respect_dnt: bool | None = None
    retention_days: Annotated[int, msgspec.Meta(ge=1, le=3650)] | None = None
    short_domain: Annotated[str, msgspec.Meta(max_length=253)] | None = None
    mask_all_inputs: bool | None = None
    block_selector: Annotated[str, msgspec.Meta(max_length=500)] | None = None
    mask_text_selector: Annotated[str, msgspec.Meta(max_length=500)] | None = None
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


def apply_patch(brand: Brand, patch: BrandPatch) -> Brand:
    settings = brand.settings
    if patch.settings is not None:
        changes = {k: v for k, v in msgspec.structs.asdict(patch.settings).items() if v is not None}
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

    def update() -> Brand:
        updated = apply_patch(_load(request, brand_id), patch)
        request.app.state.store.update_brand(updated)
        request.app.state.brands.forget()
        return updated

    return JSON(brand_json(await anyio.to_thread.run_sync(update)))


routes = [
    Route("/api/brands/{brand}", get_brand, methods=["GET"]),
    Route("/api/brands/{brand}", patch_brand, methods=["PATCH"]),
]
