"""The replay proxy: signed links for what a replay loads (images, fonts, stylesheets, media),
and the bodies behind them, from the asset store or fetched on demand, so the viewer's browser
talks to the collector only (``docs/REPLAY.md``, "What a replay loads"). The route
``GET /replay-proxy/{brand}/{expires}/{signature}?u=TARGET`` is in
:mod:`collector.replay.proxy_routes`.

Only links the collector signed when it served the stream (:meth:`ReplayProxy.links`) are
served: anything else is :class:`~collector.errors.Forbidden`. Fetching follows the asset
fetcher's rules (public addresses only, pinned connections, re-checked redirects,
``replay_asset_max_bytes``, a deadline) and sends no cookie, referrer or other header of the
browser. Only the types :func:`~collector.replay.assets.proxy.proxied_type` allows are served;
a proxied stylesheet's own references are rewritten to signed links too. An asset the fetcher
will not fetch is :class:`AssetRefused`, with the fetcher's :class:`Refusal`.
"""

from __future__ import annotations

import http.client
import logging

import anyio

from collector.brands.cache import BrandCache
from collector.errors import DomainError, Forbidden, NotFound
from collector.replay.assets import AssetFetcher, AssetStore, is_asset_hash
from collector.replay.assets.css import sanitize_css
from collector.replay.assets.proxy import STORED_TARGET, LinkSigner, ViewerLinks, proxied_type
from collector.replay.assets.sanitize import sanitize_stream
from collector.replay.assets.transport import Refusal, _Refused
from collector.storage.base import ExternalAssets, Replay, Store

log = logging.getLogger("clicktrail.assets")

MAX_CONCURRENT_FETCHES = 8
_REFUSALS = {
    Refusal.NOT_PUBLIC: "the asset's host is not a public address",
    Refusal.TOO_LARGE: "the asset is larger than the collector proxies",
    Refusal.WRONG_TYPE: "the asset's content type is not proxied",
    Refusal.FAILED: "the asset could not be fetched",
}


class AssetRefused(DomainError):
    """The proxy does not fetch this asset: :attr:`refusal` says why (the detail is logged)."""

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(_REFUSALS[refusal])
        self.refusal = refusal


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

    async def serve(
        self, brand_id: int, expires: int, signature: str, target: str
    ) -> tuple[str, bytes]:
        """``(content type, body)`` of a link the collector signed (at most
        :data:`MAX_CONCURRENT_FETCHES` at once, each in a worker thread); Forbidden when it did
        not sign it or the link expired, else what :meth:`fetch` raises."""
        if not self.signer.valid(brand_id, expires, target, signature):
            raise Forbidden("this asset link is not one the collector signed, or it expired")
        async with self.limiter:
            return await anyio.to_thread.run_sync(self.fetch, brand_id, target)

    def fetch(self, brand_id: int, target: str) -> tuple[str, bytes]:
        """``(content type, body)`` of a signed target. Blocking. NotFound when the brand or the
        stored asset does not exist, or the brand loads no external assets;
        :class:`AssetRefused` when the asset is not fetched."""
        mode = self.mode(brand_id)
        if mode is None:
            raise NotFound("no such asset")
        if target.startswith(STORED_TARGET):
            content_type, body = self._stored(target[len(STORED_TARGET) :])
            base = ""  # stored sheets hold absolute URLs (or /replay-assets/ links) only
        elif mode == "proxy":
            content_type, body, base = self._download(target)
        else:
            raise NotFound("this brand's replays load no external assets")
        if content_type.startswith("text/css"):
            body = self._sheet(brand_id, body, base)
        return content_type, body

    def _stored(self, sha256: str) -> tuple[str, bytes]:
        found = self.asset_store.get(sha256) if is_asset_hash(sha256) else None
        if found is None:
            raise NotFound("no such asset")
        return found

    def _download(self, url: str) -> tuple[str, bytes, str]:
        try:
            download = self.fetcher.download(url, proxied_type)
        except _Refused as exc:
            log.info("proxied asset %s refused: %s", url[:200], exc)
            raise AssetRefused(exc.refusal) from None
        except (OSError, http.client.HTTPException, ValueError) as exc:
            log.info("proxied asset %s failed: %s", url[:200], exc)
            raise AssetRefused(Refusal.FAILED) from None
        return download.content_type, download.body, download.url

    def _sheet(self, brand_id: int, body: bytes, base: str) -> bytes:
        """A stylesheet with its own references pointed at the collector as well."""
        links = self.links(brand_id, {})
        text = body.decode("utf-8", "surrogateescape")
        return sanitize_css(text, base, links).encode("utf-8", "surrogateescape")
