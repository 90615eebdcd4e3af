"""Readiness (``GET /readyz``): the store answers, its schema is the one this version needs,
and the writer takes requests. Each part is checked on its own; any part not ready makes the
answer 503, naming it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import anyio

if TYPE_CHECKING:
    from collector.runtime import Runtime
    from collector.storage.base import Store

STORE_TIMEOUT_S = 2.0


def expected_schema_version(store: Store) -> int:
    """How many migrations this version of Clicktrail has for the store's engine."""
    if store.url.startswith("sqlite"):
        from collector.storage.sqlite.schema import SCHEMA_VERSION

        return SCHEMA_VERSION
    from collector.storage.clickhouse.schema import SCHEMA_VERSION as CLICKHOUSE_VERSION

    return CLICKHOUSE_VERSION


async def _store_parts(store: Store) -> dict[str, str]:
    """``store`` and ``migrations``: "ok", or what is wrong."""
    try:
        with anyio.fail_after(STORE_TIMEOUT_S):
            version = await anyio.to_thread.run_sync(store.schema_version, abandon_on_cancel=True)
    except TimeoutError:
        return {"store": f"no answer within {STORE_TIMEOUT_S:g} s", "migrations": "unknown"}
    except Exception as exc:
        return {"store": f"unreachable: {type(exc).__name__}", "migrations": "unknown"}
    wanted = expected_schema_version(store)
    if version != wanted:
        return {"store": "ok", "migrations": f"schema version {version}, expected {wanted}"}
    return {"store": "ok", "migrations": "ok"}


async def readiness(runtime: Runtime | None) -> dict[str, str]:
    """Each part's state: "ok", or what is not ready."""
    if runtime is None:
        return {"store": "starting", "migrations": "starting", "writer": "starting"}
    parts = await _store_parts(runtime.store)
    parts["writer"] = "ok" if runtime.writer.running else "stopped"
    return parts
