"""The content-addressed asset store: files named by the sha256 of their bytes."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import Any

ASSET_PREFIX = "/replay-assets/"
_HASH_RE = re.compile(r"[0-9a-f]{64}")


def is_asset_hash(text: Any) -> bool:
    """Whether ``text`` is a sha256 in lowercase hex: the only names :class:`AssetStore` opens."""
    return isinstance(text, str) and _HASH_RE.fullmatch(text) is not None


_CONTENT_TYPE_RE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*(; ?[ -~]*)?")


class AssetStore:
    """Files named by the sha256 of their bytes under ``root`` (``ab/cdef…``), each with its
    content type beside it (``ab/cdef….type``). Writes are atomic (temporary file, then
    ``os.replace``) and idempotent: the same bytes are stored once, the first type wins."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    def _paths(self, sha256: str) -> tuple[Path, Path]:
        shard = self.root / sha256[:2]
        return shard / sha256[2:], shard / f"{sha256[2:]}.type"

    def put(self, body: bytes, content_type: str) -> str:
        """Store ``body``; returns its sha256. ``ValueError`` for a malformed content type."""
        if len(content_type) > 200 or not _CONTENT_TYPE_RE.fullmatch(content_type.lower()):
            raise ValueError(f"invalid content type {content_type!r}")
        sha256 = hashlib.sha256(body).hexdigest()
        body_path, type_path = self._paths(sha256)
        if body_path.exists():
            return sha256
        body_path.parent.mkdir(parents=True, exist_ok=True)
        _write_atomic(type_path, content_type.encode("ascii"))  # first: a body implies a type
        _write_atomic(body_path, body)
        return sha256

    def get(self, sha256: str) -> tuple[str, bytes] | None:
        """``(content_type, body)``, or ``None`` when absent or ``sha256`` is not 64 lowercase
        hex digits (nothing else is ever turned into a path)."""
        if not is_asset_hash(sha256):
            return None
        body_path, type_path = self._paths(sha256)
        try:
            body = body_path.read_bytes()
            content_type = type_path.read_text("ascii").strip()
        except (FileNotFoundError, UnicodeDecodeError):
            return None
        return content_type or "application/octet-stream", body

    def has(self, sha256: str) -> bool:
        return is_asset_hash(sha256) and self._paths(sha256)[0].exists()


def _write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
