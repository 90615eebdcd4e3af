"""Pixel similarity of two screenshots (PNG bytes), for comparing a replayed frame with the page."""

from __future__ import annotations

import io

from PIL import Image, ImageChops


def similarity(original_png: bytes, replayed_png: bytes, tolerance: int = 24) -> float:
    """Share of pixels (0..1) whose difference (as luminance) is at most ``tolerance``. A replayed
    image up to two pixels larger (the viewer's sub-pixel layout, a frame border) is compared at
    its best-aligned crop; one the viewer scaled is resized to the original's size."""
    original = Image.open(io.BytesIO(original_png)).convert("RGB")
    replayed = Image.open(io.BytesIO(replayed_png)).convert("RGB")
    (width, height), (rw, rh) = original.size, replayed.size
    if 0 <= rw - width <= 2 and 0 <= rh - height <= 2:
        return max(
            _alike(original, replayed.crop((dx, dy, dx + width, dy + height)), tolerance)
            for dx in range(rw - width + 1)
            for dy in range(rh - height + 1)
        )
    return _alike(original, replayed.resize(original.size, Image.Resampling.BILINEAR), tolerance)


def _alike(original: Image.Image, replayed: Image.Image, tolerance: int) -> float:
    histogram = ImageChops.difference(original, replayed).convert("L").histogram()
    return sum(histogram[: tolerance + 1]) / (original.size[0] * original.size[1])
