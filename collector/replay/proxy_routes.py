"""The replay proxy: ``GET /replay-proxy/{brand}/{expires}/{signature}?u=TARGET`` serves what a
replay loads (images, fonts, stylesheets, media), from the asset store or fetched on demand,
so the viewer's browser talks to the collector only (``docs/REPLAY.md``, "What a replay loads").

Only links the collector signed when it served the stream (:class:`ReplayProxy.links`) are
served: anything else is 403. Fetching follows the asset fetcher's rules (public addresses only,
pinned connections, re-checked redirects, ``replay_asset_max_bytes``, a deadline) and sends
no cookie, referrer or other header of the browser. Bodies are served with ``nosniff`` and a
sandboxing CSP, and only in the types :func:`~collector.replay.assets.proxy.proxied_type` allows; a
proxied stylesheet's own references are rewritten to signed links too.
"""

from __future__ import annotations

import http.client
import logging

import anyio
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from collector.brands.cache import BrandCache
from collector.http.errors import ApiError
from collector.replay.assets import AssetFetcher, AssetStore, is_asset_hash
from collector.replay.assets.css import sanitize_css
from collector.replay.assets.proxy import (
    PROXY_PREFIX,
    STORED_TARGET,
    LinkSigner,
    ViewerLinks,
    proxied_type,
)
from collector.replay.assets.sanitize import sanitize_stream
from collector.replay.assets.transport import _Refused
from collector.storage.base import ExternalAssets, Replay, Store

log = logging.getLogger("clicktrail.assets")

PROXY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    # An SVG or anything else opened on its own can run nothing on the collector's origin.
    "Content-Security-Policy": "sandbox; default-src 'none'; style-src 'unsafe-inline'",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "private, max-age=86400",
}
MAX_CONCURRENT_FETCHES = 8
_REFUSALS = {
    403: "the asset's host is not a public address",
    413: "the asset is larger than the collector proxies",
    415: "the asset's content type is not proxied",
    502: "the asset could not be fetched",
}


class ReplayProxy:
    """Signs the links of replay streams and serves them."""

    def __init__(
        self, store: Store, brands: BrandCache, fetcher: AssetFetcher, asset_store: AssetStore
    ) -> None:
        self.signer = LinkSigner(store.secret("replay-proxy"))
        self.brands = brands
        self.fetcher = fetcher
        self.asset_store = asset_store
        self.limiter = anyio.CapacityLimiter(MAX_CONCURRENT_FETCHES)

    def mode(self, brand_id: int) -> ExternalAssets | None:
        """The brand's ``replay_external_assets``, or None when there is no such brand."""
        brand = self.brands.by_id(brand_id)
        return brand.settings.replay_external_assets if brand else None

    def captures(self, brand_id: int) -> bool:
        """Whether the brand's replays may have their assets fetched at ingest. Blocking."""
        return self.mode(brand_id) in ("proxy", "stored")

    def links(self, brand_id: int, stored: dict[str, str]) -> ViewerLinks:
        """The links of one stream for the brand's viewers (blocking: reads the brand)."""
        external = self.mode(brand_id) == "proxy"
        return ViewerLinks(self.signer, brand_id, stored, external=external)

    def viewer_stream(self, store: Store, replay: Replay, events_json: bytes) -> bytes:
        """``events_json`` of ``replay`` as the viewer may play it. Blocking."""
        stored = store.replay_assets(replay.brand_id, replay.id)
        return sanitize_stream(events_json, self.links(replay.brand_id, stored), replay.url)

    def fetch(self, brand_id: int, target: str) -> tuple[str, bytes]:
        """``(content type, body)`` of a signed target; :class:`ApiError` otherwise. Blocking."""
        mode = self.mode(brand_id)
        if mode is None:
            raise ApiError(404, "no such asset")
        if target.startswith(STORED_TARGET):
            content_type, body = self._stored(target[len(STORED_TARGET) :])
            base = ""  # stored sheets hold absolute URLs (or /replay-assets/ links) only
        elif mode == "proxy":
            content_type, body, base = self._download(target)
        else:
            raise ApiError(404, "this brand's replays load no external assets")
        if content_type.startswith("text/css"):
            body = self._sheet(brand_id, body, base)
        return content_type, body

    def _stored(self, sha256: str) -> tuple[str, bytes]:
        found = self.asset_store.get(sha256) if is_asset_hash(sha256) else None
        if found is None:
            raise ApiError(404, "no such asset")
        return found

    def _download(self, url: str) -> tuple[str, bytes, str]:
        try:
            download = self.fetcher.download(url, proxied_type)
        except _Refused as exc:
            log.info("proxied asset %s refused: %s", url[:200], exc)
            raise ApiError(exc.status, _REFUSALS.get(exc.status, _REFUSALS[502])) from None
        except (OSError, http.client.HTTPException, ValueError) as exc:
            log.info("proxied asset %s failed: %s", url[:200], exc)
            raise ApiError(502, _REFUSALS[502]) from None
        return download.content_type, download.body, download.url

    def _sheet(self, brand_id: int, body: bytes, base: str) -> bytes:
        """A stylesheet with its own references pointed at the collector as well."""
        links = self.links(brand_id, {})
        text = body.decode("utf-8", "surrogateescape")
        return sanitize_css(text, base, links).encode("utf-8", "surrogateescape")


async def serve_proxied(request: Request) -> Response:
    proxy: ReplayProxy = request.app.state.replay_proxy
    brand_id = request.path_params["brand"]
    expires = request.path_params["expires"]
    target = request.query_params.get("u", "")
    if not proxy.signer.valid(brand_id, expires, target, request.path_params["signature"]):
        raise ApiError(403, "this asset link is not one the collector signed, or it expired")
    async with proxy.limiter:
        content_type, body = await anyio.to_thread.run_sync(proxy.fetch, brand_id, target)
    return Response(body, media_type=content_type, headers=PROXY_HEADERS)


routes = [
    Route(PROXY_PREFIX + "{brand:int}/{expires:int}/{signature}", serve_proxied, methods=["GET"]),
]
