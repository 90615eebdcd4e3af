"""The group-commit writer keeps SQLite's checkpoints out of its commits (a checkpoint inside a
``COMMIT`` held up every request of that group for 10-370 ms: bench/README.md) and still copies
the WAL into the database file, so it starts over instead of growing. ClickHouse has no WAL:
there the writer only writes."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from collector.cli import create_brand
from collector.ids import new_id
from collector.ingest import writer as writer_module
from collector.ingest.writer import Writer
from collector.storage.base import BrandSettings, Click, ClickQuery, Store
from tests.appkit import now_ms


def _click(brand_id: int) -> Click:
    ts = now_ms()
    return Click(
        id=new_id(ts),
        brand_id=brand_id,
        session_id=new_id(ts),
        visitor_id=new_id(ts),
        created_at=ts,
        url="https://shop.example/" + "x" * 400,
    )


async def _write_for_a_while(store: Store, brand_id: int, batches: int) -> None:
    writer = Writer(store)
    writer.start()
    try:
        for _ in range(batches):
            await asyncio.gather(*(writer.submit([_click(brand_id)], []) for _ in range(50)))
            await asyncio.sleep(0.02)
    finally:
        await writer.stop()


def test_the_writer_checkpoints_between_commits_and_stores_everything(
    store: Store, monkeypatch
) -> None:
    monkeypatch.setattr(writer_module, "CHECKPOINT_SECONDS", 0.05)
    brand = create_brand(store, "checkpoints", [], BrandSettings())
    asyncio.run(_write_for_a_while(store, brand.id, batches=40))
    assert store.list_clicks(brand.id, ClickQuery())[0] == 40 * 50
    if not store.url.startswith("sqlite"):
        return
    path = Path(store.url.removeprefix("sqlite:///"))
    wal = path.with_name(path.name + "-wal")
    with sqlite3.connect(path) as conn:
        busy, frames, copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    assert busy == 0 and frames == copied  # nothing committed is left only in the WAL
    # 2,000 clicks of ~0.5 KB with their indexes: several MB of WAL frames in all. Started
    # over at each checkpoint, the file holds only what a few batches wrote.
    assert wal.stat().st_size < 1_500_000
