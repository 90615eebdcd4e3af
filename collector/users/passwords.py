"""Password hashing with scrypt from the standard library.

A hash reads ``scrypt$N$r$p$SALT$HASH`` (salt and hash in URL-safe base64 without padding),
so its parameters travel with it and can be raised later without breaking stored hashes.
Parameters: N = 2**14, r = 8, p = 1 (16 MiB of memory, about 50 ms on one core: RFC 7914's
interactive-login figures, and what OWASP lists as a scrypt minimum), a 16-byte random salt per
password, a 32-byte key. Verification recomputes the hash and compares in constant time
(``hmac.compare_digest``). It is CPU-bound: callers run it in a worker thread, off the event
loop.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from functools import cache

N = 2**14
R = 8
P = 1
SALT_BYTES = 16
KEY_BYTES = 32
_MAX_MEMORY = 64 * 1024 * 1024  # room for N * r * 128 bytes of the parameters above, and more
GENERATED_BYTES = 18  # 24 URL-safe characters: 144 random bits


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _derive(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode(), salt=salt, n=n, r=r, p=p, maxmem=_MAX_MEMORY, dklen=KEY_BYTES
    )


def hash_password(password: str) -> str:
    """The stored form of ``password``: scrypt with a fresh random salt."""
    salt = secrets.token_bytes(SALT_BYTES)
    return f"scrypt${N}${R}${P}${_b64(salt)}${_b64(_derive(password, salt, N, R, P))}"


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` is the one ``stored`` was made from (False for a malformed hash)."""
    try:
        scheme, n, r, p, salt, expected = stored.split("$")
        if scheme != "scrypt":
            return False
        derived = _derive(password, _unb64(salt), int(n), int(r), int(p))
        return hmac.compare_digest(derived, _unb64(expected))
    except ValueError:
        return False


@cache
def dummy_hash() -> str:
    """A hash to check against when the email is unknown, so that a wrong email takes as long
    as a wrong password and the timing does not tell which emails have an account."""
    return hash_password(secrets.token_urlsafe(16))


def generate_password() -> str:
    """A random password to show once (``clicktrail users create``)."""
    return secrets.token_urlsafe(GENERATED_BYTES)
