"""Replay assets: stylesheets and fonts a recorded page used, fetched and kept by content hash.

The recorder inlines what it can read; a cross-origin ``<link rel=stylesheet>`` keeps its
``href`` and fonts stay ``url()`` references inside ``@font-face``. After a chunk is stored,
:class:`AssetCollector` extracts those URLs (:func:`asset_urls`), :class:`AssetFetcher` downloads
them under strict rules and :class:`AssetStore` keeps them in files named by sha256. The
stream the viewer plays (:mod:`.sanitize`) loads those stored copies, and everything else
through the collector's proxy (:mod:`.proxy`).

Modules: :mod:`.css` (references in CSS text), :mod:`.walk` (one walk over an rrweb stream),
:mod:`.extract` (the asset URLs of a stream), :mod:`.sanitize` (the viewer's stream),
:mod:`.proxy` (signed links), :mod:`.store`, :mod:`.transport` (one request to a vetted
address), :mod:`.fetch` (the fetching rules) and :mod:`.collect` (the background collector).
Which addresses are public, and the pinned connections, are :mod:`collector.net`'s (shared with
the webhook deliveries).
"""

from collector.net import IPAddress, IPNetwork, is_public_address
from collector.replay.assets.collect import AssetCollector, Link
from collector.replay.assets.css import MAX_URL_LENGTH, font_urls, import_urls, rewrite_css
from collector.replay.assets.extract import asset_urls
from collector.replay.assets.fetch import (
    MAX_DOWNLOADS,
    MAX_NESTED_DEPTH,
    MAX_NESTED_REFS,
    MAX_REDIRECTS,
    AssetFetcher,
)
from collector.replay.assets.store import ASSET_PREFIX, AssetStore, is_asset_hash
from collector.replay.assets.transport import FONT_TYPES

__all__ = [
    "ASSET_PREFIX",
    "FONT_TYPES",
    "MAX_DOWNLOADS",
    "MAX_NESTED_DEPTH",
    "MAX_NESTED_REFS",
    "MAX_REDIRECTS",
    "MAX_URL_LENGTH",
    "AssetCollector",
    "AssetFetcher",
    "AssetStore",
    "IPAddress",
    "IPNetwork",
    "Link",
    "asset_urls",
    "font_urls",
    "import_urls",
    "is_asset_hash",
    "is_public_address",
    "rewrite_css",
]
