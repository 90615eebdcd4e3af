"""``GET /t.js?site=KEY``: the tracker with its brand's config baked in, so a page starts without
the ``GET /config`` round trip. The built script holds one placeholder string (``src/config.js``);
it is replaced by the config as a parenthesised object literal, the site key added as ``k``."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from collector.storage.base import Brand

# The placeholder as esbuild writes it (either quote), exactly once in the script.
_PLACEHOLDER = re.compile(rb"([\"'])__CT_BAKED__\1")


def tracker_config(brand: Brand) -> dict[str, Any]:
    """What ``GET /config/{site_key}`` answers (docs/WIRE.md)."""
    s = brand.settings
    return {
        "c": s.cookieless,
        "d": s.respect_dnt,
        "r": s.replay_sample_rate,
        "m": {"i": s.mask_all_inputs, "b": s.block_selector, "t": s.mask_text_selector},
        "a": s.attribution_days,
        "x": s.frustration_signals,
    }


def can_bake(script: bytes) -> bool:
    return len(_PLACEHOLDER.findall(script)) == 1


def bake(script: bytes, brand: Brand) -> bytes:
    """``script`` (for which :func:`can_bake` holds) with ``brand``'s config in place. ASCII JSON,
    so no U+2028 reaches an engine older than ES2019 inside a string."""
    config = {"k": brand.site_key, **tracker_config(brand)}
    literal = b"(" + json.dumps(config, separators=(",", ":")).encode() + b")"
    return _PLACEHOLDER.sub(lambda _: literal, script, count=1)


def etag_of(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
