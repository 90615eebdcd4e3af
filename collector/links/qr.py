"""QR codes of short links, drawn by segno: SVG or PNG, about ``size`` pixels square.

The code encodes ``{short base}/q/{code}``, so a scan is told from a click by its path, whatever
the query says. Error correction M (15%): a printed code survives a smudge, and the symbol of a
typical short URL stays at version 3-4 (29-33 modules), sharp at small sizes.
"""

from __future__ import annotations

import functools
import io

import segno

QUIET_ZONE = 4  # modules of white border the QR standard asks for


@functools.lru_cache(maxsize=1024)
def qr_image(text: str, kind: str, size: int) -> bytes:
    """The QR code of ``text`` as ``kind`` ("svg" or "png"), at the largest whole scale that
    fits in ``size`` pixels (at least one pixel per module)."""
    code = segno.make(text, error="m", micro=False)
    modules = code.symbol_size(scale=1, border=QUIET_ZONE)[0]
    scale = max(1, size // modules)
    out = io.BytesIO()
    if kind == "svg":
        code.save(out, kind="svg", scale=scale, border=QUIET_ZONE, xmldecl=False, title=text)
    else:
        code.save(out, kind="png", scale=scale, border=QUIET_ZONE)
    return out.getvalue()
