"""Signed links to the collector for everything a replay loads, and what the proxy accepts.

A replay shown in the viewer loads nothing from the recorded site: each reference becomes a
link to the collector (:class:`ViewerLinks`), either a stored copy or the fetch-on-demand proxy
``/replay-proxy/{brand}/{expires}/{signature}?u=TARGET``. ``TARGET`` is an http(s) URL, or
``asset:{sha256}`` for a stored stylesheet (served with its own references rewritten the same
way). The proxy serves only links the collector signed itself (:class:`LinkSigner`: HMAC-SHA256
over brand, expiry and target with a secret kept in the database), so it is no open proxy.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from urllib.parse import quote

from collector.replay.assets.css import _absolute
from collector.replay.assets.store import _CONTENT_TYPE_RE, ASSET_PREFIX, is_asset_hash
from collector.replay.assets.transport import _accepted_type, _Refused, _WrongType

PROXY_PREFIX = "/replay-proxy/"
STORED_TARGET = "asset:"
LINK_DAYS = 2  # a link is valid for 1 to 2 days and the same all day (cacheable)
_DAY = 86_400
_SIGNATURE_CHARS = 22  # 128 bits of base64url

IMAGE_TYPES = frozenset(
    {
        "image/apng",
        "image/avif",
        "image/bmp",
        "image/gif",
        "image/jpeg",
        "image/png",
        "image/svg+xml",
        "image/vnd.microsoft.icon",
        "image/webp",
        "image/x-icon",
    }
)
MEDIA_TYPES = frozenset({"application/ogg", "text/vtt"})


def link_expiry(now: float | None = None) -> int:
    """The expiry (Unix seconds) of links made now: the end of tomorrow, UTC."""
    return (int(now if now is not None else time.time()) // _DAY + LINK_DAYS) * _DAY


class LinkSigner:
    """Signs and checks proxy links for one brand's replays."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def signature(self, brand_id: int, expires: int, target: str) -> str:
        message = f"{brand_id}\n{expires}\n{target}".encode("utf-8", "surrogatepass")
        digest = hmac.new(self._secret, message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode()[:_SIGNATURE_CHARS]

    def link(self, brand_id: int, expires: int, target: str) -> str:
        signature = self.signature(brand_id, expires, target)
        return f"{PROXY_PREFIX}{brand_id}/{expires}/{signature}?u={quote(target, safe='')}"

    def valid(self, brand_id: int, expires: int, target: str, signature: str) -> bool:
        """Signed by us for this brand and target, and not expired."""
        if expires < time.time():
            return False
        expected = self.signature(brand_id, expires, target).encode()
        return hmac.compare_digest(signature.encode("utf-8", "surrogatepass"), expected)


class ViewerLinks:
    """Turns one reference of a replay (as written, and the URL it is relative to) into the
    collector link to load instead, or ``None`` (load nothing).

    Kept: fragment-only references (``#id``, local to the page) and ``data:`` URLs (the
    viewer's CSP decides what they may be). A stored URL (``stored``: url -> sha256) or a link
    to a stored asset (``/replay-assets/{sha256}``, in stored sheets) becomes a signed
    ``asset:`` link, so a stored sheet's references are rewritten too; another http(s) URL a
    signed proxy link when ``external`` is true, else nothing. Other schemes: nothing.
    """

    def __init__(
        self,
        signer: LinkSigner,
        brand_id: int,
        stored: dict[str, str],
        *,
        external: bool,
        expires: int | None = None,
    ) -> None:
        self.signer = signer
        self.brand_id = brand_id
        self.stored = stored
        self.external = external
        self.expires = expires or link_expiry()

    def __call__(self, ref: str, base: str) -> str | None:
        ref = ref.strip()
        if ref.startswith("#") or ref[:5].lower() == "data:":
            return ref or None
        if ref.startswith(ASSET_PREFIX) and is_asset_hash(ref[len(ASSET_PREFIX) :]):
            return self._stored(ref[len(ASSET_PREFIX) :])  # a stored sheet's own @import
        url = _absolute(ref, base)
        if url is None:
            return None
        fragment = ref[ref.index("#") :] if "#" in ref else ""
        sha256 = self.stored.get(url)
        if sha256:
            return self._stored(sha256) + fragment
        if not self.external:
            return None
        return self.signer.link(self.brand_id, self.expires, url) + fragment

    def _stored(self, sha256: str) -> str:
        return self.signer.link(self.brand_id, self.expires, STORED_TARGET + sha256)


def proxied_type(header: str | None, url: str) -> tuple[str, str]:
    """``(kind, content type to send)`` for a proxied body: a stylesheet, font, image, audio,
    video or text track; anything else (HTML, scripts, JSON, XML...) is refused."""
    try:
        return _accepted_type(header, url)
    except _Refused:
        pass
    media = (header or "").partition(";")[0].strip().lower()
    if media in IMAGE_TYPES:
        return "image", media
    is_media = media in MEDIA_TYPES or media.split("/")[0] in ("audio", "video")
    if is_media and _CONTENT_TYPE_RE.fullmatch(media):
        return "media", media
    raise _WrongType(f"content type {media or 'missing'!r} is not proxied")
