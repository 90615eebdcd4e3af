"""Deleting a visitor on request: whom (a visitor id, every visitor of an external id or of a
customer), the store's deletion (``storage/*/deletion.py``), then the files that could hold
them.

- Export files: an export holds the clicks that existed when it ran. The rule is simple and
  errs on the side of deleting: every finished export of the brand that finished at or after
  the visitor's first stored click or conversion is deleted (file and job; ``GET exports/{id}``
  then answers 404), whatever its filters. A job still queued runs after the deletion and
  cannot see the visitor; one running at that moment may have read them already and is not
  stopped (docs/PRIVACY.md).
- Replay assets: files are shared by content (``replay/assets/store.py``); a file goes when no
  replay of any brand links it any more.

The answer counts what went. A second request finds nothing and answers zeros.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import msgspec

from collector.errors import Invalid
from collector.exports.service import file_path
from collector.replay.assets.store import is_asset_hash
from collector.storage.base import Store
from collector.storage.deletion import MAX_VISITORS as MAX_VISITORS

from .schema import VisitorsDeleted, VisitorsQuery

log = logging.getLogger("clicktrail.privacy")


@dataclass(frozen=True)
class Files:
    """Where the collector keeps the files a deletion may remove."""

    exports: Path
    assets: Path


@dataclass(frozen=True)
class Target:
    """Whom to delete: one visitor id, or every visitor of an external id or a customer."""

    visitor_id: str | None = None
    external_id: str | None = None
    customer_id: str | None = None


def target_of(query: VisitorsQuery) -> Target:
    """The query's target; exactly one of ``externalId`` and ``customerId``."""
    if (query.externalId is None) == (query.customerId is None):
        raise Invalid(
            "give exactly one of externalId (an identify() id) and customerId (a "
            "customerExternalId of leads and sales); to delete one visitor id, "
            "DELETE visitors/{visitor_id}"
        )
    return Target(external_id=query.externalId, customer_id=query.customerId)


def visitors_of(store: Store, brand_id: int, target: Target) -> list[str]:
    if target.visitor_id is not None:
        return [target.visitor_id]
    if target.external_id is not None:
        return store.visitors_by_external_id(brand_id, target.external_id, MAX_VISITORS)
    assert target.customer_id is not None
    return store.visitors_of_customer(brand_id, target.customer_id, MAX_VISITORS)


def delete(store: Store, files: Files, brand_id: int, target: Target) -> VisitorsDeleted:
    """Delete the target's rows, then the files that could hold them (blocking: a thread)."""
    rows = store.delete_visitors(
        brand_id,
        visitors_of(store, brand_id, target),
        target.external_id,
        target.customer_id,
    )  # positional: a chDB collector's control socket passes store calls' arguments so
    exports = _delete_exports(store, files.exports, brand_id, rows.first_seen)
    assets = _delete_assets(files.assets, rows.unused_assets)
    counts = msgspec.structs.asdict(rows)
    for kept_back in ("first_seen", "unused_assets"):
        counts.pop(kept_back)
    return VisitorsDeleted(**counts, asset_files=assets, exports=exports)


def _delete_exports(store: Store, directory: Path, brand_id: int, first_seen: int | None) -> int:
    """The brand's finished exports that could hold what was first stored at ``first_seen``."""
    if first_seen is None:
        return 0
    gone = 0
    for job in store.exports_in(["done"]):
        if job.brand_id != brand_id or (job.finished_at or 0) < first_seen:
            continue
        _unlink(file_path(directory, job))
        store.delete_export(brand_id, job.id)
        gone += 1
    return gone


def _delete_assets(root: Path, unused: list[str]) -> int:
    """Remove the files of assets no replay links (the asset store's layout: ``ab/cdef…`` and
    ``ab/cdef….type``); how many bodies went."""
    gone = 0
    for sha256 in unused:
        if not is_asset_hash(sha256):
            continue
        body = root / sha256[:2] / sha256[2:]
        gone += _unlink(body)
        _unlink(body.with_name(f"{body.name}.type"))
    return gone


def _unlink(path: Path) -> int:
    """1 when ``path`` was removed, 0 when it was not there (or could not be: logged)."""
    try:
        path.unlink()
    except FileNotFoundError:
        return 0
    except OSError:
        log.exception("could not remove %s after a visitor's deletion", path)
        return 0
    return 1


def nothing_deleted() -> VisitorsDeleted:
    """The answer of a deletion that found nothing (a repeated request)."""
    return VisitorsDeleted(**dict.fromkeys(VisitorsDeleted.__struct_fields__, 0))
