"""Signed, expiring share links for one session's replays.

A token is ``base64url(json {b, s, r, e}) + "." + base64url(hmac_sha256(secret, payload))``:
brand, session, the replay the link opens, and the expiry in Unix seconds. The secret lives in
the database (``Store.secret``), so every collector process on it accepts the same links and a
restart does not break them. Tokens are not stored: changing the secret revokes them all.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

import msgspec

from collector.errors import Unauthorized

DEFAULT_SECONDS = 7 * 86_400
MAX_SECONDS = 90 * 86_400


class ShareGrant(msgspec.Struct):
    b: int  # brand id
    s: str  # session id
    r: str  # replay id the link opens
    e: int  # expiry, Unix seconds


_decode_grant = msgspec.json.Decoder(ShareGrant).decode


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def looks_like_share_token(credential: str) -> bool:
    """API keys read ``ct_<id>_<secret>`` and never contain a dot; share tokens always do."""
    return "." in credential


class ShareSigner:
    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def _mac(self, payload: str) -> str:
        return _b64(hmac.new(self._secret, payload.encode(), hashlib.sha256).digest())

    def mint(self, grant: ShareGrant) -> str:
        payload = _b64(msgspec.json.encode(grant))
        return f"{payload}.{self._mac(payload)}"

    def verify(self, token: str, now_s: int) -> ShareGrant:
        """The grant of a genuine, unexpired token; :class:`Unauthorized` otherwise."""
        payload, _, mac = token.partition(".")
        if not mac or not hmac.compare_digest(mac, self._mac(payload)):
            raise Unauthorized("the share link is not valid")
        try:
            grant = _decode_grant(_unb64(payload))
        except (ValueError, msgspec.DecodeError, msgspec.ValidationError):
            raise Unauthorized("the share link is not valid") from None
        if grant.e <= now_s:
            raise Unauthorized("the share link has expired")
        return grant
