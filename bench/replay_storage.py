"""Part 1 of bench/replay.py, storage: what a compacted replay costs against the gzip baseline.

This module holds the rows and the first-replay half, which needs no browser: every recording of
``bench/recordings`` (pages the code was never tuned on, see its README) and of
``shared/testdata/recordings`` is imported as the first replay of a brand of its own, so it is
compacted without a brand dictionary (the built-in one). bench/replay.py adds repeat visits:
pages recorded twice in Chromium, the second visit compacted with the brand dictionary trained on
the first.
"""

from __future__ import annotations

import gzip
import json
import time
from dataclasses import dataclass
from pathlib import Path

import msgspec
import zstandard

from collector.replay.codec import read_events
from collector.replay.importer import import_replay, split_into_chunks
from collector.storage.base import BrandSettings, Store

UNSEEN = Path(__file__).resolve().parent / "recordings"
STORAGE_GOAL = 0.4  # repeat visits, with the brand dictionary
FIRST_REPLAY_GOAL = 0.35  # first replays of unseen sites (issue 9)
_events = msgspec.json.Decoder(list[msgspec.Raw]).decode  # each event's exact bytes


@dataclass
class Stored:
    name: str
    events: int
    raw: int
    baseline: int
    live: int
    stored: int
    dict_ids: set[int | None]
    codecs: set[int]


def baseline_bytes(events_json: bytes) -> int:
    """What rrweb-based tools store: every 5-second chunk gzip'd at level 6."""
    return sum(len(gzip.compress(c, compresslevel=6)) for c in split_into_chunks(events_json))


def load_recording(path: Path) -> bytes:
    """A recording's rrweb event array (``.json``, or ``.json.zst`` as bench/recordings keeps
    them)."""
    body = path.read_bytes()
    if path.name.endswith(".zst"):
        return zstandard.ZstdDecompressor().decompressobj().decompress(body)
    return body


def unseen_recordings() -> dict[str, bytes]:
    paths = sorted(UNSEEN.glob("*.json.zst"))
    return {p.name.removesuffix(".json.zst"): load_recording(p) for p in paths}


def stored_row(store: Store, brand_id: int, name: str, replay_id: str, live: int) -> Stored:
    """The replay's figures, read from the store."""
    replay = store.get_replay(brand_id, replay_id)
    events_json = read_events(store, brand_id, replay_id)
    assert replay is not None and events_json is not None
    parts = store.replay_parts(brand_id, replay_id)
    return Stored(
        name=name,
        events=len(json.loads(events_json)),
        raw=len(events_json),
        baseline=baseline_bytes(events_json),
        live=live,
        stored=replay.stored_bytes,
        dict_ids={p.dict_id for p in parts},
        codecs={p.codec for p in parts},
    )


def first_replays(store: Store, recordings: dict[str, bytes]) -> list[Stored]:
    """Each recording imported as the first replay of a new brand; checks the events come back
    exactly."""
    rows = []
    for name, events_json in recordings.items():
        now = time.time_ns() // 1_000_000
        brand = store.create_brand(f"First {name}", f"first-{name}-{now}", [], BrandSettings(), now)
        replay_id = import_replay(store, brand.id, events_json, now)
        if _events(read_events(store, brand.id, replay_id) or b"") != _events(events_json):
            raise AssertionError(f"{name}: the stored events are not the recording's")
        rows.append(stored_row(store, brand.id, name, replay_id, 0))
    return rows


@dataclass
class StorageRows:
    first_visits: list[Stored]  # the brand dictionary was trained on them
    repeat_visits: list[Stored]  # second visits, and the shared recordings, with it
    first_replays: list[Stored]  # recordings, each the first replay of a brand of its own
    dict_bytes: int
    dicts: int


# --- printing ------------------------------------------------------------------------------------


def _kb(n: float) -> str:
    return f"{n / 1024:,.1f}"


def _storage_line(row: Stored) -> None:
    live = _kb(row.live) if row.live else "-"
    print(
        f"{row.name:<34}{row.events:>7}{_kb(row.raw):>10}{_kb(row.baseline):>10}{live:>9}"
        f"{_kb(row.stored):>9}{row.stored / row.baseline:>8.3f}{row.stored / row.raw:>8.3f}"
    )


def _storage_total(name: str, rows: list[Stored]) -> Stored:
    raw, base = sum(r.raw for r in rows), sum(r.baseline for r in rows)
    events, stored = sum(r.events for r in rows), sum(r.stored for r in rows)
    return Stored(name, events, raw, base, 0, stored, set(), set())


def _print_repeat_visits(result: StorageRows) -> None:
    print("repeat visits (brand dictionary trained on the first visits):")
    rows = result.repeat_visits
    for row in rows:
        _storage_line(row)
    total = _storage_total("  total", rows)
    _storage_line(total)
    with_dict = total.stored + result.dict_bytes
    plural = "y" if result.dicts == 1 else "ies"
    dicts = f"({result.dicts} dictionar{plural})"
    print(f"{'  dictionary':<34}{'':>36}{_kb(result.dict_bytes):>9}   {dicts}")
    print(
        f"{'  total + dictionary':<34}{'':>17}{_kb(total.baseline):>10}{'':>9}{_kb(with_dict):>9}"
        f"{with_dict / total.baseline:>8.3f}"
    )
    if result.first_visits:
        print("first visits (the dictionary was trained on them):")
        for row in result.first_visits:
            _storage_line(row)
        _storage_line(_storage_total("  total", result.first_visits))
    ratio = total.stored / total.baseline
    print(
        f"goal repeat visits stored <= {STORAGE_GOAL} x baseline: {ratio:.3f}"
        f" {'✓' if ratio <= STORAGE_GOAL else '✗'}"
        f" (with the dictionary counted once: {with_dict / total.baseline:.3f})"
    )


def print_storage(result: StorageRows) -> None:
    print("\n1. storage (KB; baseline = gzip -6 of each 5-second chunk; live = zstd -3 chunks)")
    print(
        f"{'recording':<34}{'events':>7}{'raw':>10}{'baseline':>10}{'live':>9}{'stored':>9}"
        f"{'÷ base':>8}{'÷ raw':>8}"
    )
    print("first replays of sites the brand has never seen (no brand dictionary yet):")
    unseen = [r for r in result.first_replays if not r.name.endswith("(shared)")]
    for row in result.first_replays:
        _storage_line(row)
    if unseen:
        _storage_line(_storage_total("  total, bench/recordings", unseen))
    if result.repeat_visits:
        _print_repeat_visits(result)
    if unseen:
        first = _storage_total("", unseen)
        ratio = first.stored / first.baseline
        print(
            f"goal first replays of unseen sites stored <= {FIRST_REPLAY_GOAL} x baseline:"
            f" {ratio:.3f} {'✓' if ratio <= FIRST_REPLAY_GOAL else '✗'}"
        )
