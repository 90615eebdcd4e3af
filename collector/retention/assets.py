"""Stored replay assets (``replay/assets/store.py``) that no replay links any more.

Asset files are shared by every brand (named by the sha256 of their bytes), so a file goes when
no replay of any brand links it. A file younger than :data:`ASSET_GRACE_MS` stays: the asset
collector stores a file before it links it to its replay, and the replay proxy keeps fetched
copies it may link moments later.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from collector.replay.assets import AssetStore, is_asset_hash

ASSET_GRACE_MS = 6 * 3_600_000


def _stored(root: Path) -> Iterator[tuple[str, Path]]:
    """(sha256, body path) of every stored asset under ``root``."""
    if not root.is_dir():
        return
    for shard in root.iterdir():
        if not shard.is_dir() or len(shard.name) != 2:
            continue
        for path in shard.iterdir():
            sha256 = shard.name + path.name
            if is_asset_hash(sha256):
                yield sha256, path


def sweep_assets(assets: AssetStore, in_use: set[str], now: int) -> int:
    """Delete the stored assets not in ``in_use`` last written before ``now`` minus the grace;
    returns how many went."""
    deleted = 0
    older_than = (now - ASSET_GRACE_MS) / 1000
    for sha256, body in _stored(assets.root):
        if sha256 in in_use:
            continue
        try:
            if os.stat(body).st_mtime >= older_than:
                continue
            body.unlink()
        except FileNotFoundError:
            continue
        with contextlib.suppress(FileNotFoundError):
            body.with_name(f"{body.name}.type").unlink()
        deleted += 1
    return deleted
