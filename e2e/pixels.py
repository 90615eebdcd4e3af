"""Pixel similarity of two screenshots (PNG bytes), for comparing a replayed frame with the page."""

from __future__ import annotations

import io

from PIL import Image, ImageChops


def similarity(original_png: bytes, replayed_png: bytes, tolerance: int = 24) -> float:
    """Share of pixels (0..1) whose colour channels all differ by at most ``tolerance``; the
    replayed image is resized to the original's size first (the viewer may scale the page)."""
    original = Image.open(io.BytesIO(original_png)).convert("RGB")
    replayed = Image.open(io.BytesIO(replayed_png)).convert("RGB")
    if replayed.size != original.size:
        replayed = replayed.resize(original.size, Image.Resampling.BILINEAR)
    diff = ImageChops.difference(original, replayed).convert("L")
    histogram = diff.histogram()
    close = sum(histogram[: tolerance + 1])
    return close / (original.size[0] * original.size[1])
